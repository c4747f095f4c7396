"""Fault-injection points for racer's own test-suite (tests/faults/).

Inert unless RACER_FAULT_PAUSE names the point: then racer writes `paused-<point>` into the race
directory and sleeps there, so a test can SIGKILL it at exactly that phase.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = ("judging", "merge-intent", "merge-moved")


def checkpoint(point: str, race_dir: Path) -> None:
    if os.environ.get("RACER_FAULT_PAUSE") != point:
        return
    (race_dir / f"paused-{point}").write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(3600)
