"""report.md rendered from a hand-built RaceReport."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from racer import report as rpt
from racer.markdown import render_markdown
from racer.report import (
    Acceptance,
    Attempt,
    Candidate,
    Cross,
    DiffStat,
    Flag,
    Merge,
    RaceReport,
    Tokens,
)
from racer.status import RaceStatus, Status
from racer.views import write_views


def _report() -> RaceReport:
    winner = Candidate(
        name="claude",
        agent="claude",
        model="opus",
        order=1,
        status=Status.PASSED,
        rank=1,
        passed=True,
        reasons=("tests pass: 3 passed",),
        duration_s=42.46,
        tests=rpt.TestSummary(
            command="pytest", passed=3, junit=True, ok=True, fixed=("t::a",), broken=()
        ),
        diffstat=DiffStat(files=2, added=3, removed=1),
        branch="racer/r1/claude",
        logs={"agent": "/races/r1/logs/claude.agent.log"},
        diff="/races/r1/diffs/claude.diff",
        tokens=Tokens(input=1000, output=200, cached=50),
        cost_usd=0.01,
        cost_estimated=True,
        agent_version="2.1.329",
        attempts=(
            Attempt(n=1, model="opus", exit_code=1, duration_s=1.0, rate_limited=True),
            Attempt(n=2, model="spare", exit_code=0, duration_s=40.0),
        ),
        acceptance=Acceptance(passed=2, failed=1),
        cross=Cross(passed=1, total=2),
        warnings=("stale node_modules",),
        final_message="Done.\nAll green.",
    )
    loser = Candidate(
        name="gemini",
        agent="gemini",
        model=None,
        order=0,
        status=Status.AGENT_FAILED,
        error="API Error: 401",
        flags=(Flag("test_deleted", "tests/test_x.py", "test removed: test_a", "tamper"),),
    )
    return RaceReport(
        id="r1",
        status=RaceStatus.FINISHED,
        spec={"path": "specs/x.md", "title": "Make x"},
        base={"commit": "0123456789abcdef0123", "branch": "main"},
        created="2025-01-01T12:00:00Z",
        repo="/repo",
        race_dir="/races/r1",
        prompt="/races/r1/prompt.md",
        test_command="pytest",
        candidates=(loser, winner),
        winner="claude",
    )


def test_header_and_table() -> None:
    md = render_markdown(_report())
    lines = md.splitlines()
    assert lines[0] == "# racer report: Make x"
    assert "- race: `r1` (finished)" in lines
    assert "- base: `0123456789ab` on `main`" in lines
    assert "- tests: `pytest`" in lines
    assert "- winner: **claude**" in lines
    assert "| # | candidate | status | tests | diff | time | tokens | cost |" in lines
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert rows == [
        "| 1 | claude | passed | 3 passed | 2 files +3 -1 | 42.5 s"
        " | 1000 in / 200 out / 50 cached | $0.0100 (est.) |",
        "| — | gemini | agent_failed | not run | 0 files +0 -0 | — | — | — |",
    ]  # ranked: the unranked candidate last, whatever its order


def test_candidate_sections() -> None:
    md = render_markdown(_report())
    for line in (
        "## 1. claude",
        "- tests pass: 3 passed",
        "- agent: claude 2.1.329, model opus",
        "- attempt 1 (opus): rate-limited, 1.0 s",
        "- attempt 2 (spare): exit 0, 40.0 s",
        "- warning: stale node_modules",
        "- fixed: `t::a`; broken: none",
        "- acceptance: 2 passed, 1 failed, 0 errors",
        "- other candidates' tests: 1/2 passed",
        "- branch: `racer/r1/claude`",
        "- agent log: `/races/r1/logs/claude.agent.log`",
        "- diff: `/races/r1/diffs/claude.diff` (`racer diff r1 claude`)",
        "> Done.\n> All green.",
        "## —. gemini",
        "- error: API Error: 401",
        "- **tamper flag** `test_deleted` in `tests/test_x.py`: test removed: test_a",
        "Land the winner: `racer merge claude --race r1`",
    ):
        assert line in md, line
    assert md.endswith("\n")


def test_no_winner_and_merged() -> None:
    report = _report()
    none = render_markdown(replace(report, winner=None))
    assert "- winner: none — no candidate passed" in none
    assert "Land the winner" not in none
    merged = replace(report, merged=Merge("claude", "fedcba9876543210", "main"))
    md = render_markdown(merged)
    assert "Merged **claude** as `fedcba987654` on `main`." in md
    assert "Land the winner" not in md


def test_single_clean_attempt_is_not_listed() -> None:
    report = _report()
    solo = replace(
        report.candidate("claude"),
        attempts=(Attempt(n=1, model="opus", exit_code=0, duration_s=1.0),),
    )
    assert "attempt 1" not in render_markdown(report.with_candidate(solo))


def test_write_views_writes_both_reports_from_the_record(tmp_path: Path) -> None:
    diff = tmp_path / "claude.diff"
    diff.write_text("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    report = _report()
    report = replace(report, race_dir=str(tmp_path / "race"))
    report = report.with_candidate(replace(report.candidate("claude"), diff=str(diff)))
    md, page = write_views(report)
    assert (md.name, page.name) == ("report.md", "report.html")
    assert md.read_text() == render_markdown(report)
    html = page.read_text()
    assert '<table class="diff unified hl">' in html  # claude's diff, read from its path
    assert "no diff recorded" in html  # gemini has none


HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) "
    "`code` | cell \x1b]0;title\x07"
)


def test_agent_text_is_inert_markdown() -> None:
    from racer.flags import Flag

    report = _report()
    cand = replace(
        report.candidates[0],
        final_message=HOSTILE + "\nline two <b>",
        error=HOSTILE,
        warnings=(HOSTILE,),
        reasons=(HOSTILE,),
        flags=(Flag("unique_file", "<img src=x onerror=alert(2)>.py", HOSTILE, "scope"),),
    )
    md = render_markdown(replace(report, candidates=(cand, *report.candidates[1:])))
    # A file name stays in a code span, where Markdown renders nothing as HTML...
    assert "`<img src=x onerror=alert(2)>.py`" in md
    # ...and outside code spans no agent text is markup.
    outside = re.sub(r"(?<!\\)`[^`]*(?<!\\)`", "", md)
    assert "<script" not in outside and "<img" not in outside and "<b>" not in outside
    assert " [click](" not in md and "\x1b" not in md and "\x07" not in md  # no link
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "> line two &lt;b&gt;" in md  # the final message keeps its lines, each inert
    assert "\\[click\\]" in md and "\\| cell" in md
