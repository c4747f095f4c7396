"""A base checkout in memory, for the first race of a commit (overlay lanes, Linux).

A fresh checkout of 50k files takes 2-10 s on a busy VM disk (one inode each) and 0.7 s in a
tmpfs. So when the disk has no base checkout of a commit yet, the lanes of this racer stand on
one in a tmpfs mounted in racer's own mount namespace (racer.overlay: nobody else sees it, and
it goes when racer exits), and the disk's, for later races and racer commands, is written once
racer is done, by a detached `python -m racer.basefill`. A lane's layer is the same over either:
the same files. `upper.SERVED` maps the disk's path, which a lane records, to the copy in memory.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from racer import upper
from racer.errors import GitError
from racer.git import PAGE, tree_size
from racer.proc import proc_stat, spawn_detached

SHARE = 4  # a base in memory takes at most this fraction of the memory available
_MNT_DETACH = 2
# In TMPDIR: "racer-base-" + pid namespace + "-" + pid + "-" + token, a base in memory's mount point.
_MOUNT_POINT = "racer-base-"


def make(
    common_dir: Path, final: Path, commit: str, check_out: Callable[[Path, Path, str], None]
) -> Path | None:
    """A tmpfs with `check_out(common_dir, tmpfs, commit)` done in it, served for `final` in
    this process; None (nothing mounted) when it would not fit or tmpfs refuses. At exit the
    tmpfs goes and a detached process writes `final` on the disk (`_hand_over`)."""
    size = memory_size(common_dir, commit)
    if size is None:
        return None
    _sweep_mount_points()
    where = Path(tempfile.mkdtemp(prefix=f"{_MOUNT_POINT}{_pid_namespace()}-{os.getpid()}-"))
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        opts = f"size={size},mode=0700"
        if libc.mount(b"racer-base", str(where).encode(), b"tmpfs", 0, opts.encode()) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount tmpfs on {where}: {os.strerror(err)}")
        try:
            check_out(common_dir, where, commit)
        except BaseException:
            libc.umount2(str(where).encode(), _MNT_DETACH)
            raise
    except (OSError, GitError):
        with contextlib.suppress(OSError):
            where.rmdir()
        return None
    upper.SERVED[final] = where
    atexit.register(_hand_over, common_dir, final, commit, where)
    return where


def memory_size(common_dir: Path, commit: str) -> int | None:
    """Bytes a tmpfs needs for a checkout of `commit` and its index (a page at least per file
    and per directory), with room to spare; None when that is more than a quarter of the
    memory available now (the checkout goes to the disk alone)."""
    try:
        tree = tree_size(common_dir, commit)
    except GitError:
        return None
    need = (tree.pages + tree.dirs) * PAGE + tree.files * 128  # + an index entry per file
    need = need * 5 // 4 + 16 * 2**20
    available = available_memory()
    return need if available is not None and need <= available // SHARE else None


def available_memory() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == "MemAvailable" and value.split()[0].isdigit():
            return int(value.split()[0]) * 1024
    return None


def _pid_namespace() -> str:
    """This process's pid namespace (its inode): a pid names a process only within it."""
    try:
        return os.readlink("/proc/self/ns/pid").rpartition("[")[2].rstrip("]")
    except OSError:
        return "0"


def _sweep_mount_points() -> None:
    """Remove the mount points SIGKILLed racers left in TMPDIR (a killed racer runs no exit
    handler; the dir is empty outside its namespace). Only those named for a pid of this pid
    namespace that is gone: a live racer's tmpfs is mounted there in its own mount namespace,
    and removing its mount point from here would detach it."""
    own = f"{_MOUNT_POINT}{_pid_namespace()}-"
    with contextlib.suppress(OSError):
        for found in Path(tempfile.gettempdir()).glob(f"{own}*-*"):
            pid = found.name.removeprefix(own).partition("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    found.rmdir()


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie has let its namespaces go: not)."""
    fields = proc_stat(str(pid))
    return fields is not None and fields[0] not in ("Z", "X")


def _hand_over(common_dir: Path, final: Path, commit: str, where: Path) -> None:
    """At racer's exit: the tmpfs is let go, and a detached process (`python -m racer.basefill`,
    at a lower CPU priority) writes the disk's base checkout — not during the race, where it
    took CPU and disk from the lanes' tests, and not before racer exits (2-10 s on this VM's
    disk). A racer command that needs it meanwhile waits for it (racer.overlay's lock on
    writing a base); one that finds it missing (racer was killed first) makes it."""
    if ctypes.CDLL(None, use_errno=True).umount2(str(where).encode(), _MNT_DETACH) == 0:
        with contextlib.suppress(OSError):
            where.rmdir()
    argv = [sys.executable, "-m", "racer.basefill", str(common_dir), str(final), commit]
    with contextlib.suppress(OSError):
        spawn_detached(argv, cwd=common_dir)
