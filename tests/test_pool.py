"""Spare checkouts (racer.pool): removed lanes are kept and renewed for the next race, which must
start on exactly the base commit with nothing of the previous agent left, not even in `.git`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from helpers.repos import CORRECT, WRONG, Project, git, make_repo, race_json

from racer import pool

# The first race's agent leaves everything it can behind: edits, an untracked file, an ignored
# file, a branch, a hook, a config entry, and a tracked file made executable.
MESSY = {
    "write": {"calc.py": WRONG, "junk.txt": "left behind\n", "__pycache__/x.pyc": "cache\n"},
    "run": [
        "git branch leftover",
        "git config core.hooksPath .git/evil-hooks",
        "mkdir -p .git/evil-hooks && printf '#!/bin/sh\\ntouch \"$HOME/hook-ran\"\\n' "
        "> .git/evil-hooks/post-commit && chmod +x .git/evil-hooks/post-commit",
        "chmod +x tests/test_calc.py",
    ],
}
# The second race's agent records what it found before it changed anything.
LOOK = {
    "run": [
        "git status --porcelain --ignored --untracked-files=all > ../../look-$RACER_LANE.txt",
        "git branch --list >> ../../look-$RACER_LANE.txt",
        "git config --get core.hooksPath >> ../../look-$RACER_LANE.txt || true",
    ],
    "write": {"calc.py": CORRECT},
}


def _spares(project: Project) -> list[Path]:
    return pool.entries(project.worktrees)


def test_removed_lanes_are_renewed_for_the_next_race(
    project: Project, racer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.fake(monkeypatch, {"messy": MESSY, "look": LOOK})
    assert racer("run", "specs/double.md", "--agents", "fake@messy*2").exit_code == 4
    first = race_json(project.root)
    assert racer("clean", "--force").exit_code == 0
    spares = _spares(project)
    assert len(spares) == 3  # two lanes and the baseline, the default pool (4) has room
    for c in first["candidates"]:
        assert not Path(c["worktree"]).exists()
    reused = {(s / "pyproject.toml").stat().st_ino for s in spares}

    res = racer("run", "specs/double.md", "--agents", "fake@look*2")
    assert res.exit_code == 0, res.stderr
    second = race_json(project.root)
    assert len(_spares(project)) == 1  # the baseline went back; the lanes are the race's
    for c in second["candidates"]:
        wt = Path(c["worktree"])
        # an unchanged file was not written again: the lane is a renewed spare
        assert (wt / "pyproject.toml").stat().st_ino in reused
        look = (project.worktrees / f"look-{c['name']}.txt").read_text()
        # nothing untracked, ignored, branched or configured by the first race's agent
        assert look == f"* {c['branch']}\n", look
        assert not (wt / "junk.txt").exists() and not (wt / "__pycache__").exists()
        assert not (wt / ".git" / "evil-hooks").exists()
        assert not (wt / "tests" / "test_calc.py").stat().st_mode & 0o111
        assert git(wt, "branch", "--list") == f"* {c['branch']}"
        assert Path(c["diff"]).read_text().count("diff --git") == 1  # calc.py, nothing else
        assert c["tests"]["passed"] == 2
    assert not (Path.home() / "hook-ran").exists()


def test_pool_zero_deletes_and_pool_caps_what_is_kept(
    project: Project, racer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    monkeypatch.setenv("RACER_POOL", "0")
    assert racer("run", "specs/double.md", "--agents", "fake@good*2").exit_code == 0
    assert racer("clean", "--force").exit_code == 0
    assert _spares(project) == []
    monkeypatch.setenv("RACER_POOL", "2")
    assert racer("run", "specs/double.md", "--agents", "fake@good*3").exit_code == 0
    assert len(_spares(project)) == 1  # the baseline, at the end of the race
    assert racer("merge", "fake@good").exit_code == 0
    assert len(_spares(project)) == 2  # two of the three lanes: the pool is full


def test_a_spare_that_cannot_be_renewed_is_replaced_by_a_fresh_checkout(
    project: Project, racer, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = pool.pool_dir(project.worktrees) / "broken"
    broken.mkdir(parents=True)
    (broken / "calc.py").write_text("not a checkout\n")  # no .git: renewing it fails
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    res = racer("run", "specs/double.md", "--agents", "fake@good")
    assert res.exit_code == 0, res.stderr
    data = race_json(project.root)
    wt = Path(data["candidates"][0]["worktree"])
    assert (wt / "calc.py").read_text() == CORRECT
    assert (wt / "tests" / "test_calc.py").is_file()
    assert data["candidates"][0]["tests"]["passed"] == 2
    assert not broken.exists()


def test_a_spare_whose_git_links_elsewhere_is_never_followed(
    project: Project, racer, monkeypatch: pytest.MonkeyPatch
) -> None:
    main_index = project.root / ".git" / "index"
    before = main_index.read_bytes()
    linked = pool.pool_dir(project.worktrees) / "linked"
    linked.mkdir(parents=True)
    (linked / ".git").symlink_to(project.root / ".git")  # an agent's parting gift
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    res = racer("run", "specs/double.md", "--agents", "fake@good")
    assert res.exit_code == 0, res.stderr
    assert main_index.read_bytes() == before
    assert (project.root / ".git").is_dir() and git(project.root, "status", "--porcelain") == ""
    wt = Path(race_json(project.root)["candidates"][0]["worktree"])
    assert (wt / ".git").is_dir() and not (wt / ".git").is_symlink()
    assert not linked.exists()


def test_claim_hands_each_spare_to_one_lane_only(project: Project) -> None:
    assert pool.fill(project.root / ".git", project.worktrees, _head(project), 1, 1) == 1
    got: list[bool] = []
    targets = [project.worktrees / "race" / f"lane{i}" for i in range(4)]
    threads = [
        threading.Thread(target=lambda t=t: got.append(pool.claim(project.worktrees, t)))
        for t in targets
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [False, False, False, True]
    assert sum(t.exists() for t in targets) == 1


def _head(project: Project) -> str:
    return git(project.root, "rev-parse", "HEAD")


def test_pool_command_fills_shows_and_clears(project: Project, racer) -> None:
    res = racer("pool", "--fill", "2")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith(f"made 2 spare checkouts of HEAD {_head(project)[:12]}")
    assert "2 spare checkouts in" in res.stdout
    for spare in _spares(project):
        assert git(spare, "status", "--porcelain") == ""
        assert (spare / "calc.py").read_text() == "def double(x):\n    return x\n"
    assert racer("pool", "--fill", "2").stdout.startswith("made 0 spare")
    assert "2 spare checkouts" in racer("pool").stdout
    res = racer("pool", "--clear")
    assert res.exit_code == 0 and res.stdout.startswith("removed 2 spare checkouts")
    assert _spares(project) == []
    assert "0 spare checkouts" in racer("pool").stdout


def test_pool_command_refuses_fill_and_clear_together(project: Project, racer) -> None:
    res = racer("pool", "--fill", "1", "--clear")
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines() == [
        "racer: --fill and --clear go one at a time — pass one of them"
    ]
    assert not pool.pool_dir(project.worktrees).exists()
    assert racer("pool", "--fill", "0").exit_code == 2


def test_half_filled_entries_are_never_claimed_and_clear_removes_them(project: Project) -> None:
    where = pool.pool_dir(project.worktrees)
    (where / ".filling-x").mkdir(parents=True)  # what a killed `racer pool --fill` leaves
    assert pool.entries(project.worktrees) == []
    assert not pool.claim(project.worktrees, project.worktrees / "race" / "lane")
    assert pool.clear(project.worktrees) == 1


def test_untracked_files_keep_an_agents_lane_out_of_the_pool_not_the_baseline(
    project: Project,
) -> None:
    # An agent's lane holding files it never committed (its commit failed on a full disk) is
    # deleted, so the space comes back; the baseline's untracked test artefacts are no such work.
    assert pool.fill(project.root / ".git", project.worktrees, _head(project), 2, 1) == 2
    lanes = [project.worktrees / "race" / name for name in ("lane", "_baseline")]
    for lane in lanes:
        assert pool.claim(project.worktrees, lane)
        (lane / "left.bin").write_bytes(b"x" * 1000)
    assert not pool.offer(lanes[0], project.worktrees, 4)
    assert pool.offer(lanes[1], project.worktrees, 4, agent_ran=False)
    assert len(pool.entries(project.worktrees)) == 1


def test_a_checkout_large_enough_for_parallel_workers_is_exact(tmp_path: Path) -> None:
    """Over git's threshold of 100 files, lane checkouts write their files with parallel
    workers (racer.git.CHECKOUT_WORKERS): fresh and renewed, every file, mode, link and
    eol conversion is the commit's, and git sees nothing changed."""
    files = {f"data/d{i % 7}/f{i}.txt": f"line {i}\n" * 3 for i in range(400)}
    files[".gitattributes"] = "*.crlf text eol=crlf\n"
    files["notes.crlf"] = "one\ntwo\n"
    repo = make_repo(tmp_path / "repo", files)
    (repo / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "link").symlink_to("data/d0/f0.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tools")
    head = git(repo, "rev-parse", "HEAD")
    roots = tmp_path / "worktrees"

    def check(lane: Path) -> None:
        assert git(lane, "status", "--porcelain", "--untracked-files=all") == ""
        assert git(lane, "ls-files") == git(repo, "ls-files")
        assert (lane / "notes.crlf").read_bytes() == b"one\r\ntwo\r\n"
        assert (lane / "run.sh").stat().st_mode & 0o111
        assert os.readlink(lane / "link") == "data/d0/f0.txt"
        assert (lane / "data/d3/f10.txt").read_text() == "line 10\n" * 3

    first = roots / "r1" / "a"
    assert pool.check_out(repo / ".git", roots, first, "racer/r1/a", head) is False
    check(first)
    (first / "data/d0/f0.txt").write_text("changed\n")
    (first / "data/d1/f1.txt").unlink()
    (first / "run.sh").chmod(0o644)
    (first / "link").unlink()
    pool.release(repo, first, size=2)
    second = roots / "r2" / "a"
    assert pool.check_out(repo / ".git", roots, second, "racer/r2/a", head) is True
    check(second)


def test_a_lane_repository_is_what_git_init_and_update_ref_make(tmp_path: Path) -> None:
    """racer writes a lane's .git itself (no `git init`, no `git update-ref`): the same files
    and settings git makes, the branch at the commit, HEAD on it, the main repository's objects
    borrowed and its info/exclude kept; a branch name git would check goes through git."""
    from racer import checkout

    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("*.secret\n")
    head = git(repo, "rev-parse", "HEAD")
    ours = tmp_path / "lanes" / "ours"
    checkout.create_lane_repo(repo / ".git", ours, "racer/r1/a-b_c.d", head)
    theirs = tmp_path / "lanes" / "theirs"
    theirs.mkdir()
    git(theirs, "init", "--quiet", "--template=", "--initial-branch=racer/r1/a-b_c.d", ".")

    def tree(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in (root / ".git").rglob("*")}

    assert tree(theirs) <= tree(ours)
    assert (ours / ".git" / "config").read_text() == (theirs / ".git" / "config").read_text()
    assert git(ours, "symbolic-ref", "HEAD") == "refs/heads/racer/r1/a-b_c.d"
    assert git(ours, "rev-parse", "HEAD") == head
    assert git(ours, "cat-file", "-t", head) == "commit"  # objects through alternates
    assert (ours / ".git" / "info" / "exclude").read_text() == "*.secret\n"
    checkout.populate_worktree(ours)
    assert git(ours, "status", "--porcelain", "--untracked-files=all") == ""
    # a name outside the plain rules, and an abbreviated commit: git's update-ref decides
    odd = tmp_path / "lanes" / "odd"
    checkout.create_lane_repo(repo / ".git", odd, "racer/r1/ünïcode", head[:12])
    assert git(odd, "rev-parse", "refs/heads/racer/r1/ünïcode") == head
