"""Judging in whole races (real git repos, real pytest runs): the cases that went wrong on real
projects — a module that does not import on the base, doctests, tests added to an existing file,
hard-coded test inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.repos import make_repo, race_json

# The visible test file imports what the spec asks for: on the base it fails to collect.
CALC = {
    "calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": (
        "from calc import add, mul\n\n\n"
        + "".join(f"def test_mul_{i}():\n    assert mul({i}, 3) == {3 * i}\n\n\n" for i in range(4))
        + "def test_mul_negative():\n    assert mul(-2, 3) == -6\n"
    ),
    "tests/test_add.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n",
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
    ".gitignore": "__pycache__/\n",
    "spec.md": "---\ntitle: Add mul\n---\nAdd `mul(a, b)` to calc.py: the product of a and b.\n",
}
MUL = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
# Smaller, and wrong for negatives: 4 passed, 1 failed.
MUL_P = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return abs(a) * b\n"


@pytest.fixture
def calc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo", CALC)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    return root


def _fake(root: Path, monkeypatch: pytest.MonkeyPatch, scenarios: dict[str, object]) -> None:
    path = root.parent / "scenarios.json"
    path.write_text(json.dumps(scenarios), encoding="utf-8")
    monkeypatch.setenv("RACER_FAKE", str(path))


def test_a_passing_candidate_wins_over_a_smaller_failing_one(calc, racer, monkeypatch) -> None:
    _fake(calc, monkeypatch, {"p": {"write": {"calc.py": MUL_P}}, "c": {"write": {"calc.py": MUL}}})
    res = racer("run", "spec.md", "--agents", "fake@p,fake@c")
    assert res.exit_code == 0, res.stderr
    data = race_json(calc)
    c, p = data["candidates"]
    assert (c["name"], c["status"], data["winner"]) == ("fake@c", "passed", "fake@c")
    assert p["status"] == "tests_failed"
    # The base could not collect tests/test_calc.py: its 5 tests were failing there.
    assert len(c["tests"]["fixed"]) == 5 and len(p["tests"]["fixed"]) == 4
    # and the other module still ran on the base (one import error hides nothing else)
    assert data["baseline"]["outcomes"]["tests.test_add::test_add"] == "passed"
    assert data["decided_by"].startswith("failing tests: 0 vs 1"), data["decided_by"]
    assert "no candidate passed" not in res.stdout


WORDS = {
    "words.py": (
        "def plural(word):\n"
        '    """The plural of a word.\n\n'
        "    >>> plural('cat')\n    'cats'\n    >>> plural('box')\n    'boxes'\n"
        '    """\n'
        "    if word.endswith('x'):\n        return word + 'es'\n    return word + 's'\n"
    ),
    "tests/test_words.py": "from words import plural\n\n\ndef test_cat():\n    assert plural('dog') == 'dogs'\n",
    "pyproject.toml": (
        '[tool.pytest.ini_options]\ntestpaths = ["tests", "words.py"]\npythonpath = ["."]\n'
        'addopts = "--doctest-modules"\n'
    ),
    ".gitignore": "__pycache__/\n",
    "spec.md": "---\ntitle: Words in y\n---\nMake `plural` turn a final consonant + y into ies.\n",
}
GOOD = WORDS["words.py"].replace(
    "    if word.endswith('x'):",
    "    if word.endswith('y') and word[-2:-1] not in 'aeiou':\n"
    "        return word[:-1] + 'ies'\n    if word.endswith('x'):",
)
# Breaks 'box' and deletes the example that shows it.
CHEAT = GOOD.replace("    if word.endswith('x'):\n        return word + 'es'\n", "").replace(
    "    >>> plural('box')\n    'boxes'\n", ""
)


def test_a_deleted_doctest_example_is_a_deleted_test(tmp_path, racer, monkeypatch) -> None:
    root = make_repo(tmp_path / "repo", WORDS)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    _fake(
        root,
        monkeypatch,
        {"cheat": {"write": {"words.py": CHEAT}}, "good": {"write": {"words.py": GOOD}}},
    )
    res = racer("run", "spec.md", "--agents", "fake@cheat,fake@good")
    assert res.exit_code == 0, res.stderr
    data = race_json(root)
    good, cheat = data["candidates"]
    assert data["winner"] == "fake@good"
    kinds = {(f["kind"], f["severity"]) for f in cheat["flags"]}
    assert ("test_deleted", "tamper") in kinds, cheat["flags"]
    assert any(">>> plural('box')" in f["detail"] for f in cheat["flags"])
    # the base's examples ran against its code: 'box' fails there
    assert cheat["status"] == "tests_failed"
    assert any("base_doctest" in t and o == "failed" for t, o in cheat["tests"]["outcomes"].items())
    assert good["status"] == "passed" and good["flags"] == []


def test_new_tests_in_an_existing_file_vote(tmp_path, racer, monkeypatch) -> None:
    root = make_repo(tmp_path / "repo", WORDS)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    tests = WORDS["tests/test_words.py"]
    own = tests + "\n\ndef test_fly():\n    assert plural('fly') == 'flies'\n"
    half = GOOD.replace("word[-2:-1] not in 'aeiou'", "True")  # 'day' -> 'daies'
    own_half = tests + "\n\ndef test_day():\n    assert plural('day') == 'days'\n"
    _fake(
        root,
        monkeypatch,
        {
            "half": {"write": {"words.py": half, "tests/test_words.py": own}},
            "good": {"write": {"words.py": GOOD, "tests/test_words.py": own_half}},
        },
    )
    res = racer("run", "spec.md", "--agents", "fake@half,fake@good")
    assert res.exit_code == 0, res.stderr
    data = race_json(root)
    by = {c["name"]: c for c in data["candidates"]}
    assert by["fake@half"]["valid_new_tests"] == ["tests.test_words::test_fly"]
    # good's test_day passes on the base ('days'), so it is not a valid new test
    assert by["fake@good"]["valid_new_tests"] == []
    assert by["fake@good"]["cross"]["passed"] == 1 and by["fake@good"]["cross"]["total"] == 1
    assert by["fake@half"].get("cross") is None
    assert data["winner"] == "fake@good"
