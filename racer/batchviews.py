"""The batch report, rendered from batch.json and its races' records only: a specs x
contestants matrix of statuses, each race's winner, cost and time — as plain text for the
terminal, Markdown and self-contained HTML. Every value an agent could shape is escaped."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from racer import fmt
from racer.report import RaceReport
from racer.status import SpecState


@dataclass(frozen=True)
class Row:
    spec: str
    race_id: str
    state: str  # the batch's: queued, running, done, cancelled, infra_error, failed
    cells: tuple[str, ...]  # one per column: the contestant's status (#rank), or blank
    winner: str
    cost: str
    time: str


def matrix(
    data: Mapping[str, Any], reports: Mapping[str, RaceReport]
) -> tuple[list[str], list[Row]]:
    """The contestants (columns, in the order given) and one row per spec."""
    columns: list[str] = []
    for entry in data["specs"]:
        report = reports.get(entry["race_id"])
        for c in sorted(report.candidates, key=lambda c: c.order) if report else ():
            if c.name not in columns:
                columns.append(c.name)
    rows = []
    for entry in data["specs"]:
        report = reports.get(entry["race_id"])
        by_name = {c.name: c for c in report.candidates} if report else {}
        cells = []
        for name in columns:
            got = by_name.get(name)
            cells.append("" if got is None else f"{got.status.value} ({fmt.rank(got.rank)})")
        costs = [c.cost_usd for c in by_name.values() if c.cost_usd is not None]
        state = entry["state"] + (
            f" (attempt {entry['attempt']})" if entry.get("attempt", 1) > 1 else ""
        )
        rows.append(
            Row(
                spec=fmt.printable(entry.get("title") or entry["path"]),
                race_id=entry["race_id"],
                state=state,
                cells=tuple(fmt.printable(x) for x in cells),
                winner=fmt.printable(report.winner or "—") if report else "—",
                cost=fmt.money(sum(costs), False) if costs else fmt.NONE,
                time=fmt.duration(report.wall_s) if report else fmt.NONE,
            )
        )
    return columns, rows


def counts(data: Mapping[str, Any]) -> str:
    states = [e["state"] for e in data["specs"]]
    done = states.count(SpecState.DONE)
    running = states.count(SpecState.RUNNING)
    queued = states.count(SpecState.QUEUED)
    other = len(states) - done - running - queued
    line = f"specs: {done} done, {running} running, {queued} queued"
    return line + (f", {other} not raced" if other else "")


def _header(data: Mapping[str, Any]) -> list[str]:
    return [
        f"batch {data['id']} — {data['status']} on {data['executor']}, base "
        f"{str(data['base']['commit'])[:12]}, lanes {data['agents']}",
        counts(data),
    ]


def text(data: Mapping[str, Any], reports: Mapping[str, RaceReport]) -> str:
    columns, rows = matrix(data, reports)
    head = ["spec", "race", "state", *columns, "winner", "cost", "time"]
    table = [head] + [
        [r.spec, r.race_id, r.state, *r.cells, r.winner, r.cost, r.time] for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    out = [*_header(data), ""]
    for line in table:
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    errors = [(e["race_id"], e["error"]) for e in data["specs"] if e.get("error")]
    out += [f"{rid}: {fmt.printable(err)}" for rid, err in errors]  # why a race did not run
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def markdown(data: Mapping[str, Any], reports: Mapping[str, RaceReport]) -> str:
    columns, rows = matrix(data, reports)
    head = ["spec", "race", "state", *columns, "winner", "cost", "time"]
    out = [f"# {_md(_header(data)[0])}", "", _md(_header(data)[1]), ""]
    out.append("| " + " | ".join(_md(h) for h in head) + " |")
    out.append("|" + "---|" * len(head))
    for r in rows:
        cells = [r.spec, r.race_id, r.state, *r.cells, r.winner, r.cost, r.time]
        out.append("| " + " | ".join(_md(c) for c in cells) + " |")
    errors = [(e["race_id"], e["error"]) for e in data["specs"] if e.get("error")]
    if errors:
        out += ["", "## Notes", ""] + [f"- {rid}: {_md(fmt.printable(err))}" for rid, err in errors]
    return "\n".join(out) + "\n"


def page(data: Mapping[str, Any], reports: Mapping[str, RaceReport]) -> str:
    columns, rows = matrix(data, reports)
    esc = html.escape
    head = ["spec", "race", "state", *columns, "winner", "cost", "time"]
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in
                         [r.spec, r.race_id, r.state, *r.cells, r.winner, r.cost, r.time]) + "</tr>"
        for r in rows
    )  # fmt: skip
    title, line = _header(data)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>body{{font-family:sans-serif}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style>"
        f"</head><body><h1>{esc(title)}</h1><p>{esc(line)}</p><table><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in head)
        + f"</tr>{body}</table></body></html>\n"
    )
