"""Agents and test commands that misbehave: each case ends with a clear outcome in the record,
the other lanes' work and the user's repository intact, and nothing left running."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.repos import CORRECT, Project, git, is_gone, race_json

from racer import orphans


def _cand(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["candidates"] if c["name"] == name)


def _race(project: Project, racer: Callable[..., Any], *agents: str, extra: tuple[str, ...] = ()):
    res = racer("run", "specs/double.md", "--agents", ",".join(("fake@good", *agents)), *extra)
    data = race_json(project.root)
    # the well-behaved lane always gets through, whatever its neighbour did
    good = _cand(data, "fake@good")
    assert good["status"] == "passed", good["error"]
    assert git(project.root, "show", f"{good['branch']}:calc.py") + "\n" == CORRECT
    assert orphans.find(data["id"]) == []
    return res, data


GOOD = {"write": {"calc.py": CORRECT}}


def test_agent_that_forks_children_and_ignores_sigterm(
    project: Project, racer, monkeypatch
) -> None:
    escaped = project.root.parent / "escaped.pid"
    project.fake(
        monkeypatch,
        {
            "good": GOOD,
            # a child in its own session (out of the process group) plus a TERM-deaf hang
            "forker": {
                "run": [
                    'setsid sh -c \'trap "" TERM; echo $$ > '
                    f"{escaped}; exec sleep 300' > /dev/null 2>&1 &",
                    f"while [ ! -s {escaped} ]; do sleep 0.1; done",
                ],
                "write": {"calc.py": "def double(x):\n    return x * 2\n"},
                "hang": True,
                "ignore_term": True,
            },
        },
    )
    _, data = _race(project, racer, "fake@forker", extra=("--timeout", "5"))
    forker = _cand(data, "fake@forker")
    assert forker["status"] == "timed_out" and "timed out" in forker["error"]
    assert is_gone(int(escaped.read_text()))
    assert any("outside its group" in w for w in forker["warnings"])
    # its work up to the kill is kept on its branch
    assert "x * 2" in git(project.root, "show", f"{forker['branch']}:calc.py")


def test_agent_that_writes_outside_its_worktree(project: Project, racer, monkeypatch) -> None:
    outside = project.root / "notes.txt"
    project.fake(
        monkeypatch,
        {"good": GOOD, "stray": {"run": [f"echo stray > {outside}"], **GOOD}},
    )
    res, data = _race(project, racer, "fake@stray")
    assert any("notes.txt" in w and "outside its worktree" in w for w in data["warnings"])
    assert "outside its worktree" in " ".join(res.stdout.split())  # shown, not only recorded
    assert outside.read_text() == "stray\n"  # reported, left for the user to judge


def test_agent_that_deletes_its_worktree(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, {"good": GOOD, "vandal": {"run": ['rm -rf "$PWD"']}})
    res, data = _race(project, racer, "fake@vandal")
    assert res.exit_code == 0
    vandal = _cand(data, "fake@vandal")
    assert vandal["status"] == "error" and "is gone" in vandal["error"]
    assert racer("clean").exit_code == 1  # fake@good's branch was never merged
    assert racer("merge", "fake@good").exit_code == 0


def test_agent_that_exits_at_once(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, {"good": GOOD, "quitter": {"exit": 3}})
    _, data = _race(project, racer, "fake@quitter")
    quitter = _cand(data, "fake@quitter")
    assert quitter["status"] == "agent_failed" and "exited 3" in quitter["error"]


def test_agent_that_prints_100_mb(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "good": GOOD,
            "loud": {"run": ["head -c 100000000 /dev/zero | tr '\\0' x | fold -w 1000"], **GOOD},
        },
    )
    _, data = _race(project, racer, "fake@loud")
    loud = _cand(data, "fake@loud")
    assert loud["status"] == "passed", loud["error"]
    assert os.path.getsize(loud["logs"]["agent"]) >= 100_000_000  # every byte kept in its log
    assert len(Path(data["race_dir"], "race.json").read_text()) < 1_000_000


def test_agent_that_commits_by_itself(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "good": GOOD,
            "committer": {
                "run": [
                    "printf 'def double(x):\\n    return 2 * x\\n' > calc.py",
                    "git -c user.name=a -c user.email=a@b commit -qam 'my own commit'",
                    "git checkout -qb elsewhere",
                    "echo more > extra.txt",
                ]
            },
        },
    )
    _, data = _race(project, racer, "fake@committer")
    committer = _cand(data, "fake@committer")
    assert committer["status"] == "passed", committer["error"]
    log = git(project.root, "log", "--format=%s", committer["branch"])
    assert "my own commit" in log  # its commit, on the lane branch
    assert git(project.root, "show", f"{committer['branch']}:extra.txt") == "more"


def test_agent_that_edits_git_config(project: Project, racer, monkeypatch) -> None:
    marker = project.root.parent / "fsmonitor-ran"
    main_config = (project.root / ".git" / "config").read_bytes()
    hooks = project.root.parent / "evil-hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    project.fake(
        monkeypatch,
        {
            "good": GOOD,
            "config": {
                "run": [
                    f"git config core.hooksPath {hooks}",
                    # the fsmonitor "hook" logs which git command ran it
                    "git config core.fsmonitor "
                    f'\'tr "\\\\0" " " < /proc/$PPID/cmdline >> {marker}; echo >> {marker}; false\'',
                    "git config commit.gpgSign true",
                    "git config user.email evil@example.com",
                ],
                **GOOD,
            },
        },
    )
    _, data = _race(project, racer, "fake@config")
    cand = _cand(data, "fake@config")
    assert cand["status"] == "passed", cand["error"]  # racer's commit ignored that config
    # None of racer's own git commands ran it (the candidate's test run may: that is its code).
    ran = marker.read_text() if marker.exists() else ""
    for racer_cmd in ("git add", "git commit", "git reset", "git clean", "git status", "git diff"):
        assert racer_cmd not in ran, ran
    assert (project.root / ".git" / "config").read_bytes() == main_config


def test_test_command_that_hangs(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, {"good": GOOD})
    res = racer(
        "run",
        "specs/double.md",
        "--agents",
        "fake@good",
        "--test",
        "sleep 600",
        "--test-timeout",
        "2",
    )
    assert res.exit_code == 4  # nobody passed: the tests never finished
    data = race_json(project.root)
    tests = data["candidates"][0]["tests"]
    assert tests["timed_out"] is True
    assert "timed out" in res.stdout
    assert data["baseline"]["runs"][0]["timed_out"] is True
    assert orphans.find(data["id"]) == []
