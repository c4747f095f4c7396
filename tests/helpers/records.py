"""Hand-made race records for history and stats tests: a finished race with the contestants,
ranks, passes and costs a test names, in a real repository."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from racer import report as rpt
from racer.report import Candidate, RaceReport
from racer.status import RaceStatus, Status
from racer.store import RaceDir
from racer.testsummary import TestSummary

# (agent, model, rank, passed, cost_usd)
Entry = tuple[str, str | None, int | None, bool, float | None]


def make_report(
    repo: Path,
    race_id: str,
    entries: list[Entry],
    created: str = "2026-06-01T12:00:00+00:00",
    duration_s: float = 10.0,
) -> RaceReport:
    """A finished race in `repo` whose record says what `entries` say (not written anywhere)."""
    cands = []
    for order, (agent, model, rank, passed, cost) in enumerate(entries):
        name = f"{agent}@{model}" if model else agent
        if any(c.name == name for c in cands):
            name = f"{name}-{order + 1}"
        cands.append(
            Candidate(
                name=name,
                agent=agent,
                model=model,
                order=order,
                status=Status.PASSED if passed else Status.TESTS_FAILED,
                rank=rank,
                passed=passed,
                duration_s=duration_s,
                cost_usd=cost,
                tests=TestSummary("pytest", passed=2, fixed=("t::a",) if passed else ()),
                agent_version="1.0",
            )
        )
    winner = next((c.name for c in cands if c.rank == 1 and c.passed), None)
    race_dir = repo / ".git" / "racer" / "races" / race_id
    return RaceReport(
        id=race_id,
        status=RaceStatus.FINISHED,
        spec={"path": str(repo / "specs" / "double.md"), "title": "Fix double"},
        base={"commit": "0" * 40, "branch": "main"},
        created=created,
        finished=created,
        repo=str(repo),
        race_dir=str(race_dir),
        prompt=str(race_dir / "prompt.md"),
        test_command="python -m pytest",
        candidates=tuple(cands),
        winner=winner,
        decided_by="failing tests",
        confidence="high",
    )


def write_record(report: RaceReport) -> Path:
    """Write the report as its race.json (as racer would), for import tests."""
    path = RaceDir(Path(report.race_dir)).record
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rpt.to_dict(report)), encoding="utf-8")
    return path


def query(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.execute(sql, args).fetchall())
