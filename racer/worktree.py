"""Lane checkouts and branches, plus the small git plumbing racer needs.

Each lane is a repository of its own (`create_lane_repo`): it borrows the main repository's
objects read-only through `objects/info/alternates` and holds exactly one branch. A contestant's
`git log --all`, `git worktree list`, refs and reflogs show only its own lane; lane branches reach
the main repository (`collect_lane`) only after every agent has stopped.

Every git call goes through `git()`, which scrubs GIT_DIR & co. from the environment.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import git as gitpython

from racer.errors import GitError
from racer.proc import child_env

# Lane commits are racer's, made on an agent's behalf; they must not depend on the user's identity.
RACER_IDENTITY = {
    "GIT_AUTHOR_NAME": "racer",
    "GIT_AUTHOR_EMAIL": "racer@localhost",
    "GIT_COMMITTER_NAME": "racer",
    "GIT_COMMITTER_EMAIL": "racer@localhost",
}


@dataclass(frozen=True)
class RepoInfo:
    root: Path  # the main working tree
    common_dir: Path  # the shared .git directory
    head: str  # commit sha
    branch: str | None  # None when HEAD is detached


def git(
    args: Sequence[str],
    cwd: Path,
    *,
    check: bool = True,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = child_env(os.environ, {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})})
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        errors="replace",  # file contents and names need not be UTF-8
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise GitError(
            f"git {args[0]} failed: {detail[-1] if detail else 'exit ' + str(proc.returncode)}"
        )
    return proc


def open_repo(path: Path) -> RepoInfo:
    """The repository containing `path`, with a born HEAD."""
    try:
        repo = gitpython.Repo(path, search_parent_directories=True)
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
        raise GitError(
            f"not a git repository: {path} — run racer inside a git repo (or `git init` one)"
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise GitError(
            f"{path} is a bare repository — run racer in a repository with a working tree"
        )
    root = Path(repo.working_tree_dir).resolve()
    if not repo.head.is_valid():
        raise GitError(
            f"the repository at {root} has no commits yet — commit your project first, then race"
        )
    common = Path(repo.git.rev_parse("--git-common-dir"))
    if not common.is_absolute():
        common = (root / common).resolve()
    branch = None if repo.head.is_detached else repo.active_branch.name
    return RepoInfo(root=root, common_dir=common, head=repo.head.commit.hexsha, branch=branch)


def resolve_commit(root: Path, ref: str) -> str:
    proc = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root, check=False)
    if proc.returncode != 0:
        raise GitError(
            f"unknown base ref {ref!r} — pass a branch, tag or commit that exists (see `git log`)"
        )
    return proc.stdout.strip()


def slug(name: str) -> str:
    """A lane name made safe for a ref component and a directory name."""
    text = re.sub(r"[^A-Za-z0-9._@+-]+", "-", name).strip("-.")
    text = text.replace("@{", "@-").replace("..", ".")
    return text or "lane"


def is_inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


# racer's own git commands in a lane repository ignore what an agent may have put in its config:
# no hooks, no fsmonitor command, no signing (an agent must not run code after it has stopped).
LANE_SAFE = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "commit.gpgSign=false",
)


def create_lane_repo(common_dir: Path, path: Path, branch: str, commit: str) -> None:
    """A repository of its own at `path` with one branch at `commit`, files not yet checked out.

    Objects come from the main repository through alternates (read-only, nothing copied); the
    user's `info/exclude` comes along so ignored files stay ignored. Lanes are independent, so
    they are created in parallel.
    """
    if path.exists() and any(path.iterdir()):
        raise GitError(f"{path} already exists and is not empty — remove it or pick another race")
    path.mkdir(parents=True, exist_ok=True)
    init_lane_repo(common_dir, path, branch, commit)


def init_lane_repo(common_dir: Path, path: Path, branch: str, commit: str) -> None:
    """`git init` at `path` (files already there are left alone), borrowing the main
    repository's objects, with `branch` at `commit`."""
    # No template: no sample hooks to copy, nothing but what racer writes.
    git(["init", "--quiet", "--template=", f"--initial-branch={branch}", str(path)], path)
    objects = path / ".git" / "objects"
    (objects / "info").mkdir(parents=True, exist_ok=True)
    (objects / "info" / "alternates").write_text(f"{common_dir / 'objects'}\n", encoding="utf-8")
    exclude = common_dir / "info" / "exclude"
    if exclude.is_file():
        (path / ".git" / "info").mkdir(exist_ok=True)
        shutil.copyfile(exclude, path / ".git" / "info" / "exclude")
    git(["update-ref", f"refs/heads/{branch}", commit], path)


def populate_worktree(path: Path) -> None:
    """Check the files out; touches only this lane's index, so lanes do it in parallel."""
    git([*LANE_SAFE, "reset", "--hard", "--quiet"], path)


def is_lane_repo(path: Path) -> bool:
    """A lane made by `create_lane_repo` (a .git directory), not a `git worktree` (a .git file)."""
    return (path / ".git").is_dir()


def lane_tip(path: Path, branch: str) -> str | None:
    """The lane branch's commit inside the lane repository, or None (no lane, no branch)."""
    if not is_lane_repo(path):
        return None
    proc = git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], path, check=False)
    return proc.stdout.strip() or None


def collect_lane(root: Path, path: Path, branch: str, commit: str) -> None:
    """Bring a lane's branch at `commit` into the main repository (objects and ref).

    Called once no agent is running any more, so no contestant ever sees another's branch.
    """
    # A ref of our own in the lane pins exactly the recorded commit, whatever the agent did to
    # its branches; only the objects that the main repository lacks are copied.
    pin = "refs/racer/collect"
    git([*LANE_SAFE, "update-ref", pin, commit], path)
    git(
        [
            "-c",
            "protocol.file.allow=always",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
            str(path),
            f"+{pin}:refs/heads/{branch}",
        ],
        root,
    )


def ignored_files(root: Path) -> list[str]:
    proc = git(["ls-files", "--others", "--ignored", "--exclude-standard", "-z"], root)
    return [p for p in proc.stdout.split("\0") if p]


def _matches(rel: str, pattern: str) -> bool:
    pattern = pattern.strip()
    if pattern.startswith("/"):
        pattern = pattern[1:]
    if pattern.endswith("/"):
        return rel.startswith(pattern) or fnmatch.fnmatch(rel, pattern + "*")
    if "/" not in pattern:
        return any(fnmatch.fnmatch(part, pattern) for part in rel.split("/"))
    return fnmatch.fnmatch(rel, pattern) or rel.startswith(pattern.rstrip("/") + "/")


def files_to_copy(root: Path, patterns: Sequence[str]) -> list[str]:
    """Ignored files matching `copy` patterns or `.worktreeinclude` (gitignore-style lines)."""
    pats = [p for p in patterns if p.strip()]
    include = root / ".worktreeinclude"
    if include.is_file():
        for line in include.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                pats.append(line.strip())
    if not pats:
        return []
    return sorted(rel for rel in ignored_files(root) if any(_matches(rel, p) for p in pats))


def copy_into(root: Path, worktree: Path, rels: Iterable[str]) -> None:
    for rel in rels:
        src, dst = root / rel, worktree / rel
        if src.is_symlink() or not src.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _excludes(patterns: Sequence[str]) -> list[str]:
    """Pathspecs leaving out files *and directories* matching each glob, at any depth."""
    forms = ("{}", "{}/**", "**/{}", "**/{}/**")
    return [f":(exclude,glob){form.format(p)}" for p in patterns for form in forms]


def commit_all(
    worktree: Path, message: str, exclude: Sequence[str] = (), branch: str | None = None
) -> str:
    """Commit everything the agent changed (edits, new files, deletions), except the agent
    tools' own state files (`exclude` globs); returns HEAD (commits the agent made itself are
    kept: they are part of its work)."""
    if not (worktree / ".git").exists():
        raise GitError(
            f"the lane's checkout {worktree} is gone (the agent deleted it or its .git) — "
            "nothing of this lane could be kept"
        )
    git([*LANE_SAFE, "add", "-A", "--", ".", *_excludes(exclude)], worktree, env=RACER_IDENTITY)
    staged = git([*LANE_SAFE, "diff", "--cached", "--quiet"], worktree, check=False)
    if staged.returncode != 0:
        git(
            [*LANE_SAFE, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message],
            worktree,
            env=RACER_IDENTITY,
        )
    tip = git(["rev-parse", "HEAD"], worktree).stdout.strip()
    if branch is not None:  # the lane branch holds the work even if the agent switched branches
        git([*LANE_SAFE, "update-ref", f"refs/heads/{branch}", tip], worktree)
    return tip


def diff_text(root: Path, base: str, tip: str) -> str:
    return git(
        [*LANE_SAFE, "diff", "--binary", "--no-color", "--no-ext-diff", base, tip], root
    ).stdout


def dirty_files(worktree: Path, exclude: Sequence[str] = ()) -> list[str] | None:
    """Changed and untracked files (tools' state files excluded); None when git cannot read the
    checkout (a damaged repository)."""
    proc = git(
        [
            *LANE_SAFE,
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            ".",
            *_excludes(exclude),
        ],
        worktree,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return [line[3:] for line in proc.stdout.splitlines() if line.strip()]


def branch_tip(root: Path, branch: str) -> str | None:
    proc = git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], root, check=False)
    return proc.stdout.strip() or None


TRASH = ".racer-trash"


def remove_worktree(root: Path, path: Path, pool: int = 0) -> None:
    """Remove a lane's checkout: a lane repository, or a `git worktree` of races made before
    lanes had repositories of their own.

    With `pool` > 0, a lane repository goes to the pool of spare checkouts (`racer.pool`) while
    it holds fewer than `pool`. Otherwise the checkout is renamed into a trash dir next to it
    (instant: it is gone for racer and for you) and deleted by a detached `rm -rf`, so tens of
    thousands of files do not hold anyone up. Lanes live at <worktree_root>/<race>/<lane>.
    """
    from racer import pool as spares

    if path.exists() and not is_lane_repo(path):
        git(["worktree", "remove", "--force", str(path)], root, check=False)
        git(["worktree", "prune"], root, check=False)
    if path.is_symlink():
        path.unlink()
    elif path.exists() and not spares.offer(path, path.parent.parent, pool):
        discard(path)


def discard(path: Path) -> None:
    import secrets

    trash = path.parent.parent / TRASH / f"{path.name}-{secrets.token_hex(4)}"
    try:
        trash.parent.mkdir(parents=True, exist_ok=True)
        path.rename(trash)
    except OSError:  # another file system, say: delete in place
        shutil.rmtree(path, ignore_errors=True)
        return
    # sh starts rm in the background and exits at once: rm outlives racer, owned by init.
    subprocess.run(
        ["/bin/sh", "-c", 'rm -rf -- "$1" &', "sh", str(trash)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


def delete_branch(root: Path, branch: str) -> None:
    git(["branch", "-D", "--quiet", branch], root, check=False)


def default_worktree_root(repo: RepoInfo) -> Path:
    """Outside the working tree: $XDG_DATA_HOME/racer/worktrees/<repo>-<hash>."""
    import hashlib

    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    digest = hashlib.sha1(str(repo.root).encode()).hexdigest()[:8]
    return base / "racer" / "worktrees" / f"{repo.root.name}-{digest}"


def checkout_snapshot(root: Path) -> dict[str, str]:
    """The main checkout's uncommitted state: each changed or untracked path with its size and
    modification time ("-" when deleted). Ignored files are not looked at; nothing is read."""
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
            snap[rel] = "-"
        else:
            snap[rel] = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    return snap


def snapshot_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
