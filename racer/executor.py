"""The executor seam: the values that cross a machine boundary and the protocol a backend keeps.

This module imports no engine. A batch (racer.batch) hands an `Executor` one `StepSpec` per race
and gets a `StepResult` back. Both executors run the race in this process on the user's
repository (baseline, scoring, verdict: today's path); `racer.executors.local` runs its lanes
here too, `racer.executors.ray` runs each lane's agent as a step of its own (kind "lane") on a
cluster node that has the agent, in a clone of a per-node mirror fed from one base bundle, and
scores the returned lane here. Both end in the same step code (racer.steps, racer.lane).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol

from racer.errors import RacerError, UserError
from racer.status import StepStatus

EXECUTORS = ("local", "ray")  # and ray://HOST:PORT (Ray Client)


class InfraError(RacerError):
    """The machine failed the step (clone, fetch, a lost worker): retried, never a result."""


@dataclass(frozen=True)
class BlobRef:
    """An executor-owned handle of bytes put once (the base bundle): a path, or a Ray ObjectRef."""

    key: str  # content hash: a node's mirror cache is keyed by it
    size: int
    handle: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RepoRef:
    """How a worker materialises the base commit."""

    repo_id: str  # stable: hash of the repository's root commit
    base_sha: str
    base_branch: str | None  # the branch the race records as its base (merge target)
    bundle: BlobRef | None  # None: the step runs in the user's repository itself (local)


@dataclass(frozen=True)
class RaceJob:
    """One spec's race, as plain values: what `racer run` would be given on the command line."""

    race_id: str
    spec_name: str  # file name of the spec (the record's spec path on a worker)
    spec_path: str  # where the driver read it: the local executor races this file
    spec_text: str
    agents: str  # contestants, samples expanded: "fake@good*3,fake@bad*3"
    settings: tuple[tuple[str, object], ...] = ()  # other `racer run` settings (test, timeout…)
    passthrough: tuple[tuple[str, str], ...] = ()  # non-secret env for the race (RACER_FAKE)

    def setting(self, name: str) -> object:
        return dict(self.settings).get(name)


@dataclass(frozen=True)
class StepSpec:
    kind: Literal["race", "lane"]
    race_id: str
    attempt: int
    repo: RepoRef
    job: RaceJob
    cpus: float = 1.0
    timeout_s: float = 3600.0
    needs: frozenset[str] = frozenset()  # custom resources: {"agent:claude"}: routing only
    credentials: tuple[str, ...] = ()  # env var NAMES the worker must have; never values
    lane: str = ""  # kind "lane": the contestant whose agent the step runs


@dataclass(frozen=True)
class StepResult:
    status: StepStatus
    race_id: str
    attempt: int = 1
    host: str = ""
    error: str = ""
    record: Mapping[str, object] | None = None  # race.json (a race step)
    # A lane step: its candidate record and changes as the worker left them (JSON values),
    # the thin bundle base..lane branch and its head SHA, its redacted logs and diff by name.
    fragment: Mapping[str, Any] | None = None
    lane_bundle: bytes | None = None
    heads: Mapping[str, str] = field(default_factory=dict)  # lane branch → head SHA
    logs: Mapping[str, bytes] = field(default_factory=dict)  # logs/<lane>.agent.log → bytes
    # A remote race's traffic and its lane steps: bytes_returned, lane_steps, lane_steps_s.
    moved: Mapping[str, float] = field(default_factory=dict)
    wall_s: float = 0.0


class Executor(Protocol):
    name: str

    async def __aenter__(self) -> Executor: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def put(self, data: bytes, key: str) -> BlobRef:
        """Send bytes once (the base bundle); every step that names the ref shares them."""
        ...

    def capacity(self) -> int:
        """How many steps can run at once (the batch's limiter)."""
        ...

    async def run(self, step: StepSpec) -> StepResult:
        """Run one step; cancelling the caller's scope cancels the step and yields no result."""
        ...


def parse_executor(value: str) -> tuple[str, str | None]:
    """`local`, `ray` (RAY_ADDRESS or a local cluster) or `ray://HOST:PORT` → (kind, address)."""
    if value == "local":
        return "local", None
    if value == "ray":
        return "ray", None
    if value.startswith("ray://") and len(value) > len("ray://"):
        return "ray", value
    raise UserError(f"--executor {value!r}: expected local, ray or ray://HOST:PORT")
