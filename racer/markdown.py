"""The Markdown view of a race (report.md), rendered from the RaceReport record."""

from __future__ import annotations

from collections.abc import Mapping

from racer import fmt
from racer.findings import line_in_diff
from racer.report import Candidate, RaceReport, ranked
from racer.status import Status


def _header(report: RaceReport) -> list[str]:
    winner = (
        f"- winner: **{report.winner}**"
        if report.winner
        else "- winner: none — no candidate passed"
    )
    return [
        f"# racer report: {report.spec.get('title', '')}",
        "",
        f"- race: `{report.id}` ({report.status})",
        f"- spec: `{report.spec.get('path')}`",
        f"- base: `{fmt.commit(report.base.get('commit'))}` on `{report.base.get('branch') or '(detached)'}`",
        f"- tests: `{report.test_command or 'none'}`",
        *([f"- {_plain(p)}"] if (p := fmt.placed(report.acceptance_files)) else []),
        f"- race time: {fmt.duration(report.wall_s)}",
        winner,
        *(f"- warning: {_plain(w)}" for w in report.warnings),
        "",
        "| # | candidate | status | tests | diff | time | tokens | cost |",
        "|---|---|---|---|---|---|---|---|",
    ]


def _row(c: Candidate) -> str:
    cells = (
        fmt.rank(c.rank),
        _plain(c.name),
        c.status,
        _plain(fmt.tests(c.tests, passed=c.status == Status.PASSED)),
        fmt.diffstat(c.diffstat),
        fmt.duration(c.duration_s),
        fmt.usage(c),
        fmt.cost(c),
    )
    return "| " + " | ".join(cells) + " |"


_INERT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "|": "\\|", "`": "\\`"}
)


def _plain(text: object) -> str:
    """Agent-controlled text as inert Markdown, on one line: no HTML, no links, no code spans
    or table cells breaking out (a Markdown viewer that renders HTML renders none of it)."""
    return " ".join(fmt.printable(text).translate(_INERT).split())


def _code(text: object, limit: int = 160) -> str:
    """Inside a code span nothing is markup; only a backtick could end it early."""
    return " ".join(fmt.printable(text).replace("`", "'").split())[:limit]


def _section(report: RaceReport, c: Candidate, diff: str | None = None) -> list[str]:
    lines = [f"## {fmt.rank(c.rank)}. {_plain(c.name)}", ""]
    lines += [f"- {_plain(r)}" for r in c.reasons]
    if c.error:
        lines.append(f"- error: {_plain(c.error)}")
    if c.agent_version:
        version = _plain(f"{c.agent} {c.agent_version}, model {c.model or 'default'}")
        lines.append(f"- agent: {version}")
    lines += [f"- {_plain(a)}" for a in fmt.attempts(c.attempts)]
    lines += [f"- warning: {_plain(w)}" for w in c.warnings]
    for f in c.flags:
        detail = _plain(f.detail)
        lines.append(f"- **{f.severity} flag** `{_code(f.kind)}` in `{_code(f.file)}`: {detail}")
    if c.tests and (c.tests.fixed or c.tests.broken):
        fixed = ", ".join(f"`{_code(t)}`" for t in c.tests.fixed) or "none"
        broken = ", ".join(f"`{_code(t)}`" for t in c.tests.broken) or "none"
        lines.append(f"- fixed: {fixed}; broken: {broken}")
    if c.acceptance:
        a = c.acceptance
        lines.append(f"- acceptance: {_plain(fmt.acceptance(a))}")
    if c.cross:
        lines.append(f"- other candidates' tests: {c.cross.passed}/{c.cross.total} passed")
    note = fmt.reviewed_as(report, c.name)
    if note:
        lines.append(f"- {_plain(note)}")
    for found in fmt.findings_of(report.review, c.name):
        at = line_in_diff(diff, found.file, found.line) if diff else None
        code = f" — on `{_code(at)}`" if at else ""
        lines.append(f"- **finding** {_plain(fmt.finding(found))}{code}")
    lines.append(f"- branch: `{c.branch}`")
    lines += [f"- {kind} log: `{path}`" for kind, path in c.logs.items()]
    if c.diff:
        lines.append(f"- diff: `{c.diff}` (`racer diff {report.id} {c.name}`)")
    if c.final_message:  # the agent's own words: each line inert
        said = [_plain(line) for line in c.final_message.strip().splitlines()]
        lines += ["", "> " + "\n> ".join(said)]
    lines.append("")
    return lines


def render_markdown(report: RaceReport, diffs: Mapping[str, str] | None = None) -> str:
    cands = ranked(report)
    lines = _header(report)
    lines += [_row(c) for c in cands]
    lines.append("")
    for line in (
        fmt.cascade(report.cascade),
        fmt.generated(report.generated_tests),
        fmt.review(report.review),
    ):
        if line:
            lines.append(f"- {_plain(line)}")
    if report.cascade or report.generated_tests or report.review:
        lines.append("")
    for c in cands:
        lines += _section(report, c, (diffs or {}).get(c.name))
    if report.merged:
        m = report.merged
        lines.append(f"Merged **{m.candidate}** as `{fmt.commit(m.commit)}` on `{m.branch}`.")
    elif report.winner and report.confidence == "low":
        lines.append(
            "Low confidence: review the top two candidates, then land one with "
            f"`racer merge NAME --race {report.id}`."
        )
    elif report.winner:
        lines.append(f"Land the winner: `racer merge {report.winner} --race {report.id}`")
    return "\n".join(lines) + "\n"
