"""Spare lane checkouts kept between races, so that a lane starts on files already there.

Checking out a 50k-file repository costs seconds, and N lanes cost N checkouts (N/2 of the wall
time on 2 cores). Bringing a checkout that is already on disk to another commit rewrites only the
files that differ. So when a lane is removed (`racer merge`, `racer clean`, the baseline at the
end of a race) and the pool has room (config key `pool`), its directory is renamed into
`<worktree_root>/.racer-pool/` instead of being deleted; the next race takes it (`claim`, an
atomic rename) and `renew`s it:

- a fresh `.git`: nothing of the previous agent's config, hooks, refs or objects survives, only
  the index, whose file stamps let git skip every file that did not change;
- `git reset --hard` to the new base and `git clean -ffdx`: the files are exactly the base
  commit's, and nothing untracked or ignored is left (copied files and `share` dirs are provided
  again afterwards).

Whatever goes wrong while renewing (say the old agent left a directory it cannot read), the
entry is discarded and the lane gets a fresh checkout. `racer pool` shows, fills and clears it.
"""

from __future__ import annotations

import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from racer import checkout, overlay, upper
from racer.agents import STATE_FILES
from racer.errors import DiskFull, GitError
from racer.git import CHECKOUT_WORKERS, git

POOL = ".racer-pool"
_OLD_GIT = ".racer-old-git"


def pool_dir(worktree_root: Path) -> Path:
    return worktree_root / POOL


def entries(worktree_root: Path) -> list[Path]:
    """Spare checkouts ready to be claimed (entries being filled start with a dot)."""
    try:
        found = [p for p in pool_dir(worktree_root).iterdir() if not p.name.startswith(".")]
    except OSError:
        return []
    return sorted(p for p in found if p.is_dir() and not p.is_symlink())


def offer(path: Path, worktree_root: Path, size: int, *, agent_ran: bool = True) -> bool:
    """Move a removed lane's checkout into the pool if there is room; True when it moved.
    `agent_ran` False (the baseline, a lane whose agent never started): no agent work can be
    left uncommitted there, so its untracked files (test artefacts) are not looked for."""
    if size <= 0 or not checkout.is_lane_repo(path) or (path / ".git").is_symlink():
        return False
    if len(entries(worktree_root)) >= size or (agent_ran and _holds_untracked(path)):
        return False
    target = pool_dir(worktree_root) / secrets.token_hex(6)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    except OSError:
        return False
    return True


def _holds_untracked(path: Path) -> bool:
    """True when files git does not track (nor ignore) are in the checkout: work a lane never
    committed (its commit failed, say on a full disk). Such a lane is deleted, not kept as a
    spare, so that removing it gives the space back; so is one racer cannot check."""
    try:
        checkout.seal(path)
        return bool(checkout.untracked_files(path, STATE_FILES))
    except (GitError, DiskFull, OSError):
        return True


def claim(worktree_root: Path, path: Path) -> bool:
    """Move one spare checkout to `path` (which must not exist); False when none was left.

    The rename is atomic, so two racers never get the same entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for entry in entries(worktree_root):
        try:
            entry.rename(path)
        except FileNotFoundError:  # another racer took it first
            continue
        except OSError:
            return False  # `path` exists, or another file system: check out afresh
        return True
    return False


def renew(common_dir: Path, path: Path, branch: str, commit: str) -> None:
    """Make a claimed checkout a new lane: a fresh repository on `branch` at `commit`, files
    exactly the commit's. Raises GitError or OSError when it cannot."""
    old = path / _OLD_GIT
    if (path / ".git").is_symlink():  # racer follows no link out of a lane (say, to your .git)
        raise OSError(f"{path / '.git'} is a symbolic link")
    (path / ".git").rename(old)
    checkout.init_lane_repo(common_dir, path, branch, commit)
    index = old / "index"
    if index.is_file() and not index.is_symlink():
        index.rename(path / ".git" / "index")
    shutil.rmtree(old)
    git([*CHECKOUT_WORKERS, "reset", "--hard", "--quiet"], path, lane=True)
    git(["clean", "-ffdxq"], path, lane=True)


def check_out(
    common_dir: Path,
    worktree_root: Path,
    path: Path,
    branch: str,
    commit: str,
    *,
    overlay_lane: bool = False,
    memory: bool = False,
) -> bool:
    """A lane checkout at `path`: with `overlay_lane`, an overlay on the base checkout
    (racer.overlay); else a renewed spare if the pool has one, else a fresh checkout.
    True when it came from the pool. `memory`: an overlay base not on disk yet may stand in
    memory for this racer (config key `base_in_memory`, racer.overlay.ensure_base)."""
    if overlay_lane:
        overlay.check_out(common_dir, worktree_root, path, branch, commit, memory)
        return False
    if claim(worktree_root, path):
        try:
            renew(common_dir, path, branch, commit)
        except (GitError, OSError):
            checkout.discard(path)
        else:
            return True
    checkout.create_lane_repo(common_dir, path, branch, commit)
    checkout.populate_worktree(path)
    return False


def fill(common_dir: Path, worktree_root: Path, commit: str, count: int, jobs: int) -> int:
    """Add spare checkouts of `commit` until the pool holds `count`; returns how many were made."""
    missing = max(0, count - len(entries(worktree_root)))
    if not missing:
        return 0
    where = pool_dir(worktree_root)
    where.mkdir(parents=True, exist_ok=True)

    def make_one(_: int) -> None:
        token = secrets.token_hex(6)
        tmp = where / f".filling-{token}"
        try:
            checkout.create_lane_repo(common_dir, tmp, "racer-pool", commit)
            checkout.populate_worktree(tmp)
            tmp.rename(where / token)
        except BaseException:
            checkout.discard(tmp)
            raise

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        list(ex.map(make_one, range(missing)))
    return missing


def overlays_wanted(mode: str, worktree_root: Path) -> bool:
    """Whether lanes under `worktree_root` would be overlays (config key `lanes`): then a spare
    is one base checkout per commit (racer.overlay), not a checkout per lane."""
    return mode != "checkout" and overlay.unavailable(worktree_root.resolve()) is None


def fill_base(common_dir: Path, worktree_root: Path, commit: str) -> Path:
    """The base checkout overlay lanes of `commit` stand on, made now if it is not there."""
    return overlay.ensure_base(common_dir, worktree_root, commit)


def bases(worktree_root: Path) -> list[Path]:
    """The base checkouts kept for overlay lanes."""
    try:
        found = (worktree_root / overlay.BASES).iterdir()
        return sorted(p for p in found if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def clear(worktree_root: Path) -> int:
    """Discard every spare checkout (and any a killed `fill` left half made) and every base
    checkout no overlay lane stands on; returns the count."""
    dropped = overlay.prune_bases(worktree_root, 0)
    try:
        found = [p for p in pool_dir(worktree_root).iterdir() if p.is_dir()]
    except OSError:
        return dropped
    for entry in found:
        checkout.discard(entry)
    return len(found) + dropped


def release(root: Path, path: Path, size: int = 0, *, agent_ran: bool = True) -> None:
    """Remove a lane's checkout: a lane repository, or a `git worktree` of races made before
    lanes had repositories of their own.

    With `size` > 0, a lane repository goes to the pool while it holds fewer than `size`;
    otherwise it is discarded (gone at once, deleted in the background). Lanes live at
    <worktree_root>/<race>/<lane>.
    """
    if upper.is_overlay(path):  # nothing to keep: a new overlay lane costs a mkdir
        overlay.release(path)
        return
    if path.exists() and not checkout.is_lane_repo(path):
        git(["worktree", "remove", "--force", str(path)], root, check=False)
        git(["worktree", "prune"], root, check=False)
    if path.is_symlink():
        path.unlink()
    elif path.exists() and not offer(path, path.parent.parent, size, agent_ran=agent_ran):
        checkout.discard(path)
