"""racer.repo: open_repo's one `git rev-parse` reads the usual repository as GitPython does, and
leaves every unusual one (no repo, bare, unborn HEAD, inside .git) to GitPython's errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.repos import git, make_repo

from racer.errors import GitError
from racer.repo import _open_with_gitpython, _rev_parse, open_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "r", {"a.txt": "a\n", "sub/dir/b.txt": "b\n"})


def test_rev_parse_reads_what_gitpython_reads(repo: Path) -> None:
    for where in (repo, repo / "sub" / "dir"):
        found = _rev_parse(where)
        assert found is not None
        assert found == _open_with_gitpython(where)
        assert found.root == repo.resolve() and found.common_dir == (repo / ".git").resolve()
        assert found.branch == "main" and found.head == git(repo, "rev-parse", "HEAD")


def test_rev_parse_reads_branches_detached_heads_and_linked_worktrees(
    repo: Path, tmp_path: Path
) -> None:
    git(repo, "checkout", "--quiet", "-b", "feature/x")
    assert _rev_parse(repo) == _open_with_gitpython(repo)
    assert open_repo(repo).branch == "feature/x"
    git(repo, "checkout", "--quiet", "--detach")
    assert _rev_parse(repo) == _open_with_gitpython(repo)
    assert open_repo(repo).branch is None
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "--quiet", "-b", "lw", str(linked))
    found = _rev_parse(linked / "sub")
    assert found == _open_with_gitpython(linked / "sub")
    assert found is not None and found.root == linked.resolve()
    assert found.common_dir == (repo / ".git").resolve() and found.branch == "lw"


def test_unusual_repositories_are_gitpythons_to_explain(repo: Path, tmp_path: Path) -> None:
    unborn = make_repo(tmp_path / "unborn", {"x": "x\n"}, commit=False)
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare))
    plain = tmp_path / "plain"
    plain.mkdir()
    for where, said in (
        (plain, "not a git repository"),
        (tmp_path / "missing", "not a git repository"),
        (unborn, "no commits yet"),
        (bare, "is a bare repository"),
    ):
        assert _rev_parse(where) is None
        with pytest.raises(GitError, match=said):
            open_repo(where)
    inside = repo / ".git" / "refs"
    assert _rev_parse(inside) is None
    assert open_repo(inside) == _open_with_gitpython(inside)
    (repo / "HEAD").write_text("a file named like the ref\n")
    assert open_repo(repo) == _open_with_gitpython(repo)
