"""The Ray executor (`pip install 'racer[ray]'`): each race step is a Ray task on a node that
advertises the contestants' agents as custom resources (`agent:claude`). Imported only when a
batch asks for `--executor ray`; nothing else in racer imports Ray.

- The base bundle is put once (`ray.put`); a step pulls it only when its node's mirror lacks the
  base commit.
- Infrastructure failures (a lost node or worker, a failed clone or fetch) re-run the step up to
  `infra_retries` times with the next attempt number; agent and test failures are results.
- Cancelling (Ctrl-C) calls `ray.cancel(force=True)` and records `cancelled` here, whatever the
  task returns; a reaper task then runs on every node and stops what the killed steps left.
- Credentials travel by name only (never `runtime_env`, which Ray logs in plaintext).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

import anyio
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from racer import steps
from racer.errors import UserError
from racer.executor import BlobRef, InfraError, StepResult, StepSpec
from racer.status import StepStatus

# Losing these is the machine's fault: the step runs again.
_LOST: tuple[type[BaseException], ...] = (
    ray.exceptions.WorkerCrashedError,
    ray.exceptions.NodeDiedError,
    ray.exceptions.ObjectLostError,
    ray.exceptions.OwnerDiedError,
    ray.exceptions.LocalRayletDiedError,
)


def _race_task(step: StepSpec, bundle: list[Any]) -> StepResult:
    """On a worker. The bundle's ref is wrapped in a list so Ray does not fetch it eagerly."""
    os.environ["RACER_NODE"] = ray.get_runtime_context().get_node_id()
    ref = bundle[0] if bundle else None
    fetch = (lambda: ray.get(ref)) if ref is not None else None
    return steps.run_remote(step, fetch)


def _reap_task(race_ids: tuple[str, ...]) -> int:
    return steps.reap(race_ids)


class RayExecutor:
    name = "ray"

    def __init__(
        self,
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
        self._owns = False
        self._cancelled: list[str] = []
        self._race = ray.remote(_race_task)
        self._reap = ray.remote(_reap_task)

    async def __aenter__(self) -> RayExecutor:
        if not ray.is_initialized():
            self._connect()  # blocking, once, before any step: ray.init wants the main thread
            self._owns = True
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
                    await anyio.to_thread.run_sync(self.reap_nodes, tuple(self._cancelled))
        finally:
            if self._owns:
                ray.shutdown()

    def put(self, data: bytes, key: str) -> BlobRef:
        return BlobRef(key, len(data), ray.put(data))

    def capacity(self) -> int:
        return 1_000_000  # Ray queues what the cluster cannot run yet

    def reap_nodes(self, race_ids: tuple[str, ...]) -> None:
        """Run the reaper on every live node (pinned there), waiting for the cancelled steps."""
        refs = [
            self._reap.options(
                num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False),
            ).remote(race_ids)
            for n in ray.nodes()  # type: ignore[no-untyped-call]
            if n.get("Alive")
        ]
        ray.wait(refs, num_returns=len(refs), timeout=15)

    def _missing(self, step: StepSpec) -> str | None:
        have = ray.cluster_resources()  # type: ignore[no-untyped-call]
        lacking = sorted(n for n in step.needs if have.get(n, 0) <= 0)
        if lacking:
            return f"no node of the cluster has {lacking[0]} (ray start --resources)"
        return None

    async def run(self, step: StepSpec) -> StepResult:
        if (why := self._missing(step)) is not None:
            return StepResult(StepStatus.INFRA_ERROR, step.race_id, step.attempt, error=why)
        agents = [n.removeprefix("agent:") for n in sorted(step.needs)]
        limiters = [self.limits[a] for a in agents if a in self.limits]
        for lim in limiters:
            await lim.acquire()
        try:
            return await self._attempts(step)
        finally:
            for lim in limiters:
                lim.release()

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
        ref = self._race.options(
            num_cpus=step.cpus,
            resources={n: 1 for n in step.needs},
            max_retries=0,
            retry_exceptions=False,
        ).remote(step, bundle)
        try:
            result: StepResult = await asyncio.wrap_future(ref.future())
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                ray.cancel(ref, force=True)  # its value, should it come, is ignored
                self._cancelled.append(step.race_id)
            raise
        except _LOST as exc:
            raise InfraError(f"attempt {step.attempt} lost: {type(exc).__name__}") from None
        except ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, InfraError):
                raise InfraError(str(exc.cause)) from None
            return StepResult(StepStatus.FAILED, step.race_id, step.attempt, error=_short(exc))
        return result


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _init(address: str | None, resources: dict[str, float] | None) -> None:
    ray.init(address=address, include_dashboard=False, log_to_driver=False,
             configure_logging=False, resources=resources)  # fmt: skip
