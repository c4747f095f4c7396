"""Where races live on disk: <git common dir>/racer/races/<race-id>/race.json, and history.

Writes are atomic (temp file + rename) so a killed racer never leaves half a record.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from racer.errors import RaceNotFound


def races_dir(common_dir: Path) -> Path:
    return common_dir / "racer" / "races"


def new_race_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(2)}"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600; records are meant to be read and shared
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def race_ids(common_dir: Path) -> list[str]:
    """Race ids, newest first (ids start with a timestamp)."""
    root = races_dir(common_dir)
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if (p / "race.json").is_file()), reverse=True)


def find_race(common_dir: Path, race: str | None) -> Path:
    ids = race_ids(common_dir)
    if not ids:
        raise RaceNotFound(
            "no races in this repository yet — start one with `racer run SPEC --agents ...`"
        )
    if race is None or race == "latest":
        return races_dir(common_dir) / ids[0]
    matches = [i for i in ids if i == race] or [i for i in ids if i.startswith(race)]
    if len(matches) != 1:
        what = "no race" if not matches else "more than one race"
        raise RaceNotFound(f"{what} matches {race!r} — see `racer ls` for race ids")
    return races_dir(common_dir) / matches[0]


LOCK_FILE = "lock"


class RaceLock:
    """Held by the racer process working on a race (run, resume, merge, clean).

    An flock dies with its process, so a race whose status says "running" but whose lock is free
    was interrupted — even by SIGKILL, which leaves no chance to write anything.
    """

    def __init__(self, race_dir: Path) -> None:
        self.path = race_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            from racer.errors import RefusedError

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


def is_live(race_dir: Path) -> bool:
    """True while some racer process holds the race's lock."""
    import fcntl

    path = race_dir / LOCK_FILE
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
