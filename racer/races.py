"""The races of a repository as the commands see them: the rows of `ls`, and the procedures
behind `merge`, `clean`, `resume` and `review` that the CLI calls (`show` reads racer.records).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import anyio

from racer import history, overlay, reviewrun, store
from racer import merge as merging
from racer import report as rpt
from racer.config import load_config
from racer.errors import AgentError, NewerRecord, RaceNotFound, RacerError, RefusedError
from racer.plan import RacePlan
from racer.planfile import load_plan
from racer.records import status_of
from racer.repo import RepoInfo
from racer.reporter import Reporter
from racer.resume import find_leftovers, stop_leftovers
from racer.reviewing import AUTO, pick_helper
from racer.status import RaceStatus
from racer.store import RaceDir
from racer.views import write_views


def pool_size(root: Path) -> int:
    """The `pool` setting for removed lanes; 0 (delete them) when the config cannot be read."""
    try:
        return load_config(root, env=os.environ).pool
    except RacerError:
        return 0


@dataclass(frozen=True)
class RaceRow:
    """One line of `racer ls`."""

    id: str
    status: str
    title: str = ""
    winner: str | None = None
    candidates: str = ""
    left_running: int = 0
    merged: str | None = None  # the candidate merged, when one was


def race_rows(common_dir: Path) -> list[RaceRow]:
    """The repository's races, newest first, each with what it is now."""
    rows: list[RaceRow] = []
    for race_id in store.race_ids(common_dir):
        race_dir = RaceDir.of(common_dir, race_id)
        try:
            r = rpt.load(race_dir)
        except NewerRecord:
            rows.append(RaceRow(race_id, RaceStatus.NEWER))
            continue
        except RaceNotFound:
            rows.append(RaceRow(race_id, RaceStatus.DAMAGED))
            continue
        status = status_of(r, race_dir)
        left = 0
        if status.startswith(RaceStatus.INTERRUPTED):
            left = len(find_leftovers(r))
            if left:
                status += f", {left} process(es) left running"
        rows.append(
            RaceRow(
                id=r.id,
                status=status,
                title=r.spec.get("title") or "",
                winner=r.winner,
                merged=r.merged.candidate if r.merged else None,
                candidates=", ".join(c.name for c in r.candidates),
                left_running=left,
            )
        )
    return rows


def merge(
    repo: RepoInfo, name: str, race: str | None, *, keep: bool, force: bool = False
) -> merging.MergeResult:
    """`racer merge`: squash a finished race's candidate onto the branch it started from."""
    race_dir = store.find_race(repo.common_dir, race)
    with store.RaceLock(race_dir):
        report = rpt.load(race_dir)
        _attach(report, repo.common_dir)
        if report.status not in (RaceStatus.FINISHED, RaceStatus.MERGED):
            raise RefusedError(
                f"race {report.id} did not finish ({status_of(report, race_dir)}) — "
                f"`racer resume {report.id}` finishes it, then merge"
            )
        pool = 0 if keep else pool_size(repo.root)
        merged, result = merging.merge_candidate(report, name, keep=keep, pool=pool, force=force)
    # The person's pick is the history's ground truth (a --no-history race stays out).
    trouble = history.record_merge(merged) if _recorded(race_dir) else None
    return replace(result, warnings=(*result.warnings, trouble)) if trouble else result


@dataclass(frozen=True)
class Cleaned:
    race_id: str
    already: bool = False
    stopped: int = 0  # processes an interrupted race left running
    removed: tuple[str, ...] = ()


def clean(repo: RepoInfo, race: str | None, *, force: bool) -> Cleaned:
    """`racer clean`: stop what an interrupted race left running, then remove its checkouts and
    branches — refused while they hold work that was never merged, unless `force`."""
    race_dir = store.find_race(repo.common_dir, race)
    with store.RaceLock(race_dir):
        report = rpt.load(race_dir)
        if report.cleaned:
            return Cleaned(report.id, already=True)
        _attach(report, repo.common_dir)
        stopped = stop_leftovers(report)  # a killed racer's agents must not write on
        problems = merging.unmerged_work(report)
        if problems and not force:
            hint = "`racer resume` finishes it, " if report.status == RaceStatus.RUNNING else ""
            raise RefusedError(
                f"race {report.id} holds work that was never merged ({'; '.join(problems)}) — "
                f"{hint}merge a candidate, or pass --force to delete it"
            )
        _, removed, _ = merging.remove_lanes(report, force=True, pool=pool_size(repo.root))
        race_dir.merge_intent.unlink(missing_ok=True)
    return Cleaned(report.id, stopped=stopped, removed=removed)


@dataclass(frozen=True)
class Resumption:
    """What `racer resume` does: finish a cut-short merge (`done` says how), or run the rest
    of the race (`plan` and the interrupted record)."""

    done: str | None = None
    plan: RacePlan | None = None
    previous: rpt.RaceReport | None = None


def resume(repo: RepoInfo, race: str | None) -> Resumption:
    race_dir = store.find_race(repo.common_dir, race)
    report = rpt.load(race_dir)
    if store.is_live(race_dir):
        raise RefusedError(
            f"race {report.id} is still running in another racer — wait for it, or Ctrl-C it first"
        )
    _attach(report, repo.common_dir)
    with store.RaceLock(race_dir):
        done = merging.finish_interrupted_merge(rpt.load(race_dir), pool_size(repo.root))
    if done is not None:
        return Resumption(done=done[1])
    if report.status not in (RaceStatus.RUNNING, RaceStatus.INTERRUPTED):
        raise RefusedError(
            f"race {report.id} is {status_of(report, race_dir)} — nothing to resume "
            f"(`racer show {report.id}`)"
        )
    return Resumption(plan=load_plan(race_dir), previous=report)


def _attach(report: rpt.RaceReport, common_dir: Path) -> None:
    """The race's overlay lanes mounted for this racer (racer.overlay): they are seen only
    inside the namespace of the racer that mounts them."""
    try:
        overlay.attach((Path(c.worktree).parent for c in report.candidates), common_dir)
    except OSError as exc:
        raise RefusedError(
            f"race {report.id} has overlay lanes, and racer cannot mount them here ({exc})"
        ) from None


def review(
    repo: RepoInfo, race: str | None, agent: str | None, reporter: Reporter
) -> rpt.RaceReport:
    """`racer review`: a reviewer reads the best candidates of a finished race, its findings'
    tests run on the base and every candidate, and the race is judged again with them."""
    race_dir = store.find_race(repo.common_dir, race)
    with store.RaceLock(race_dir):
        report = rpt.load(race_dir)
        _attach(report, repo.common_dir)
        if report.status not in (RaceStatus.FINISHED, RaceStatus.MERGED):
            raise RefusedError(
                f"race {report.id} did not finish ({status_of(report, race_dir)}) — "
                f"`racer resume {report.id}` finishes it, then review"
            )
        if report.merged:
            raise RefusedError(
                f"race {report.id} was merged already ({report.merged.candidate}) — "
                "review a race before merging it"
            )
        plan = load_plan(race_dir)
        value = agent or plan.config.review or AUTO
        known = pick_helper(value, plan.registry, [], installed=False)
        if isinstance(known, str):
            raise AgentError(f"--agent {value}: {known}")
        again = anyio.run(reviewrun.review_finished, plan, report, value, reporter)
        if plan.config.history:  # judged again: the history gets the new order
            again = _warned(again, history.record_race(again))
        rpt.RaceState(again).save()
        write_views(again, plan.config.inline_diff_bytes)
    return again


def _warned(report: rpt.RaceReport, trouble: str | None) -> rpt.RaceReport:
    return replace(report, warnings=(*report.warnings, trouble)) if trouble else report


def _recorded(race_dir: RaceDir) -> bool:
    """Whether the race went into the history (its plan's `history` setting)."""
    try:
        return load_plan(race_dir).config.history
    except RacerError:
        return True  # a plan racer cannot read: record the merge, as of old
