"""Lane checkouts: each lane is a repository of its own, its files, its commit and its diff.

A lane (`create_lane_repo`) borrows the main repository's objects read-only through
`objects/info/alternates` and holds exactly one branch. A contestant's `git log --all`, refs and
reflogs show only its own lane; lane branches reach the main repository (`collect_lane`) only
after every agent has stopped. Every git call goes through racer.git.
"""

from __future__ import annotations

import fnmatch
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from racer import upper
from racer.errors import GitError, disk_full, no_space
from racer.git import CHECKOUT_WORKERS, RACER_IDENTITY, git
from racer.proc import redact_file, spawn_detached
from racer.store import slug as slug  # lanes are named by it


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
    """A new repository at `path` (files already there are left alone; it has no .git yet),
    borrowing the main repository's objects, with `branch` at `commit`: what `git init
    --template=` and `git update-ref` make, written here (two git processes per lane were
    0.3-0.5 s of a 16-lane race's start on 2 cores)."""
    git_dir = path / ".git"
    git_dir.mkdir()
    for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags"):
        (git_dir / sub).mkdir(parents=True)
    text = _fresh_config(path.parent)
    (git_dir / "config").write_text(text, encoding="utf-8")
    (git_dir / "HEAD").write_text(f"ref: refs/heads/{branch}\n", encoding="utf-8")
    objects = git_dir / "objects"
    (objects / "info" / "alternates").write_text(f"{common_dir / 'objects'}\n", encoding="utf-8")
    exclude = common_dir / "info" / "exclude"
    if exclude.is_file():
        (git_dir / "info").mkdir(exist_ok=True)
        shutil.copyfile(exclude, git_dir / "info" / "exclude")
    if _plain_ref(branch) and _OBJECT_ID.fullmatch(commit):
        ref = git_dir / "refs" / "heads" / branch
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(f"{commit}\n", encoding="ascii")
    else:  # let git check what racer would not
        git(["update-ref", f"refs/heads/{branch}", commit], path)


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _plain_ref(branch: str) -> bool:
    """A branch name git takes as it is (git check-ref-format's rules, kept strict)."""
    parts = branch.split("/")
    return all(
        part
        and not part.startswith(".")
        and not part.endswith(".lock")
        and re.fullmatch(r"[A-Za-z0-9._-]+", part)
        and ".." not in part
        for part in parts
    ) and not branch.endswith(".")


_CONFIGS: dict[int, str] = {}  # file system (st_dev) → the config `git init` writes there
_CONFIGS_LOCK = threading.Lock()  # N lanes made at once run one `git init`, not N


def _fresh_config(where: Path) -> str:
    """The config `git init --template=` writes on the file system of `where` (what racer made
    a lane with): its core settings depend on what the file system supports. Made once per file
    system, in a temporary directory in `where`."""
    device = where.stat().st_dev
    with _CONFIGS_LOCK:
        if device not in _CONFIGS:
            tmp = Path(tempfile.mkdtemp(prefix=".racer-init-", dir=where))
            try:
                git(["init", "--quiet", "--template=", str(tmp)], tmp)
                _CONFIGS[device] = (tmp / ".git" / "config").read_text(encoding="utf-8")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return _CONFIGS[device]


# What an agent may plant in its lane's .git that would make racer's own git run a program or
# read elsewhere: gone before racer runs git there (config is rewritten, these are removed).
_PLANTED = ("commondir", "config.worktree", "info/attributes", "gitdir")


def seal(path: Path, common_dir: Path | None = None) -> None:
    """Make a lane's git configuration racer's own again, before racer runs git in it after an
    agent (or a test run of its code) had it: the config rewritten as racer created it — no
    filter, diff or merge driver, textconv, include, pager, ssh command, credential helper,
    fsmonitor or hook an agent set —, no info/attributes, no commondir; with `common_dir`,
    your info/exclude and the read-only link to your objects put back too."""
    git_dir = path / ".git"
    if git_dir.is_symlink() or not git_dir.is_dir():
        raise GitError(
            f"{git_dir} is not the lane repository racer made (a file or a link) — "
            "racer will not run git in it; `racer clean --force` removes the lane"
        )
    text = _fresh_config(path.parent)
    _replace(git_dir / "config", text)
    for rel in _PLANTED:
        _remove(git_dir / rel)
    if common_dir is not None:
        _replace(git_dir / "objects" / "info" / "alternates", f"{common_dir / 'objects'}\n")
        exclude = common_dir / "info" / "exclude"
        mine = git_dir / "info" / "exclude"
        if exclude.is_file():
            _replace(mine, exclude.read_text(encoding="utf-8", errors="replace"))
        else:
            _remove(mine)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _replace(path: Path, text: str) -> None:
    """Write a file racer owns anew (never through a link an agent put there)."""
    _remove(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def populate_worktree(path: Path) -> None:
    """Check the files out; touches only this lane's index, so lanes do it in parallel."""
    git([*CHECKOUT_WORKERS, "reset", "--hard", "--quiet"], path, lane=True)


def is_lane_repo(path: Path) -> bool:
    """A lane made by `create_lane_repo` (a .git directory), not a `git worktree` (a .git file)."""
    return (path / ".git").is_dir()


def lane_tip(path: Path, branch: str) -> str | None:
    """The lane branch's commit inside the lane repository, or None (no lane, no branch)."""
    if not is_lane_repo(path):
        return None
    seal(path)
    proc = git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], path, check=False)
    return proc.stdout.strip() or None


def collect_lane(root: Path, path: Path, branch: str, commit: str) -> None:
    """Bring a lane's branch at `commit` into the main repository (objects and ref).

    Called once no agent is running any more, so no contestant ever sees another's branch.
    """
    # A ref of our own in the lane pins exactly the recorded commit, whatever the agent did to
    # its branches; only the objects that the main repository lacks are copied.
    pin = "refs/racer/collect"
    seal(path)
    git(["update-ref", pin, commit], path, lane=True)
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
    worktree: Path,
    message: str,
    exclude: Sequence[str] = (),
    branch: str | None = None,
    common_dir: Path | None = None,
) -> str:
    """Commit everything the agent changed (edits, new files, deletions), except the agent
    tools' own state files (`exclude` globs); returns HEAD (commits the agent made itself are
    kept: they are part of its work). An overlay lane is committed from its upper layer (racer.upper): the same tree, without a look at the files it did not touch."""
    if not (worktree / ".git").exists():
        raise GitError(
            f"the lane's checkout {worktree} is gone (the agent deleted it or its .git) — "
            "nothing of this lane could be kept"
        )
    seal(worktree, common_dir)
    if upper.is_overlay(worktree):  # only what the lane touched is read
        tip = upper.commit(worktree, message, exclude)
    else:
        tip = _commit_checkout(worktree, message, exclude)
    # The lane branch holds the work even if the agent switched branches (when HEAD is still
    # the branch, committing moved it already).
    if branch is not None and not _head_is(worktree, branch):
        git(["update-ref", f"refs/heads/{branch}", tip], worktree, lane=True)
    return tip


def _head_is(worktree: Path, branch: str) -> bool:
    """Whether the lane's HEAD is the symbolic ref to `branch` (read, not run: racer's own
    lane repository, sealed)."""
    try:
        head = (worktree / ".git" / "HEAD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return head == f"ref: refs/heads/{branch}\n"


def _commit_checkout(worktree: Path, message: str, exclude: Sequence[str]) -> str:
    git(["add", "-A", "--", ".", *_excludes(exclude)], worktree, env=RACER_IDENTITY, lane=True)
    staged = git(["diff", "--cached", "--quiet"], worktree, check=False, lane=True)
    if staged.returncode != 0:
        git(
            ["commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message],
            worktree,
            env=RACER_IDENTITY,
            lane=True,
        )
    return git(["rev-parse", "HEAD"], worktree).stdout.strip()


_DIFF = ("diff", "--binary", "--no-color", "--no-ext-diff", "--no-textconv")


def write_diff(root: Path, base: str, tip: str, dest: Path, hide: Sequence[str] = ()) -> None:
    """Save a lane's diff into `dest` with the values in `hide` redacted, streamed from git to
    the file (a 200 MB file in a lane never sits in racer's memory). The lane is sealed first:
    no textconv, external diff or filter of an agent runs."""
    seal(root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    raw = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}")
    try:
        git([*_DIFF, base, tip], root, lane=True, stdout_to=raw)
        if any(len(s) >= 4 for s in hide):
            redact_file(raw, dest, hide)
        else:
            raw.replace(dest)
    except OSError as exc:
        if no_space(exc):
            raise disk_full(dest) from None
        raise
    finally:
        raw.unlink(missing_ok=True)


def dirty_files(worktree: Path, exclude: Sequence[str] = ()) -> list[str] | None:
    """Changed and untracked files (tools' state files excluded); None when git cannot read the
    checkout (a damaged repository). An overlay lane is read from its upper layer."""
    if upper.is_overlay(worktree) and upper.mounted(worktree):
        found = upper.dirty(worktree, exclude)
        if found is not None:
            return found
    proc = git(
        ["status", "--porcelain", "--untracked-files=all", "--", ".", *_excludes(exclude)],
        worktree,
        check=False,
        lane=True,
    )
    if proc.returncode != 0:
        return None
    return [line[3:] for line in proc.stdout.splitlines() if line.strip()]


def untracked_files(worktree: Path, exclude: Sequence[str] = ()) -> list[str]:
    """Files git neither tracks nor ignores (a whole new directory as one entry), tools' state
    files excluded. Reads directories only, not every tracked file's stat as `status` does."""
    args = ["ls-files", "--others", "--exclude-standard", "--directory", "--no-empty-directory"]
    found = git([*args, "-z", "--", ".", *_excludes(exclude)], worktree, lane=True)
    return [p for p in found.stdout.split("\0") if p]


TRASH = ".racer-trash"


def discard(path: Path) -> None:
    """Gone at once for racer and for you (renamed into a trash dir next to its race dir), and
    deleted by a detached `rm -rf`, so tens of thousands of files hold nobody up."""
    trash = path.parent.parent / TRASH / f"{path.name}-{secrets.token_hex(4)}"
    try:
        trash.parent.mkdir(parents=True, exist_ok=True)
        path.rename(trash)
    except OSError:  # another file system, say: delete in place
        shutil.rmtree(path, ignore_errors=True)
        return
    spawn_detached(["rm", "-rf", "--", str(trash)])
