"""A real lead: Claude Code, headless, with `racer mcp` registered as an MCP server, its model the
scripted fake on 127.0.0.1. It starts a race of two fake contestants, polls it, reads the ranked
result and merges the winner; the merge must be on the base branch with racer's trailers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from helpers.agent_env import agent_setup, cli_path
from helpers.fakemodel import FakeModelServer, Scenario
from helpers.repos import CORRECT, WRONG, Project, git

import racer

pytest.importorskip("mcp")  # the dev extra installs the SDK

SOURCE_ROOT = Path(racer.__file__).resolve().parent.parent
LEAD_TIMEOUT = 300
FINAL = "Merged fake@good, the winner. RACER_FAKE_DONE"
# What the lead's model does, one tool call per turn (Claude Code names MCP tools
# mcp__<server>__<tool>); the race id is never needed: every tool defaults to the latest race.
STEPS = [
    {
        "tool": "mcp__racer__race_start",
        "input": {"spec_path": "specs/double.md", "contestants": ["fake@good", "fake@bad"]},
    },
    {"tool": "mcp__racer__race_status", "input": {}},
    {"tool": "mcp__racer__race_result", "input": {"wait": 240}},
    {"tool": "mcp__racer__race_merge", "input": {"candidate": "fake@good"}},
]


def require_claude() -> str:
    exe = cli_path("claude")
    if exe is None:
        message = "claude is not installed (bash scripts/install-agents.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must install the agent CLIs")
        pytest.skip(message)
    return exe


def racer_server_env() -> dict[str, str]:
    """What `racer mcp` needs from the test's isolated environment: the fake scenarios, the
    worktree root, the git identity, HOME and the history's data dir, this checkout's racer."""
    keep = ("RACER_", "GIT_", "HOME", "XDG_DATA_HOME", "PATH")
    env = {k: v for k, v in os.environ.items() if k.startswith(keep)}
    return env | {"PYTHONPATH": str(SOURCE_ROOT)}


@pytest.mark.slow
def test_claude_code_races_two_fakes_through_racer_mcp_and_merges_the_winner(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    exe = require_claude()
    project.fake(
        monkeypatch, {"good": {"write": {"calc.py": CORRECT}}, "bad": {"write": {"calc.py": WRONG}}}
    )
    config = tmp_path / "mcp.json"
    server = {"command": sys.executable, "args": ["-m", "racer", "mcp"], "env": racer_server_env()}
    config.write_text(json.dumps({"mcpServers": {"racer": server}}), encoding="utf-8")
    with FakeModelServer(
        {"lead": Scenario(steps=STEPS, final_text=FINAL)}, tmp_path / "model"
    ) as fake:
        env, _ = agent_setup("claude", fake.base("lead"), tmp_path / "lead-home")
        # Claude Code defers MCP tools behind its ToolSearch tool by default, and a scripted
        # model never searches: offered directly, the fake can call them by name.
        env |= {"PATH": os.environ["PATH"], "ENABLE_TOOL_SEARCH": "false"}
        argv = [
            exe, "-p", "Race fake@good and fake@bad on specs/double.md with racer; merge the "
            "winner only when confidence is high.",
            "--output-format", "json", "--model", "claude-sonnet-4-5", "--no-session-persistence",
            "--mcp-config", str(config), "--strict-mcp-config", "--allowedTools", "mcp__racer__*",
        ]  # fmt: skip
        run = subprocess.run(
            argv, cwd=project.root, env=env, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=LEAD_TIMEOUT,
        )  # fmt: skip
        calls = [
            (r["action"], _last_result(tmp_path / "model", r))
            for r in fake.requests
            if r.get("tools")
        ]
    explain = f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}\n{calls}"
    assert run.returncode == 0, explain
    out = json.loads(run.stdout)
    assert not out["is_error"] and out["result"] == FINAL, explain
    assert out["permission_denials"] == [], explain
    assert [action for action, _ in calls] == [*(s["tool"] for s in STEPS), "text"], explain
    results = [_json(text) for _, text in calls[1:]]  # each call's answer, as the model read it
    started, status, ranked, merged = results
    assert started["candidates"] == ["fake@good", "fake@bad"], explain
    assert status["race_id"] == started["race_id"] and len(status["lanes"]) == 2
    assert ranked["status"] == "finished" and ranked["winner"] == "fake@good", explain
    assert ranked["confidence"] == "high" and ranked["ranking"] == ["fake@good", "fake@bad"]
    assert [c["status"] for c in ranked["candidates"]] == ["passed", "tests_failed"]

    head = git(project.root, "log", "-1", "--format=%H%n%B", "main")
    assert head.startswith(merged["commit"]) and merged["branch"] == "main"
    assert f"Racer-Race: {started['race_id']}" in head
    assert "Racer-Agent: fake" in head and "Racer-Model: good" in head
    assert git(project.root, "show", "main:calc.py") + "\n" == CORRECT


def _last_result(log_dir: Path, request: dict[str, Any]) -> str:
    """The text of the latest tool result a logged model request carried (whole, not cut)."""
    body = json.loads(next((log_dir / "bodies").glob(f"{request['n']:04d}-*")).read_text())
    blocks = [
        b
        for m in body["messages"]
        if isinstance(m.get("content"), list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]
    if not blocks:
        return ""
    content = blocks[-1]["content"]
    return content if isinstance(content, str) else "".join(c.get("text", "") for c in content)


def _json(text: str) -> dict[str, Any]:
    """A tool result as the model got it: racer's JSON (Claude Code may append a reminder)."""
    decoded, _ = json.JSONDecoder().raw_decode(text.strip())
    assert isinstance(decoded, dict)
    return decoded


def _post(url: str, body: object) -> dict[str, Any]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer: dict[str, Any] = json.loads(resp.read())
    return answer


def test_fake_model_calls_a_named_tool_only_when_the_request_offers_it() -> None:
    step = {"tool": "mcp__racer__race_list", "input": {"x": 1}}
    write = {"write": {"path": "a.py", "content": "x = 1\n"}}
    with FakeModelServer({"s": Scenario(steps=[step, write], final_text="fin")}) as fake:
        url = fake.base("s") + "/v1/messages"
        tools = [
            {"name": "mcp__racer__race_list", "input_schema": {"type": "object"}},
            {"name": "Write", "input_schema": {"type": "object", "properties": {"file_path": {}}}},
        ]
        first = _post(url, {"model": "m", "messages": [], "tools": tools})
        block = first["content"][0]
        assert (block["name"], block["input"]) == ("mcp__racer__race_list", {"x": 1})
        result = {"type": "tool_result", "tool_use_id": block["id"], "content": "[]"}
        history = [{"role": "user", "content": [result]}]
        second = _post(url, {"model": "m", "messages": history, "tools": tools})
        assert second["content"][0]["name"] == "Write"  # the write step behaves as before
        alone = [{"name": "Bash", "input_schema": {"type": "object"}}]
        unoffered = _post(url, {"model": "m", "messages": [], "tools": alone})
        assert unoffered["content"][0] == {"type": "text", "text": "fin"}  # not offered: final
