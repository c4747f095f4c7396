"""Reading the user's repository: where it is, its HEAD and branch, refs, and where its lane
checkouts go by default.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from racer.errors import GitError
from racer.git import git

if TYPE_CHECKING:
    import git as gitpython


@dataclass(frozen=True)
class RepoInfo:
    root: Path  # the main working tree
    common_dir: Path  # the shared .git directory
    head: str  # commit sha
    branch: str | None  # None when HEAD is detached


def open_repo(path: Path) -> RepoInfo:
    """The repository containing `path`, with a born HEAD."""
    found = _rev_parse(path)
    return found if found is not None else _open_with_gitpython(path)


def _rev_parse(path: Path) -> RepoInfo | None:
    """The usual case in one `git rev-parse`: a working tree with a born HEAD. None for anything
    else (not a repository, bare, no commits, inside .git, no git), which GitPython then reads
    and explains: importing it costs more than the whole of `racer show`'s other work."""
    args = ["rev-parse", "--show-toplevel", "--git-common-dir", "HEAD"]
    try:
        out = git([*args, "--symbolic-full-name", "HEAD"], path, check=False)
    except GitError:
        return None
    lines = out.stdout.splitlines()
    if out.returncode != 0 or len(lines) != 4 or not lines[0]:
        return None
    root, common, head, ref = lines
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    return RepoInfo(Path(root).resolve(), (path / common).resolve(), head, branch)


def _open_with_gitpython(path: Path) -> RepoInfo:
    import git as gitpython

    try:
        repo = gitpython.Repo(path, search_parent_directories=True)
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
        raise GitError(
            f"not a git repository: {path} — run racer inside a git repo (or `git init` one)"
        ) from None
    with repo:  # closing it ends the `git cat-file` helpers GitPython starts to read objects
        return _info(repo, path)


def _info(repo: gitpython.Repo, path: Path) -> RepoInfo:
    if repo.bare or repo.working_tree_dir is None:
        raise GitError(
            f"{path} is a bare repository — run racer in a repository with a working tree"
        )
    root = Path(repo.working_tree_dir).resolve()
    if not repo.head.is_valid():
        raise GitError(
            f"the repository at {root} has no commits yet — commit your project first, then race"
        )
    common = Path(git(["rev-parse", "--git-common-dir"], root).stdout.strip())
    if not common.is_absolute():
        common = (root / common).resolve()
    branch = None if repo.head.is_detached else repo.active_branch.name
    return RepoInfo(root=root, common_dir=common, head=repo.head.commit.hexsha, branch=branch)


def resolve_commit(root: Path, ref: str) -> str:
    # A leading '-' would be one of rev-parse's own options (echoed back as if a name).
    proc = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root, check=False)
    if ref.startswith("-") or proc.returncode != 0:
        raise GitError(
            f"unknown base ref {ref!r} — pass a branch, tag or commit that exists (see `git log`)"
        )
    return proc.stdout.strip()


def branch_tip(root: Path, branch: str) -> str | None:
    proc = git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], root, check=False)
    return proc.stdout.strip() or None


def delete_branch(root: Path, branch: str) -> None:
    git(["branch", "-D", "--quiet", branch], root, check=False)


def is_inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def default_worktree_root(repo: RepoInfo) -> Path:
    """Outside the working tree: $XDG_DATA_HOME/racer/worktrees/<repo>-<hash>."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    digest = hashlib.sha1(str(repo.root).encode()).hexdigest()[:8]
    return base / "racer" / "worktrees" / f"{repo.root.name}-{digest}"


CHANGED_SINCE = "changed while racer ran"


def checkout_snapshot(root: Path, since_ns: int | None = None) -> dict[str, str]:
    """The main checkout's uncommitted state: each changed or untracked path with its size and
    modification time ("-" when deleted). Ignored files are not looked at; nothing is read.
    With `since_ns` (a snapshot taken while the race starts), a path modified from then on
    (or deleted from a directory modified since) is CHANGED_SINCE: no later snapshot matches."""
    out = git(["status", "--porcelain", "-z", "--untracked-files=all"], root, check=False).stdout
    snap: dict[str, str] = {}
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":
            i += 1  # the source path of a rename follows
        rel = entry[3:]
        try:
            st = (root / rel).lstat()
        except OSError:
            snap[rel] = "-" if not _since(root / rel, since_ns, parent=True) else CHANGED_SINCE
        else:
            late = since_ns is not None and st.st_mtime_ns >= since_ns
            snap[rel] = CHANGED_SINCE if late else f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    return snap


def _since(path: Path, since_ns: int | None, parent: bool = False) -> bool:
    """Whether `path` (its directory, with `parent`) was modified at or after `since_ns`."""
    if since_ns is None:
        return False
    try:
        return (path.parent if parent else path).lstat().st_mtime_ns >= since_ns
    except OSError:
        return True  # the directory went too


def snapshot_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
