"""The read-only store hardlinked `share` dirs link to — racer's own copy, never the user's files —
and the check at the end of a race that no lane wrote into it anyway.

Linking lanes straight to the main checkout's inodes let a tool that rewrites a file in place
(xo rewrites node_modules/.cache/xo-linter/tsconfig.*.json with the checkout's absolute path)
write into every lane *and* the user's node_modules; and making those inodes read-only would
change the modes of the user's files, since a mode belongs to the inode. So the lanes link to a
copy racer owns: one per state of the source (its digest of paths, sizes, mtimes and modes names
it), kept under `<worktree_root>/.racer-share/` and reused while the source is unchanged, whose
files are read-only. What tools write is copied into each lane, writable, instead of linked (see
`is_written`), from the source: they are not in the store, nor part of its name, so a cache the
user's own runs rewrite costs no new copy. A manifest of the linked files' (size, mtime_ns) tells
whether a lane wrote into the store anyway: root ignores read-only modes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "STORE",
    "Store",
    "copy_writable",
    "discard_changed",
    "ensure",
    "is_written",
    "last",
    "link",
]

STORE = ".racer-share"
_MANIFEST = ".racer-manifest.json"  # beside the store's files: {path: [size, mtime_ns]}
# Installers' records of what they installed: rewritten by the next install in place.
_INSTALLER_FILES = frozenset(
    {".package-lock.json", ".yarn-integrity", ".modules.yaml", ".yarn-state.yml"}
)
# Build-tool caches that do not say "cache" in their name.
_CACHE_DIRS = frozenset({".vite", ".turbo", ".nx", ".angular", ".next", ".svelte-kit", ".nuxt"})
_CACHE_WORD = re.compile(r"cache", re.I)
# Written after the install (plus this slack, for the installer's own last writes): a tool did it.
_SLACK_NS = 2_000_000_000
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_VERIFIED: set[str] = set()
_LAST: dict[tuple[str, str], Path] = {}


@dataclass(frozen=True)
class Store:
    path: Path  # the store's copy of the dir: every file in it read-only, none tools write
    writable: tuple[str, ...]  # files of the source that lanes get as writable copies


def is_written(rel: str, mtime_ns: int, installed_ns: int | None) -> bool:
    """Whether tools write the file at `rel` (inside a shared dir), so each lane needs its own.

    A path through a cache (a hidden name saying "cache" — .cache, .eslintcache, .parcel-cache,
    .pytest_cache — or .vite, .turbo, .next…; not packages like file-entry-cache, whose files
    are code), a `*.tsbuildinfo`, an installer's record
    (.package-lock.json, .yarn-integrity, .modules.yaml), or any file modified after the dir was
    installed: what was written since the install was written by a tool, which will write it
    again. Not `__pycache__`: CPython writes .pyc files to a temporary name and renames it over
    the old one, which replaces the lane's link and never writes into the shared inode.
    """
    parts = rel.split("/")
    if parts[-1] in _INSTALLER_FILES or parts[-1].endswith(".tsbuildinfo"):
        return True
    for part in parts:
        if part in _CACHE_DIRS or (part.startswith(".") and _CACHE_WORD.search(part)):
            return True
    return installed_ns is not None and mtime_ns > installed_ns + _SLACK_NS


def _entries(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(path inside root, lstat) of every entry, in a stable order."""
    stack = [""]
    while stack:
        sub = stack.pop()
        with os.scandir(os.path.join(root, sub)) as found:
            entries = sorted(found, key=lambda e: e.name)
        for entry in entries:
            inner = f"{sub}/{entry.name}" if sub else entry.name
            info = entry.stat(follow_symlinks=False)
            yield inner, info
            if stat.S_ISDIR(info.st_mode):
                stack.append(inner)


def _slug(rel: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", rel).strip("-.") or "dir"


def _stores(store_root: Path, rel: str) -> list[Path]:
    """The stores of `rel` (one per state of it; normally one)."""
    name = re.compile(re.escape(_slug(rel)) + "-[0-9a-f]{20}")
    try:
        found = [p for p in store_root.iterdir() if name.fullmatch(p.name) and p.is_dir()]
    except OSError:
        return []
    return sorted(found)


def _lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(path), threading.Lock())


def ensure(
    store_root: Path,
    rel: str,
    src: Path,
    state: tuple[str, tuple[str, ...]],
    copy: Callable[[Path, Path], None],
) -> Store:
    """The store for `src` as it is now — `state`: its digest and the files tools write — made
    (with `copy`) unless an intact one exists."""
    digest, writable = state
    path = store_root / f"{_slug(rel)}-{digest}"
    with _lock(path):
        if path.is_dir() and (str(path) in _VERIFIED or not _changed(path)):
            _VERIFIED.add(str(path))
            _LAST[(str(store_root), rel)] = path
            return Store(path, writable)
        if path.is_dir():  # written into by an earlier race: start again from the source
            _remove(path)
        store_root.mkdir(parents=True, exist_ok=True)
        tmp = store_root / f".tmp-{_slug(rel)}-{secrets.token_hex(4)}"
        try:
            copy(src, tmp)
            for inner in writable:  # never in the store: lanes copy them from the source
                (tmp / inner).unlink(missing_ok=True)
            manifest = _freeze(tmp)
            (tmp / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
            os.rename(tmp, path)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not path.is_dir():  # another racer made it meanwhile: use theirs
                raise
        for old in _stores(store_root, rel):  # earlier states of the source
            if old != path:
                _remove(old)
        _VERIFIED.add(str(path))
        _LAST[(str(store_root), rel)] = path
    return Store(path, writable)


def _freeze(root: Path) -> dict[str, list[int]]:
    """Make the files lanes link to read-only; their (size, mtime_ns) for the end-of-race check."""
    manifest: dict[str, list[int]] = {}
    for inner, info in _entries(root):
        if not stat.S_ISREG(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o222:
            os.chmod(root / inner, mode & ~0o222)
        manifest[inner] = [info.st_size, info.st_mtime_ns]
    return manifest


def last(store_root: Path, rel: str) -> Path | None:
    """The store this process last provided `rel` from: most likely the one the next lane of the
    race needs, so it can be linked while the source is walked."""
    with _LOCKS_GUARD:
        path = _LAST.get((str(store_root), rel))
    return path if path is not None and str(path) in _VERIFIED else None


def link(path: Path, dest: Path, hardlink: Callable[[Path, Path], None]) -> None:
    """Hardlink the store's files at `dest`."""
    hardlink(path, dest)
    os.unlink(dest / _MANIFEST)


def copy_writable(store: Store, dest: Path, src: Path) -> None:
    """Writable copies of what tools write, from the source as it is now (a cache is not part of
    the store's state)."""
    for inner in store.writable:
        target = dest / inner
        target.unlink(missing_ok=True)  # linked if the store froze it before a tool wrote it
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(src / inner, target, follow_symlinks=False)
        except FileNotFoundError:
            continue  # gone from the source since the walk (a cache pruned): none here either


def _changed(path: Path) -> list[str]:
    """The linked files of a store whose size or mtime differ from its manifest (or ["?"])."""
    try:
        manifest = json.loads((path / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["?"]
    changed: list[str] = []
    for inner, (size, mtime_ns) in sorted(manifest.items()):
        try:
            info = os.lstat(path / inner)
        except OSError:
            changed.append(inner)
            continue
        if (info.st_size, info.st_mtime_ns) != (size, mtime_ns):
            changed.append(inner)
    return changed


def discard_changed(store_root: Path, rels: tuple[str, ...] | list[str]) -> list[str]:
    """One warning per shared dir whose store a lane wrote into (the store is then discarded,
    so the next race starts from the source again)."""
    warnings: list[str] = []
    for rel in rels:
        for path in _stores(store_root, rel):
            changed = _changed(path)
            if not changed or changed == ["?"]:
                continue
            shown = ", ".join(f"{rel}/{c}" for c in changed[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            warnings.append(
                f"a lane wrote into {len(changed)} shared file(s) of {rel} in place ({shown}{more}) "
                f"— every lane saw that change (your own {rel} did not), so a lane's tests may "
                "have run on another lane's write"
            )
            _remove(path)
    return warnings


def _remove(path: Path) -> None:
    with _LOCKS_GUARD:
        _VERIFIED.discard(str(path))
    gone = path.with_name(f".gone-{path.name}-{secrets.token_hex(4)}")
    try:
        os.rename(path, gone)  # atomically out of the way, then deleted at leisure
    except OSError:
        return
    shutil.rmtree(gone, ignore_errors=True)
