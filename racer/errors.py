"""Every error racer reports to a user, each with its exit code.

The tree (exit code in brackets):

    RacerError [3]            base; anything unexpected maps to 3 with a traceback log
    ├── UserError [1]         bad input: one line saying what is wrong and what to do
    │   ├── ConfigError       bad racer.toml / [tool.racer] / RACER_* value
    │   ├── SpecError         spec file missing, empty or malformed
    │   ├── GitError          not a git repo, unborn HEAD, unknown ref, git refused
    │   ├── AgentError        unknown agent, executable missing from PATH
    │   ├── RaceNotFound      no such race / candidate
    │   │   └── NewerRecord   a race.json written by a newer racer (a schema it does not know)
    │   └── RefusedError      racer will not do it without --force (work would be lost)
    └── DiskFull [75]         no space left on the disk (ENOSPC, EDQUOT): free some, run it again

Ctrl-C is exit 130, output cut short by its reader (`| head`) a silent 141, and typer's own usage errors (unknown flag, missing argument) exit 2; "the
race ran and no candidate passed" is not an error: `racer run` returns 4 for it.
"""

from __future__ import annotations

import errno
import os
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

EXIT_USER = 1
EXIT_INTERNAL = 3
EXIT_NO_WINNER = 4
EXIT_DISK_FULL = 75  # EX_TEMPFAIL: the same command works once space is freed
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader quit

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NO_SPACE_TEXTS = ("No space left on device", "Disk quota exceeded")


class RacerError(Exception):
    """Base class: a one-line message and an exit code."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(RacerError):
    exit_code = EXIT_USER


class ConfigError(UserError):
    pass


class SpecError(UserError):
    pass


class GitError(UserError):
    pass


class AgentError(UserError):
    pass


class RaceNotFound(UserError):
    pass


class NewerRecord(RaceNotFound):
    """A race record of a schema newer than this racer reads: upgrade racer to read it."""


class RefusedError(UserError):
    pass


class DiskFull(RacerError):
    """The disk filled up under racer: nothing is wrong with the input, and the same command
    (or `racer resume` of an interrupted race) works once space is freed."""

    exit_code = EXIT_DISK_FULL


def no_space(exc: BaseException) -> bool:
    """True for an OSError saying the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in _NO_SPACE


def disk_full(where: object, what: str = "") -> DiskFull:
    """The one line for a full disk, naming what could not be written."""
    doing = f" ({what})" if what else ""
    return DiskFull(
        f"no space left on the disk holding {where}{doing} — free some space, then run the "
        "command again (an interrupted race: `racer resume` finishes it, `racer clean` removes it)"
    )


def racer_error_in(exc: BaseException) -> RacerError | None:
    """The racer error inside an exception group from a task group (the first one), if any."""
    if isinstance(exc, RacerError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = racer_error_in(inner)
            if found is not None:
                return found
    return None


def disk_full_in(exc: BaseException) -> bool:
    """True when a full disk is what stopped it (alone or inside a task group's exceptions)."""
    if isinstance(exc, DiskFull) or no_space(exc):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(disk_full_in(inner) for inner in exc.exceptions)
    return False


def crash_log(exc: BaseException) -> Path:
    """Write the traceback of an unexpected error to a log file in the temp dir; its path."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.gettempdir()) / f"racer-error-{stamp}-{os.getpid()}.log"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return path
