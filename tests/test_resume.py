"""Leftover processes of an interrupted race: found by their marker or recorded group, stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from helpers.repos import is_gone

from racer import orphans


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


def test_processes_are_found_by_a_marker_in_their_environment() -> None:
    """A Ray step's reaper (racer.steps) and orphans.find both find racer's processes by an
    entry of their environment: a live child with the marker is found, this process never."""
    from racer import steps
    from racer.orphans import live_pids, proc_environ

    env = {**os.environ, "RACER_STEP": "r1--lane-a1"}
    child = subprocess.Popen(["sleep", "30"], env=env)
    try:
        assert child.pid in live_pids() and os.getpid() not in live_pids()
        assert b"RACER_STEP=r1--lane-a1" in proc_environ(child.pid)
        assert steps.marked("RACER_STEP=r1--lane-a1") == [child.pid]
        assert steps.marked("RACER_STEP=r1--lane-a2") == []
        assert steps.marked_prefix(("RACER_STEP=r1--",)) == [child.pid]
    finally:
        child.kill()
        child.wait()
    assert proc_environ(child.pid) == [] and child.pid not in live_pids()
