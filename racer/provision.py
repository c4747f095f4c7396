"""Dependency directories (node_modules, .venv, target/) provided to each worktree without a
reinstall: a reflink clone, hardlinks to racer's read-only store (racer.sharestore) or a copy —
never a symlink into the main checkout, never a link to the user's own files.

`lockfile_warnings` says when such a directory looks stale for the race's base commit.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racer import sharestore
from racer.errors import ConfigError, RefusedError, UserError
from racer.git import git
from racer.proc import run_capture

__all__ = ["METHODS", "READ_MOSTLY", "Provided", "lockfile_warnings", "provide", "shared_writes"]

METHODS = ("auto", "reflink", "hardlink", "copy")
# Dirs whose tools replace files (write new, rename, unlink) instead of editing them in place, so
# read-only hardlinks shared between lanes work. Not target/: cargo rewrites fingerprints in
# place all over it, and a read-only one would fail every lane's build.
READ_MOSTLY = frozenset({"node_modules", ".venv", "venv"})

_FICLONE = 0x40049409  # linux/fs.h _IOW(0x94, 9, int)
_CP_TIMEOUT = 1800.0
_REFLINK_OK: dict[tuple[int, int], bool] = {}  # (src st_dev, dest st_dev) → probe result


@dataclass(frozen=True)
class Provided:
    rel: str
    method: str  # "reflink" | "hardlink" | "copy" | "missing"
    files: int  # non-directory entries (regular files and symlinks)
    bytes: int  # apparent size of the regular files
    seconds: float


@dataclass(frozen=True)
class _Scan:
    files: int
    bytes: int
    relinks: tuple[tuple[str, str], ...]  # (path inside the dir, new target) to recreate
    digest: str = ""  # of every entry's path, mode, size and mtime: the dir's state
    writable: tuple[str, ...] = ()  # files tools write (sharestore.is_written)


def provide(
    src_root: Path,
    dest_root: Path,
    rel: str,
    method: str = "auto",
    *,
    store_root: Path | None = None,
) -> Provided:
    """Provide the directory `src_root/rel` at `dest_root/rel`.

    "auto" takes the first that works: a reflink clone (copy-on-write: shares data blocks until
    either side writes), hardlinks (READ_MOSTLY dirs only), a plain copy.

    Hardlinks share inodes, so they never lead to the user's files: they lead to racer's own
    read-only copy of the dir in `store_root` (default: beside `dest_root`), made once per state
    of the source and shared by every lane on that filesystem; files tools write (caches,
    installer records, what changed since the install: `sharestore.is_written`) are writable
    copies in each lane. `shared_writes` says at the end whether a lane wrote into the store.

    Symlinks stay symlinks with their target text, except where the text would lead into the main
    checkout or break: absolute targets inside `src_root` are rewritten to `dest_root`, relative
    ones leaving `src_root` become absolute. In a virtualenv (pyvenv.cfg) the small text files
    that name the main checkout's path — bin/ scripts' shebangs and activate, site-packages *.pth
    and editable-install finders — are rewritten as new files for the worktree, or its tests
    would import the main checkout's code.

    A missing source gives method "missing" (the caller warns); an existing destination is
    refused.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown share method {method!r} — use one of {', '.join(METHODS)}")
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or ".." in parts:
        raise ConfigError(
            f"share entry {rel!r} must be a path inside the repository (like node_modules)"
        )
    start = time.perf_counter()
    src, dest = src_root / rel, dest_root / rel
    if not src.exists():
        return Provided(rel, "missing", 0, 0, time.perf_counter() - start)
    if not src.is_dir():
        raise ConfigError(f"share entry {rel!r} is not a directory — list single files in `copy`")
    if os.path.lexists(dest):
        raise RefusedError(
            f"{dest} already exists — racer will not replace it; remove it or drop {rel!r} from share"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():  # the lane gets a directory of its own, not the link
        src = src.resolve()
    store_root = store_root or dest_root.parent / sharestore.STORE
    used, found = "", _Scan(0, 0, ())
    failures: list[str] = []
    for candidate in _candidates(src, dest, rel, method, store_root):
        try:
            if candidate == "hardlink":
                found = _link_from_store(src, src_root, dest_root, rel, store_root)
            else:
                with ThreadPoolExecutor(1) as pool:  # walk the source while cp runs
                    scan = pool.submit(_scan, src, src_root, dest_root, rel, None)
                    _COPIERS[candidate](src, dest)
                    found = scan.result()
        except (OSError, shutil.Error, UserError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            failures.append(f"{candidate}: {_message(exc)}")
            continue
        used = candidate
        break
    if not used:
        raise UserError(f"could not provide {rel} in {dest_root}: {'; '.join(failures)}")
    for path, target in found.relinks:
        os.unlink(dest / path)
        os.symlink(target, dest / path)
    if (dest / "pyvenv.cfg").is_file():
        _relocate_venv(dest, src_root, dest_root)
    return Provided(rel, used, found.files, found.bytes, time.perf_counter() - start)


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, UserError) else str(exc)


def _link_from_store(
    src: Path, src_root: Path, dest_root: Path, rel: str, store_root: Path
) -> _Scan:
    """Hardlink racer's store of `src` at dest_root/rel. The walk of the source names the store;
    meanwhile the store the previous lane used is linked, which is the right one unless the
    source changed in between (then it is linked again from the new one)."""
    dest, hardlink = dest_root / rel, _COPIERS["hardlink"]
    guess = sharestore.last(store_root, rel)
    with ThreadPoolExecutor(1) as pool:
        scan = pool.submit(_scan, src, src_root, dest_root, rel, _installed_ns(src))
        if guess is not None:
            try:
                sharestore.link(guess, dest, hardlink)
            except (OSError, UserError):  # removed meanwhile (the source changed): link anew
                shutil.rmtree(dest, ignore_errors=True)
                guess = None
        found = scan.result()
    store = sharestore.ensure(
        store_root, rel, src, (found.digest, found.writable), _COPIERS["copy"]
    )
    if store.path != guess:
        shutil.rmtree(dest, ignore_errors=True)
        sharestore.link(store.path, dest, hardlink)
    sharestore.copy_writable(store, dest, src)
    return found


def shared_writes(worktree_root: Path, rels: Sequence[str]) -> list[str]:
    """One warning per shared dir a lane wrote into in place (at the end of a race)."""
    return sharestore.discard_changed(worktree_root / sharestore.STORE, list(rels))


def _installed_ns(shared: Path) -> int | None:
    """When the dir was installed (its installer's newest marker), if it has a known one."""
    ecosystem = _ecosystem(shared)
    found = [p for m in ecosystem.markers for p in shared.glob(m)] if ecosystem else []
    times = []
    for path in found:
        try:
            times.append(path.lstat().st_mtime_ns)
        except OSError:
            continue
    return max(times, default=None)


def _device(path: Path) -> int:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path.stat().st_dev


def _candidates(src: Path, dest: Path, rel: str, method: str, store_root: Path) -> list[str]:
    # Hardlinks lead to the store, which racer copies onto the lanes' filesystem.
    same_device = _device(store_root) == dest.parent.stat().st_dev
    if method == "reflink" and not _reflink_supported(src, dest.parent):
        raise ConfigError(
            f"reflink clones are not supported from {src} to {dest.parent} "
            f"({_fs_type(dest.parent)}) — use share method auto, hardlink or copy"
        )
    if method == "hardlink" and not same_device:
        raise ConfigError(
            f"hardlinks need one filesystem, and {store_root} and {dest.parent} are on different ones "
            "— use share method auto or copy"
        )
    if method != "auto":
        return [method]
    chain = ["reflink"] if _reflink_supported(src, dest.parent) else []
    if same_device and Path(rel).name in READ_MOSTLY:
        chain.append("hardlink")
    return [*chain, "copy"]


def _reflink_supported(src_dir: Path, dest_dir: Path) -> bool:
    """Probe a FICLONE of one source file once per (source, destination) filesystem pair."""
    key = (src_dir.stat().st_dev, dest_dir.stat().st_dev)
    if key not in _REFLINK_OK:
        _REFLINK_OK[key] = _gnu_cp() and _probe_clone(src_dir, dest_dir)
    return _REFLINK_OK[key]


def _probe_clone(src_dir: Path, dest_dir: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import fcntl  # not on Windows

    sample = _sample_file(src_dir)
    if sample is None:
        return False
    fd_out, tmp = tempfile.mkstemp(prefix=".racer-reflink-probe-", dir=dest_dir)
    try:
        fd_in = os.open(sample, os.O_RDONLY)
        try:
            fcntl.ioctl(fd_out, _FICLONE, fd_in)
        finally:
            os.close(fd_in)
    except OSError:
        return False
    finally:
        os.close(fd_out)
        os.unlink(tmp)
    return True


def _sample_file(src_dir: Path) -> str | None:
    """A regular file in the tree, non-empty if one comes soon (cloning empty files proves little)."""
    first = None
    for seen, (dirpath, _, filenames) in enumerate(os.walk(src_dir)):
        for name in filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                if info.st_size:
                    return path
                first = first or path
        if seen > 100:
            break
    return first


@functools.cache
def _gnu_cp() -> bool:
    code, output = run_capture(["cp", "--version"])
    return code == 0 and "GNU coreutils" in output


def _run_cp(args: Sequence[str], src: Path, dest: Path) -> None:
    code, output = run_capture(
        ["cp", *args, "--no-target-directory", "--", str(src), str(dest)], timeout=_CP_TIMEOUT
    )
    if code != 0:
        lines = output.strip().splitlines()
        raise UserError(f"cp {' '.join(args)} failed: {lines[0] if lines else f'exit {code}'}")


def _reflink(src: Path, dest: Path) -> None:
    _run_cp(["-a", "--reflink=always"], src, dest)


def _hardlink(src: Path, dest: Path) -> None:
    # One `cp -al` beats a Python os.link loop (0.27 s vs 0.37 s for 20k files, measured).
    if _gnu_cp():
        _run_cp(["-al"], src, dest)
    else:
        shutil.copytree(src, dest, symlinks=True, copy_function=os.link)


def _copy(src: Path, dest: Path) -> None:
    # --reflink=never: coreutils ≥ 9 clones by default, and "copy" means independent blocks.
    if _gnu_cp():
        _run_cp(["-a", "--reflink=never"], src, dest)
    else:
        shutil.copytree(src, dest, symlinks=True)


_COPIERS: dict[str, Callable[[Path, Path], None]] = {
    "reflink": _reflink,
    "hardlink": _hardlink,
    "copy": _copy,
}


def _scan(src: Path, src_root: Path, dest_root: Path, rel: str, installed_ns: int | None) -> _Scan:
    """Count the tree and find the symlinks whose target text must change in the destination;
    its digest, and the files tools write."""
    files = size = 0
    relinks: list[tuple[str, str]] = []
    writable: list[str] = []
    digest = hashlib.sha256()
    logical_root = os.path.normpath(os.path.abspath(src_root))
    real_root = os.path.realpath(src_root)
    dest_dir = os.path.join(dest_root, rel)
    prefixes = [  # longest first: the shared dir itself, then the rest of the checkout
        (os.path.realpath(src), dest_dir),
        (os.path.join(logical_root, rel), dest_dir),
        (real_root, str(dest_root)),
        (logical_root, str(dest_root)),
    ]
    stack = [""]
    while stack:
        sub = stack.pop()
        with os.scandir(os.path.join(src, sub)) as entries:
            for entry in entries:
                inner = os.path.join(sub, entry.name)
                info = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    # Not its mtime: a cache written inside would make every race copy anew.
                    digest.update(f"{inner}\0{info.st_mode}\n".encode(errors="surrogateescape"))
                    stack.append(inner)
                    continue
                files += 1
                if stat.S_ISREG(info.st_mode) and sharestore.is_written(
                    inner, info.st_mtime_ns, installed_ns
                ):
                    writable.append(inner)  # copied from here into each lane: not the store's
                    size += info.st_size
                    continue
                digest.update(
                    f"{inner}\0{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}\n".encode(
                        errors="surrogateescape"
                    )
                )
                if entry.is_symlink():
                    target = os.readlink(entry.path)
                    new = _relink(target, prefixes)
                    if new is None and not os.path.isabs(target):
                        lexical = os.path.normpath(os.path.join(logical_root, rel, sub, target))
                        if not _under(lexical, logical_root):
                            # It climbs out of the checkout: from a worktree elsewhere the same
                            # text would miss, so pin where it leads from the source.
                            parent = os.path.realpath(os.path.dirname(entry.path))
                            new = os.path.normpath(os.path.join(parent, target))
                    if new is not None:
                        relinks.append((inner, new))
                elif entry.is_file(follow_symlinks=False):
                    size += info.st_size
    return _Scan(files, size, tuple(relinks), digest.hexdigest()[:20], tuple(writable))


def _relink(target: str, prefixes: Sequence[tuple[str, str]]) -> str | None:
    if not os.path.isabs(target):
        return None
    target = os.path.normpath(target)
    for prefix, replacement in prefixes:
        if _under(target, prefix):
            return os.path.join(replacement, os.path.relpath(target, prefix))
    return None


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip(os.sep) + os.sep)


def _relocate_venv(venv: Path, src_root: Path, dest_root: Path) -> None:
    """Point the venv's few path-bearing text files at the worktree (new files: a hardlinked
    original is the main checkout's)."""
    roots = {os.path.normpath(os.path.abspath(src_root)), os.path.realpath(src_root)}
    pattern = re.compile(
        b"|".join(
            re.escape(os.fsencode(r)) + rb"(?![\w.+@~-])" for r in sorted(roots, key=len)[::-1]
        )
    )
    replacement = os.fsencode(str(dest_root)).replace(b"\\", b"\\\\")
    for path in _venv_text_files(venv):
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
                continue
            data = path.read_bytes()
            new = pattern.sub(replacement, data)
            if new == data:
                continue
            tmp = path.with_name(f".{path.name}.racer-tmp")
            tmp.write_bytes(new)
            shutil.copymode(path, tmp)
            os.replace(tmp, path)
        except OSError:
            continue  # best effort: an unreadable script is no reason to fail the lane


def _venv_text_files(venv: Path) -> Iterator[Path]:
    yield venv / "pyvenv.cfg"
    for scripts in ("bin", "Scripts"):
        if (venv / scripts).is_dir():
            yield from (venv / scripts).iterdir()
    for site in [*venv.glob("lib/python*/site-packages"), venv / "Lib" / "site-packages"]:
        if site.is_dir():
            yield from site.glob("*.pth")
            yield from site.glob("__editable__*.py")


def _fs_type(path: Path) -> str:
    """The filesystem type of path from /proc/mounts (the longest mount point above it)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return "unknown filesystem"
    real, best, kind = os.path.realpath(path), "", "unknown filesystem"
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        if _under(real, point) and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


# ---- lockfiles ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ecosystem:
    locks: tuple[tuple[str, str], ...]  # (file name or glob, install command)
    markers: tuple[str, ...]  # globs inside the dir that its installer rewrites


_NODE = _Ecosystem(
    locks=(
        ("npm-shrinkwrap.json", "npm ci"),
        ("package-lock.json", "npm ci"),
        ("yarn.lock", "yarn install --frozen-lockfile"),
        ("pnpm-lock.yaml", "pnpm install --frozen-lockfile"),
        ("bun.lock", "bun install --frozen-lockfile"),
    ),
    markers=(".package-lock.json", ".modules.yaml", ".yarn-state.yml", ".yarn-integrity"),
)
_PYTHON = _Ecosystem(
    locks=(
        ("uv.lock", "uv sync"),
        ("poetry.lock", "poetry install --sync"),
        ("pdm.lock", "pdm sync"),
        ("Pipfile.lock", "pipenv sync"),
        ("requirements*.txt", "pip install -r {name}"),
    ),
    # pyvenv.cfg dates the venv's creation; site-packages changes on every install that does
    # anything.
    markers=("pyvenv.cfg", "lib/python*/site-packages", "Lib/site-packages"),
)
_RUST = _Ecosystem(
    locks=(("Cargo.lock", "cargo build"),),
    markers=(".rustc_info.json", "debug/.fingerprint", "release/.fingerprint"),
)
_NPM_LOCKS = ("npm-shrinkwrap.json", "package-lock.json")
# A lockfile saved by the same command that wrote the marker (npm saves package-lock.json just
# after node_modules/.package-lock.json) is not "newer"; a real change comes later than this.
_MTIME_SLACK_S = 2.0


def lockfile_warnings(src_root: Path, base_commit: str, rels: Sequence[str]) -> list[str]:
    """One line per reason a shared dir may not match its lockfile for the base commit.

    For each lockfile beside a shared dir (package-lock.json… for node_modules, uv.lock… for
    .venv, Cargo.lock for target): (a) the base commit's lockfile differs from the main
    checkout's; (b) the main checkout's lockfile changed after the dir's install marker; or, for
    npm, (c) node_modules/.package-lock.json (npm's record of what it installed) disagrees with
    the lockfile's packages. Where (c) can be checked it replaces (b): content beats mtimes.
    """
    warnings: list[str] = []
    for rel in rels:
        shared = src_root / rel
        ecosystem = _ecosystem(shared)
        if ecosystem is None or not shared.is_dir():
            continue
        home = Path(rel).parent
        marker = _marker_mtime(shared, ecosystem.markers)
        for pattern, install in ecosystem.locks:
            for lock in sorted(shared.parent.glob(pattern)):
                if not lock.is_file():
                    continue
                lock_rel = (home / lock.name).as_posix()
                command = install.format(name=lock_rel)
                warnings.extend(
                    _lock_warnings(src_root, base_commit, rel, lock, lock_rel, command, marker)
                )
    return warnings


def _lock_warnings(
    src_root: Path,
    base: str,
    rel: str,
    lock: Path,
    lock_rel: str,
    command: str,
    marker: float | None,
) -> Iterator[str]:
    text = lock.read_bytes().decode("utf-8", errors="replace")
    shown = git(["show", f"{base}:./{lock_rel}"], src_root, check=False)
    if shown.returncode == 0 and _digest(shown.stdout) != _digest(text):
        yield (
            f"{rel} may not match the base commit: {lock_rel} at {base[:12]} differs from the "
            f"main checkout's, which {rel} was installed from — install for the base commit "
            f"(`{command}` with it checked out) or install in each lane instead of sharing"
        )
    hidden = Path(rel) / ".package-lock.json"
    if lock.name in _NPM_LOCKS:
        same = _npm_packages_match(text, src_root / hidden)
        if same is False:
            yield (
                f"{rel} may be stale: npm's record of what it installed ({hidden.as_posix()}) "
                f"disagrees with {lock_rel} — run `{command}` in the main checkout"
            )
        if same is not None:
            return
    if marker is not None and lock.stat().st_mtime > marker + _MTIME_SLACK_S:
        yield (
            f"{rel} may be stale: {lock_rel} changed after {rel} was last installed "
            f"— run `{command}` in the main checkout"
        )


def _ecosystem(shared: Path) -> _Ecosystem | None:
    if shared.name == "node_modules":
        return _NODE
    if shared.name == "target":
        return _RUST
    if shared.name in {".venv", "venv"} or (shared / "pyvenv.cfg").is_file():
        return _PYTHON
    return None


def _marker_mtime(shared: Path, markers: Sequence[str]) -> float | None:
    """When the dir was last installed into: its newest marker, else its newest top-level entry."""
    found = [p for pattern in markers for p in shared.glob(pattern)]
    if not found:
        found = [shared, *shared.iterdir()]
    times = []
    for path in found:
        try:
            times.append(path.lstat().st_mtime)
        except OSError:
            continue
    return max(times, default=None)


def _digest(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8", "replace")).hexdigest()


_NPM_FIELDS = ("version", "resolved", "integrity", "link")


def _npm_packages_match(lock_text: str, hidden: Path) -> bool | None:
    """Whether npm's hidden lockfile agrees with the lockfile; None when either is unreadable.

    Entries npm skips on purpose (optional deps for other platforms, dev deps under --omit=dev)
    may be absent from the hidden lockfile."""
    try:
        lock = json.loads(lock_text)["packages"]
        installed = json.loads(hidden.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(lock, dict) or not isinstance(installed, dict):
        return None
    wanted = {key: value for key, value in lock.items() if key and isinstance(value, dict)}
    for key, entry in wanted.items():
        have = installed.get(key)
        if have is None:
            if not _skippable(entry):
                return False
        elif not isinstance(have, dict) or _npm_key(have) != _npm_key(entry):
            return False
    return all(key in wanted for key in installed if key)


def _skippable(entry: dict[str, Any]) -> bool:
    return any(entry.get(flag) for flag in ("optional", "devOptional", "dev", "peer"))


def _npm_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(entry.get(field) for field in _NPM_FIELDS)
