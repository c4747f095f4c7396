"""Shared fixtures: an isolated environment, a real git repo in a tmp dir, the CLI run in-process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Project is also re-exported: tests/test_race.py (owned elsewhere) still does
# `from conftest import Project`. Import helpers from helpers.repos instead. (No `noqa: F401`:
# Project is used here, so ruff would flag the directive as unused, RUF100.)
from helpers.repos import PROJECT, Project, Result, make_repo
from typer.testing import CliRunner

from racer.cli import app


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith(("RACER_", "GIT_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # In-process races keep checkout lanes: an overlay lane needs a mount namespace, entered for
    # a whole process (tests/test_overlay.py runs racer as a child for those).
    monkeypatch.setenv("RACER_LANES", "checkout")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test User")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test User")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    yield


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = make_repo(tmp_path / "repo", PROJECT)
    worktrees = tmp_path / "worktrees"
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(worktrees))
    monkeypatch.chdir(root)
    return Project(root, worktrees)


@pytest.fixture
def racer(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in-process in the current directory."""

    def run(*args: str) -> Result:
        runner = CliRunner()
        res = runner.invoke(app, list(args), catch_exceptions=False)
        return Result(res.exit_code, res.stdout, res.stderr)

    return run
