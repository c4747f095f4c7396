"""Every error racer reports to a user, each with its exit code.

The tree (exit code in brackets):

    RacerError [3]            base; anything unexpected maps to 3 with a traceback log
    ├── UserError [1]         bad input: one line saying what is wrong and what to do
    │   ├── ConfigError       bad racer.toml / [tool.racer] / RACER_* value
    │   ├── SpecError         spec file missing, empty or malformed
    │   ├── GitError          not a git repo, unborn HEAD, unknown ref, git refused
    │   ├── AgentError        unknown agent, executable missing from PATH
    │   ├── RaceNotFound      no such race / candidate
    │   └── RefusedError      racer will not do it without --force (work would be lost)

Ctrl-C is exit 130 and typer's own usage errors (unknown flag, missing argument) exit 2; "the
race ran and no candidate passed" is not an error: `racer run` returns 4 for it.
"""

from __future__ import annotations

EXIT_USER = 1
EXIT_INTERNAL = 3
EXIT_NO_WINNER = 4
EXIT_INTERRUPTED = 130


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


class RefusedError(UserError):
    pass
