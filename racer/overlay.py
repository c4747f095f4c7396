"""Overlay lanes (Linux): a lane is a writable layer over one shared checkout of the base commit.

A checkout of a 50k-file repository creates 50k files; an overlay lane creates a few
directories. The base commit is checked out once (`<worktree_root>/.racer-base/<commit>/tree`,
with its index beside it) and kept for the next race of the same base; each lane is an upper
and a work dir (`<race dir>/.<lane>.overlay/`), and its own `.git` lives in its upper dir. The
merged view is mounted at the lane's usual path — but only inside racer's own private mount
namespace, which racer enters before it starts any thread (`attach`): racer and every process it
starts (setup, agent, git, tests, cross-checks, the sandbox's bwrap) see the lane there, nobody
else does, and when the last of them exits the kernel drops the mounts. A SIGKILLed racer leaves
no mount behind; the upper dirs stay on disk, and `racer resume` mounts them again.

As root the namespace is a plain mount namespace; otherwise a user namespace too (kernel ≥ 5.11
mounts overlayfs there). `unavailable` says why a lane cannot be an overlay (not Linux, no
namespace, a file system overlayfs refuses as its upper layer, racer already running threads),
and the lanes are then checkouts as before (racer.pool). Config key `lanes`: auto | overlay |
checkout.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import functools
import os
import re
import secrets
import shutil
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from racer import basemem, checkout, upper
from racer.errors import ConfigError, GitError
from racer.git import git
from racer.proc import spawn_detached
from racer.store import lock_held
from racer.upper import SUFFIX, layers

MODES = ("auto", "overlay", "checkout")
BASES = ".racer-base"

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_REC = 0x4000
_MS_SLAVE = 0x80000
_MNT_DETACH = 2
_OPTIONS = "redirect_dir=off,metacopy=off,index=off"
_UNSAFE = (",", ":", "\\", "\n")  # characters overlayfs options cannot carry unescaped

_state: dict[str, bool] = {}  # "entered", "user": this process's namespace
_lock = threading.Lock()


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _fail(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


def base_dir(worktree_root: Path, commit: str) -> Path:
    return worktree_root / BASES / commit


# ---- the namespace ---------------------------------------------------------------------------


def enter() -> None:
    """Move this process into a mount namespace of its own (and, not as root, a user namespace
    mapping your ids to themselves). Only while racer runs one thread: threads started later
    share it. Mounts made here never reach the rest of the system."""
    if _state.get("entered"):
        return
    if not sys.platform.startswith("linux"):
        raise OSError("overlay lanes need Linux")
    if threading.active_count() > 1:
        raise OSError("racer already runs threads, and a namespace must come first")
    libc = _libc()
    user = os.geteuid() != 0
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(_CLONE_NEWNS | (_CLONE_NEWUSER if user else 0)) != 0:
        raise _fail("unshare")
    if user:
        Path("/proc/self/setgroups").write_text("deny", encoding="ascii")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1", encoding="ascii")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1", encoding="ascii")
    # Slave: your mounts still appear here, ours never propagate out.
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_SLAVE, None) != 0:
        raise _fail("mount --make-rslave /")
    _state.update(entered=True, user=user)
    atexit.register(_hand_over)


def _hand_over() -> None:
    """At racer's exit, a detached process stays in the namespace a moment: the kernel drops
    the lanes' mounts when the last process in it exits, and overlayfs then syncs the upper
    file system once per mount (seconds for 16 lanes on a busy disk) — in that process's exit,
    which nobody waits for, instead of racer's."""
    with contextlib.suppress(OSError):
        spawn_detached(["sleep", "2"])


def probe(where: str) -> None:
    """Mount an overlay in `where` (this process's namespace), delete a lower file through it
    and make a directory: what a lane does. Raises OSError when overlayfs refuses."""
    dirs = [os.path.join(where, d) for d in ("lower", "upper", "work", "merged")]
    for d in dirs:
        os.mkdir(d)
    Path(dirs[0], "f").write_text("x", encoding="ascii")
    # Volatile where the kernel knows it (5.10): unmounting an overlay syncs its upper file
    # system, a second or more on a busy disk, and nothing of the probe needs to last.
    lower, up, work, merged = dirs
    try:
        mount_layers(lower, up, work, merged, volatile=True)
    except OSError:
        mount_layers(lower, up, work, merged)
    try:
        os.unlink(os.path.join(dirs[3], "f"))
        os.mkdir(os.path.join(dirs[3], "d"))
    finally:
        unmount(Path(dirs[3]))


@functools.cache
def unavailable(worktree_root: Path) -> str | None:
    """Why lanes under `worktree_root` cannot be overlays here (None: they can). Probed once, on
    that file system, in this process's own namespace (entered now: racer's lanes need it)."""
    if not sys.platform.startswith("linux"):
        return "overlay lanes need Linux"
    if any(c in str(worktree_root) for c in _UNSAFE):
        return f"worktree_root {worktree_root} holds a character overlayfs options cannot carry"
    if not _state.get("entered") and threading.active_count() > 1:
        return "racer runs inside a process that already started threads (say, the MCP server)"
    worktree_root.mkdir(parents=True, exist_ok=True)
    where = Path(_mkdtemp(worktree_root))
    try:
        enter()
        probe(str(where))
    except OSError as exc:
        return f"overlayfs cannot be mounted here ({exc.strerror or exc})"
    finally:
        _open_work(where)
        shutil.rmtree(where, ignore_errors=True)
    return None


def _open_work(where: Path) -> None:
    """overlayfs leaves `work/work` with mode 000: not as root, nothing could delete it."""
    for work in (where / "work" / "work", *where.glob("share/*/work/work")):
        with contextlib.suppress(OSError):
            work.chmod(0o700)


def _mkdtemp(parent: Path) -> str:
    path = parent / f".racer-probe-{secrets.token_hex(4)}"
    path.mkdir()
    return str(path)


def wanted(mode: str, worktree_root: Path) -> tuple[bool, str | None]:
    """(lanes are overlays, why not when `mode` asked for them or auto fell back)."""
    if mode not in MODES:
        raise ConfigError(f"unknown lanes mode {mode!r} — use one of {', '.join(MODES)}")
    if mode == "checkout":
        return False, None
    why = unavailable(worktree_root.resolve())
    if why is None:
        try:
            enter()
        except OSError as exc:
            why = f"no mount namespace for racer ({exc})"
    if why is not None and mode == "overlay":
        raise ConfigError(f"lanes = overlay, but {why} — set lanes = auto or checkout")
    return why is None, why


def mount_layers(lower: str, up: str, work: str, target: str, volatile: bool = False) -> None:
    # Not as root: trusted.* xattrs are out of reach, and redirect_dir=off is refused with
    # userxattr (which creates no redirects anyway).
    extra = "userxattr,metacopy=off,index=off" if _state.get("user") else _OPTIONS
    extra += ",volatile" if volatile else ""
    opts = f"lowerdir={lower},upperdir={up},workdir={work},{extra}"
    if _libc().mount(b"overlay", target.encode(), b"overlay", 0, opts.encode()) != 0:
        raise _fail(f"mount overlay on {target}")


def mounted(path: Path) -> bool:
    return os.path.ismount(path)


def mount(lane: Path, common_dir: Path | None = None) -> None:
    """Mount a lane's merged view at its path (in racer's namespace), if not there yet, and
    its shared dependency dirs on top (`share`). `common_dir`: your repository's, to check
    the base out again should it be gone (`_make_again`)."""
    if mounted(lane):
        return
    where = layers(lane)
    recorded = Path((where / "lower").read_text(encoding="utf-8").strip())
    lower = upper.served(recorded)
    if lower == recorded and not lower.is_dir():
        _make_again(recorded, common_dir)
    for d in ("upper", "work"):
        (where / d).mkdir(exist_ok=True)
    lane.mkdir(parents=True, exist_ok=True)
    mount_layers(str(lower), str(where / "upper"), str(where / "work"), str(lane))
    for n, (rel, src) in enumerate(_shares(lane)):
        _mount_share(lane, n, rel, src)


def _make_again(recorded: Path, common_dir: Path | None) -> None:
    """A lane's base checkout is gone (racer was killed while it wrote it to the disk behind
    a base in memory, or someone deleted it): check it out again from your repository (never
    from what a lane's .git names). Its layer holds the same change over the same files."""
    commit = recorded.parent.name
    if (
        common_dir is None
        or recorded.name != "tree"
        or not re.fullmatch(r"[0-9a-f]{40,64}", commit)
    ):
        raise GitError(
            f"the base checkout {recorded.parent} is gone — `racer pool --fill` makes it"
        )
    ensure_base(common_dir, recorded.parent.parent.parent, commit)


def _shares(lane: Path) -> list[tuple[str, str]]:
    try:
        text = (layers(lane) / "shares").read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [(rel, src) for rel, _, src in (line.partition("\t") for line in text.splitlines())]


def _mount_share(lane: Path, n: int, rel: str, src: str) -> None:
    where = layers(lane) / "share" / str(n)
    for d in ("upper", "work"):
        (where / d).mkdir(parents=True, exist_ok=True)
    (lane / rel).mkdir(parents=True, exist_ok=True)
    mount_layers(src, str(where / "upper"), str(where / "work"), str(lane / rel))


def can_share(src_root: Path, rel: str) -> bool:
    """Whether `share` entry `rel` can be a layer of its own over your directory (else
    racer.provision copies or links it as for a checkout lane)."""
    src = src_root / rel
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or ".." in parts or not src.is_dir():
        return False
    return not any(c in str(src.resolve()) for c in _UNSAFE)


def share(src_root: Path, lane: Path, rel: str) -> None:
    """Your dependency dir `src_root/rel` at `lane/rel` as a read-only layer with a writable
    layer of the lane's own on top: nothing is copied, and whatever the lane writes there stays
    in its layer, never in your files."""
    src = str((src_root / rel).resolve())
    known = _shares(lane)
    if (lane / rel).exists() or any(r == rel for r, _ in known):
        raise GitError(f"{lane / rel} already exists — racer will not replace it")
    _mount_share(lane, len(known), rel, src)
    with (layers(lane) / "shares").open("a", encoding="utf-8") as out:
        out.write(f"{rel}\t{src}\n")


def unmount(lane: Path) -> None:
    if mounted(lane) and _libc().umount2(str(lane).encode(), _MNT_DETACH) != 0:
        raise _fail(f"umount {lane}")


def attach(race_dirs: Iterable[Path], common_dir: Path | None = None) -> int:
    """Enter racer's namespace and mount every overlay lane found in these race dirs (the
    lanes' parent: a later racer command — resume, merge, clean); returns how many. Nothing at
    all when there are none."""
    found = sorted(up for d in set(race_dirs) for up in d.glob(f".*{SUFFIX}/upper"))
    if not found:
        return 0
    enter()
    for up in found:
        where = up.parent
        lane = where.parent / where.name[1 : -len(SUFFIX)]
        mount(lane, common_dir)
    return len(found)


# ---- the base checkout and the lanes ---------------------------------------------------------


def ensure_base(common_dir: Path, worktree_root: Path, commit: str, memory: bool = False) -> Path:
    """The shared read-only checkout of `commit` that lanes stand on (made once; lanes and
    baseline share it); returns the dir to mount them on. With `memory`, when there is none on
    disk yet: a copy in memory (racer.basemem); the disk's is written once racer exits."""
    final = base_dir(worktree_root, commit)
    with _lock:
        copy = upper.SERVED.get(final)
        if copy is not None:
            return copy
        if (final / "tree").is_dir() and (final / "index").is_file():
            os.utime(final)  # most recently used: kept longest
            return final
        if memory and _state.get("entered"):
            copy = basemem.make(common_dir, final, commit, _check_out_base)
            if copy is not None:
                return copy
        with _claimed(final):  # a racer's filler (racer.basefill) may be writing it: wait
            if not (final / "tree").is_dir():
                _fill(common_dir, final, commit)
    return final


@contextlib.contextmanager
def _claimed(final: Path) -> Iterator[None]:
    """An exclusive lock on writing base checkout `final` (a flock, released when its holder
    ends, killed or not): one writer at a time, and the others find it written."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(final.parent / f".{final.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


_FILLING = ".filling-"  # + commit + "-" + token: a base checkout being written


def _fill(common_dir: Path, final: Path, commit: str) -> None:
    """Check `commit` out to `final` on the disk (into a dot dir, renamed when complete). The
    caller holds `_claimed(final)`, which tells `prune_bases` that dot dir is being written."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f"{_FILLING}{commit}-{secrets.token_hex(6)}"
    try:
        _check_out_base(common_dir, tmp, commit)
        try:
            tmp.rename(final)
        except OSError:  # another racer made it first
            if not (final / "tree").is_dir():
                raise
            checkout.discard(tmp)
    except BaseException:
        if tmp.exists():
            checkout.discard(tmp)
        raise


def _check_out_base(common_dir: Path, into: Path, commit: str) -> None:
    """`into/tree`: the files of `commit`, no .git; `into/index`: git's index of them."""
    tree = into / "tree"
    checkout.create_lane_repo(common_dir, tree, "racer-base", commit)
    checkout.populate_worktree(tree)
    index = tree / ".git" / "index"
    later = _date_past_its_files(index)
    # The cache tree in the index: each lane's commit then hashes only the trees it changed.
    git(["write-tree"], tree, lane=True)
    _date_past_its_files(index, later)  # write-tree may have written it anew
    index.rename(into / "index")
    shutil.rmtree(tree / ".git")


def _date_past_its_files(index: Path, later: int | None = None) -> int:
    """Date the index one second after the second it was written in. git counts a file whose
    mtime is not older than its index's as "racily clean" and reads it again whenever that
    index is written: a fresh checkout's files share the index's second, and on a 50k-file base
    that was 26k files read per lane commit (1-3 s each with 16 lanes). Every file of the base
    was written before its index and nothing writes the base after, so the later date is true
    of them all, and a lane gets it with its copy (`copy_index`). A lane's changes are found
    from its upper layer, never from git's stat of a file. `later`: the date given before the
    index was written again (kept unless the new one is later still). Returns the date."""
    written = index.stat().st_mtime_ns
    if later is None:
        later = (written // 1_000_000_000 + 1) * 1_000_000_000
    if written < later:
        os.utime(index, ns=(later, later))
    return max(written, later)


def copy_index(base: Path, lane_git_dir: Path) -> None:
    """The base checkout's index into a lane's .git, with its date (`_date_past_its_files`)."""
    source = base / "index"
    target = lane_git_dir / "index"
    shutil.copyfile(source, target)
    stamp = source.stat().st_mtime_ns
    os.utime(target, ns=(stamp, stamp))


def check_out(
    common_dir: Path,
    worktree_root: Path,
    lane: Path,
    branch: str,
    commit: str,
    memory: bool = False,
) -> None:
    """An overlay lane at `lane` on `commit`: its own repository in the upper dir (the base's
    index copied in, so git in the lane sees every file unchanged without reading it). With
    `memory`, a base not yet on disk may stand in memory for this racer (`ensure_base`)."""
    base = ensure_base(common_dir, worktree_root, commit, memory)
    where = layers(lane)
    if where.exists() or (lane.exists() and any(lane.iterdir())):
        raise GitError(f"{lane} already exists — remove it or pick another race")
    up = where / "upper"
    up.mkdir(parents=True)
    (where / "work").mkdir()
    # The disk's path, whichever copy this racer mounts (upper.served).
    (where / "lower").write_text(f"{base_dir(worktree_root, commit) / 'tree'}\n", encoding="utf-8")
    checkout.init_lane_repo(common_dir, up, branch, commit)
    copy_index(base, up / ".git")
    mount(lane)
    upper.note_index(lane)


def release(lane: Path) -> None:
    """Remove an overlay lane: the mount, the mount point and its layers."""
    if mounted(lane):
        # A detached process in the lane holds the mount a moment, so the (lazy) unmount
        # returns at once: overlayfs's sync of the upper file system (seconds on a busy disk)
        # happens when that process exits, not while racer waits.
        with contextlib.suppress(OSError):
            spawn_detached(["sleep", "2"], cwd=lane)
    unmount(lane)
    if lane.is_dir() and not lane.is_symlink() and not any(lane.iterdir()):
        lane.rmdir()
    elif lane.exists() or lane.is_symlink():
        checkout.discard(lane)
    if layers(lane).exists():
        _open_work(layers(lane))
        checkout.discard(layers(lane))


def in_use(worktree_root: Path) -> set[str]:
    """The base checkouts some lane on disk still stands on."""
    used = set()
    for lower in worktree_root.glob(f"*/.*{SUFFIX}/lower"):
        try:
            used.add(Path(lower.read_text(encoding="utf-8").strip()).parent.name)
        except OSError:
            continue
    return used


def prune_bases(worktree_root: Path, keep: int) -> int:
    """Drop base checkouts no lane stands on, beyond the `keep` most recently used; returns how
    many went. (The pool's rule: `pool` = 0 keeps none.)"""
    try:
        found = [p for p in (worktree_root / BASES).iterdir() if p.is_dir()]
    except OSError:
        return 0
    used = in_use(worktree_root)
    idle = sorted(
        (p for p in found if p.name not in used), key=lambda p: p.stat().st_mtime, reverse=True
    )
    # Half-made ones (a killed racer's) go only with keep 0 (`racer pool --clear`, a race's end
    # with `pool` = 0), and never one a live process is writing (its lock is held: a racer, or
    # the racer.basefill a racer left behind).
    drop = [p for p in idle if p.name.startswith(".") and keep <= 0 and not _being_written(p)]
    drop += [p for p in idle if not p.name.startswith(".")][max(0, keep) :]
    for path in drop:
        checkout.discard(path)
        if not path.name.startswith("."):
            _drop_lock(path)
    return len(drop)


def _being_written(half_made: Path) -> bool:
    commit = half_made.name.removeprefix(_FILLING).partition("-")[0]
    return half_made.name.startswith(_FILLING) and lock_held(half_made.parent / f".{commit}.lock")


def _drop_lock(final: Path) -> None:
    """The lock file of a dropped base, unless someone holds it (then it stays)."""
    lock = final.parent / f".{final.name}.lock"
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.unlink()
    except OSError:
        pass
    finally:
        os.close(fd)
