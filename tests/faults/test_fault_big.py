"""Big work stays cheap (issue: hostile contestants and bad days): a 200 MB file in a lane is
diffed, counted, saved and reported without racer's own memory passing 300 MB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers.repos import CORRECT, Project, race_json

# racer run in a child process that prints its own peak RSS (children such as git excluded).
_MEASURED = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: print('PEAK_RSS_KB', "
    "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
    "from racer.cli import app\n"
    "app()\n"
)
LINE = "a generated line of a data file that an agent wrote\n"


def test_a_200_mb_file_keeps_racer_under_300_mb(project: Project, monkeypatch) -> None:
    lines = 200 * 2**20 // len(LINE)
    project.fake(
        monkeypatch,
        {
            "huge": {
                "run": [f"yes '{LINE.strip()}' | head -n {lines} > data.txt"],
                "write": {"calc.py": CORRECT},
            }
        },
    )
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "run", "specs/double.md", "--agents", "fake@huge"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    peak_kb = int(done.stderr.split("PEAK_RSS_KB")[1].split()[0])
    assert peak_kb < 300 * 1024, f"racer peaked at {peak_kb // 1024} MB"
    record = race_json(project.root)
    cand = record["candidates"][0]
    assert cand["status"] == "passed", cand
    # Counted by git, not by reading the diff: every line of the file is there.
    assert cand["diffstat"]["files"] == 2 and cand["diffstat"]["added"] == lines + 1
    diff = Path(cand["diff"])
    assert diff.stat().st_size > 200 * 2**20  # saved whole
    with diff.open("rb") as fh:
        fh.seek(-200, 2)
        assert LINE.strip().encode() in fh.read()
    page = Path(record["race_dir"]) / "report.html"
    assert page.stat().st_size < 1_000_000
    assert json.loads((Path(record["race_dir"]) / "race.json").read_text())["status"] == "finished"
