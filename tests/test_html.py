"""The HTML report: self-contained, escaped, and showing every piece of evidence as text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from racer import html as report_html
from racer.html import render_html
from racer.report import RaceReport, from_dict

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}

EVIL = "<script>alert(1)</script>"

DIFF = f"""\
diff --git a/calc.py b/calc.py
index 1111111..2222222 100644
--- a/calc.py
+++ b/calc.py
@@ -1,4 +1,5 @@ import os
 def double(x):
-    return x + x
+    # {EVIL}
+    return x * 2
\x20
 def triple(x):
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..3333333
Binary files /dev/null and b/logo.png differ
"""  # \x20: a blank context line is a single space, which editors strip


def race() -> dict[str, Any]:
    """A race.json as racer writes it (the HTML view reads the typed record made from it)."""
    return {
        "schema": 1,
        "id": "20250101-120000-abcd",
        "status": "finished",
        "spec": {"path": "specs/double.md", "title": "Make double() fast & <safe>"},
        "base": {"commit": "0123456789abcdef0123", "branch": "main"},
        "created": "2025-01-01T12:00:00Z",
        "repo": "/repo",
        "race_dir": "/repo/.git/racer/races/20250101-120000-abcd",
        "prompt": "/repo/.git/racer/races/20250101-120000-abcd/prompt.md",
        "test_command": "pytest",
        "winner": "claude",
        "decided_by": "claude fixed 2 tests, codex fixed 1",
        "confidence": "low",
        "cluster_summary": "claude and codex converged; gemini diverged",
        "candidates": [
            {
                "name": "claude",
                "agent": "claude",
                "model": "opus",
                "order": 0,
                "rank": 1,
                "status": "passed",
                "passed": True,
                "reasons": ["tests pass: 12 passed", "fixed 2 failing tests"],
                "exit_code": 0,
                "duration_s": 42.5,
                "final_message": f"Done. {EVIL}",
                "tests": {
                    "command": "pytest",
                    "passed": 12,
                    "failed": 0,
                    "errors": 0,
                    "skipped": 1,
                    "ok": True,
                    "junit": True,
                    "fixed": ["tests/test_calc.py::test_double", "tests/test_calc.py::test_neg"],
                    "broken": [],
                },
                "acceptance": {"passed": 3, "failed": 0, "errors": 0},
                "flags": [
                    {
                        "kind": "debug_print",
                        "file": "calc.py",
                        "detail": "debug output added: print(x)",
                        "severity": "scope",
                    }
                ],
                "diffstat": {"files": 2, "added": 2, "removed": 1},
                "cluster": 1,
                "cost_usd": 0.1234,
                "cost_estimated": True,
                "tokens": {"input": 1000, "output": 200, "cached": 50},
                "branch": "racer/abcd/claude",
            },
            {
                "name": "codex",
                "agent": "codex",
                "model": None,
                "order": 1,
                "rank": 2,
                "status": "passed",
                "reasons": ["below claude: fixed fewer tests"],
                "tests": {"command": "pytest", "passed": 11, "failed": 1, "ok": False, "junit": True, "fixed": ["tests/test_calc.py::test_double"], "broken": ["tests/test_calc.py::test_zero"]},
                "acceptance": None,
                "flags": [],
                "diffstat": {"files": 1, "added": 1, "removed": 1},
                "cluster": 1,
                "cost_usd": None,
            },
            {
                "name": "gemini",
                "agent": "gemini",
                "model": None,
                "order": 2,
                "rank": 3,
                "status": "tests_failed",
                "reasons": ["tampered with tests"],
                "error": None,
                "tests": {"command": "pytest", "passed": 10, "failed": 0, "junit": True, "fixed": [], "broken": []},
                "flags": [
                    {
                        "kind": "test_deleted",
                        "file": "tests/test_calc.py",
                        "detail": "test removed: test_double",
                        "severity": "tamper",
                    },
                    {
                        "kind": "skip_added",
                        "file": "tests/test_calc.py",
                        "detail": f"skip added: @pytest.mark.skip {EVIL}",
                        "severity": "tamper",
                    },
                ],
                "diffstat": {"files": 1, "added": 0, "removed": 5},
                "cluster": 2,
            },
        ],
    }  # fmt: skip


class StrictParser(HTMLParser):
    """Fails on unbalanced or mis-nested tags; collects visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.scripts = 0
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
            self.in_script = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.in_script:
            self.text.append(data)


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    return parser


def report(**changes: Any) -> RaceReport:
    return from_dict(race() | changes)


@pytest.fixture
def page() -> str:
    return render_html(report(), {"claude": DIFF, "codex": DIFF, "gemini": "garbage, not a diff"})


def test_well_formed_with_one_script_of_ours(page: str) -> None:
    parsed = parse(page)
    assert parsed.errors == []
    assert parsed.stack == []
    assert parsed.scripts == 1  # the view toggle; candidate text never becomes a tag
    assert page.startswith("<!DOCTYPE html>")


def test_untrusted_text_is_escaped(page: str) -> None:
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = "".join(parse(page).text)
    assert EVIL in text  # escaped markup reads back as the literal text
    assert "Make double() fast & <safe>" in text


def test_no_network_resources(page: str) -> None:
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page
    assert "<link" not in page


def test_header_facts_and_low_confidence_advice(page: str) -> None:
    text = " ".join(parse(page).text)
    for fact in (
        "20250101-120000-abcd",
        "0123456789ab",
        "main",
        "finished",
        "claude fixed 2 tests, codex fixed 1",
        "low",
        "claude and codex converged; gemini diverged",
    ):
        assert fact in text
    assert "review the top two" in text
    assert "(claude and codex)" in text


def test_no_advice_at_high_confidence() -> None:
    assert "review the top two" not in render_html(report(confidence="high"), {})


def test_every_candidate_flag_and_test_id_is_shown(page: str) -> None:
    text = " ".join(parse(page).text)
    for needle in (
        "claude",
        "codex",
        "gemini",
        "test removed: test_double",
        "test_deleted",
        "skip_added",
        "debug output added: print(x)",
        "tests/test_calc.py::test_double",
        "tests/test_calc.py::test_neg",
        "tests/test_calc.py::test_zero",
        "fixed 2 failing tests",
        "Done.",
        "racer/abcd/claude",
        "$0.1234 (est.)",
        "42.5 s",
        "2 files +2 -1",
        "1000 in / 200 out / 50 cached",
    ):
        assert needle in text, needle


def test_ranking_follows_rank(page: str) -> None:
    ranking = re.search(r'<ol class="ranking">(.*?)</ol>', page, re.S)
    assert ranking is not None
    assert re.findall(r">(claude|codex|gemini)</a>", ranking.group(1)) == [
        "claude",
        "codex",
        "gemini",
    ]


def test_evidence_table_row(page: str) -> None:
    table = re.search(r'<table class="evidence">(.*?)</table>', page, re.S)
    assert table is not None
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    header = re.findall(r"<th>(.*?)</th>", rows[0])
    assert header == [
        "#",
        "candidate",
        "status",
        "tests passed / failed",
        "fixed",
        "broken",
        "acceptance passed / failed",
        "flags",
        "diff",
        "agreement",
        "cost",
        "time",
    ]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[3])]
    assert cells == ["3", "gemini", "tests_failed", "10 / 0", "0", "0", "—", "2 tamper", "1 file +0 -5", "its own change", "—", "—"]  # fmt: skip
    assert "same change as codex" in rows[1] and "its own change" not in rows[2]


def test_tamper_flags_are_styled_red(page: str) -> None:
    assert page.count('<li class="flag tamper">') == 2
    assert page.count('<li class="flag scope">') == 1
    assert "li.flag.tamper" in page  # the rule that colours them


def test_diff_views_unified_and_side_by_side(page: str) -> None:
    assert page.count('<table class="diff unified hl">') == 2
    assert page.count('<table class="diff split hl">') == 2
    assert 'data-show="split"' in page
    # Side by side pairs the removed line with the first added one in one row.
    row = re.search(r'<tr><td class="ln">2</td><td class="code del">(.*?)</tr>', page, re.S)
    assert row is not None
    assert '<td class="code add">' in row.group(1)
    assert '<span class="k">return</span>' in page  # pygments token classes
    assert ".hl .k {" in page  # and their one stylesheet
    assert "binary file" in page


def test_unparsable_diff_is_shown_as_text() -> None:
    page = render_html(report(), {"gemini": f"not a diff {EVIL}"})
    assert "not a diff &lt;script&gt;" in page
    broken = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,5 +1,1 @@\n-a\n"
    page = render_html(report(), {"gemini": broken})
    assert "diff could not be parsed" in page
    assert parse(page).errors == []


def test_long_diffs_are_truncated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_html, "MAX_DIFF_LINES", 3)
    page = render_html(report(), {"claude": DIFF})
    assert "diff truncated: 3 of 6 lines shown" in page
    assert "not shown: over the size limit" not in page  # the binary file is just binary
    second = "diff --git a/b.py b/b.py\n--- a/b.py\n+++ b/b.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    page = render_html(report(), {"claude": DIFF + second})
    assert "b.py  +1 -1" in page and "not shown: over the size limit" in page
    assert parse(page).errors == []


def test_sparse_record_still_renders() -> None:
    """A race cut short: candidates with nothing but their names, no tests, no diff stats."""
    minimal = report(
        status="interrupted",
        spec={},
        base={"commit": None, "branch": None},
        test_command=None,
        winner=None,
        decided_by=None,
        confidence=None,
        cluster_summary=None,
        candidates=[
            {"name": "solo", "agent": "solo", "model": None, "order": 0},
            {"name": "weird <b>", "agent": "", "model": None, "order": 1, "status": "agent"},
        ],
    )
    page = render_html(minimal, {"solo": ""})
    parsed = parse(page)
    assert parsed.errors == []
    text = " ".join(parsed.text)
    assert "solo" in text and "weird <b>" in text
    assert "empty diff" in text
    assert "no diff recorded" in text
    assert "tests not run" in text
    assert "no reasons recorded" in text
    assert "racer report" in text  # no spec title
    assert "(detached)" in text


def test_test_detail_when_the_counts_do_not_say_why() -> None:
    data = race()
    data["candidates"][2]["tests"] = {"command": "make test", "exit_code": 2, "junit": False}
    page = render_html(from_dict(data), {})
    # Without per-test results no counts and no verdict on the suite it did not see.
    assert "<h3>Tests</h3><p>make test exited 2; no per-test results</p>" in page
    assert "(12 passed" not in page  # a JUnit run's counts need no gloss
