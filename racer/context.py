"""What every lane step needs: the `Lane` context value (plan, contestant, its record so far,
its env and progress) and `LaneShared`, what the lanes of one race share.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import anyio

from racer.agents import Agent, Contestant, agent_version
from racer.checkout import slug
from racer.config import AgentConfig
from racer.plan import RacePlan
from racer.proc import lower_this_thread
from racer.report import Candidate
from racer.reporter import Progress
from racer.sandbox import Sandbox, home_paths
from racer.store import RaceDir

NO_AGENT_CFG = AgentConfig(name="")  # for agents without a config table
VERSION_WAIT_S = 25.0
T = TypeVar("T")


def background(fn: Callable[..., T], *args: object, behind: bool = False) -> Future[T]:
    """`fn(*args)` in a thread of its own, started now; nobody waits for it until its result
    is asked for (its error, if any, is raised there). `behind`: at a lower CPU priority, so
    that it takes what the lanes leave (racer.proc.lower_this_thread)."""
    ex = ThreadPoolExecutor(
        max_workers=1,
        thread_name_prefix="racer-bg",
        initializer=lower_this_thread if behind else None,
    )
    future = ex.submit(fn, *args)
    ex.shutdown(wait=False)  # its one task goes on; the thread ends with it
    return future


def free_ports(names: list[str]) -> dict[str, int]:
    """One TCP port per lane, free on 127.0.0.1 right now and unique across the race."""
    socks = []
    try:
        for _ in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))  # held open until all are chosen: no duplicates
            socks.append(sock)
        return {name: sock.getsockname()[1] for name, sock in zip(names, socks, strict=True)}
    finally:
        for sock in socks:
            sock.close()


class LaneShared:
    """What lanes share: test slots, per-agent caps, the agents' versions (asked once), the
    files copied into every checkout, the base's test files, and one port per lane."""

    def __init__(
        self,
        plan: RacePlan,
        copies: list[str],
        base_tests: Mapping[str, str] | Future[dict[str, str]],
    ) -> None:
        self.plan = plan
        self.copies = copies
        # Base text of the test files, for spotting expected values copied into product code
        # (or their reading, under way while the lanes start).
        self._base_tests = base_tests
        self.test_slots = anyio.CapacityLimiter(plan.config.jobs)
        self.caps: dict[str, anyio.CapacityLimiter] = {
            name: anyio.CapacityLimiter(cfg.max_parallel)
            for name, cfg in plan.config.agent_configs.items()
            if cfg.max_parallel
        }
        self.ports = free_ports([c.name for c in plan.contestants])
        self._versions: dict[str, str | None] = {}
        self._version_ready: dict[str, anyio.Event] = {}
        # The baseline's checkout waits for the lanes' checkouts: they gate the agents' start,
        # while the baseline has the whole agent run as slack.
        self._to_check_out = {c.name for c in plan.contestants}
        self.lanes_checked_out = anyio.Event()
        if not self._to_check_out:
            self.lanes_checked_out.set()
        # Set once no lane's agent can run any more (their tests may): lane branches may then
        # reach the main repository.
        self._agents_left = {c.name for c in plan.contestants}
        self.agents_done = anyio.Event()

    @property
    def base_tests(self) -> Mapping[str, str]:
        """The base's test files; read in the background, the first use waits for them."""
        if isinstance(self._base_tests, Future):
            self._base_tests = self._base_tests.result()
        return self._base_tests

    def agent_done(self, name: str) -> None:
        """This lane's agent has stopped for good (or will never start)."""
        self._agents_left.discard(name)
        if not self._agents_left:
            self.agents_done.set()

    def checked_out(self, name: str) -> None:
        self._to_check_out.discard(name)
        if not self._to_check_out:
            self.lanes_checked_out.set()

    async def fetch_version(self, agent_name: str) -> None:
        """Ask the agent CLI its version, once per race: the first lane of an agent asks, the
        others find it asked (the version is needed only once the agent has run)."""
        if agent_name in self._version_ready:
            return
        event = self._version_ready[agent_name] = anyio.Event()
        try:
            agent = self.plan.registry[agent_name]
            version, _ = await anyio.to_thread.run_sync(agent_version, agent)
            self._versions[agent_name] = version
        finally:
            event.set()

    async def version(self, agent_name: str) -> str | None:
        event = self._version_ready.get(agent_name)
        if event is not None:
            with anyio.move_on_after(VERSION_WAIT_S):
                await event.wait()
        return self._versions.get(agent_name)


@dataclass(frozen=True)
class Lane:
    """One contestant's lane: what each of its steps reads (it changes nothing in here)."""

    plan: RacePlan
    contestant: Contestant
    record: Candidate  # as the lane starts: a resumed lane's attempts, commit and logs
    shared: LaneShared
    progress: Progress
    env: Mapping[str, str] = field(default_factory=dict)
    # A reviewer or test writer gets its own prompt; contestants get the race's.
    prompt: str | None = None
    prompt_file: Path | None = None

    @property
    def prompt_text(self) -> str:
        return self.plan.prompt if self.prompt is None else self.prompt

    @property
    def prompt_path(self) -> Path:
        return self.prompt_file or self.plan.race_dir.prompt

    @property
    def name(self) -> str:
        return self.contestant.name

    @property
    def slug(self) -> str:
        return slug(self.contestant.name)

    @property
    def checkout(self) -> Path:
        return Path(self.record.worktree)

    @property
    def branch(self) -> str:
        return self.record.branch

    @property
    def dir(self) -> RaceDir:
        return self.plan.race_dir

    @property
    def agent(self) -> Agent:
        return self.plan.registry[self.contestant.agent]

    @property
    def agent_cfg(self) -> AgentConfig:
        return self.plan.config.agent_configs.get(self.contestant.agent, NO_AGENT_CFG)


def sandbox_for(
    plan: RacePlan,
    checkout: Path,
    env: Mapping[str, str],
    agent: Agent | None = None,
    readable: tuple[Path, ...] = (),
) -> Sandbox | None:
    """The lane's bubblewrap sandbox under --sandbox: its checkout and the agent CLI's own dirs
    writable; the other lanes and racer's records hidden. Without `agent`: for test runs."""
    if not plan.config.sandbox:
        return None
    return Sandbox(
        worktree=checkout,
        hide=(plan.worktree_root, plan.repo.common_dir / "racer"),
        writable=home_paths(env, agent.home_dirs, agent.dir_env) if agent else (),
        readable=(plan.race_dir.prompt, *readable),
    )
