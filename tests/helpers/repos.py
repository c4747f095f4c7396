"""Shared test helpers: git repos in tmp dirs, the sample project, the race record, probes."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(root: Path, files: dict[str, str], *, commit: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "--quiet", "-m", "initial")
    return root


# A tiny project whose tests say what "correct" is: double(x) must return 2*x.
PROJECT = {
    "calc.py": "def double(x):\n    return x\n",
    "tests/test_calc.py": (
        "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n\n\n"
        "def test_zero():\n    assert double(0) == 0\n"
    ),
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
    "specs/double.md": "---\ntitle: Fix double\n---\nMake `double(x)` return twice `x`.\n",
}

CORRECT = "def double(x):\n    return 2 * x\n"
CHURNY = "# double\n\n\ndef double(x):\n    # twice\n    result = x + x\n    return result\n"
WRONG = "def double(x):\n    return x * x\n"


@dataclass
class Project:
    root: Path
    worktrees: Path

    def fake(self, monkeypatch: pytest.MonkeyPatch, scenarios: dict[str, object]) -> None:
        path = self.root.parent / "scenarios.json"
        path.write_text(json.dumps(scenarios), encoding="utf-8")
        monkeypatch.setenv("RACER_FAKE", str(path))


def race_json(root: Path) -> dict[str, Any]:
    """The latest race's record in the repository at root."""
    races = sorted((root / ".git" / "racer" / "races").iterdir())
    data: dict[str, Any] = json.loads((races[-1] / "race.json").read_text())
    return data


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def is_gone(pid: int) -> bool:
    """True when pid no longer runs (a killed orphan may linger as a zombie: dead all the same)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def bwrap_works() -> bool:
    """Whether bubblewrap can make a sandbox on this machine (racer's own probe)."""
    from racer import sandbox
    from racer.errors import ConfigError

    try:
        sandbox.check()
    except ConfigError:
        return False
    return True


def require_bwrap() -> None:
    """Skip without a working bubblewrap, except in CI (CI=true), where that is a failure."""
    if not bwrap_works() and os.environ.get("CI") != "true":
        pytest.skip("bubblewrap cannot run here (CI=true makes this a failure)")
