"""The false-green guard: a lane's tests must exercise the lane's code.

A package installed in editable mode from the main checkout (`pip install -e .` there) makes
every worktree's tests import the *main checkout's* code: every candidate would then "pass" or
"fail" alike, whatever it changed. After setup, racer asks the test command's Python where each
of the project's top-level packages resolves, from inside the worktree.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from racer.proc import run_capture

_PROBE = (
    "import importlib.util, json, sys\n"
    "out = {}\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        spec = importlib.util.find_spec(name)\n"
    "    except Exception:\n"
    "        spec = None\n"
    "    out[name] = spec.origin if spec and spec.origin else "
    "(list(spec.submodule_search_locations or [None])[0] if spec else None)\n"
    "print(json.dumps(out))\n"
)
_SKIP = {"tests", "test", "testing", "docs", "doc", "examples", "scripts", "build", "dist"}


def python_packages(worktree: Path) -> list[str]:
    """Top-level packages of a Python project: dirs with __init__.py at the root or in src/."""
    if not any((worktree / f).is_file() for f in ("pyproject.toml", "setup.py", "setup.cfg")):
        return []
    found = []
    for base in (worktree, worktree / "src"):
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (
                child.is_dir()
                and child.name.isidentifier()
                and child.name not in _SKIP
                and (child / "__init__.py").is_file()
            ):
                found.append(child.name)
    return found


def _python_of(test_command: str) -> str:
    """The interpreter a test command runs (`python -m pytest`, `.venv/bin/python ...`)."""
    try:
        words = shlex.split(test_command)
    except ValueError:
        return "python"
    for word in words:
        if "=" in word and not word.startswith(("/", ".")):
            continue  # VAR=value prefixes
        if Path(word).name.startswith("python"):
            return word
        break
    return "python"


def check_imports(worktree: Path, test_command: str, env: Mapping[str, str]) -> str | None:
    """None when the worktree's packages resolve inside it (or it is not a Python project);
    else one line saying which package comes from where, and what to do."""
    packages = python_packages(worktree)
    if not packages:
        return None
    code, output = run_capture(
        (_python_of(test_command), "-c", _PROBE, *packages), cwd=worktree, env=dict(env)
    )
    if code != 0:
        return None  # no such interpreter here: the test run will say so itself
    try:
        origins = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    root = worktree.resolve()
    for name, origin in origins.items():
        if origin is None:
            continue  # not importable at all: the tests fail loudly, no false green
        if not Path(origin).resolve().is_relative_to(root):
            return (
                f"false green: the tests would import {name} from {Path(origin).parent}, not from "
                f"this worktree — install it in each worktree (setup: pip install -e .) instead "
                "of from the main checkout, or make it importable from the project root"
            )
    return None
