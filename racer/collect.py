"""The lanes' work reaching your repository once their agents stopped (each lane's branch fetched
in), and whether your own checkout changed while the agents ran.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from racer import checkout
from racer import repo as repos
from racer.errors import DiskFull, RacerError
from racer.report import Candidate, RaceReport, RaceState


def checkout_changed(root: Path, before: dict[str, str]) -> str | None:
    """The warning when files of the user's checkout changed while the agents ran."""
    after = repos.checkout_snapshot(root)
    changed_paths = repos.snapshot_changes(before, after)
    if not changed_paths:
        return None
    shown = ", ".join(changed_paths[:5]) + (
        f" and {len(changed_paths) - 5} more" if len(changed_paths) > 5 else ""
    )
    return (
        f"your checkout changed while the agents ran ({shown}): if that was not you, an "
        "agent wrote outside its worktree — check those files; --sandbox prevents it"
    )


def collect_lanes(state: RaceState, done: set[tuple[str, str]] | None = None) -> None:
    """Fetch each lane's recorded work into the main repository as its `racer/...` branch.

    A lane that cannot be collected (its checkout is gone) keeps its record and gets a warning;
    the others are unaffected. `done`: (lane, commit) pairs already fetched (skipped)."""
    state.warn(*collect(state.report, set() if done is None else done))
    state.save()


def collect(report: RaceReport, done: set[tuple[str, str]]) -> list[str]:
    """Fetch the lanes' recorded work (each lane not in `done`, added to it once fetched);
    returns what went wrong, one line per lane. Lanes are fetched in parallel: each fetch
    updates its own ref."""
    root = Path(report.repo)

    def one(cand: Candidate) -> str | None:
        wt = Path(cand.worktree)
        if cand.commit is None or (cand.name, cand.commit) in done:
            return None
        if not checkout.is_lane_repo(wt):
            return None
        if repos.branch_tip(root, cand.branch) != cand.commit:
            try:
                checkout.collect_lane(root, wt, cand.branch, cand.commit)
            except DiskFull:
                raise
            except RacerError as exc:
                return f"{cand.name}: work not collected: {exc}"
        done.add((cand.name, cand.commit))
        return None

    cands = report.candidates
    with ThreadPoolExecutor(max_workers=max(1, min(len(cands), os.cpu_count() or 1))) as ex:
        return [p for p in ex.map(one, cands) if p]
