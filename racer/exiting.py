"""racer's way out of the process: what the interpreter does at exit, without its teardown.

After a race, freeing every module and object takes the interpreter ~0.1 s that nobody needs:
racer's own threads are joined and the exit handlers run (the overlay namespace's hand-over
among them), the output is flushed, and the process ends with `os._exit`. Every file racer
writes is closed where it is written; nothing waits for the teardown.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading


def status_of(code: object) -> int:
    """The exit status `sys.exit(code)` would give (a message is printed by `leave`)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


def leave(code: object) -> None:
    """End the process as `sys.exit(code)` would, minus the interpreter's teardown."""
    # What the interpreter does first: thread pools told to finish, other threads joined.
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    else:
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
    atexit._run_exitfuncs()
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (racer show | head)
            stream.flush()
    os._exit(status_of(code))
