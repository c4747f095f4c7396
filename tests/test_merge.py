"""`racer merge` and `racer clean` on real repositories: history, trailers, refusals, no lost work."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.repos import CORRECT, WRONG, Project, git


def _race(project: Project, racer, monkeypatch) -> dict:  # type: ignore[type-arg]
    project.fake(
        monkeypatch,
        {
            "good": {"write": {"calc.py": CORRECT, "notes.md": "new file\n"}, "say": "Doubled it."},
            "wrong": {"write": {"calc.py": WRONG}},
        },
    )
    assert racer("run", "specs/double.md", "--agents", "fake@good,fake@wrong").exit_code == 0
    return json.loads(racer("show", "--json").stdout)


def test_merge_squashes_with_trailers_and_cleans_up(project: Project, racer, monkeypatch) -> None:
    data = _race(project, racer, monkeypatch)
    before = git(project.root, "rev-parse", "HEAD")
    res = racer("merge", "fake@good")
    assert res.exit_code == 0, res.stderr
    assert git(project.root, "rev-parse", "HEAD~1") == before  # one squashed commit on main
    assert git(project.root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    message = git(project.root, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "Fix double"
    assert f"Racer-Race: {data['id']}" in message
    assert "Racer-Agent: fake" in message and "Racer-Model: good" in message
    assert (project.root / "calc.py").read_text() == CORRECT
    assert (project.root / "notes.md").read_text() == "new file\n"
    assert git(project.root, "status", "--porcelain") == ""
    # worktrees and branches are gone; the record remembers the merge and keeps the diffs
    assert git(project.root, "branch", "--list", "racer/*") == ""
    for c in data["candidates"]:
        assert not Path(c["worktree"]).exists()
        assert Path(c["diff"]).exists()
    after = json.loads(racer("show", "--json").stdout)
    assert after["merged"]["candidate"] == "fake@good"
    assert json.loads(racer("ls", "--json").stdout)[0]["status"] == "merged"
    again = racer("merge", "fake@wrong")
    assert again.exit_code == 1 and "already merged" in again.stderr


def test_merge_keep_leaves_worktrees(project: Project, racer, monkeypatch) -> None:
    data = _race(project, racer, monkeypatch)
    assert racer("merge", "fake@good", "--keep").exit_code == 0
    assert all(Path(c["worktree"]).exists() for c in data["candidates"])
    assert "racer/" in git(project.root, "branch", "--list", "racer/*")


def test_merge_refuses_when_dirty_files_would_be_touched(
    project: Project, racer, monkeypatch
) -> None:
    _race(project, racer, monkeypatch)
    (project.root / "calc.py").write_text("# my local edit\n")
    head = git(project.root, "rev-parse", "HEAD")
    res = racer("merge", "fake@good")
    assert res.exit_code == 1
    assert "calc.py" in res.stderr and "nothing was changed" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert (project.root / "calc.py").read_text() == "# my local edit\n"
    assert git(project.root, "rev-parse", "HEAD") == head


def test_merge_keeps_unrelated_local_changes(project: Project, racer, monkeypatch) -> None:
    _race(project, racer, monkeypatch)
    (project.root / "README.txt").write_text("untracked\n")
    (project.root / "tests" / "test_calc.py").write_text("# local test edit\n")
    assert racer("merge", "fake@good").exit_code == 0
    assert (project.root / "README.txt").read_text() == "untracked\n"
    assert (project.root / "tests" / "test_calc.py").read_text() == "# local test edit\n"
    assert (project.root / "calc.py").read_text() == CORRECT


def test_merge_conflict_leaves_repo_as_it_was(project: Project, racer, monkeypatch) -> None:
    _race(project, racer, monkeypatch)
    (project.root / "calc.py").write_text("def double(x):\n    return x + x  # upstream\n")
    git(project.root, "commit", "-qam", "upstream change")
    head = git(project.root, "rev-parse", "HEAD")
    res = racer("merge", "fake@good")
    assert res.exit_code == 1
    assert "conflicts" in res.stderr and "calc.py" in res.stderr
    assert git(project.root, "rev-parse", "HEAD") == head
    assert git(project.root, "status", "--porcelain") == ""
    assert "upstream" in (project.root / "calc.py").read_text()


def test_merge_onto_a_branch_that_moved_without_conflict(
    project: Project, racer, monkeypatch
) -> None:
    _race(project, racer, monkeypatch)
    (project.root / "other.txt").write_text("upstream\n")
    git(project.root, "add", "other.txt")
    git(project.root, "commit", "-qm", "unrelated upstream change")
    assert racer("merge", "fake@good").exit_code == 0
    assert (project.root / "calc.py").read_text() == CORRECT
    assert (project.root / "other.txt").read_text() == "upstream\n"


def test_merge_into_branch_not_checked_out(project: Project, racer, monkeypatch) -> None:
    _race(project, racer, monkeypatch)
    git(project.root, "switch", "-q", "-c", "elsewhere")
    assert racer("merge", "fake@good").exit_code == 0
    assert git(project.root, "rev-parse", "--abbrev-ref", "HEAD") == "elsewhere"
    assert git(project.root, "show", "main:calc.py") + "\n" == CORRECT
    assert (project.root / "calc.py").read_text() != CORRECT


def test_clean_refuses_unmerged_work_without_force(project: Project, racer, monkeypatch) -> None:
    data = _race(project, racer, monkeypatch)
    res = racer("clean")
    assert res.exit_code == 1 and "--force" in res.stderr and "never merged" in res.stderr
    assert all(Path(c["worktree"]).exists() for c in data["candidates"])
    forced = racer("clean", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert not any(Path(c["worktree"]).exists() for c in data["candidates"])
    assert git(project.root, "branch", "--list", "racer/*") == ""


def test_clean_refuses_dirty_worktree_after_merge_keep(
    project: Project, racer, monkeypatch
) -> None:
    data = _race(project, racer, monkeypatch)
    assert racer("merge", "fake@good", "--keep").exit_code == 0
    wrong = next(c for c in data["candidates"] if c["name"] == "fake@wrong")
    (Path(wrong["worktree"]) / "mine.txt").write_text("user work\n")
    res = racer("clean")
    assert res.exit_code == 1 and "uncommitted" in res.stderr
    assert (Path(wrong["worktree"]) / "mine.txt").exists()
    (Path(wrong["worktree"]) / "mine.txt").unlink()
    assert racer("clean").exit_code == 0
