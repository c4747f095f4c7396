"""Picking up an interrupted race: where each unfinished lane starts again, and the processes
a killed racer left running for it (found by the race id in their environment).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from racer import checkout, orphans
from racer.lane import Start
from racer.report import RaceReport
from racer.status import RUNNING, Status
from racer.store import RaceDir

_BEFORE_AGENT = frozenset({Status.PENDING, Status.CHECKOUT, Status.SETUP})
_AFTER_AGENT = frozenset({Status.QUEUED, Status.TESTING})


def resume_points(report: RaceReport) -> dict[str, Start]:
    """Where each unfinished lane of an interrupted race starts again (finished lanes are kept)."""
    points: dict[str, Start] = {}
    for cand in report.candidates:
        if cand.status not in RUNNING:
            continue
        if cand.status in _BEFORE_AGENT or not checkout.is_lane_repo(Path(cand.worktree)):
            points[cand.name] = Start.CHECKOUT
        elif cand.status in _AFTER_AGENT and cand.commit:
            points[cand.name] = Start.TESTS
        else:
            points[cand.name] = Start.AGENT
    return points


def find_leftovers(report: RaceReport) -> list[int]:
    """Processes of this race still alive (after a SIGKILL of racer, say)."""
    since = datetime.fromisoformat(report.created).timestamp()
    try:  # the record is rewritten at every change: its last write is about when racer died
        until = RaceDir(Path(report.race_dir)).record.stat().st_mtime + 5
    except OSError:
        until = since
    pgids = [c.pgid for c in report.candidates if c.pgid]
    return orphans.find(report.id, pgids, since, until)


def stop_leftovers(report: RaceReport) -> int:
    """Stop the processes a killed racer left running for this race; returns how many."""
    return orphans.stop(find_leftovers(report))
