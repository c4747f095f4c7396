"""racer's exit (racer.exiting): what the interpreter's exit does, minus its teardown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent

CHILD = """
import atexit, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from racer import exiting

out = Path(sys.argv[1])
pool = ThreadPoolExecutor(2)  # never shut down: the exit must not wait for it forever
pool.submit(lambda: None).result()

def late():
    time.sleep(0.3)
    (out / "thread").write_text("done")

threading.Thread(target=late).start()
atexit.register(lambda: (out / "atexit").write_text("ran"))
sys.stdout.write("no newline, still buffered")
exiting.leave(eval(sys.argv[2]))
"""


def _leave(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), code],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )


def test_leave_joins_threads_runs_exit_handlers_and_flushes(tmp_path: Path) -> None:
    done = _leave(tmp_path, "3")
    assert done.returncode == 3
    assert done.stdout == "no newline, still buffered"
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_leave_with_a_message_prints_it_and_exits_1_and_none_is_0(tmp_path: Path) -> None:
    said = _leave(tmp_path, "'racer: something is wrong'")
    assert said.returncode == 1
    assert said.stderr.strip() == "racer: something is wrong"
    assert _leave(tmp_path, "None").returncode == 0
