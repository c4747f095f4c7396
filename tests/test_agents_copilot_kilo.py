"""`racer run` with the real GitHub Copilot CLI and Kilo Code CLI (next to Claude Code) against
the fake model server: each lane committed with its usage in the record, API errors as lane
statuses, copilot's own retries inside the lane's timeout, and both under --sandbox.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.agent_env import AGENT_BIN, KILO_PRICE, agent_setup
from helpers.fakemodel import FakeModelServer, Scenario
from helpers.repos import git, make_repo, race_json, require_bwrap
from test_agents_real import require

HELLO = "def hello():\n    return 'hello'\n"
FINAL = "Created hello.py. RACER_FAKE_DONE"
SHELL = "python3 -c 'import hello; print(hello.hello())'"
WRITE: list[dict[str, Any]] = [{"write": {"path": "hello.py", "content": HELLO}}]
PROJECT = {
    "tests/test_hello.py": "from hello import hello\n\n\ndef test_hello():\n    assert hello() == 'hello'\n",
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
    "spec.md": "---\ntitle: Add hello\n---\nCreate hello.py with a hello() function that returns 'hello'.\n",
}
# The model each lane runs when the contestant names none: copilot's and kilo's come from their
# setups (COPILOT_MODEL, kilo.json's "model"), claude's from racer.toml.
CLAUDE_MODEL = "claude-sonnet-4-5"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeModelServer]:
    with FakeModelServer(log_dir=tmp_path / "server") as srv:
        yield srv


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", f"{AGENT_BIN}{os.pathsep}{os.environ['PATH']}")
    root = make_repo(tmp_path / "repo", PROJECT)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    return root


def configure(
    root: Path, homes: Path, server: FakeModelServer, lanes: dict[str, tuple[str, str]], **top: Any
) -> None:
    """racer.toml: one [agents.NAME] table per lane, (built-in agent, scenario) each."""
    settings = {"test": "python -m pytest -q", "retries": 1, "backoff": 0, "timeout": 180, **top}
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    for name, (agent, scenario) in lanes.items():
        env, args = agent_setup(agent, server.base(scenario), homes / name)
        lines += ["", f"[agents.{name}]"]
        if name != agent:
            lines.append(f"agent = {json.dumps(agent)}")
        lines.append(
            "env = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items()) + " }"
        )
        if args:
            lines.append(f"args = {json.dumps(args)}")
        if agent == "claude":
            lines.append(f"model = {json.dumps(CLAUDE_MODEL)}")
    (root / "racer.toml").write_text("\n".join(lines) + "\n")


def candidates(root: Path) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in race_json(root)["candidates"]}


def hello_scenario(calls: int = 3) -> Scenario:
    usage = {"input": 2400 // calls, "output": 120 // calls}
    return Scenario(steps=[*WRITE, {"shell": SHELL}], final_text=FINAL, usage=usage)


def test_copilot_kilo_and_claude_race_and_report(
    project: Path, server: FakeModelServer, racer, tmp_path: Path
) -> None:
    for name in ("copilot", "kilo", "claude"):
        require(name)
        server.add(name, hello_scenario())
    lanes = {n: (n, n) for n in ("copilot", "kilo", "claude")}
    configure(project, tmp_path / "homes", server, lanes)
    res = racer("run", "spec.md", "--agents", "copilot,kilo,claude")
    by = candidates(project)
    problems = {n: (c["status"], c["error"]) for n, c in by.items() if c["status"] != "passed"}
    assert not problems, (problems, res.stdout[-3000:], res.stderr[-3000:])
    assert res.exit_code == 0
    for name, cand in by.items():
        assert cand["diffstat"]["paths"] == ["hello.py"], name
        assert git(project, "show", f"{cand['branch']}:hello.py") + "\n" == HELLO, name
        assert (cand["tokens"]["input"], cand["tokens"]["output"]) == (2400, 120), name
        assert FINAL in (cand["final_message"] or ""), name
        assert cand["agent_version"], name
        assert cand["tests"]["passed"] == 1, name
    # copilot reports no money (BYOK has no premium requests): racer's list-price estimate for
    # the model it reported; kilo prices its model from the config; claude from its own table.
    assert by["copilot"]["model"] == "gpt-4.1" and by["copilot"]["cost_estimated"]
    assert by["copilot"]["cost_usd"] == pytest.approx((2400 * 2.0 + 120 * 8.0) / 1e6)
    kilo_usd = (2400 * KILO_PRICE["input"] + 120 * KILO_PRICE["output"]) / 1e6
    assert by["kilo"]["cost_usd"] == pytest.approx(kilo_usd) and not by["kilo"]["cost_estimated"]
    assert by["claude"]["cost_usd"] == pytest.approx(0.009)
    copilot_cmd = by["copilot"]["attempts"][0]["command"]
    assert "--allow-all-tools" in copilot_cmd and "COPILOT_ALLOW_ALL" not in copilot_cmd
    md = (Path(race_json(project)["race_dir"]) / "report.md").read_text()
    assert "1.0.102" in md and "7.7.7" in md


def test_api_errors_give_lane_statuses(
    project: Path, server: FakeModelServer, racer, tmp_path: Path
) -> None:
    """401 and 500 fail their lanes with the status in the record; a 429 that outlasts kilo's
    own retry makes the attempt rate-limited, and racer's retry then finishes the lane."""
    for name in ("copilot", "kilo"):
        require(name)
    server.add("unauthorized", Scenario(steps=WRITE, error_status=401))
    server.add("broken", Scenario(steps=WRITE, error_status=500))
    busy = hello_scenario()
    busy.error_status, busy.error_times = 429, 2  # both of kilo's tries in its first run
    server.add("busy", busy)
    lanes = {
        "copilot": ("copilot", "unauthorized"),
        "kilo": ("kilo", "broken"),
        "kilobusy": ("kilo", "busy"),
    }
    configure(project, tmp_path / "homes", server, lanes)
    res = racer("run", "spec.md", "--agents", "copilot,kilo,kilobusy")
    by = candidates(project)
    copilot, kilo, kilobusy = by["copilot"], by["kilo"], by["kilobusy"]
    assert copilot["status"] == "agent_failed", copilot
    assert "401" in copilot["error"] and "Authentication failed" in copilot["error"]
    assert [(a["api_status"], a["rate_limited"]) for a in copilot["attempts"]] == [(401, False)]
    assert kilo["status"] == "agent_failed", kilo
    assert "500" in kilo["error"]
    assert [(a["api_status"], a["rate_limited"]) for a in kilo["attempts"]] == [(500, False)]
    assert kilobusy["status"] == "passed", (kilobusy, res.stdout[-3000:])
    assert [a["rate_limited"] for a in kilobusy["attempts"]] == [True, False]
    assert kilobusy["attempts"][0]["api_status"] == 429
    assert res.exit_code == 0  # kilobusy won


def test_copilot_429_retries_count_against_the_lane_timeout(
    project: Path, server: FakeModelServer, racer, tmp_path: Path
) -> None:
    """Copilot retries a 429 five times itself (~1 s apart when Retry-After is 0, ~58 s of
    backoff without it) inside one attempt; racer's retries come after it exits, and all of it
    stays inside the lane's timeout."""
    require("copilot")
    server.add("busy", Scenario(steps=WRITE, error_status=429))
    configure(project, tmp_path / "homes", server, {"copilot": ("copilot", "busy")}, retries=5)
    start = time.monotonic()
    racer("run", "spec.md", "--agents", "copilot", "--timeout", "20")
    took = time.monotonic() - start
    lane = candidates(project)["copilot"]
    first, *rest = lane["attempts"]
    assert (first["exit_code"], first["rate_limited"], first["api_status"]) == (1, True, 429)
    assert rest, lane["attempts"]  # racer retried once copilot had given up
    # The lane ends inside its timeout either way: its last attempt cut by it, or racer not
    # starting another with under a second left (how many of copilot's own ~6 s rounds of
    # retries fit in 20 s depends on the machine's load).
    if rest[-1]["timed_out"]:
        assert lane["status"] == "timed_out" and "timed out after 20" in lane["error"], lane
    else:
        assert lane["status"] == "agent_failed" and "rate-limited after" in lane["error"], lane
    assert sum(a["duration_s"] for a in lane["attempts"]) <= 21 and took < 60
    # more requests than copilot's own six: racer retried once copilot had given up
    assert len(server.for_scenario("busy")) > 6


def test_copilot_and_kilo_work_under_the_sandbox(
    project: Path, server: FakeModelServer, racer, tmp_path: Path
) -> None:
    """--sandbox: each reaches the model on 127.0.0.1 and keeps its state in its own dirs
    (home_dirs / dir_env) while it may write nowhere else but its checkout."""
    require_bwrap()
    for name in ("copilot", "kilo"):
        require(name)
        server.add(name, hello_scenario())
    configure(project, tmp_path / "homes", server, {n: (n, n) for n in ("copilot", "kilo")})
    res = racer("run", "spec.md", "--agents", "copilot,kilo", "--sandbox", "--max-cost", "5")
    by = candidates(project)
    problems = {n: (c["status"], c["error"]) for n, c in by.items() if c["status"] != "passed"}
    assert not problems, (problems, res.stdout[-3000:])
    for name, cand in by.items():
        assert git(project, "show", f"{cand['branch']}:hello.py") + "\n" == HELLO, name
        assert "bwrap" in cand["attempts"][0]["command"], name
        assert cand["tokens"]["input"] == 2400, name
