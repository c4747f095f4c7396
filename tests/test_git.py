"""The one git door: failures are one line naming the git command, lane options ignore what an
agent put in its repository's config, and a git that hangs is killed."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.repos import make_repo

from racer.errors import GitError
from racer.git import RACER_IDENTITY, git


def test_a_failure_names_the_subcommand_and_git_s_last_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    with pytest.raises(GitError, match=r"^git rev-parse failed: fatal: Needed a single revision$"):
        git(["rev-parse", "--verify", "no-such-ref"], repo, lane=True)
    assert git(["rev-parse", "--verify", "nope"], repo, check=False).returncode != 0


def test_lane_options_skip_a_planted_hook(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    marker = tmp_path / "hook-ran"
    hook = hooks / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    (repo / "a.txt").write_text("b\n")
    git(["commit", "-qam", "plain"], repo)
    assert marker.exists()  # an ordinary git runs the hook ...
    marker.unlink()
    (repo / "a.txt").write_text("c\n")
    git(["commit", "-qam", "lane"], repo, lane=True, env=RACER_IDENTITY)  # not your identity
    assert not marker.exists()  # ... racer's lane git does not


def test_a_hanging_git_is_killed_at_its_timeout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    git(["config", "alias.hang", "!sleep 30"], repo)
    with pytest.raises(GitError, match=r"git hang timed out after 0\.5 s"):
        git(["hang"], repo, timeout=0.5)


def test_tree_size_is_read_once_per_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk check and a base in memory both size the base commit's tree: one `ls-tree` per
    commit id in a process, and the same answer from a git without `--format` (before 2.36)."""
    from racer import git as git_mod

    repo = make_repo(tmp_path / "r", {"a.txt": "abc\n", "d/e/b.bin": "x" * 5000, "d/empty": ""})
    commit = git(["rev-parse", "HEAD"], repo).stdout.strip()
    ran: list[list[str]] = []
    real = git_mod.git

    def counted(args, cwd, **kw):  # type: ignore[no-untyped-def]
        ran.append(list(args))
        if any(a.startswith("--format") for a in args) and Path(cwd).name == "old":
            return git_mod.GitResult(129, "", "error: unknown option `format=...'")
        return real(args, cwd, **kw)

    monkeypatch.setattr(git_mod, "git", counted)
    monkeypatch.setattr(git_mod, "_SIZES", {})
    found = git_mod.tree_size(repo, commit)
    # 4 + 5000 + 0 bytes; pages: 1 + 2 + 1 (an empty file takes one too); dirs d and d/e
    assert found == git_mod.TreeSize(data=5004, files=3, pages=4, dirs=2)
    assert git_mod.tree_size(repo, commit) is found and len(ran) == 1
    old = tmp_path / "old"
    repo.rename(old)
    monkeypatch.setattr(git_mod, "_SIZES", {})
    assert git_mod.tree_size(old, commit) == found and len(ran) == 3  # --format, then -l
    with pytest.raises(GitError):
        git_mod.tree_size(old, "0" * 40)
