"""A lane whose agent ran on another machine (a Ray lane step), brought back and scored here.

The step returns the lane's record as the worker left it, a thin git bundle of base..lane and
the lane's head SHA, its redacted logs and diff. Here the bundle is verified (`git bundle
verify`, the head SHA against the record) and fetched into `refs/racer/lanes/<race>/<lane>`;
the logs land in the race directory; then the lane is scored as a local lane is (a checkout
of its commit, setup, pristine and hidden tests: racer.lane.score_lane), so the hidden tests
never leave this machine. What the worker wrote is data: a name or status that is not a lane's
own is refused, never followed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import anyio

from racer import report as rpt
from racer.context import Lane
from racer.executor import InfraError, StepResult
from racer.flags import FileChange
from racer.git import git
from racer.lane import score_lane
from racer.outcome import AgentResult, LaneOutcome
from racer.prepare import prepare_checkout
from racer.scoring import pristine_plan
from racer.status import Status, StepStatus

# What a lane step may end in: its end, or QUEUED (its work committed, to be scored here).
_ENDS = frozenset({Status.QUEUED, Status.SETUP_FAILED, Status.AGENT_FAILED, Status.TIMED_OUT,
                   Status.NO_CHANGES, Status.ERROR})  # fmt: skip


async def settle(lane: Lane, result: StepResult) -> LaneOutcome:
    """The lane's outcome from its step's result: fetched, then scored here when it is due."""
    where = (result.host, result.attempt)
    if result.status != StepStatus.OK or result.fragment is None:
        why = f"{result.status}: {result.error or 'the lane step failed'}"
        return LaneOutcome(lane.name, Status.ERROR, why[-2000:], where=where)
    try:
        cand, changes = _values(result.fragment)
        await anyio.to_thread.run_sync(fetch_lane, lane, result, cand)
        cand = await anyio.to_thread.run_sync(_files, lane, result, cand)
    except (InfraError, ValueError, TypeError, KeyError) as exc:
        return LaneOutcome(lane.name, Status.ERROR, f"infra_error: {exc}", where=where)
    outcome = LaneOutcome(lane.name, cand.status, cand.error, agent=_agent_result(cand),
                          attempts=cand.attempts, logs=dict(cand.logs), changes=changes,
                          where=where)  # fmt: skip
    if cand.status != Status.QUEUED or outcome.agent is None:
        return outcome
    if lane.plan.test_command is None:
        return replace(outcome, status=Status.OK)
    failed = await _check_out(lane, outcome.agent.commit)
    if failed:
        return replace(outcome, status=Status.ERROR, error=failed)
    pristine = pristine_plan(changes or (), lane.plan.test_patterns)
    return await score_lane(lane, outcome, pristine)


def _values(fragment: Mapping[str, Any]) -> tuple[rpt.Candidate, tuple[FileChange, ...] | None]:
    cand = rpt.candidate_from_dict(dict(fragment["candidate"]))
    if cand.status not in _ENDS:
        raise ValueError(f"the lane step ended in {cand.status!r}, not a lane's end")
    raw = fragment.get("changes")
    changes = None if raw is None else tuple(FileChange(**dict(c)) for c in raw)
    return cand, changes


def fetch_lane(lane: Lane, result: StepResult, cand: rpt.Candidate) -> None:
    """The lane's commit into this repository (objects under refs/racer/lanes/…), verified;
    a lane that is not scored here gets its branch now (a scored one when the race collects
    its checkout, as a local lane)."""
    tip = cand.commit
    if tip is None:  # no agent ran (setup failed): nothing was committed
        return
    root, base = lane.plan.repo.root, lane.plan.base_commit
    head = result.heads.get(lane.branch)
    if head != tip:
        raise InfraError(f"lane {lane.branch}: the step's head {head} is not its record's {tip}")
    ref = f"refs/racer/lanes/{lane.plan.race_id}/{lane.slug}"
    if tip != base:
        if result.lane_bundle is None:
            raise InfraError(f"lane {lane.branch}: its step returned no bundle")
        with tempfile.TemporaryDirectory(prefix="racer-lane-") as tmp:
            path = Path(tmp) / "lane.bundle"
            path.write_bytes(result.lane_bundle)
            ok = git(["bundle", "verify", "-q", str(path)], root, check=False)
            if ok.returncode != 0:
                raise InfraError(f"the bundle of {lane.branch} failed to verify: {ok.stderr}")
            spec = f"+refs/heads/{lane.branch}:{ref}"
            got = git(["fetch", "-q", "--no-tags", "--no-write-fetch-head", str(path), spec],
                      root, check=False)  # fmt: skip
            if got.returncode != 0:
                raise InfraError(f"fetching {lane.branch}: {got.stderr.strip()}")
        have = git(["rev-parse", "-q", "--verify", ref], root, check=False).stdout.strip()
        if have != tip:
            raise InfraError(f"lane {lane.branch}: fetched {have or 'nothing'}, not {tip}")
    if lane.plan.test_command is None or cand.status != Status.QUEUED:
        git(["update-ref", f"refs/heads/{lane.branch}", tip], root)


def _files(lane: Lane, result: StepResult, cand: rpt.Candidate) -> rpt.Candidate:
    """The lane's logs and diff into this race's directory; the record's paths made local."""
    here = lane.dir.path
    for name, data in result.logs.items():
        sub, _, file = name.partition("/")
        if sub in ("logs", "diffs") and "/" not in file and file.startswith(f"{lane.slug}."):
            (here / sub).mkdir(parents=True, exist_ok=True)
            (here / sub / file).write_bytes(data)
    theirs = str(result.fragment["race_dir"]) if result.fragment else ""

    def local(path: str | None) -> str | None:
        if not path or not theirs or not path.startswith(theirs + "/"):
            return path
        return str(here) + path[len(theirs) :]

    return replace(
        cand,
        logs={k: local(v) or "" for k, v in cand.logs.items()},
        diff=local(cand.diff),
        attempts=tuple(replace(a, log=local(a.log) or "") for a in cand.attempts),
    )


def _agent_result(cand: rpt.Candidate) -> AgentResult | None:
    if cand.commit is None:
        return None
    values = {f.name: getattr(cand, f.name) for f in fields(AgentResult)}
    values["diff"] = cand.diff or ""
    return AgentResult(**values)


async def _check_out(lane: Lane, tip: str) -> str | None:
    """A checkout of the lane's commit here, with the setup command: where its tests run."""
    setup_log = lane.dir.log(lane.slug, "score-setup")
    if lane.plan.config.setup:
        lane.progress.log("score-setup", setup_log)
    failed = await prepare_checkout(lane.plan, lane.checkout, lane.branch,
                                    copies=lane.shared.copies, env=lane.env,
                                    setup_log=setup_log, commit=tip)  # fmt: skip
    return None if failed is None else f"scoring here: {failed}"


def drop_fetched(root: Path, race_id: str) -> int:
    """Remove the race's refs/racer/lanes/ refs that a branch now holds (its objects stay
    reachable from the branch); a lane still without its branch keeps its ref for resume."""
    held = set(git(["for-each-ref", "--format=%(objectname)", "refs/heads/"], root).stdout.split())
    listed = git(["for-each-ref", "--format=%(objectname) %(refname)",
                  f"refs/racer/lanes/{race_id}/"], root).stdout  # fmt: skip
    dropped = 0
    for line in listed.splitlines():
        sha, _, ref = line.partition(" ")
        if sha in held:
            git(["update-ref", "-d", ref, sha], root)
            dropped += 1
    return dropped
