"""`--sandbox`: each agent (and each test run of its code) under bubblewrap.

Inside, the whole filesystem is read-only except the lane's own checkout, a private temp dir
(TMPDIR, kept in the lane's .git so it goes with the lane) and the agent CLI's own config/cache
directories. The other lanes, racer's race records and every other
race's checkouts are hidden behind empty tmpfs mounts. The network stays (the agent needs its
API); the process IDs are private (`--unshare-pid`), and the sandbox dies with racer.

This module only builds command lines; racer.proc runs them.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from racer.errors import ConfigError
from racer.proc import run_captured

BWRAP = "bwrap"


@functools.cache
def check() -> str:
    """The bwrap executable, once it has been seen to work here; else a ConfigError saying why."""
    exe = shutil.which(BWRAP)
    if exe is None:
        raise ConfigError(
            "--sandbox needs bubblewrap (bwrap), which is not on PATH — "
            "install it (Debian/Ubuntu: apt-get install bubblewrap) or drop --sandbox"
        )
    argv = [exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "true"]
    probe = run_captured(argv, cwd=Path("/"), env=os.environ, timeout=30)
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
        raise ConfigError(
            f"--sandbox: bubblewrap cannot create a sandbox here ({why}) — allow unprivileged "
            "user namespaces (sysctl kernel.unprivileged_userns_clone=1) or drop --sandbox"
        )
    return exe


@dataclass(frozen=True)
class Sandbox:
    """Where one lane may write, and what it must not see."""

    worktree: Path
    hide: tuple[Path, ...]  # directories replaced by an empty tmpfs (other lanes, race records)
    writable: tuple[Path, ...] = ()  # the agent's own config/cache dirs (created if missing)
    readable: tuple[Path, ...] = ()  # files under a hidden dir the agent still needs (the prompt)

    def wrap(self, argv: Sequence[str]) -> tuple[str, ...]:
        args = [
            check(),
            "--die-with-parent",
            "--unshare-pid",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
        ]
        for path in self.hide:
            if path.is_dir():
                args += ["--tmpfs", str(path)]
        for path in self.readable:
            if path.exists():
                args += ["--ro-bind", str(path), str(path)]
        for path in self.writable:
            # A writable dir that holds a hidden one would bring it back: never bound.
            if path.exists() and not any(h.is_relative_to(path) for h in self.hide):
                args += ["--bind", str(path), str(path)]
        args += ["--bind", str(self.worktree), str(self.worktree), "--chdir", str(self.worktree)]
        tmp = self.tmpdir
        tmp.mkdir(parents=True, exist_ok=True)
        args += ["--setenv", "TMPDIR", str(tmp)]
        return (*args, "--", *argv)

    @property
    def tmpdir(self) -> Path:
        return self.worktree / ".git" / "racer-tmp"


def home_paths(
    env: Mapping[str, str], home_dirs: Sequence[str], dir_env: Sequence[str]
) -> tuple[Path, ...]:
    """An agent's own config/cache dirs: HOME-relative ones and those named by env variables.
    Directories are created (the CLI would create them anyway); files are used if they exist."""
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    paths = [home / rel for rel in home_dirs]
    for entry in dir_env:  # "VAR" or "VAR/sub": a dir named by an env variable
        var, _, sub = entry.partition("/")
        if env.get(var):
            paths.append(Path(env[var]) / sub if sub else Path(env[var]))
    out = []
    for path in paths:
        if not path.suffix and not path.exists():
            path.mkdir(parents=True, exist_ok=True)
        out.append(path)
    return tuple(out)
