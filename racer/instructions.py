"""A setup's instructions file, put in place of the repository's for one lane (CLAUDE.md,
AGENTS.md, …) before its agent runs and put back before its work is committed, so the swap is
never part of the candidate's diff. An agent that edits or replaces the file keeps its edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from racer.errors import ConfigError

MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class Placed:
    path: Path  # in the lane's checkout
    original: bytes | None  # the checkout's own file; None: there was none
    placed: bytes


def check(root: Path, rel: str, where: str) -> Path:
    """The instructions file of a setup: a regular file of the repository, at most 256 KB."""
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ConfigError(f"{where} = {rel!r} is outside the repository — keep it in the repo")
    if not path.is_file():
        raise ConfigError(f"{where} = {rel!r}: no such file in {root} — fix the path")
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(f"{where} = {rel!r} is over {MAX_BYTES // 1024} KB — shorten it")
    return path


def place(checkout: Path, name: str, source: Path) -> Placed | None:
    """Put `source`'s text at `checkout/name`; None when that path is not a plain file spot
    (a directory or a link there: racer writes through neither)."""
    target = checkout / name
    if target.is_symlink() or target.is_dir() or not target.parent.is_dir():
        return None
    original = target.read_bytes() if target.is_file() else None
    text = source.read_bytes()
    target.write_bytes(text)
    return Placed(target, original, text)


def restore(placed: Placed | None) -> None:
    """Put the checkout's own file back, unless the agent changed the placed one."""
    if placed is None:
        return
    path = placed.path
    if path.is_symlink() or not path.is_file() or path.read_bytes() != placed.placed:
        return  # the agent's edit is its work
    if placed.original is None:
        path.unlink()
    else:
        path.write_bytes(placed.original)
