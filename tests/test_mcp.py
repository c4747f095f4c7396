"""`racer mcp` through the MCP SDK's own client over stdio: `python -m racer mcp` in a real git
repository, fake contestants racing in it. Every tool, bad parameters as one-line tool errors (the
server keeps serving), two races at once, cancellation, and a server killed mid-race."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from helpers.repos import CORRECT, WRONG, Project, git

import racer
from racer import orphans

mcp = pytest.importorskip("mcp")  # the dev extra installs it; `racer[mcp]` for users
from mcp import Client  # noqa: E402  (only once importorskip found the SDK)
from mcp.client.stdio import StdioServerParameters  # noqa: E402
from mcp_types import CallToolResult  # noqa: E402

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SOURCE_ROOT = Path(racer.__file__).resolve().parent.parent  # this checkout's racer, not another
GOOD = {"write": {"calc.py": CORRECT}}
BAD = {"write": {"calc.py": WRONG}}
TOOLS = {
    "race_start",
    "race_status",
    "race_result",
    "race_diff",
    "race_merge",
    "race_list",
    "race_cancel",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def server_env() -> dict[str, str]:
    """The test's isolated environment (HOME, git identity, RACER_FAKE, worktree root)."""
    return dict(os.environ, PYTHONPATH=str(SOURCE_ROOT), PYTHONUNBUFFERED="1")


@asynccontextmanager
async def serving(project: Project) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "racer", "mcp"],
        cwd=str(project.root),
        env=server_env(),
    )
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, f"{tool} failed: {text_of(result)}"
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, **args: Any) -> str:
    """The tool error's text, which must be one line."""
    result = await client.call_tool(tool, args)
    assert result.is_error, f"{tool} should have failed: {result.structured_content}"
    message = text_of(result)
    assert "\n" not in message and message.strip(), message
    return message


def text_of(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def racer_cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "racer", *args],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=180,
        env=server_env(),
        stdin=subprocess.DEVNULL,
    )


async def test_every_tool_races_ranks_and_merges(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.fake(monkeypatch, {"good": GOOD, "bad": {**BAD, "sleep": 1}})
    async with serving(project) as client:
        listed = await client.list_tools()
        assert {t.name for t in listed.tools} == TOOLS
        for t in listed.tools:  # JSON schemas both ways, for the lead's model
            assert t.input_schema["type"] == "object" and t.output_schema is not None, t.name
        assert "no races in this repository yet" in await refused(client, "race_status")

        started = await call(
            client, "race_start", spec_path="specs/double.md", contestants=["fake@good", "fake@bad"]
        )
        race_id = started["race_id"]
        assert started["candidates"] == ["fake@good", "fake@bad"]
        status = await call(client, "race_status")  # the latest race, by default
        assert status["race_id"] == race_id and len(status["lanes"]) == 2

        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append((done, total, message))

        result = await client.call_tool(
            "race_result",
            {"race_id": race_id, "wait": 120, "diff": True},
            progress_callback=on_progress,
        )
        assert not result.is_error, text_of(result)
        res = result.structured_content
        assert res is not None
        assert res["status"] == "finished" and res["done"]
        assert res["winner"] == "fake@good" and res["confidence"] == "high"
        assert res["ranking"] == ["fake@good", "fake@bad"] and res["decided_by"]
        good, bad = res["candidates"]
        assert good["status"] == "passed" and good["tests"]["passed"] == 2
        assert bad["status"] == "tests_failed" and bad["tests"]["failed"] == 1
        assert "+    return 2 * x" in good["diff"]["diff"] and not good["diff"]["truncated"]
        assert "reasons" in good and "flags" in good and "cost_usd" in good
        # Progress notifications came while it ran, ending with every lane done.
        assert progress and progress[-1][0] == progress[-1][1] == 2
        # Each says what changed (which phases the race was in when it was asked is timing).
        assert all(m for _, _, m in progress), progress

        diff = await call(client, "race_diff", candidate="fake@bad", max_bytes=40)
        assert diff["truncated"] and len(diff["diff"].encode()) <= 40
        assert f"racer diff {race_id} fake@bad" in diff["note"]
        rows = (await call(client, "race_list"))["races"]
        assert rows[0]["id"] == race_id and rows[0]["status"] == "finished"

        no = await refused(client, "race_merge", candidate="fake@bad")
        assert no.startswith("fake@bad failed its tests: 1 failed, 1 passed"), no
        assert "race_merge never forces" in no
        assert "nothing to cancel" in await refused(client, "race_cancel")

        merged = await call(client, "race_merge", candidate="fake@good")
        assert merged["branch"] == "main" and merged["files"] == ["calc.py"]
    head = git(project.root, "log", "-1", "--format=%H%n%B")
    assert head.startswith(merged["commit"])
    assert f"Racer-Race: {race_id}" in head and "Racer-Model: good" in head
    assert (project.root / "calc.py").read_text() == CORRECT


async def test_bad_parameters_are_one_line_tool_errors_and_the_server_goes_on(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project.fake(monkeypatch, {"good": GOOD})
    outside = tmp_path / "outside.md"
    outside.write_text("# Outside\nDo it.\n")
    spec = "specs/double.md"
    async with serving(project) as client:
        assert "unknown agent 'nope'" in await refused(
            client, "race_start", spec_path=spec, contestants=["nope"]
        )
        for path in (str(outside), "../outside.md"):
            message = await refused(client, "race_start", spec_path=path, contestants=["fake"])
            assert "is outside the repository" in message
        message = await refused(
            client, "race_start", spec_path=spec, contestants=["fake"], acceptance=[str(outside)]
        )
        assert message.startswith("acceptance test ") and "outside the repository" in message
        assert "not both" in await refused(client, "race_start", contestants=["fake"])
        assert "pass it as spec_path" in await refused(
            client, "race_start", spec="specs/double.md", contestants=["fake"]
        )
        assert "spec file not found" in await refused(
            client, "race_start", spec_path="specs/nope.md", contestants=["fake"]
        )
        # The CLI's own words for a bad setting.
        assert "--timeout must be a positive number of seconds" in await refused(
            client, "race_start", spec_path=spec, contestants=["fake"], timeout=-1
        )
        assert "no races in this repository yet" in await refused(client, "race_result")
        await call(client, "race_start", spec="# Double\nFix double.\n", contestants=["fake@good"])
        assert "no race matches 'nope'" in await refused(client, "race_status", race_id="nope")
        assert "has no candidate 'ghost'" in await refused(client, "race_diff", candidate="ghost")
        assert "wait must be" in await refused(client, "race_result", wait=-1)
        assert "validation error" in text_of(
            await client.call_tool("race_result", {"wait": "soon"})  # the SDK's own schema check
        )
        done = await call(client, "race_result", wait=120)
        assert done["winner"] == "fake@good"
    # The inline spec was kept with the races, not written into the working tree.
    assert git(project.root, "status", "--porcelain") == ""
    assert list((project.root / ".git" / "racer" / "mcp-specs").glob("*.md"))


async def test_two_races_run_at_once_and_cancelling_one_leaves_the_other(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.fake(monkeypatch, {"slow": {**GOOD, "sleep": 60}, "good": GOOD})
    async with serving(project) as client:
        slow = await call(
            client, "race_start", spec_path="specs/double.md", contestants=["fake@slow"]
        )
        quick = await call(
            client, "race_start", spec="# Double it\nFix double.\n", contestants=["fake@good"]
        )
        assert slow["race_id"] != quick["race_id"]
        await _until_agent_runs(client, slow["race_id"])

        # A lead that stops waiting (MCP request cancellation) does not stop the race.
        with anyio.move_on_after(1.5):
            await client.call_tool("race_result", {"race_id": slow["race_id"], "wait": 60})
        assert (await call(client, "race_status", race_id=slow["race_id"]))["status"] == "running"

        stopped = await call(client, "race_cancel", race_id=slow["race_id"])
        assert stopped["status"] == "interrupted" and stopped["done"]
        assert orphans.find(slow["race_id"]) == []  # its agent's process group is gone

        other = await call(client, "race_result", race_id=quick["race_id"], wait=120)
        assert other["status"] == "finished" and other["winner"] == "fake@good"
        rows = {r["id"]: r["status"] for r in (await call(client, "race_list"))["races"]}
        assert rows == {slow["race_id"]: "interrupted", quick["race_id"]: "finished"}


async def _until_agent_runs(client: Client, race_id: str) -> None:
    with anyio.fail_after(60):
        while True:
            status = await call(client, "race_status", race_id=race_id)
            if status["lanes"][0]["phase"] == "agent":
                return
            await anyio.sleep(0.2)


def _server_pid(project: Project, race_id: str) -> int:
    """The process holding the race's lock: the MCP server (racer writes its pid there)."""
    lock = project.root / ".git" / "racer" / "races" / race_id / "lock"
    return int(lock.read_text().split()[0])


async def _killed_mid_race(project: Project, sig: signal.Signals) -> str:
    """Start a race through the server, then send the server `sig` while the agents run."""
    race_id, killed = "", False
    try:
        async with serving(project) as client:
            started = await call(
                client,
                "race_start",
                spec_path="specs/double.md",
                contestants=["fake@good", "fake@bad"],
            )
            race_id = started["race_id"]
            await _until_agent_runs(client, race_id)
            pid = _server_pid(project, race_id)
            assert pid != os.getpid()
            os.kill(pid, sig)
            killed = True
            await _gone(pid)
    except Exception:
        if not killed:
            raise  # after the kill, the client may well complain that its server is gone
    return race_id


async def _gone(pid: int, timeout: float = 60) -> None:
    with anyio.fail_after(timeout):
        while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
            await anyio.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def _ls(project: Project) -> dict[str, str]:
    res = racer_cli(project, "ls", "--json")
    assert res.returncode == 0, res.stderr
    return {row["id"]: row["status"] for row in json.loads(res.stdout)}


def _resumed(project: Project, race_id: str) -> None:
    res = racer_cli(project, "resume", race_id, "--json")
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout)
    assert record["status"] == "finished" and record["winner"] == "fake@good"
    assert orphans.find(race_id) == []


async def test_a_server_killed_mid_race_leaves_it_interrupted_and_resume_finishes_it(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.fake(monkeypatch, {"good": {**GOOD, "sleep": 4}, "bad": {**BAD, "sleep": 4}})
    race_id = await _killed_mid_race(project, signal.SIGKILL)
    assert _ls(project)[race_id].startswith("interrupted")
    _resumed(project, race_id)


async def test_sigterm_stops_the_races_first(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.fake(monkeypatch, {"good": {**GOOD, "sleep": 60}, "bad": {**BAD, "sleep": 60}})
    race_id = await _killed_mid_race(project, signal.SIGTERM)
    record = json.loads(
        (project.root / ".git" / "racer" / "races" / race_id / "race.json").read_text()
    )
    assert record["status"] == "interrupted"  # written by the server itself, not derived
    assert orphans.find(race_id) == []  # and its agents were stopped
    assert _ls(project)[race_id] == "interrupted"


def test_without_the_sdk_racer_mcp_is_one_line(project: Project) -> None:
    code = (
        "import sys; sys.modules['mcp'] = None; sys.argv = ['racer', 'mcp']; "
        "from racer.cli import main; main()"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True,
        env=server_env(), stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert res.returncode == 1
    assert res.stderr == "racer: racer mcp needs the MCP SDK: pip install 'racer[mcp]'\n"


def test_racer_help_does_not_import_the_sdk() -> None:
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "racer", "--help"],
        capture_output=True, text=True, env=server_env(), timeout=60,
    )  # fmt: skip
    assert res.returncode == 0 and "mcp" in res.stdout  # the command is listed...
    imported = {line.split("|")[-1].strip() for line in res.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m == "mcp" or m.startswith("mcp.")}  # ...not loaded
