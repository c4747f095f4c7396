"""`racer show` reads a record and renders it: it never imports the race machinery (GitPython,
anyio, SQLite history, MCP, Ray, the procedures of racer.races), whose imports once cost it more
than its own work (scripts/bench_show.py measures it against the ideal)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers.records import make_report, write_record
from helpers.repos import PROJECT, make_repo

ROOT = Path(__file__).resolve().parent.parent

NEVER = ("git", "anyio", "sqlite3", "mcp", "ray", "yaml", "unidiff")
NEVER_OF_RACER = ("races", "race", "lane", "history", "flags", "testrun", "views", "plan", "merge")


def _imported(cwd: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "racer", "show", *args],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line]


def test_show_imports_no_race_machinery(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", PROJECT)
    entries = [("fake", f"m{i}", i + 1, i % 2 == 0, 0.01 * i) for i in range(16)]
    write_record(make_report(repo, "20260601-120000-abcd", entries))
    for args in ((), ("--json",)):
        modules = _imported(repo, *args)
        assert "racer.report" in modules  # the record was read in this process
        heavy = [m for m in modules if m.split(".")[0] in NEVER]
        heavy += [m for m in modules if m in {f"racer.{n}" for n in NEVER_OF_RACER}]
        assert not heavy, (args, heavy)
