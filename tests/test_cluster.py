"""Equivalence clusters: normalization merges layout and comments, never different code."""

from __future__ import annotations

import pytest

from racer.cluster import clusters, describe, fingerprint, normalize_source

ORDER = ["claude", "codex", "gemini"]


def test_python_ignores_comments_docstrings_and_layout() -> None:
    a = '"""Module."""\nimport os  # why\n\n\ndef f( x ):\n    """Doc."""\n    return  x+1\n'
    b = "import os\ndef f(x):\n    return (x + 1)\n"
    assert normalize_source("m.py", a) == normalize_source("m.py", b)
    assert normalize_source("m.py", b) != normalize_source("m.py", b.replace("+ 1", "+ 2"))


def test_python_docstring_only_body_stays_valid() -> None:
    assert (
        normalize_source("m.py", 'def f():\n    """Only a docstring."""\n') == "def f():\n    pass"
    )


def test_python_strings_that_are_not_docstrings_stay() -> None:
    a = 'def f():\n    x = "value"\n    return x\n'
    assert normalize_source("m.py", a) != normalize_source("m.py", a.replace("value", "other"))


def test_unparsable_python_falls_back_to_text() -> None:
    broken = "def f(:\n    return 1  # note\n\n\n"
    assert normalize_source("m.py", broken) == "def f(:\nreturn 1"


def test_c_like_comments_go_strings_stay() -> None:
    a = 'const u = "http://x"; // note\n/* block\n   comment */\nlet  a = 1;\n'
    assert normalize_source("a.ts", a) == 'const u = "http://x";\nlet a = 1;'
    assert normalize_source("a.ts", "const s = '/* not a comment */';") == (
        "const s = '/* not a comment */';"
    )


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("run.sh", 'echo a#b # note\n  # full line\nx="# kept"\n', 'echo a#b\nx="# kept"'),
        (
            "conf.yaml",
            "key: value # note\nurl: http://h/#frag\n",
            "key: value\nurl: http://h/#frag",
        ),
        ("q.sql", "select 1 -- why\nfrom t where s = '--x'\n", "select 1\nfrom t where s = '--x'"),
        ("page.html", "<p>a</p><!-- hidden -->\n<p>b</p>\n", "<p>a</p>\n<p>b</p>"),
        ("notes.txt", "keep # this\n\n  and  this\n", "keep # this\nand this"),
    ],
)
def test_comment_syntax_by_extension(path: str, text: str, expected: str) -> None:
    assert normalize_source(path, text) == expected


def test_fingerprint_is_stable_and_order_free() -> None:
    a = {"src/a.py": "x = 1  # one\n", "src/b.py": "y = 2\n"}
    b = {"src/b.py": "y=2", "src/a.py": "x = 1\n"}
    assert fingerprint(a) == fingerprint(b)
    assert len(fingerprint(a)) == 64
    assert fingerprint(a) != fingerprint({**a, "src/b.py": "y = 3\n"})


def test_fingerprint_distinguishes_paths_and_deletion() -> None:
    assert fingerprint({"a.py": "x = 1\n"}) != fingerprint({"b.py": "x = 1\n"})
    assert fingerprint({"a.py": None}) != fingerprint({"a.py": ""})
    # Length-prefixed parts: moving text between path and body cannot collide.
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})


def test_clusters_number_by_first_appearance() -> None:
    fps = {"claude": "f1", "codex": "f2", "gemini": "f1"}
    assert clusters(fps, ORDER) == {"claude": 1, "codex": 2, "gemini": 1}
    assert clusters(fps, ["codex", "gemini", "claude"]) == {"codex": 1, "gemini": 2, "claude": 2}


def test_no_change_is_never_agreement() -> None:
    fps: dict[str, str | None] = {"claude": None, "codex": None, "gemini": "f"}
    assert clusters(fps, ORDER) == {"claude": 1, "codex": 2, "gemini": 3}


def test_names_outside_order_and_missing_fingerprints() -> None:
    result = clusters({"zed": "f", "claude": "f"}, ["claude", "codex"])
    assert result == {"claude": 1, "codex": 2, "zed": 1}


@pytest.mark.parametrize(
    ("ids", "text"),
    [
        ({"claude": 1, "codex": 1, "gemini": 2}, "claude and codex converged; gemini diverged"),
        ({"claude": 1, "codex": 2, "gemini": 3}, "all 3 candidates differ"),
        ({"claude": 1, "codex": 1, "gemini": 1}, "all 3 candidates converged"),
        ({"claude": 1, "codex": 1}, "both candidates converged"),
        ({"claude": 1, "codex": 2}, "both candidates differ"),
        ({"claude": 1}, "only claude: nothing to compare"),
        ({}, "no candidates"),
    ],
)
def test_describe(ids: dict[str, int], text: str) -> None:
    assert describe(ids, ORDER) == text


def test_describe_several_groups_and_singles() -> None:
    order = ["a", "b", "c", "d", "e", "f"]
    ids = {"a": 1, "b": 2, "c": 1, "d": 2, "e": 3, "f": 4}
    assert describe(ids, order) == "a and c converged; b and d converged; e and f diverged"
    assert describe({"a": 1, "b": 1, "c": 1, "d": 2}, order) == "a, b and c converged; d diverged"


def test_end_to_end_equivalent_candidates() -> None:
    changes = {
        "claude": {"calc.py": "def double(x):\n    return x * 2  # simple\n"},
        "codex": {"calc.py": 'def double(x):\n    """Twice x."""\n    return x*2\n'},
        "gemini": {"calc.py": "def double(x):\n    return x + x\n"},
    }
    fps = {name: fingerprint(files) for name, files in changes.items()}
    ids = clusters(fps, ORDER)
    assert describe(ids, ORDER) == "claude and codex converged; gemini diverged"


def test_python_that_warns_is_parsed_quietly(recwarn: pytest.WarningsRecorder) -> None:
    # Invalid escapes warn at compile time; filterwarnings=error would turn that into a failure.
    assert normalize_source("m.py", 'x = "\\d"  # regex\n') == "x = '\\\\d'"
    assert len(recwarn) == 0
