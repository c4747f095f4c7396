"""Where races live on disk: <git common dir>/racer/races/<race-id>/ (`RaceDir` names every
file in it) and lane checkouts under the worktree root. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from racer.errors import RaceNotFound, RefusedError, disk_full, no_space

BASELINE = "_baseline"  # the lane name of the base commit's checkout
RECORD = "race.json"
LOCK_FILE = "lock"


def races_dir(common_dir: Path) -> Path:
    return common_dir / "racer" / "races"


@dataclass(frozen=True)
class RaceDir:
    """Every path of one race's record directory, in one place."""

    path: Path

    @classmethod
    def of(cls, common_dir: Path, race_id: str) -> RaceDir:
        return cls(races_dir(common_dir) / race_id)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def record(self) -> Path:
        return self.path / RECORD

    @property
    def prompt(self) -> Path:
        return self.path / "prompt.md"

    @property
    def plan(self) -> Path:
        return self.path / "plan.json"

    @property
    def merge_intent(self) -> Path:
        """Written before a merge changes anything; its presence means a merge was cut short."""
        return self.path / "merge.json"

    @property
    def lock(self) -> Path:
        return self.path / LOCK_FILE

    @property
    def reserve(self) -> Path:
        """Space held while the race runs, given back to write its record on a full disk."""
        return self.path / ".reserve"

    @property
    def report_md(self) -> Path:
        return self.path / "report.md"

    @property
    def report_html(self) -> Path:
        return self.path / "report.html"

    def log(self, lane: str, kind: str) -> Path:
        """logs/<lane>.<kind>.log: kind is agent, agent.2, setup, tests, own-tests, ..."""
        return self.path / "logs" / f"{lane}.{kind}.log"

    def junit(self, lane: str, kind: str) -> Path:
        return self.path / "junit" / f"{lane}.{kind}.xml"

    def diff(self, lane: str) -> Path:
        return self.path / "diffs" / f"{lane}.diff"


def slug(name: str) -> str:
    """A lane name made safe for a ref component and a directory name."""
    text = re.sub(r"[^A-Za-z0-9._@+-]+", "-", name).strip("-.")
    text = text.replace("@{", "@-").replace("..", ".")
    return text or "lane"


def lane_checkout(worktree_root: Path, race_id: str, lane: str) -> Path:
    """Where a lane's checkout lives: <worktree_root>/<race-id>/<lane>."""
    return worktree_root / race_id / lane


def lane_branch(race_id: str, lane: str) -> str:
    return f"racer/{race_id}/{lane}"


def new_race_id(now: datetime | None = None) -> str:
    """<date>-<time>-<4 hex>: ids sort in start order, also for races started within one second
    (the suffix is the millisecond, times 64, plus a random 0-63 that keeps ids apart)."""
    at = now or datetime.now()
    tail = at.microsecond // 1000 * 64 + secrets.randbelow(64)
    return f"{at.strftime('%Y%m%d-%H%M%S')}-{tail:04x}"


def write_atomic(path: Path, text: str) -> None:
    """Write a file whole or not at all (a temporary file renamed over it); a full disk is
    DiskFull, and the previous content stays."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        if no_space(exc):
            raise disk_full(path) from None
        raise
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600; records are meant to be read and shared
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if no_space(exc):
            raise disk_full(path) from None
        raise


RESERVE_BYTES = 1 << 20


def reserve_space(path: Path, size: int = RESERVE_BYTES) -> None:
    """A file holding `size` bytes of disk while a race runs: should the disk fill up, removing
    it makes room to write that the race was interrupted (see `release_reserve`)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if no_space(exc):
            raise disk_full(path) from None
        raise
    try:
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as exc:
            if no_space(exc):
                raise
            os.write(fd, bytes(size))  # a file system without fallocate: real blocks
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        if no_space(exc):
            raise disk_full(path) from None
        raise
    os.close(fd)


def release_reserve(path: Path) -> None:
    path.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def race_ids(common_dir: Path) -> list[str]:
    """Race ids, newest first (ids start with a timestamp)."""
    root = races_dir(common_dir)
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if (p / RECORD).is_file()), reverse=True)


def find_race(common_dir: Path, race: str | None) -> RaceDir:
    ids = race_ids(common_dir)
    if not ids:
        raise RaceNotFound(
            "no races in this repository yet — start one with `racer run SPEC --agents ...`"
        )
    if race is None or race == "latest":
        return RaceDir.of(common_dir, ids[0])
    matches = [i for i in ids if i == race] or [i for i in ids if i.startswith(race)]
    if len(matches) != 1:
        what = "no race" if not matches else "more than one race"
        raise RaceNotFound(f"{what} matches {race!r} — see `racer ls` for race ids")
    return RaceDir.of(common_dir, matches[0])


class RaceLock:
    """Held by the racer process working on a race (run, resume, merge, clean).

    An flock dies with its process, so a race whose status says "running" but whose lock is free
    was interrupted — even by SIGKILL, which leaves no chance to write anything.
    """

    def __init__(self, race_dir: RaceDir) -> None:
        self.path = race_dir.lock
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise RefusedError(
                f"cannot write {self.path} ({exc.strerror}) — racer keeps its races under "
                f"{self.path.parent.parent}: make it writable for you"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RefusedError(
                f"race {self.path.parent.name} is in use by another racer (pid {holder}) — "
                "wait for it to finish, or stop that process"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RaceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_live(race_dir: RaceDir) -> bool:
    """True while some racer process holds the race's lock."""
    return lock_held(race_dir.lock)


def lock_held(path: Path) -> bool:
    """True while some process holds an exclusive flock on `path` (False: no such file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
