"""Finding and stopping processes a killed racer left behind (Linux /proc).

Every process racer starts for a race carries RACER_RACE_ID=<id> in its environment, and so do
their children; agents' process groups are recorded too. After a SIGKILL nobody kills those
groups, so `racer resume`, `racer clean` and `racer ls` look for them here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

from racer.proc import proc_stat, signal_group

PROC = Path("/proc")


def proc_environ(pid: int) -> list[bytes]:
    """The entries (NAME=VALUE) of /proc/<pid>/environ; none if it is gone or not ours to read."""
    try:
        return PROC.joinpath(str(pid), "environ").read_bytes().split(b"\0")
    except OSError:
        return []


def live_pids() -> list[int]:
    """The pids in /proc, this process's left out."""
    with contextlib.suppress(OSError):
        return [int(e) for e in os.listdir(PROC) if e.isdigit() and int(e) != os.getpid()]
    return []


def _stat(pid: int) -> tuple[int, float] | None:
    """(process group, start time as seconds since the epoch) of a live process."""
    fields = proc_stat(str(pid))
    if fields is None or fields[0] in ("Z", "X"):  # gone, or a zombie: dead all the same
        return None
    try:
        boot = _boot_time()
    except OSError:
        return None
    pgrp, start_ticks = int(fields[2]), int(fields[19])
    return pgrp, boot + start_ticks / os.sysconf("SC_CLK_TCK")


_BOOT: list[float] = []


def _boot_time() -> float:
    if not _BOOT:
        for line in (PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                _BOOT.append(float(line.split()[1]))
                break
        else:
            _BOOT.append(0.0)
    return _BOOT[0]


def _ancestors() -> set[int]:
    """This process and its parents: never ours to kill."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        fields = proc_stat(str(pid))
        if fields is None:
            break
        pid = int(fields[1])
    return pids


def find(
    race_id: str,
    pgids: Iterable[int] = (),
    since: float = 0.0,
    until: float = float("inf"),
    *,
    lane: str | None = None,
) -> list[int]:
    """Live processes of a race: its marker in their environment, or a member of one of its
    recorded process groups started between `since` and `until` (epoch seconds: the race's
    lifetime, so a process that reused a group id later is left alone).
    With `lane`, only that lane's (RACER_LANE=<lane> too)."""
    if not PROC.is_dir():
        return []
    marker = f"RACER_RACE_ID={race_id}".encode()
    lane_marker = f"RACER_LANE={lane}".encode() if lane is not None else None
    groups = {g for g in pgids if g and g > 1}
    mine = _ancestors()
    found = []
    for pid in live_pids():
        if pid in mine:
            continue
        st = _stat(pid)
        if st is None:
            continue
        pgrp, started = st
        env = proc_environ(pid)
        if lane_marker is not None:
            if marker in env and lane_marker in env:
                found.append(pid)
        elif marker in env or (pgrp in groups and since - 1 <= started <= until):
            found.append(pid)
    return sorted(found)


def stop(pids: Iterable[int], grace: float = 2.0) -> int:
    """SIGTERM each process and its group, then SIGKILL what is left; returns how many were
    alive. A process that ignores SIGTERM is gone after `grace` seconds anyway."""
    alive = [p for p in pids if _stat(p) is not None]
    if not alive:
        return 0
    groups = {st[0] for p in alive if (st := _stat(p)) is not None}
    mine = _ancestors()
    own_group = os.getpgrp()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for g in groups:
            if g > 1 and g != own_group:
                signal_group(g, sig)
        for p in alive:
            if p not in mine:
                _signal(p, sig)
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline and any(_stat(p) is not None for p in alive):
            time.sleep(0.05)
        if all(_stat(p) is None for p in alive):
            break
    return len(alive)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
