"""The only module that imports rich: the live race board, the ranked table, plain non-TTY lines.

Everything shown is rendered from the race record or from reporter events.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from racer import fmt
from racer import report as rpt
from racer.status import LANE_DONE, RaceStatus, Status

STATUS_STYLE: dict[str, str] = {
    Status.PASSED: "bold green",
    Status.OK: "green",
    Status.TESTS_FAILED: "yellow",
    Status.NO_CHANGES: "dim",
    Status.AGENT_FAILED: "red",
    Status.TIMED_OUT: "red",
    Status.SETUP_FAILED: "red",
    Status.ERROR: "red",
}


def console(file: TextIO | None = None) -> Console:
    stream = file or sys.stdout
    # Off a terminal (CI logs, pipes) rich would squeeze tables into 80 columns.
    width = None if stream.isatty() or "COLUMNS" in os.environ else 120
    return Console(file=stream, highlight=False, soft_wrap=False, width=width)


class Board:
    """Reporter for `racer run`: a live table on a terminal, plain progress lines otherwise."""

    def __init__(self, out: Console, *, live: bool | None = None) -> None:
        self.out = out
        self.live_mode = out.is_terminal if live is None else live
        self.lanes: dict[str, dict[str, object]] = {}
        self.live: Live | None = None
        self.t0 = time.monotonic()

    def started(self, report: rpt.RaceReport) -> None:
        self.t0 = time.monotonic()
        for c in report.candidates:
            self.lanes[c.name] = {
                "phase": Status.PENDING,
                "line": "",
                "start": time.monotonic(),
                "end": None,
            }
        self.out.print(
            f"race {report.id}: {fmt.plural(len(report.candidates), 'contestant')} on {report.spec.get('title')!r}"
        )
        if self.live_mode:
            self.live = Live(self._table(), console=self.out, refresh_per_second=4, transient=False)
            self.live.start()

    def phase(self, lane: str, phase: str) -> None:
        info = self.lanes.setdefault(lane, {"line": "", "start": time.monotonic(), "end": None})
        info["phase"] = phase
        if phase in LANE_DONE:  # the lane is done: its clock stops
            info["end"] = time.monotonic()
        if self.live:
            self.live.update(self._table())
        else:
            elapsed = time.monotonic() - self.t0
            self.out.print(f"[{elapsed:6.1f}s] {lane}: {phase}")

    def line(self, lane: str, text: str) -> None:
        if lane in self.lanes:
            self.lanes[lane]["line"] = fmt.printable(text).strip()[:200]
        if self.live:
            self.live.update(self._table())

    def finished(self, report: rpt.RaceReport) -> None:
        if self.live:
            self.live.update(self._table())
            self.live.stop()
            self.live = None

    def _table(self) -> Table:
        table = Table(expand=True, show_edge=False)
        table.add_column("lane", no_wrap=True)
        table.add_column("phase", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("last output", overflow="ellipsis", no_wrap=True, ratio=1)
        now = time.monotonic()
        for name, info in self.lanes.items():
            start = float(info["start"])  # type: ignore[arg-type]  # set in started()/phase()
            end = info.get("end")
            elapsed = (float(end) if isinstance(end, float) else now) - start
            phase = str(info.get("phase", ""))
            table.add_row(
                Text(fmt.printable(name)),
                Text(phase, style=STATUS_STYLE.get(phase, "cyan")),
                fmt.duration(elapsed),
                Text(str(info["line"])),  # made printable as it came in
            )
        return table


def ranked_table(report: rpt.RaceReport) -> Table:
    table = Table(title=f"race {report.id} — {report.spec.get('title')}", title_justify="left")
    for col, kw in (
        ("#", {"justify": "right"}),
        ("candidate", {}),
        ("status", {}),
        ("tests", {}),
        ("diff", {"justify": "right"}),
        ("time", {"justify": "right"}),
        ("tokens", {"justify": "right"}),
        ("cost", {"justify": "right"}),
    ):
        table.add_column(col, **kw)  # type: ignore[arg-type]  # rich's kwargs are loosely typed
    for c in rpt.ranked(report):
        table.add_row(
            fmt.rank(c.rank),
            Text(fmt.printable(c.name)),
            Text(c.status, style=STATUS_STYLE.get(c.status, "")),
            Text(fmt.printable(fmt.tests(c.tests, passed=c.status == Status.PASSED))),
            fmt.diffstat(c.diffstat),
            fmt.duration(c.duration_s),
            fmt.usage(c),
            fmt.cost(c),
        )
    return table


def show_report(out: Console, report: rpt.RaceReport, *, reasons: bool = True) -> None:
    out.print(ranked_table(report))
    if reasons:
        for c in rpt.ranked(report):
            out.print(Text(f"{fmt.rank(c.rank)}. {fmt.printable(c.name)}", style="bold"))
            _candidate_lines(out, report, c)
    for said in (
        fmt.placed(report.acceptance_files),
        fmt.cascade(report.cascade),
        fmt.generated(report.generated_tests),
        fmt.review(report.review),
    ):
        if said:
            _say(out, said)
    for w in report.warnings:
        out.print(Text.assemble(("warning:", "yellow"), " ", fmt.printable(w)))
    if report.baseline and report.baseline.flaky:
        _say(out, f"flaky on the base commit (left out): {', '.join(report.baseline.flaky)}")
    if report.cluster_summary:
        _say(out, f"agreement: {report.cluster_summary}")
    if report.decided_by:
        _say(out, f"decided by: {report.decided_by} (confidence: {report.confidence})")
    if report.wall_s is not None:
        _say(out, f"race time: {fmt.duration(report.wall_s)} from start to verdict")
    if report.status not in (RaceStatus.FINISHED, RaceStatus.MERGED):
        why = f" ({report.interruption})" if report.interruption else ""
        out.print(f"[yellow]race status: {report.status}{why}[/yellow]")
    _next_step(out, report)


def _next_step(out: Console, report: rpt.RaceReport) -> None:
    """What the person does next: what was merged, or how to land the winner (after a look at
    the top two when the confidence is low), or that nothing passed."""
    if report.merged:
        m = report.merged
        pick = (
            f" (#{_rank_of(report, m.candidate)}; the ranking's winner was {report.winner})"
            if report.winner and m.candidate != report.winner
            else ""
        )
        _say(out, f"merged {m.candidate}{pick} as {fmt.commit(m.commit)} onto {m.branch}")
    elif report.winner:
        name = fmt.printable(report.winner)
        if report.confidence == "low":
            other = next((c.name for c in rpt.ranked(report) if c.name != report.winner), None)
            look = f"racer diff {name}" + (
                f" and racer diff {fmt.printable(other)}" if other else ""
            )
            out.print(
                Text.assemble(
                    "winner: ", (name, "bold green"), " — ",
                    ("low confidence", "yellow"),
                    f": review the top two first ({look}), then: racer merge NAME",
                )
            )  # fmt: skip
        else:
            out.print(
                Text.assemble(
                    "winner: ", (name, "bold green"), f" — land it with: racer merge {name}"
                )
            )
    elif report.status == RaceStatus.FINISHED:
        out.print("[yellow]no candidate passed[/yellow] — read the reasons above and the logs")


def _rank_of(report: rpt.RaceReport, name: str) -> str:
    return fmt.rank(next((c.rank for c in report.candidates if c.name == name), None))


def _winner_cell(row: Mapping[str, object]) -> str:
    """The ranking's winner, and what was merged when the person picked another."""
    winner, merged = row.get("winner"), row.get("merged")
    cell = str(winner or "—")
    return f"{cell} (merged {merged})" if merged and merged != winner else cell


def _say(out: Console, text: str) -> None:
    """A line of record text: no markup, no control characters."""
    out.print(Text(fmt.printable(text)))


def _candidate_lines(out: Console, report: rpt.RaceReport, c: rpt.Candidate) -> None:
    """A candidate's evidence under its name: every string made printable first."""
    for r in c.reasons:
        _say(out, f"   • {r}")
    if c.error and not any(c.error in r for r in c.reasons):
        _say(out, f"   • {c.error}")
    for line in fmt.attempts(c.attempts):
        _say(out, f"   • {line}")
    for w in c.warnings:
        _say(out, f"   • warning: {w}")
    if c.acceptance is not None and (c.acceptance.load_errors or c.acceptance.error):
        _say(out, f"   • acceptance: {fmt.acceptance(c.acceptance)}")
    for f in c.flags:
        style = "red" if f.severity == "tamper" else "yellow"
        rest = fmt.printable(f" {f.kind} in {f.file}: {f.detail}")
        out.print(Text.assemble("   • ", (f"{f.severity} flag", style), rest))
    note = fmt.reviewed_as(report, c.name)
    if note:
        _say(out, f"   • {note}")
    for finding in fmt.findings_of(report.review, c.name):
        _say(out, f"   • finding {fmt.finding(finding)}")


def races_table(rows: list[dict[str, object]]) -> Table:
    table = Table()
    for col in ("id", "status", "title", "winner", "candidates"):
        table.add_column(col)
    for row in rows:
        status = str(row["status"])
        style = "yellow" if status.startswith(RaceStatus.INTERRUPTED) else None
        table.add_row(
            str(row["id"]),
            Text(status, style=style or ""),
            str(row["title"]),
            _winner_cell(row),
            str(row["candidates"]),
        )
    return table


def agents_table(rows: list[dict[str, str | bool | None]]) -> Table:
    table = Table()
    for col in ("agent", "installed", "version", "what", "install"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            str(row["name"]),
            Text("yes", style="green") if row["installed"] else Text("no", style="red"),
            str(row["version"] or "—"),
            str(row["description"]),
            str(row["install"] or ""),
        )
    return table
