"""The one door for the git commands racer runs, on top of proc: scrubbed env, no prompt, a
timeout, and in lanes (`lane=True`) options that ignore whatever an agent put in its config.

GitPython stays where racer reads a repository (racer.repo); everything that runs git is here.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from racer.errors import NO_SPACE_TEXTS, GitError, disk_full
from racer.proc import run_captured

GIT_TIMEOUT = 900.0  # a checkout of a very large repository on a slow disk stays under this

# Lane commits are racer's, made on an agent's behalf; they must not depend on the user's identity.
RACER_IDENTITY = {
    "GIT_AUTHOR_NAME": "racer",
    "GIT_AUTHOR_EMAIL": "racer@localhost",
    "GIT_COMMITTER_NAME": "racer",
    "GIT_COMMITTER_EMAIL": "racer@localhost",
}

# A whole checkout (a base checkout, a fresh or renewed lane) writes its files with parallel
# workers: on a 50k-file repository on this project's VMs, 1.4-4.4 s against 8.5-23 s for git's
# default of one (file creation there is latency-bound, so more workers than cores still help).
# Below git's threshold of 100 files to write it stays sequential.
CHECKOUT_WORKERS = ("-c", f"checkout.workers={max(8, os.cpu_count() or 1)}")

# racer's own git commands in a lane run no program an agent could have named: the lane's config
# is racer's own again before them (racer.checkout.seal), global and system config do not apply,
# and these settings switch off whatever else could start a program (an agent must not run code
# after it has stopped, outside its sandbox).
LANE_SAFE = tuple(
    arg
    for setting in (
        "core.hooksPath=/dev/null",
        "core.fsmonitor=false",
        "commit.gpgSign=false",
        "core.attributesFile=/dev/null",
        "core.pager=cat",
        "core.sshCommand=false",
        "core.askPass=",
        "credential.helper=",
        "diff.external=",
        "protocol.ext.allow=never",
    )
    for arg in ("-c", setting)
)
LANE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_PAGER": "cat",
}


@functools.cache
def user_excludes() -> tuple[str, ...]:
    """`-c core.excludesFile=…` when your global config names one: lanes ignore what you ignore,
    though global config does not apply to them."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    out = run_captured(
        ["git", "config", "--global", "--path", "--get", "core.excludesFile"],
        cwd=Path.home() if Path.home().is_dir() else Path("/"),
        env=env,
        timeout=30,
    )
    path = (out.stdout or "").strip() if out.returncode == 0 else ""
    return ("-c", f"core.excludesFile={path}") if path else ()


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
    stdout_to: Path | None = None,
) -> GitResult:
    """Run `git ARGS` in `cwd`; with check, a failure is a GitError with git's last line.
    With `stdout_to`, git's output goes into that file (stdout of the result is empty)."""
    base: dict[str, str] = dict(os.environ)
    if lane:  # no GIT_* variable of yours (GIT_EXTERNAL_DIFF, GIT_SSH…) reaches a lane command
        base = {k: v for k, v in base.items() if not k.startswith("GIT_")} | LANE_ENV
    full_env = {**base, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    argv = ["git", *((*LANE_SAFE, *user_excludes()) if lane else ()), *args]
    out = run_captured(
        argv, cwd=cwd, env=full_env, input=input, timeout=timeout, stdout_to=stdout_to
    )
    if out.timed_out:
        raise GitError(f"git {args[0]} timed out after {timeout:g} s in {cwd}")
    if out.returncode is None:
        raise GitError(f"cannot run git: {out.stderr} — install git and put it on PATH")
    result = GitResult(out.returncode, out.stdout, out.stderr)
    if check and result.returncode != 0:
        if any(text in result.stderr for text in NO_SPACE_TEXTS):
            raise disk_full(cwd, f"git {args[0]}")
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise GitError(
            f"git {args[0]} failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}"
        )
    return result


PAGE = 4096  # bytes a file takes at least in a tmpfs (racer.basemem)


@dataclass(frozen=True)
class TreeSize:
    """What the files of a commit take: `data` bytes in `files` blobs, `pages` of PAGE bytes
    (each file at least one), in `dirs` subtrees (the root not counted)."""

    data: int
    files: int
    pages: int
    dirs: int


_SIZES: dict[str, TreeSize] = {}  # by commit id; a few dozen bytes each


def tree_size(cwd: Path, commit: str) -> TreeSize:
    """The sizes in `commit`'s tree, read once per commit id in a process: the disk check before
    a race and the size of a base in memory both need them (~0.07 s on a 50k-file tree)."""
    known = _SIZES.get(commit)
    if known is not None:
        return known
    # Types and sizes only: half the text of `ls-tree -l` to parse; git before 2.36 has no --format.
    listed = git(
        ["ls-tree", "-r", "-t", "-z", "--format=%(objecttype) %(objectsize)", commit],
        cwd,
        check=False,
    )
    if listed.returncode == 0:
        items = (item.split(" ") for item in listed.stdout.split("\0") if item)
    else:
        long = git(["ls-tree", "-r", "-t", "-l", "-z", commit], cwd).stdout.split("\0")
        items = (item.split("\t")[0].split()[1::2] for item in long if item)
    data = files = pages = dirs = 0
    for kind, size in items:
        if kind == "blob":
            n = int(size) if size.isdigit() else 0
            data, files, pages = data + n, files + 1, pages + max(1, -(-n // PAGE))
        elif kind == "tree":
            dirs += 1
    found = TreeSize(data, files, pages, dirs)
    if len(commit) in (40, 64) and all(c in "0123456789abcdef" for c in commit):
        _SIZES[commit] = found  # an object id names one tree, whichever repository holds it
    return found
