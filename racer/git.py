"""The one door for the git commands racer runs, on top of proc: scrubbed env, no prompt, a
timeout, and in lanes (`lane=True`) options that ignore whatever an agent put in its config.

GitPython stays where racer reads a repository (racer.repo); everything that runs git is here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from racer.errors import GitError
from racer.proc import run_captured

GIT_TIMEOUT = 900.0  # a checkout of a very large repository on a slow disk stays under this

# Lane commits are racer's, made on an agent's behalf; they must not depend on the user's identity.
RACER_IDENTITY = {
    "GIT_AUTHOR_NAME": "racer",
    "GIT_AUTHOR_EMAIL": "racer@localhost",
    "GIT_COMMITTER_NAME": "racer",
    "GIT_COMMITTER_EMAIL": "racer@localhost",
}

# racer's own git commands in a lane repository ignore what an agent may have put in its config:
# no hooks, no fsmonitor command, no signing (an agent must not run code after it has stopped).
LANE_SAFE = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "commit.gpgSign=false",
)


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: str
    stderr: str


def git(
    args: Sequence[str],
    cwd: Path,
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    lane: bool = False,
    timeout: float = GIT_TIMEOUT,
) -> GitResult:
    """Run `git ARGS` in `cwd`; with check, a failure is a GitError with git's last line."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    argv = ["git", *(LANE_SAFE if lane else ()), *args]
    out = run_captured(argv, cwd=cwd, env=full_env, input=input, timeout=timeout)
    if out.timed_out:
        raise GitError(f"git {args[0]} timed out after {timeout:g} s in {cwd}")
    if out.returncode is None:
        raise GitError(f"cannot run git: {out.stderr} — install git and put it on PATH")
    result = GitResult(out.returncode, out.stdout, out.stderr)
    if check and result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise GitError(
            f"git {args[0]} failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}"
        )
    return result
