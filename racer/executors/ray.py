"""The Ray executor (`pip install 'racer[ray]'`): each race runs here, as on the local executor
(baseline, scoring, verdict, record), and each of its lanes' agents is a Ray task of its own on
a node that advertises that agent as a custom resource (`agent:claude`). Imported only when a
batch asks for `--executor ray`; nothing else in racer imports Ray.

- The base bundle is put once (`ray.put`); a lane step pulls it only when its node's mirror
  lacks the base commit. The step returns a thin bundle of the lane; racer.lanefetch verifies
  it, fetches it and scores the lane here (the hidden tests never leave this machine).
- `--max-in-flight AGENT=N` holds lane steps of that agent back here (providers' 429s).
- Infrastructure failures (a lost node or worker, a failed clone or fetch) re-run the lane
  step up to `infra_retries` times with the next attempt number; agent and test failures are
  results. Only the last attempt's bundle is fetched: one branch per lane.
- Cancelling (Ctrl-C) calls `ray.cancel(force=True)` on every lane step in flight and records
  the lane cancelled here, whatever the task returns; a reaper task then runs on every node
  and stops what the killed steps left.
- Credentials travel by name only (never `runtime_env`, which Ray logs in plaintext).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from racer import lanefetch, steps
from racer.context import Lane
from racer.errors import UserError
from racer.executor import BlobRef, InfraError, StepResult, StepSpec
from racer.executors.local import LocalExecutor
from racer.lane import Start, run_lane
from racer.outcome import LaneOutcome
from racer.status import Status, StepStatus

# Losing these is the machine's fault: the step runs again.
_LOST: tuple[type[BaseException], ...] = (
    ray.exceptions.WorkerCrashedError,
    ray.exceptions.NodeDiedError,
    ray.exceptions.ObjectLostError,
    ray.exceptions.OwnerDiedError,
    ray.exceptions.LocalRayletDiedError,
)


def _lane_task(step: StepSpec, bundle: list[Any]) -> StepResult:
    """On a worker. The bundle's ref is wrapped in a list so Ray does not fetch it eagerly."""
    os.environ["RACER_NODE"] = ray.get_runtime_context().get_node_id()
    ref = bundle[0] if bundle else None
    fetch = (lambda: ray.get(ref)) if ref is not None else None
    return steps.run_remote(step, fetch)


def _reap_task(race_ids: tuple[str, ...]) -> int:
    return steps.reap(race_ids, grace=0.0)  # cancelled: their work is not wanted


class _Reaper:
    """One per node, started with the executor, so that on Ctrl-C a reaper is already
    running on every node (a fresh worker takes seconds to start on a busy machine): the
    killed workers' lane children die with them, their agents' process groups do not."""

    def reap(self, race_ids: tuple[str, ...]) -> int:
        return _reap_task(race_ids)


class RayExecutor:
    name = "ray"

    def __init__(
        self,
        root: Path,
        common_dir: Path,
        address: str | None = None,
        *,
        infra_retries: int = 1,
        max_in_flight: Mapping[str, int] | None = None,
        local_needs: frozenset[str] = frozenset(),
    ) -> None:
        self.address = address
        self.local_needs = local_needs  # advertised by a cluster racer starts on this machine
        self.infra_retries = infra_retries
        self.limits = {k: anyio.CapacityLimiter(v) for k, v in (max_in_flight or {}).items()}
        self._races = LocalExecutor(root, common_dir, slots=1_000_000)
        self._owns = False
        self._cancelled: list[str] = []
        self._in_flight: dict[str, int] = {}  # race id → its lane steps running
        self._reaping: set[str] = set()
        self._reapers: list[Any] = []
        self._moved: dict[str, dict[str, float]] = {}  # race id → its lane steps' traffic
        self._lane = ray.remote(_lane_task)
        self._reap = ray.remote(_reap_task)
        self._reaper_actors: dict[str, Any] = {}  # node id → its _Reaper

    async def __aenter__(self) -> RayExecutor:
        if not ray.is_initialized():
            self._connect()  # blocking, once, before any step: ray.init wants the main thread
            self._owns = True
        actor = ray.remote(_Reaper)
        for node in _alive():
            self._reaper_actors[node] = actor.options(
                num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
            ).remote()
        return self

    def _connect(self) -> None:
        """ray.init; a Ray Client head starts a server per client, which can fail to come up in
        time on a busy head: tried three times."""
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        tries = 3 if address and address.startswith("ray://") else 1
        # Only a cluster started here (no address) gets this machine's agents as resources.
        own = None if address else {n: 1000.0 for n in sorted(self.local_needs)}
        for n in range(1, tries + 1):
            try:
                try:
                    _init(address, own)
                except ValueError:
                    if own is None:
                        raise
                    _init(address, None)  # a `ray start` cluster on this machine: as it is
                return
            except (ConnectionError, RuntimeError, ValueError) as exc:
                if n == tries:
                    where = address or "a local cluster"
                    raise UserError(f"cannot connect to Ray at {where}: {exc}") from None
                time.sleep(2.0 * n)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._cancelled:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._reaped)
        finally:
            if self._owns:
                ray.shutdown()

    def put(self, data: bytes, key: str) -> BlobRef:
        return BlobRef(key, len(data), ray.put(data))

    def capacity(self) -> int:
        return 1_000_000  # Ray queues what the cluster cannot run yet

    def _start_reapers(self) -> None:
        """At the first cancel: every live node's reaper kills what the cancelled steps left
        and removes their directories, while this process winds the races down."""
        ids = tuple(sorted(set(self._cancelled) | set(self._in_flight)))
        if set(ids) <= self._reaping:
            return
        self._reaping |= set(ids)
        for node in _alive():
            actor = self._reaper_actors.get(node)
            if actor is not None:
                self._reapers.append(actor.reap.remote(ids))
            else:  # a node that joined since: a task
                self._reapers.append(
                    self._reap.options(
                        num_cpus=0,
                        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
                    ).remote(ids)
                )

    def _reaped(self) -> None:
        """Wait for the reapers (every cancelled step's processes and checkout gone)."""
        self._start_reapers()  # for races cancelled after the first reapers started
        ray.wait(self._reapers, num_returns=len(self._reapers), timeout=15)

    def _missing(self, step: StepSpec) -> str | None:
        have = ray.cluster_resources()  # type: ignore[no-untyped-call]
        lacking = sorted(n for n in step.needs if have.get(n, 0) <= 0)
        if lacking:
            return f"no node of the cluster has {lacking[0]} (ray start --resources)"
        return None

    async def run(self, step: StepSpec) -> StepResult:
        """The race here, its lanes' agents on the cluster."""
        result = await self._races.race(step, functools.partial(self._run_lane, step))
        # The lanes' refs a branch now holds go (those still without one stay, for resume).
        await anyio.to_thread.run_sync(lanefetch.drop_fetched, self._races.root, step.race_id)
        return replace(result, moved=self._moved.pop(step.race_id, {}))

    async def _run_lane(self, race: StepSpec, lane: Lane, start: Start) -> LaneOutcome:
        if start is Start.TESTS:  # a resumed lane whose agent had finished: its tests, here
            return await run_lane(lane, start)
        lane.shared.checked_out(lane.name)  # nothing is checked out here before its agent runs
        agent = lane.contestant.agent
        step = replace(race, kind="lane", lane=lane.name, attempt=1,
                       needs=frozenset({f"agent:{agent}"}))  # fmt: skip
        if (why := self._missing(step)) is not None:
            return LaneOutcome(lane.name, Status.ERROR, f"infra_error: {why}")
        limiter = self.limits.get(agent)
        phase = Status.WAITING if limiter is not None else Status.AGENT
        try:
            lane.progress.phase(phase)
            async with limiter if limiter is not None else contextlib.nullcontext():
                phase = Status.AGENT
                lane.progress.phase(phase)
                result = await self._attempts(step)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):  # racer's own word, not the task's value
                why = "cancelled: its step was stopped (ray.cancel)"
                if phase is Status.WAITING:
                    why = "cancelled before its step started (--max-in-flight)"
                lane.progress.interim(LaneOutcome(lane.name, phase, why))
            raise
        moved = self._moved.setdefault(race.race_id, {})
        for key, value in _traffic(result).items():
            moved[key] = moved.get(key, 0) + value
        return await lanefetch.settle(lane, result)

    async def _attempts(self, step: StepSpec) -> StepResult:
        error = ""
        for attempt in range(step.attempt, step.attempt + self.infra_retries + 1):
            current = replace(step, attempt=attempt)
            try:
                return await self._one(current)
            except InfraError as exc:
                error = str(exc)
        return StepResult(StepStatus.INFRA_ERROR, step.race_id, attempt, error=error)

    async def _one(self, step: StepSpec) -> StepResult:
        bundle = [step.repo.bundle.handle] if step.repo.bundle is not None else []
        ref = self._lane.options(
            num_cpus=step.cpus,
            resources={n: 1 for n in step.needs},
            max_retries=0,
            retry_exceptions=False,
        ).remote(step, bundle)
        self._in_flight[step.race_id] = self._in_flight.get(step.race_id, 0) + 1
        try:
            result: StepResult = await asyncio.wrap_future(ref.future())
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                ray.cancel(ref, force=True)  # its value, should it come, is ignored
                self._cancelled.append(step.race_id)
                self._start_reapers()
            raise
        except _LOST as exc:
            raise InfraError(f"attempt {step.attempt} lost: {type(exc).__name__}") from None
        except ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, InfraError):
                raise InfraError(str(exc.cause)) from None
            return StepResult(StepStatus.FAILED, step.race_id, step.attempt, error=_short(exc))
        finally:
            self._in_flight[step.race_id] -= 1
            if not self._in_flight[step.race_id]:
                del self._in_flight[step.race_id]
        return result


def _traffic(result: StepResult) -> dict[str, float]:
    """What a lane step sent back (bundle, record, logs) and how long it ran on its node."""
    sent = len(result.lane_bundle or b"") + sum(len(v) for v in result.logs.values())
    sent += len(json.dumps(result.fragment or {}))
    return {"bytes_returned": sent, "lane_steps": 1, "lane_steps_s": round(result.wall_s, 3)}


def _alive() -> list[str]:
    return [n["NodeID"] for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _init(address: str | None, resources: dict[str, float] | None) -> None:
    ray.init(address=address, include_dashboard=False, log_to_driver=False,
             configure_logging=False, resources=resources)  # fmt: skip
