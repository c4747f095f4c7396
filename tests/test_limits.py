"""--max-cost, the race lock, leftover processes, plan.json and the sandbox's command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORRECT, Project, git, is_gone, race_json

from racer import orphans, store
from racer.agents.aider import AiderAgent
from racer.agents.claude import ClaudeAgent
from racer.agents.codex import CodexAgent
from racer.agents.fake import FakeAgent
from racer.errors import RefusedError
from racer.lane import Budget
from racer.sandbox import Sandbox, home_paths


def test_max_cost_stops_an_agent_whose_reported_spending_passes_it(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(
        monkeypatch,
        {
            # spends $0.30 at a time; the third report would come after a long pause
            "spender": {
                "run": ["printf 'def double(x):\\n    return 2 * x\\n' > calc.py"],
                "spend": [[0.3, 0.1], [0.3, 0.1], [0.3, 60]],
            },
            "frugal": {"spend": [[0.1, 0]], "write": {"calc.py": CORRECT}},
        },
    )
    started = time.monotonic()
    res = racer(
        "run", "specs/double.md", "--agents", "fake@spender,fake@frugal", "--max-cost", "0.5"
    )
    assert time.monotonic() - started < 50  # stopped, not waited out
    assert res.exit_code == 0
    data = race_json(project.root)
    spender = next(c for c in data["candidates"] if c["name"] == "fake@spender")
    assert spender["status"] == "agent_failed"
    assert "over --max-cost" in spender["error"] and "$0.6" in spender["error"]
    assert "2 * x" in git(project.root, "show", f"{spender['branch']}:calc.py")  # work kept
    assert data["winner"] == "fake@frugal"


def test_max_cost_is_validated(project: Project, racer) -> None:
    res = racer("run", "specs/double.md", "--agents", "fake", "--max-cost", "-1")
    assert res.exit_code == 1 and "max-cost" in res.stderr


def test_budget_adds_increments_and_takes_running_totals() -> None:
    inc = Budget(1.0, totals=False)
    assert not inc.add(0.6) and inc.add(0.6) and inc.spent == pytest.approx(1.2)
    tot = Budget(1.0, totals=True)
    assert not tot.add(0.4) and not tot.add(0.9) and tot.spent == pytest.approx(0.9)
    tot.new_run()  # a second attempt reports its own running total
    assert tot.add(0.2) and tot.spent == pytest.approx(1.1)


def test_agents_report_spending_line_by_line() -> None:
    assert ClaudeAgent().budget_args(0.5) == ("--max-budget-usd", "0.5000")
    assert CodexAgent().budget_args(0.5) == ()
    turn = json.dumps(
        {"type": "turn.completed", "usage": {"input_tokens": 1000, "output_tokens": 200}}
    )
    usd, tokens = CodexAgent().spend(turn)
    assert usd is None and tokens is not None and tokens.input == 1000 and tokens.output == 200
    assert CodexAgent().spend("plain text") == (None, None)
    aider_line = "Tokens: 2.1k sent, 150 received. Cost: $0.01 message, $0.05 session."
    assert AiderAgent().spend(aider_line)[0] == pytest.approx(0.05)
    assert AiderAgent().spend_is_total
    assert FakeAgent().spend('{"type": "cost", "usd": 0.25}') == (0.25, None)


def test_the_race_lock_tells_running_from_interrupted(tmp_path: Path) -> None:
    assert not store.is_live(tmp_path)
    with store.RaceLock(tmp_path):
        assert store.is_live(tmp_path)
        # a second racer (another process) is refused
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from racer import store; "
                f"store.RaceLock(Path({str(tmp_path)!r})).acquire()",
            ],
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0 and "in use by another racer" in other.stderr
        with pytest.raises(RefusedError):
            store.RaceLock(tmp_path).acquire()
    assert not store.is_live(tmp_path)


def test_a_lock_held_by_a_killed_process_is_free(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from racer import store; "
            f"store.RaceLock(Path({str(tmp_path)!r})).acquire(); print('held', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert store.is_live(tmp_path)
    holder.kill()
    holder.wait()
    holder.stdout.close()
    assert not store.is_live(tmp_path)


def test_leftovers_are_found_by_their_marker_and_stopped() -> None:
    env = {**os.environ, "RACER_RACE_ID": "r-test-123", "RACER_LANE": "a"}
    # a TERM-deaf process in a session of its own: only the marker finds it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
        ],
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while proc.pid not in orphans.find("r-test-123") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert orphans.find("r-test-123") == [proc.pid]
        assert orphans.find("r-test-123", lane="a") == [proc.pid]
        assert orphans.find("r-test-123", lane="b") == []
        assert orphans.find("r-other") == []
        assert orphans.stop([proc.pid], grace=0.5) == 1
        proc.wait(timeout=10)
        assert is_gone(proc.pid)
    finally:
        proc.kill()


def test_plan_json_keeps_agent_secrets_out(project: Project, racer, monkeypatch) -> None:
    (project.root / "racer.toml").write_text(
        '[agent.fake]\nenv = { FAKE_API_KEY = "sk-planted-0123456789", MODE = "x" }\n'
    )
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    assert racer("run", "specs/double.md", "--agents", "fake").exit_code == 0
    race_dir = Path(race_json(project.root)["race_dir"])
    text = (race_dir / "plan.json").read_text()
    assert "sk-planted-0123456789" not in text and '"MODE": "x"' in text
    from racer.planfile import load_plan

    plan = load_plan(race_dir)  # the secret comes back from the config file
    assert plan.config.agent_configs["fake"].env["FAKE_API_KEY"] == "sk-planted-0123456789"
    (project.root / "racer.toml").write_text("")
    from racer.errors import RaceNotFound

    with pytest.raises(RaceNotFound, match="FAKE_API_KEY"):
        load_plan(race_dir)


def test_resume_refuses_a_finished_race_and_a_live_one(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    assert racer("run", "specs/double.md", "--agents", "fake").exit_code == 0
    res = racer("resume")
    assert res.exit_code == 1 and "nothing to resume" in res.stderr
    race_dir = Path(race_json(project.root)["race_dir"])
    with store.RaceLock(race_dir):
        assert "still running" in racer("resume").stderr
        assert racer("merge", "fake").exit_code == 1
        assert racer("clean", "--force").exit_code == 1


def test_sandbox_command_line(tmp_path: Path) -> None:
    from racer import sandbox

    if sandbox.shutil.which("bwrap") is None:
        pytest.skip("bwrap not installed")
    wt = tmp_path / "lanes" / "r1" / "a"
    (wt / ".git").mkdir(parents=True)
    hidden = tmp_path / "lanes"
    home = tmp_path / "home"
    writable = home_paths(
        {"HOME": str(home), "CODEX_HOME": str(tmp_path / "cx")}, (".claude",), ("CODEX_HOME",)
    )
    assert (home / ".claude").is_dir() and (tmp_path / "cx").is_dir()
    box = Sandbox(worktree=wt, hide=(hidden,), writable=(*writable, tmp_path), readable=())
    argv = box.wrap(("agent", "--flag"))
    assert argv[-3:] == ("--", "agent", "--flag")
    joined = " ".join(argv)
    assert f"--tmpfs {hidden}" in joined and f"--bind {wt} {wt}" in joined
    assert f"--bind {home / '.claude'}" in joined
    assert f"--bind {tmp_path} " not in joined  # it holds the hidden dir: never writable
    assert "--unshare-net" not in argv  # the agent keeps its API
    assert joined.index("--tmpfs") < joined.index(f"--bind {wt}")


def test_recorded_process_groups_count_only_within_the_race_lifetime() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RACER_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env=env, start_new_session=True
    )
    try:
        now = time.time()
        # no marker in its environment (an agent that scrubbed it): found by its recorded group
        assert orphans.find("r-none", [proc.pid], since=now - 30, until=now + 30) == [proc.pid]
        # started after the race's racer was gone: a reused group id, not ours
        assert orphans.find("r-none", [proc.pid], since=now - 60, until=now - 30) == []
        assert orphans.find("r-none", [], since=now - 30, until=now + 30) == []
    finally:
        proc.kill()
        proc.wait()
