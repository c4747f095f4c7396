"""`racer run` with the real agent CLIs against the fake model server: every adapter's command
line, output parsing and error handling, end to end through racer's record.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.agent_env import AGENT_BIN, AGENTS, agent_setup
from helpers.fakemodel import FakeModelServer, Scenario
from helpers.repos import git, make_repo, race_json, require_bwrap
from test_agents_real import require

HELLO = "def hello():\n    return 'hello'\n"
FINAL = "Created hello.py. RACER_FAKE_DONE"
SHELL = "python3 -c 'import hello; print(hello.hello())'"

# The model each contestant names (@model): what its CLI expects on the command line.
MODELS = {
    "claude": "claude-sonnet-4-5",
    "codex": "gpt-5.5",
    "gemini": "gemini-2.5-pro",
    "qwen": "qwen3-coder-plus",
    "opencode": "anthropic/claude-sonnet-4-5",
    "aider": "openai/racer-fake-model",
}
SETUP_MODELS = {"opencode": "claude-sonnet-4-5", "aider": "racer-fake-model"}

PROJECT = {
    "tests/test_hello.py": "from hello import hello\n\n\ndef test_hello():\n    assert hello() == 'hello'\n",
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
    "spec.md": "---\ntitle: Add hello\n---\nCreate hello.py with a hello() function that returns 'hello'.\n",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeModelServer]:
    with FakeModelServer(log_dir=tmp_path / "server") as srv:
        yield srv


def _toml_value(value: object) -> str:
    return json.dumps(value)


def configure(
    root: Path, homes: Path, server: FakeModelServer, scenarios: dict[str, str]
) -> list[Path]:
    """racer.toml with [agents.NAME] env/args pointing each CLI at its scenario; returns dirs to remove."""
    lines = ['test = "python -m pytest -q"', "retries = 1", "backoff = 0", "timeout = 180", ""]
    cleanup: list[Path] = []
    for name, scenario in scenarios.items():
        env, args = agent_setup(
            name, server.base(scenario), homes / name, model=SETUP_MODELS.get(name)
        )
        if "CODEX_HOME" in env and not Path(env["CODEX_HOME"]).is_relative_to(homes):
            cleanup.append(Path(env["CODEX_HOME"]))
        lines.append(f"[agents.{name}]")
        lines.append(
            "env = { " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in env.items()) + " }"
        )
        if args:
            lines.append(f"args = {_toml_value(args)}")
        lines.append("")
    (root / "racer.toml").write_text("\n".join(lines))
    return cleanup


_race = race_json


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # racer finds agents on PATH, as a user's shell would after scripts/install-agents.sh
    monkeypatch.setenv("PATH", f"{AGENT_BIN}{os.pathsep}{os.environ['PATH']}")
    root = make_repo(tmp_path / "repo", PROJECT)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    return root


def test_six_real_clis_race_and_report(
    project: Path, server: FakeModelServer, racer, tmp_path: Path
) -> None:
    for name in AGENTS:
        require(name)
        steps: list[dict[str, Any]] = [{"write": {"path": "hello.py", "content": HELLO}}]
        if name != "aider":  # aider makes one model call and has no shell tool
            steps.append({"shell": SHELL})
        calls = 1 if name == "aider" else len(steps) + 1  # aider answers in one call, no tools
        per_call = 2400 // calls
        server.add(
            name,
            Scenario(
                steps=steps,
                final_text=FINAL,
                usage={"input": per_call, "output": 120 // calls},
            ),
        )
    cleanup = configure(project, tmp_path / "homes", server, {n: n for n in AGENTS})
    try:
        contestants = ",".join(f"{n}@{MODELS[n]}" for n in AGENTS)
        res = racer("run", "spec.md", "--agents", contestants)
    finally:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
    data = _race(project)
    by = {c["agent"]: c for c in data["candidates"]}
    problems = {n: (c["status"], c["error"]) for n, c in by.items() if c["status"] != "passed"}
    assert not problems, (problems, res.stderr[-3000:], res.stdout[-3000:])
    assert res.exit_code == 0
    for name, cand in by.items():
        assert cand["diffstat"]["paths"] == ["hello.py"], name
        assert git(project, "show", f"{cand['branch']}:hello.py") + "\n" == HELLO, name
        assert cand["tokens"]["input"] == 2400 and cand["tokens"]["output"] == 120, (
            name,
            cand["tokens"],
        )
        assert FINAL in (cand["final_message"] or ""), (name, cand["final_message"])
        assert cand["agent_version"], name
        assert cand["cost_usd"] is not None and cand["cost_usd"] > 0, name
        assert cand["tests"]["passed"] == 1, name
    # claude, opencode and aider report their own cost; the others are estimated from tokens
    assert {n for n, c in by.items() if c["cost_estimated"]} == {"codex", "gemini", "qwen"}
    assert by["claude"]["cost_usd"] == pytest.approx(0.009)
    assert by["codex"]["cost_usd"] == pytest.approx((2400 * 1.25 + 120 * 10) / 1e6)
    md = (Path(data["race_dir"]) / "report.md").read_text()
    assert "(est.)" in md and "2.1.329" in md


def test_api_errors_fail_or_retry_lanes_while_the_race_goes_on(
    project: Path, server: FakeModelServer, racer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("claude", "codex", "gemini"):
        require(name)
    write = [{"write": {"path": "hello.py", "content": HELLO}}]
    server.add("unauthorized", Scenario(steps=write, error_status=401))
    server.add(
        "busy-once", Scenario(steps=write, final_text=FINAL, error_status=429, error_times=1)
    )
    server.add("broken", Scenario(steps=write, error_status=500))
    cleanup = configure(
        project,
        tmp_path / "homes",
        server,
        {"claude": "unauthorized", "codex": "busy-once", "gemini": "broken"},
    )
    scenarios = tmp_path / "fake.json"
    scenarios.write_text(json.dumps({"default": {"write": {"hello.py": HELLO}}}))
    monkeypatch.setenv("RACER_FAKE", str(scenarios))
    try:
        res = racer(
            "run",
            "spec.md",
            "--agents",
            f"claude@{MODELS['claude']},codex@{MODELS['codex']},gemini@{MODELS['gemini']},fake",
        )
    finally:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
    data = _race(project)
    by = {c["agent"]: c for c in data["candidates"]}
    assert by["fake"]["status"] == "passed" and res.exit_code == 0
    # 401: a failed lane, the API error in the record and the report
    assert by["claude"]["status"] == "agent_failed"
    assert "401" in by["claude"]["error"] and by["claude"]["attempts"][0]["api_status"] == 401
    # 429 once: rate-limited, retried, then done
    codex = by["codex"]
    assert [a["rate_limited"] for a in codex["attempts"]] == [True, False], codex["attempts"]
    assert codex["status"] == "passed"
    # 500: failed, not retried as a rate limit
    assert by["gemini"]["status"] == "agent_failed" and len(by["gemini"]["attempts"]) == 1
    assert by["gemini"]["attempts"][0]["api_status"] == 500
    md = (Path(data["race_dir"]) / "report.md").read_text()
    assert "401" in md and "rate-limited" in md


SANDBOXED = ("claude", "gemini", "qwen", "opencode", "aider")


def test_real_clis_work_under_the_sandbox_and_claude_gets_its_budget_flag(
    project: Path, server: FakeModelServer, racer, tmp_path: Path
) -> None:
    """--sandbox with the real CLIs: they reach the model on 127.0.0.1, keep their state in
    their own dirs, and write their work; --max-cost reaches claude as --max-budget-usd."""
    require_bwrap()
    for name in SANDBOXED:
        require(name)
        server.add(
            name,
            Scenario(steps=[{"write": {"path": "hello.py", "content": HELLO}}], final_text=FINAL),
        )
    cleanup = configure(project, tmp_path / "homes", server, {n: n for n in SANDBOXED})
    try:
        contestants = ",".join(f"{n}@{MODELS[n]}" for n in SANDBOXED)
        res = racer("run", "spec.md", "--agents", contestants, "--sandbox", "--max-cost", "5")
    finally:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
    data = _race(project)
    by = {c["agent"]: c for c in data["candidates"]}
    problems = {n: (c["status"], c["error"]) for n, c in by.items() if c["status"] != "passed"}
    assert not problems, (problems, res.stdout[-3000:])
    for name, cand in by.items():
        assert git(project, "show", f"{cand['branch']}:hello.py") + "\n" == HELLO, name
    # claude ran with its own budget flag; the others are watched by racer
    assert "--max-budget-usd 5.0000" in by["claude"]["attempts"][0]["command"]
    assert all("bwrap" in c["attempts"][0]["command"] for c in by.values())
