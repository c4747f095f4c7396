"""An overlay lane's commit, from its upper layer: only the files the lane touched are read.

The upper dir holds exactly what differs from the base checkout: new and changed files (a
changed mode or a symlink is a copied-up file too), whiteouts (a character device 0/0) where
something was deleted, opaque directories (a directory that replaced one of the base, or a
file) whose base contents are gone. So the paths to look at are those, plus the paths where
the lane's index (the agent may have staged or committed) differs from the base. Each is
looked at in the merged view, as `git add -A` would; the result goes into the lane's
index with `git update-index`, then `write-tree`, `commit-tree` and `update-ref` — the same tree
`checkout.commit_all` makes for the same change, without a stat of the other 50k files.
"""

from __future__ import annotations

import bisect
import contextlib
import fnmatch
import hashlib
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from racer.errors import GitError
from racer.git import RACER_IDENTITY, git

SUFFIX = ".overlay"
_ZERO = "0" * 40
_OPAQUE = ("trusted.overlay.opaque", "user.overlay.opaque")


# A base checkout's dir → the copy of it this process mounts lanes on instead (a base in
# memory while the disk's is written: racer.overlay._in_memory).
SERVED: dict[Path, Path] = {}


def served(recorded: Path) -> Path:
    """Where this process finds a lane's recorded lower layer (`<base dir>/tree`)."""
    copy = SERVED.get(recorded.parent)
    return copy / recorded.name if copy is not None else recorded


def layers(lane: Path) -> Path:
    """Where a lane's upper and work dirs are: next to the lane, hidden (`.<lane>.overlay`)."""
    return lane.parent / f".{lane.name}{SUFFIX}"


def upper(lane: Path) -> Path:
    return layers(lane) / "upper"


def mounted(lane: Path) -> bool:
    return os.path.ismount(lane)


def is_overlay(lane: Path) -> bool:
    """Whether the lane at this path is an overlay lane (racer.overlay)."""
    return upper(lane).is_dir()


_BATCH = 500  # pathspecs per `git ls-files` (argv stays short)


class _Index:
    """The index's entries at the given paths and under them (path → mode, object): what the
    lane touched, never the whole 50k-entry index."""

    def __init__(self, lane: Path, env: dict[str, str], pathspecs: Iterable[str]) -> None:
        self.entries: dict[str, tuple[str, str]] = {}
        specs = sorted(set(pathspecs))
        literal = {**env, "GIT_LITERAL_PATHSPECS": "1"}
        for start in range(0, len(specs), _BATCH):
            chunk = specs[start : start + _BATCH]
            out = git(["ls-files", "-s", "-z", "--", *chunk], lane, env=literal, lane=True)
            for item in out.stdout.split("\0"):
                if item:
                    meta, _, path = item.partition("\t")
                    mode, sha, _stage = meta.split(" ")
                    self.entries[path] = (mode, sha)
        self.paths = sorted(self.entries)

    def under(self, directory: str) -> list[str]:
        prefix = directory + "/"
        start = bisect.bisect_left(self.paths, prefix)
        end = bisect.bisect_left(self.paths, prefix[:-1] + "0")  # "0" sorts right after "/"
        return self.paths[start:end]


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    """Whether a `checkout._excludes` pathspec (glob at any depth, files or dirs) leaves it out."""
    parts = rel.split("/")
    for pattern in patterns:
        pat = pattern.strip("/").split("/")
        for i in range(len(parts) - len(pat) + 1):
            if all(fnmatch.fnmatchcase(parts[i + k], pat[k]) for k in range(len(pat))):
                return True
    return False


def _is_whiteout(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def _is_opaque(path: str) -> bool:
    for name in _OPAQUE:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


class _Layer:
    """What an upper dir holds: the paths to look at, and the directories new to the index."""

    def __init__(self) -> None:
        self.query: list[str] = []  # files, whiteouts, opaque dirs, dirs that replaced a file
        self.new_dirs: list[str] = []


def _ancestors(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        found.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return found


def _scan(upper: Path, lower: Path, holding: set[str], exclude: Sequence[str]) -> _Layer:
    """Walk the upper dir. A directory is new to the index when the base has none there and
    nothing staged or committed lies under it (`holding`): it is not entered here."""
    layer = _Layer()
    stack = [""]
    while stack:
        sub = stack.pop()
        with os.scandir(upper / sub if sub else upper) as found:
            for entry in found:
                rel = f"{sub}/{entry.name}" if sub else entry.name
                if entry.name == ".git" or _excluded(rel, exclude):
                    continue  # git never adds a .git (a nested repository is not recorded)
                if not entry.is_dir(follow_symlinks=False):
                    layer.query.append(rel)
                    continue
                try:
                    base_dir = stat.S_ISDIR(os.lstat(lower / rel).st_mode)
                except OSError:  # not in the base (or under a file of the base)
                    base_dir = False
                if _is_opaque(entry.path) or not base_dir:
                    layer.query.append(rel)  # whatever the base had there is gone
                if base_dir or rel in holding:
                    stack.append(rel)
                else:
                    layer.new_dirs.append(rel)
    return layer


def _lower(lane: Path) -> Path:
    return served(Path((layers(lane) / "lower").read_text(encoding="utf-8").strip()))


def _staged(lane: Path, against: str, env: dict[str, str], exclude: Sequence[str]) -> list[str]:
    """Paths where the index differs from `against` (staged, or committed by the agent)."""
    out = git(
        ["diff-index", "--cached", "--no-renames", "--name-only", "-z", against, "--"],
        lane,
        env=env,
        lane=True,
    ).stdout
    return [p for p in out.split("\0") if p and not _excluded(p, exclude)]


_MADE = "index-made"  # in a lane's layers dir: the stat of the index racer gave the lane


def _index_stat(lane: Path) -> str:
    info = os.stat(lane / ".git" / "index")
    return f"{info.st_ino} {info.st_size} {info.st_mtime_ns} {info.st_ctime_ns}\n"


def note_index(lane: Path) -> None:
    """Record the mounted lane's index as racer made it (a copy of the base's)."""
    (layers(lane) / _MADE).write_text(_index_stat(lane), encoding="ascii")


def _index_as_made(lane: Path) -> bool:
    """Whether the lane's index is still the base's copy racer gave it: then nothing is staged
    or committed against the base, and no `git diff-index` (a walk of the base's whole tree,
    0.06-0.2 s a lane with 16 at once) is needed. git replaces an index (a new inode) and any
    write in place moves its ctime, which no process can set."""
    try:
        return _index_stat(lane) == (layers(lane) / _MADE).read_text(encoding="ascii")
    except OSError:
        return False


def _touched(
    lane: Path,
    env: dict[str, str],
    exclude: Sequence[str],
    base: str,
    since: str,
    as_made: bool | None = None,
) -> tuple[set[str], list[str], _Index]:
    """(paths to look at in the merged view, directories new to the index to look into, the
    index at those paths). `since`: the commit whose staged differences count as touched;
    `as_made`: `_index_as_made`, when the caller looked before it linked the index."""
    as_made = _index_as_made(lane) if as_made is None else as_made
    moved = [] if as_made else _staged(lane, base, env, exclude)
    staged = moved if since == base else _staged(lane, since, env, exclude)
    layer = _scan(upper(lane), _lower(lane), _ancestors(moved), exclude)
    # A file the lane's commits added and a test run's restore removed is in neither layer nor
    # staged (the index still has it): the paths the index moves from the base cover it.
    index = _Index(lane, env, [*layer.query, *staged, *moved])
    paths = {*layer.query, *staged, *moved}
    for rel in layer.query:
        paths.update(index.under(rel))
    return paths, layer.new_dirs, index


def _not_ignored(lane: Path, rels: Iterable[str], env: dict[str, str]) -> set[str]:
    wanted = sorted(rels)
    if not wanted:
        return set()
    proc = git(
        ["check-ignore", "-z", "--stdin"],
        lane,
        env=env,
        input="\0".join(wanted) + "\0",
        check=False,
        lane=True,
    )
    if proc.returncode not in (0, 1):
        raise GitError(f"git check-ignore failed: {proc.stderr.strip()}")
    ignored = {p for p in proc.stdout.split("\0") if p}
    return {p for p in wanted if p not in ignored}


def _new_files(
    lane: Path, dirs: list[str], env: dict[str, str], exclude: Sequence[str]
) -> set[str]:
    """The files in new directories that git would add: ignored directories are not entered."""
    files: set[str] = set()
    level = _not_ignored(lane, dirs, env)
    while level:
        candidates: list[str] = []
        subdirs: list[str] = []
        for rel in level:
            with os.scandir(lane / rel) as found:
                for entry in found:
                    inner = f"{rel}/{entry.name}"
                    if entry.name == ".git" or _excluded(inner, exclude):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        subdirs.append(inner)
                    else:
                        candidates.append(inner)
        files |= _not_ignored(lane, candidates, env)
        level = _not_ignored(lane, subdirs, env)
    return files


def _hash(
    lane: Path, rels: Sequence[str], env: dict[str, str], write: bool = True
) -> dict[str, str]:
    """Blob ids of regular files, written to the lane's objects, with the repository's
    attributes applied (eol conversion) as `git add` does."""
    if not rels:
        return {}
    out = git(
        ["hash-object", *(["-w"] if write else []), "--stdin-paths"],
        lane,
        env=env,
        input="\n".join(rels) + "\n",
        lane=True,
    )
    return dict(zip(rels, out.stdout.split(), strict=True))


def _link_blob(lane: Path, target: str, env: dict[str, str], write: bool = True) -> str:
    args = ["hash-object", *(["-w"] if write else []), "--no-filters", "--stdin"]
    out = git(args, lane, env=env, input=target, lane=True)
    return out.stdout.strip()


def _index_lines(
    lane: Path, paths: set[str], index: _Index, env: dict[str, str], write: bool = True
) -> list[str]:
    """`update-index --index-info` lines: removals first, then the files as the merged view
    holds them now."""
    removals: list[str] = []
    files: list[tuple[str, str]] = []  # (mode, path)
    links: list[tuple[str, str]] = []  # (target, path)
    for rel in sorted(paths):
        if "\n" in rel:
            raise GitError(f"a file name in the lane holds a newline: {rel!r}")
        try:
            info = os.lstat(lane / rel)
        except (FileNotFoundError, NotADirectoryError):
            info = None
        if info is not None and stat.S_ISREG(info.st_mode):
            files.append(("100755" if info.st_mode & stat.S_IXUSR else "100644", rel))
        elif info is not None and stat.S_ISLNK(info.st_mode):
            links.append((os.readlink(lane / rel), rel))
        elif info is not None and stat.S_ISDIR(info.st_mode):
            if index.entries.get(rel, ("",))[0] == "160000":
                continue  # a submodule's directory: its entry stays
            if rel in index.entries:
                removals.append(rel)
        elif rel in index.entries:
            removals.append(rel)
    blobs = _hash(lane, [rel for _, rel in files], env, write)
    some = next(iter(index.entries.values()), ("", _ZERO))[1]
    zero = "0" * len(some)  # 40 or, in a SHA-256 repository, 64
    lines = [f"0 {zero}\t{rel}" for rel in removals]
    lines += [f"{mode} {blobs[rel]}\t{rel}" for mode, rel in files]
    lines += [f"120000 {_link_blob(lane, target, env, write)}\t{rel}" for target, rel in links]
    return lines


_MANY = 1000  # more touched paths than this: the caller's whole-tree reset is as cheap


def reset(lane: Path, tip: str) -> bool:
    """Put a mounted overlay lane back to exactly `tip` after a test run, as `git reset --hard`
    and `git clean -fd` would (ignored files stay), looking only at the paths its upper layer
    and its index say were touched. False (nothing done) when there are too many of them.
    Nothing is looked at when the layer is as it was when last left at `tip` (`_mark_tidy`)."""
    if _still_tidy(lane, tip):
        return True
    paths, new_dirs, index = _touched(lane, {}, (), base_of(lane), tip)
    if len(paths) + len(new_dirs) > _MANY:
        return False
    if not paths and not new_dirs:
        _mark_tidy(lane, tip)
        return True
    literal = {"GIT_LITERAL_PATHSPECS": "1"}
    listed = git(
        ["ls-tree", "-r", "-z", "--name-only", tip, "--", *sorted(paths)],
        lane,
        env=literal,
        lane=True,
    )
    kept = {p for p in listed.stdout.split("\0") if p}
    wanted = {p for p in paths if p in kept or any(k.startswith(p + "/") for k in kept)}
    gone = sorted(p for p in paths - wanted if p in index.entries)
    if gone:
        git(
            ["rm", "-r", "-q", "-f", "--cached", "--ignore-unmatch", "--", *gone],
            lane,
            env=literal,
            lane=True,
        )
    if wanted:
        git(["checkout", "-f", tip, "--", *sorted(wanted)], lane, env=literal, lane=True)
    stray = sorted((paths - wanted) | set(new_dirs))
    if stray:
        git(["clean", "-fdq", "--", *stray], lane, env=literal, lane=True)
    _mark_tidy(lane, tip)
    return True


# ---- a layer left exactly at a commit ----------------------------------------------------------

_TIDY = "tidy"  # in the lane's layers dir, out of the lane's view
_TIDY_MAX = 5000  # entries of an upper layer worth a fingerprint (a walk of ~10 ms at most)
_SECOND = 1_000_000_000
_COARSE = 5  # CLOCK_REALTIME_COARSE (Linux): the clock the kernel dates files by
_TICKS_AHEAD = 50_000_000  # ns: more than a few clock ticks ahead is a clock set back


def _fingerprint(lane: Path, tip: str, exclude: Sequence[str]) -> tuple[str, int] | None:
    """(a digest of `tip` and of every entry of the lane's upper layer and its index file —
    path, mode, inode, size, mtime, ctime: a write, a rename, a chmod or an xattr changes one —,
    the newest ctime among them: an mtime can be set to anything, a ctime only to now); None
    when the layer holds more than _TIDY_MAX entries or an `exclude`d path (left out of the
    commit: the view is not `tip`'s)."""
    up = upper(lane)
    rows: list[str] = []
    newest = 0
    stack = [""]
    while stack:
        sub = stack.pop()
        try:
            found = os.scandir(up / sub if sub else up)
        except OSError:  # a directory the lane made unreadable: no fingerprint
            return None
        with found:
            for entry in found:
                rel = f"{sub}/{entry.name}" if sub else entry.name
                if rel == ".git":  # the lane's repository: of it, only the index is its state
                    rel = ".git/index"
                    try:
                        info = os.lstat(up / rel)
                    except FileNotFoundError:
                        continue
                else:
                    if _excluded(rel, exclude):
                        return None
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(rel)
                rows.append(
                    f"{rel}\0{info.st_mode}\0{info.st_ino}\0{info.st_size}"
                    f"\0{info.st_mtime_ns}\0{info.st_ctime_ns}"
                )
                newest = max(newest, info.st_ctime_ns)  # what any change sets to now
                if len(rows) > _TIDY_MAX:
                    return None
    digest = hashlib.sha256(tip.encode())
    for row in sorted(rows):
        digest.update(row.encode(errors="surrogateescape") + b"\n")
    return digest.hexdigest(), newest


def _mark_tidy(lane: Path, tip: str, exclude: Sequence[str] = ()) -> None:
    """Record that the lane's view is exactly `tip` now (its commit or reset just made it so),
    so that the next `reset` to `tip` finds nothing to do without running git. A later write
    must show: racer waits for the file system's clock to pass the newest time recorded (a
    tick, a few ms), and marks nothing where times look whole seconds (a coarse file system)."""
    mark = layers(lane) / _TIDY
    try:
        found = _fingerprint(lane, tip, exclude)
        # A time ahead of the clock (set back since) would never be passed: no mark then.
        ahead = found is not None and found[1] - time.clock_gettime_ns(_COARSE) > _TICKS_AHEAD
        if found is None or found[1] % _SECOND == 0 or ahead:
            mark.unlink(missing_ok=True)
            return
        digest, newest = found
        while time.clock_gettime_ns(_COARSE) <= newest:
            time.sleep(0.001)
        mark.write_text(digest, encoding="ascii")
    except OSError:  # a mark is only a shortcut: without one, the next reset looks
        with contextlib.suppress(OSError):
            mark.unlink(missing_ok=True)


def _still_tidy(lane: Path, tip: str) -> bool:
    try:
        mark = (layers(lane) / _TIDY).read_text(encoding="ascii")
        found = _fingerprint(lane, tip, ())
    except OSError:  # no mark, or an entry gone while it was looked at
        return False
    return found is not None and found[0] == mark


def dirty(lane: Path, exclude: Sequence[str] = ()) -> list[str] | None:
    """What `git status` lists for a mounted overlay lane (changed or staged against HEAD,
    untracked and not ignored), found from the paths its layer and index touched; None when
    there are too many to be quicker than `git status`."""
    paths, new_dirs, index = _touched(lane, {}, exclude, base_of(lane), "HEAD")
    if len(paths) + len(new_dirs) > _MANY:
        return None
    head: dict[str, tuple[str, str]] = {}
    if paths:
        listed = git(
            ["ls-tree", "-r", "-z", "HEAD", "--", *sorted(paths)],
            lane,
            env={"GIT_LITERAL_PATHSPECS": "1"},
            lane=True,
        )
        for item in listed.stdout.split("\0"):
            if item:
                meta, _, path = item.partition("\t")
                mode, _kind, sha = meta.split(" ")
                head[path] = (mode, sha)
    known = {p for p in paths if p in index.entries or p in head}
    there = {p for p in paths - known if os.path.lexists(lane / p) and not (lane / p).is_dir()}
    found = _not_ignored(lane, there, {}) | _new_files(lane, new_dirs, {}, exclude)
    now: dict[str, tuple[str, str] | None] = {p: index.entries.get(p) for p in known}
    for line in _index_lines(lane, known, index, {}, write=False):
        meta, _, path = line.partition("\t")
        mode, sha = meta.split(" ")
        now[path] = None if mode == "0" else (mode, sha)
    for path in known:
        if not now[path] == index.entries.get(path) == head.get(path):
            found.add(path)
    return sorted(found)


def base_of(lane: Path) -> str:
    """The commit of the base checkout the lane stands on (`.racer-base/<commit>/tree`)."""
    return Path((layers(lane) / "lower").read_text(encoding="utf-8").strip()).parent.name


def commit(lane: Path, message: str, exclude: Sequence[str] = ()) -> str:
    """Commit the lane's change set on its HEAD (nothing when its tree is HEAD's); returns HEAD.
    The lane must be mounted (racer is in the namespace) and sealed."""
    if not os.path.ismount(lane):
        raise GitError(f"the overlay lane {lane} is not mounted in this racer — nothing to commit")
    base = base_of(lane)
    git_dir = lane / ".git"
    index_file = git_dir / "index"
    # The lane's own index is updated in place (racer's git never gets GIT_INDEX_FILE through:
    # racer.proc strips it from every child), with the old one to put back if anything fails:
    # a second link to it (git writes an index anew and renames it over, never in place).
    backup = git_dir / f"racer-index-{secrets.token_hex(4)}"
    as_made = _index_as_made(lane)  # before the backup's link moves the index's ctime
    if index_file.is_file() and not index_file.is_symlink():
        try:
            os.link(index_file, backup)
        except OSError:
            shutil.copyfile(index_file, backup)
    env = dict(RACER_IDENTITY)
    try:
        if not backup.exists():
            index_file.unlink(missing_ok=True)
            git(["read-tree", "HEAD"], lane, lane=True)
        paths, new_dirs, index = _touched(lane, env, exclude, base, base, as_made)
        known = {p for p in paths if p in index.entries}
        paths = known | _not_ignored(lane, paths - known, env)
        paths |= _new_files(lane, new_dirs, env, exclude)
        lines = _index_lines(lane, paths, index, env)
        if lines:
            git(
                ["update-index", "-z", "--index-info"],
                lane,
                env=env,
                input="\0".join(lines) + "\0",
                lane=True,
            )
        tree = git(["write-tree"], lane, env=env, lane=True).stdout.strip()
        head = git(["rev-parse", "HEAD", "HEAD^{tree}"], lane, lane=True).stdout.split()
        tip = head[0]
        if tree != head[1]:
            tip = git(
                ["commit-tree", tree, "-p", tip, "-m", message], lane, env=env, lane=True
            ).stdout.strip()
            git(["update-ref", "-m", f"commit: {message}", "HEAD", tip], lane, lane=True)
    except BaseException:
        if backup.exists():
            os.replace(backup, index_file)
        raise
    finally:
        backup.unlink(missing_ok=True)
    _mark_tidy(lane, tip, exclude)  # once the backup's link is gone (it changes the ctime)
    return tip
