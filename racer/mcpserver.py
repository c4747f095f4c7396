"""`racer mcp`: racer's races as Model Context Protocol tools over stdio, for a lead agent.
The tools' schemas and errors live here; the races themselves are racer.service's.

Importing this module needs the MCP SDK (the `racer[mcp]` extra); without it the import is the
one-line UserError `racer mcp` prints.
"""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio

from racer import __version__
from racer.errors import RacerError, UserError
from racer.repo import open_repo
from racer.service import (
    DIFF_CAP,
    MAX_WAIT,
    Diff,
    Lanes,
    Merged,
    RaceList,
    Result,
    Service,
    Started,
    StartRequest,
)

try:
    from mcp.server.mcpserver import Context, MCPServer
    from mcp_types import CallToolResult, TextContent
    from pydantic import Field
except ImportError:
    raise UserError("racer mcp needs the MCP SDK: pip install 'racer[mcp]'") from None

P = ParamSpec("P")
STOP_GRACE = 30.0  # seconds SIGTERM gives the races to stop before the server ends anyway
T = TypeVar("T")

INSTRUCTIONS = """\
racer races several AI coding agents on one spec, each in its own git checkout of this
repository, tests every result and ranks them on evidence. race_start returns a race id at once;
race_result with wait=SECONDS waits for the ranking (progress notifications while it runs);
race_merge lands one candidate on the branch the race started from, and refuses one that did not
pass. Tools that take race_id default to the latest race."""

RaceId = Annotated[
    str | None, Field(description="Race id or a unique prefix of one (default: the latest race).")
]


def answers(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T | CallToolResult]]:
    """A tool whose RacerErrors are tool errors (isError) carrying racer's one-line message,
    exactly as the CLI prints it; the server goes on serving."""

    @functools.wraps(fn)
    async def tool(*args: P.args, **kwargs: P.kwargs) -> T | CallToolResult:
        try:
            return await fn(*args, **kwargs)
        except RacerError as exc:
            return CallToolResult(
                content=[TextContent(type="text", text=exc.message)], is_error=True
            )

    return tool


class Tools:
    """The MCP tools; `service` exists while the server runs (made in its lifespan)."""

    def __init__(self) -> None:
        self._service: Service | None = None

    @property
    def service(self) -> Service:
        assert self._service is not None, "tools are called only while the server runs"
        return self._service

    async def race_start(
        self,
        spec: Annotated[
            str | None, Field(description="The spec's Markdown text (optional YAML front matter).")
        ] = None,
        spec_path: Annotated[
            str | None,
            Field(description="Or a spec file in the repository (relative to its root)."),
        ] = None,
        contestants: Annotated[
            list[str] | None,
            Field(
                description="Contestants, NAME[@MODEL][*N] each: claude, codex@gpt-5.5, "
                "claude@opus*2 (default: the spec's or racer.toml's agents)."
            ),
        ] = None,
        test: Annotated[
            str | None, Field(description="Test command run in every checkout (default: detected).")
        ] = None,
        acceptance: Annotated[
            list[str] | None,
            Field(
                description="Hidden acceptance test files SRC[:DEST], inside the repository and "
                "not committed: copied into each checkout only after its agent stopped."
            ),
        ] = None,
        review: Annotated[
            str | None,
            Field(description="Reviewer of the best candidates: an agent like codex, or auto."),
        ] = None,
        timeout: Annotated[float | None, Field(description="Per-lane agent timeout, s.")] = None,
        test_timeout: Annotated[float | None, Field(description="Per test run timeout, s.")] = None,
        race_timeout: Annotated[
            float | None, Field(description="Wall limit for the whole race, s.")
        ] = None,
    ) -> Started:
        """Start a race of the contestants on the spec in this repository; returns its id at once
        (the race runs in the background: race_status, race_result with wait)."""
        request = StartRequest(
            spec=spec,
            spec_path=spec_path,
            contestants=contestants,
            test=test,
            acceptance=tuple(acceptance or ()),
            review=review,
            timeout=timeout,
            test_timeout=test_timeout,
            race_timeout=race_timeout,
        )
        return await self.service.start(request)

    async def race_status(self, race_id: RaceId = None) -> Lanes:
        """Each lane's phase (worktree, setup, agent, queued, testing, then its result) and
        whether the race is done."""
        return self.service.status(race_id)

    async def race_result(
        self,
        ctx: Context,
        race_id: RaceId = None,
        wait: Annotated[
            float,
            Field(description=f"Seconds to wait for the race to finish first (0 to {MAX_WAIT:g})."),
        ] = 0,
        diff: Annotated[
            bool, Field(description=f"Include each candidate's diff (cut at {DIFF_CAP} bytes).")
        ] = False,
    ) -> Result:
        """The ranking with its evidence: winner, decided_by, confidence, and per candidate its
        status, tests, acceptance tests, flags, cost and reasons. With wait, progress
        notifications report each lane's phase until the race is done."""
        return await self.service.result(race_id, wait, diff, ctx.report_progress)

    async def race_diff(
        self,
        candidate: Annotated[str, Field(description="The candidate's name (see race_result).")],
        race_id: RaceId = None,
        max_bytes: Annotated[
            int, Field(description="Cut the diff at a line end within this many bytes.")
        ] = DIFF_CAP,
    ) -> Diff:
        """A candidate's diff against the race's base commit (secret values redacted)."""
        return self.service.diff(race_id, candidate, max_bytes)

    async def race_merge(
        self,
        candidate: Annotated[str, Field(description="The candidate to land (see race_result).")],
        race_id: RaceId = None,
        keep: Annotated[
            bool, Field(description="Keep the race's checkouts and branches afterwards.")
        ] = False,
    ) -> Merged:
        """Squash the candidate onto the branch the race started from, with racer's trailers.
        Refused, with the reason, for a candidate that did not pass (there is no force here)."""
        return await self.service.merge(race_id, candidate, keep)

    async def race_list(self) -> RaceList:
        """This repository's races, newest first: id, status, title, winner, candidates."""
        return self.service.list()

    async def race_cancel(self, race_id: RaceId = None) -> Lanes:
        """Stop a race this server runs: its agents are killed, their work is kept, the race is
        interrupted (`racer resume` finishes it)."""
        return await self.service.cancel(race_id)


def build_server(root: Path, env: Mapping[str, str]) -> MCPServer[Any]:
    """The MCP server for the repository at root; races run in its lifespan's task group."""
    repo = open_repo(root)
    tools = Tools()

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            tools._service = service = Service(repo, env, group)
            group.start_soon(_stop_on_sigterm, service)
            try:
                yield None
            finally:
                # The lead went away: its races stop as on Ctrl-C (interrupted, work kept).
                group.cancel_scope.cancel()

    server: MCPServer[Any] = MCPServer(
        "racer",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        log_level="WARNING",
    )
    for fn in (
        tools.race_start,
        tools.race_status,
        tools.race_result,
        tools.race_diff,
        tools.race_merge,
        tools.race_list,
        tools.race_cancel,
    ):
        server.add_tool(answers(fn))
    return server


async def _stop_on_sigterm(service: Service) -> None:
    """SIGTERM stops the races first, as Ctrl-C stops `racer run` (agents killed, work kept,
    records interrupted), then ends the server as SIGTERM would have."""
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            break
    with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_GRACE):
        await service.stop_all()
    os.kill(os.getpid(), signal.SIGTERM)  # the receiver is gone: the default action ends it


def serve(cwd: Path) -> None:
    """Serve the repository at cwd over stdio until the client goes away."""
    build_server(cwd, os.environ).run("stdio")
