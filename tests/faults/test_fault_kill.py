"""racer killed with SIGKILL at each phase: `racer ls` says interrupted, `racer resume` finishes
the race (stopping what the dead racer left running), `racer clean` removes it; nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.repos import CORRECT, Project, git

from racer import orphans

pytestmark = pytest.mark.slow


def _racer(project: Project, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "racer", *args],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _start(
    project: Project, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "racer", *args],
        cwd=project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _record(project: Project) -> dict[str, Any] | None:
    races = project.root / ".git" / "racer" / "races"
    found = sorted(races.glob("*/race.json")) if races.is_dir() else []
    if not found:
        return None
    try:
        data: dict[str, Any] = json.loads(found[-1].read_text())
    except ValueError:
        return None
    return data


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the phase"
        time.sleep(0.1)


def _status_is(project: Project, status: str) -> Callable[[], bool]:
    def check() -> bool:
        rec = _record(project)
        return rec is not None and any(c["status"] == status for c in rec["candidates"])

    return check


def _kill9(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def _ls(project: Project) -> list[dict[str, Any]]:
    res = _racer(project, "ls", "--json")
    assert res.returncode == 0, res.stderr
    rows: list[dict[str, Any]] = json.loads(res.stdout)
    return rows


def _resume_and_check(
    project: Project, race_id: str, winner: str | None = "fake@good"
) -> dict[str, Any]:
    res = _racer(project, "resume", "--json")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    rec = json.loads(res.stdout)
    assert rec["id"] == race_id and rec["status"] == "finished" and rec["resumed"] == 1
    if winner:
        assert rec["winner"] == winner
    assert orphans.find(race_id) == []  # nothing of the race is left running
    assert _ls(project)[0]["status"] == "finished"
    return rec


def _gate(tmp: Path) -> Path:
    """A file the test creates after the kill: until it exists, the slow step stays slow."""
    return tmp / "go"


def test_killed_during_setup(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gate = _gate(tmp_path)
    started = tmp_path / "setup-started"
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    proc = _start(
        project,
        "run",
        "specs/double.md",
        "--agents",
        "fake@good",
        "--setup",
        f"touch {started}; [ -e {gate} ] || sleep 60",
    )
    _wait(_status_is(project, "setup"))
    _wait(started.exists)  # the status is written just before the setup command starts
    _kill9(proc)
    race_id = _record(project)["id"]  # type: ignore[index]
    row = _ls(project)[0]
    assert row["status"].startswith("interrupted") and row["left_running"] >= 1  # the setup sleep
    gate.touch()
    _resume_and_check(project, race_id)


def test_killed_while_agents_run(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gate = _gate(tmp_path)
    project.fake(
        monkeypatch,
        {
            "good": {
                "run": ["echo partial > notes.txt", f"[ -e {gate} ] || sleep 60"],
                "write": {"calc.py": CORRECT},
            },
            "done": {"write": {"calc.py": "def double(x):\n    return x + x\n"}},
        },
    )
    proc = _start(project, "run", "specs/double.md", "--agents", "fake@good,fake@done")
    _wait(lambda: bool(list(project.worktrees.glob("*/fake@good/notes.txt"))))
    _wait(_status_is(project, "ok"))  # fake@done finished and was scored
    _kill9(proc)
    rec = _record(project)
    assert rec is not None
    race_id = rec["id"]
    row = _ls(project)[0]
    assert row["status"].startswith("interrupted") and row["left_running"] >= 1  # the agent
    # clean refuses while the interrupted lane holds work nobody merged
    refused = _racer(project, "clean", race_id)
    assert refused.returncode == 1 and "--force" in refused.stderr
    gate.touch()
    rec = _resume_and_check(project, race_id, winner=None)
    assert rec["winner"] is not None
    good = next(c for c in rec["candidates"] if c["name"] == "fake@good")
    done = next(c for c in rec["candidates"] if c["name"] == "fake@done")
    # the partial work of the killed run is kept, under the finished work
    log = git(project.root, "log", "--format=%s", good["branch"])
    assert "partial work of fake@good" in log
    assert git(project.root, "show", f"{good['branch']}:notes.txt") == "partial"
    assert len(good["attempts"]) >= 1
    # the lane that had finished was kept as it was, not run again
    assert done["status"] == "passed" and len(done["attempts"]) == 1


def test_killed_during_tests(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gate = _gate(tmp_path)
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    proc = _start(
        project,
        "run",
        "specs/double.md",
        "--agents",
        "fake@good",
        "--test",
        f"[ -e {gate} ] || sleep 60; python -m pytest -q",
    )
    _wait(_status_is(project, "testing"))
    _kill9(proc)
    race_id = _record(project)["id"]  # type: ignore[index]
    assert _ls(project)[0]["status"].startswith("interrupted")
    gate.touch()
    rec = _resume_and_check(project, race_id)
    good = rec["candidates"][0]
    assert len(good["attempts"]) == 1  # the agent was not run again: only its tests
    assert good["tests"]["ok"] is True


def _paused(project: Project, point: str) -> Callable[[], bool]:
    return lambda: bool(list((project.root / ".git" / "racer" / "races").glob(f"*/paused-{point}")))


def test_killed_while_ranking(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    env = {**os.environ, "RACER_FAULT_PAUSE": "judging"}
    proc = _start(project, "run", "specs/double.md", "--agents", "fake@good", env=env)
    _wait(_paused(project, "judging"))
    _kill9(proc)
    race_id = _record(project)["id"]  # type: ignore[index]
    assert _ls(project)[0]["status"] == "interrupted"
    rec = _resume_and_check(project, race_id)
    assert len(rec["candidates"][0]["attempts"]) == 1


@pytest.mark.parametrize("point", ["merge-intent", "merge-moved"])
def test_killed_while_merging(
    project: Project, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    assert _racer(project, "run", "specs/double.md", "--agents", "fake@good").returncode == 0
    before = git(project.root, "rev-parse", "main")
    proc = _start(project, "merge", "fake@good", env={**os.environ, "RACER_FAULT_PAUSE": point})
    _wait(_paused(project, point))
    _kill9(proc)
    assert _ls(project)[0]["status"] == "interrupted (merge)"
    res = _racer(project, "resume")
    assert res.returncode == 0, res.stderr
    rec = _record(project)
    assert rec is not None
    if point == "merge-intent":  # killed before the branch moved: nothing changed
        assert "had not landed" in res.stdout
        assert git(project.root, "rev-parse", "main") == before
        assert rec["merged"] is None
        again = _racer(project, "merge", "fake@good")
        assert again.returncode == 0, again.stderr
    else:  # killed after: the merge is recorded and the lanes tidied up
        assert "complete" in res.stdout
        assert rec["merged"]["candidate"] == "fake@good" and rec["cleaned"] is True
    assert (project.root / "calc.py").read_text() == CORRECT
    assert _ls(project)[0]["status"] == "merged"


def test_clean_removes_an_interrupted_race_and_stops_its_leftovers(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.fake(monkeypatch, {"slow": {"run": ["sleep 120"]}})
    proc = _start(project, "run", "specs/double.md", "--agents", "fake@slow")
    _wait(_status_is(project, "agent"))
    _wait(lambda: bool(orphans.find(_record(project)["id"])))  # type: ignore[index]
    _kill9(proc)
    rec = _record(project)
    assert rec is not None
    assert orphans.find(rec["id"])  # the agent outlived racer
    res = _racer(project, "clean", "--force")
    assert res.returncode == 0, res.stderr
    assert "stopped" in res.stdout
    assert orphans.find(rec["id"]) == []
    assert not Path(rec["candidates"][0]["worktree"]).exists()
    assert git(project.root, "branch", "--list", "racer/*") == ""
