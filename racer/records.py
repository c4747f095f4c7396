"""A race's record as the commands read it now: its status from the record and its lock, the
record as `show` presents it, its views written again (`show --html`). Light to import: `racer
show` reads this, not the procedures in racer.races.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from racer import report as rpt
from racer import store
from racer.config import Config, load_config
from racer.errors import RacerError
from racer.status import RaceStatus
from racer.store import RaceDir


def status_of(report: rpt.RaceReport, race_dir: RaceDir) -> str:
    """What a race is now: a "running" record whose racer is gone was interrupted."""
    if store.is_live(race_dir):
        return RaceStatus.RUNNING
    if race_dir.merge_intent.exists():
        return RaceStatus.MERGING_INTERRUPTED
    if report.status == RaceStatus.RUNNING:
        return RaceStatus.INTERRUPTED
    if report.status == RaceStatus.INTERRUPTED and report.interruption:
        return f"{RaceStatus.INTERRUPTED} ({report.interruption})"
    if report.merged:
        return RaceStatus.MERGED
    return RaceStatus.CLEANED if report.cleaned else report.status


def shown(race_dir: RaceDir) -> rpt.RaceReport:
    """The record as `show` presents it: a running race whose racer is gone is interrupted."""
    report = rpt.load(race_dir)
    if report.status == RaceStatus.RUNNING and status_of(report, race_dir).startswith(
        RaceStatus.INTERRUPTED
    ):
        report = replace(report, status=RaceStatus.INTERRUPTED)
    return report


def inline_diff_bytes(root: Path) -> int:
    """The `inline_diff_mb` setting in bytes; its default when the config cannot be read."""
    try:
        return load_config(root, env=os.environ).inline_diff_bytes
    except RacerError:
        return Config().inline_diff_bytes


def rewrite_views(report: rpt.RaceReport, root: Path) -> Path:
    """`show --html`: report.md and report.html written again; the page's path."""
    from racer.views import write_views  # html, markdown and unidiff: for --html only

    return write_views(report, inline_diff_bytes(root))[1]
