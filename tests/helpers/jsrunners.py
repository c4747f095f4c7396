"""Real JavaScript test runners for the ecosystem tests: installed with npm once into a cache
shared by every test session (~/.cache/racer-test-npm, or RACER_TEST_NPM_CACHE).

Without npm they are skipped locally and fail under CI=true, like the agent CLIs' tests.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Pinned: the reporters racer reads are these versions' formats.
PACKAGES = {"ava": "7.0.0", "jest": "30.5.2", "vitest": "3.2.7", "vite": "7.3.8", "mocha": "12.0.3"}
REAL_HOME = Path(os.path.expanduser("~"))  # read at import, before fixtures move HOME


def _cache() -> Path:
    key = "-".join(f"{k}{v}" for k, v in sorted(PACKAGES.items()))
    base = os.environ.get("RACER_TEST_NPM_CACHE") or str(REAL_HOME / ".cache" / "racer-test-npm")
    return Path(base) / key


def missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} is not available")


def node_modules() -> Path:
    """The cache's node_modules with every runner in PACKAGES (installed on first use)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        missing("npm and node")
    root = _cache()
    done = root / "node_modules" / ".racer-installed"
    if done.is_file():
        return root / "node_modules"
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel sessions install once
        if not done.is_file():
            manifest = {"name": "racer-test-runners", "version": "1.0.0", "private": True}
            manifest["dependencies"] = dict(PACKAGES)  # type: ignore[assignment]
            (root / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
            res = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if res.returncode != 0:
                missing(f"npm install of the test runners ({res.stderr.strip()[-300:]})")
            done.write_text("ok\n", encoding="utf-8")
    return root / "node_modules"


def tool(name: str) -> str:
    """An executable the ecosystem tests need (go, cargo): its path, or skip/fail."""
    found = shutil.which(name) or next(
        (str(p) for p in (REAL_HOME / ".cargo" / "bin" / name,) if p.is_file()), None
    )
    if found is None:
        missing(name)
    assert found is not None
    return found
