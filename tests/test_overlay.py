"""Overlay lanes (racer.overlay, racer.upper): one base checkout, a writable layer per lane in a
mount namespace of racer's own, and commits made from the upper layer alone — the same trees
as the checkout path makes, a race whose lanes are overlays, and what remains when racer dies.

Overlay needs Linux and a mount namespace; each test that needs one runs racer (or the corpus
helper) as a child process, since the namespace is entered for a whole process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.overlay_corpus import CORPUS
from helpers.repos import CORRECT, WRONG, Project, git, make_repo, race_json

from racer import basemem, overlay

HERE = Path(__file__).resolve().parent
WRONG_BASE = "def double(x):\n    return x\n"  # calc.py of the project's base commit
SRC = HERE.parent


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(SRC), str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


def _needs_overlay(where: Path) -> None:
    """Skip where overlay lanes cannot be (probed in a child: the probe enters a namespace)."""
    where.mkdir(parents=True, exist_ok=True)
    script = "import sys; from pathlib import Path; from racer import overlay; "
    script += "print(overlay.unavailable(Path(sys.argv[1])) or '')"
    probe = subprocess.run(
        [sys.executable, "-c", script, str(where)], capture_output=True, text=True, env=_env()
    )
    assert probe.returncode == 0, probe.stderr
    if probe.stdout.strip():
        pytest.skip(f"overlay lanes unavailable here: {probe.stdout.strip()}")


BASE = {
    "a.txt": "alpha\n",
    "run.sh": "#!/bin/sh\necho hi\n",
    "dir/b.txt": "beta\n",
    "dir/c.txt": "gamma\n",
    "old.crlf": "x\n",
    ".gitignore": "*.log\nbuild/\n__pycache__/\n",
    ".gitattributes": "*.crlf text eol=lf\n",
}


def _corpus_repo(root: Path) -> Path:
    make_repo(root, BASE, commit=False)
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("a.txt")
    (root / "bin.dat").write_bytes(b"\x00\x01\x02")
    (root / "keep.log").write_text("tracked though ignored\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "add", "-f", "keep.log")
    git(root, "commit", "--quiet", "-m", "base")
    return root


def test_overlay_commits_make_the_same_trees_as_checkouts(tmp_path: Path) -> None:
    repo = _corpus_repo(tmp_path / "repo")
    wt_root = tmp_path / "worktrees"
    wt_root.mkdir()
    _needs_overlay(wt_root)
    child = subprocess.run(
        [sys.executable, str(HERE / "helpers" / "overlay_corpus.py"), str(repo), str(wt_root)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert child.returncode == 0, child.stderr
    found = json.loads(child.stdout)
    trees = {name: runs[0] for name, runs in found.items()}
    base_tree = git(repo, "rev-parse", "HEAD^{tree}")
    assert trees["nothing"] == [base_tree, base_tree]
    assert {name: pair for name, pair in trees.items() if pair[0] != pair[1]} == {}
    # every change but these changed the tree: the corpus tests something
    same = {name for name, pair in trees.items() if pair[0] == base_tree}
    assert same == {
        "nothing",
        "staged then reverted",
        "staged removal kept",
        "ignored",
        "agent state files",
    }
    # after a test run, racer's reset leaves both kinds of lane alike: exactly the lane's commit,
    # the ignored files kept, nothing else
    after = {name: runs[1] for name, runs in found.items()}
    assert {name: pair for name, pair in after.items() if pair[0] != pair[1]} == {}
    for name, (status, _) in after.items():
        assert "!! run.log" in status and "!! tests/__pycache__/" in status, (name, status)
        assert not [line for line in status.splitlines() if not line.startswith("!!")], name
    # what racer finds uncommitted (merge and clean ask) is what `git status` finds, and after
    # racer's commit nothing is
    dirty = {name: runs[2] for name, runs in found.items()}
    assert {name: pair for name, pair in dirty.items() if pair[0] != pair[1]} == {}
    assert {name: pair[0][2] for name, pair in dirty.items() if pair[0][2]} == {}
    assert dirty["new file"][0][:2] == [1, ["new.txt"]]
    # a reset that has nothing to put back runs no git in an overlay lane: not right after the
    # commit (unless the agent's state files, which the commit leaves out, are there to remove),
    # not after a reset; the test run's leftovers above (a file rewritten to the same size and
    # mtime among them) were all seen
    gits = {name: runs[3][0] for name, runs in found.items()}
    assert {name for name, (after_commit, _) in gits.items() if after_commit} == {
        "agent state files"
    }
    assert {name: again for name, (_, again) in gits.items() if again} == {}
    # the lane's index is the copy racer gave it unless the agent's git wrote it: then nothing
    # is staged or committed, and racer's commit does not diff the index against the base
    diffed = {name for name, runs in found.items() if runs[4][0]}
    assert diffed == {name for name, script in CORPUS.items() if "git " in script}


def _racer(project: Project, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "racer", *args],
        cwd=project.root,
        capture_output=True,
        text=True,
        env=_env(RACER_LANES="overlay", **env),
        timeout=300,
    )


def _written(base: Path, within: float = 120) -> bool:
    """Whether base checkout `base` is on disk, once a racer whose lanes stood on a copy in
    memory has handed it to its detached writer (racer.basefill) at exit."""
    deadline = time.monotonic() + within
    while not (base / "index").is_file():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return (base / "tree").is_dir()


def _mounts_under(where: Path) -> list[str]:
    text = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if str(where) in line]


def test_a_race_with_overlay_lanes_ranks_merges_and_leaves_no_mount(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_overlay(project.worktrees)
    project.fake(
        monkeypatch,
        {
            "fix": {"write": {"calc.py": CORRECT}},
            "junk": {
                "write": {"calc.py": WRONG, "notes/n.txt": "x\n"},
                "run": ["rm pyproject.toml"],
            },
        },
    )
    res = _racer(project, "run", "specs/double.md", "--agents", "fake@fix,fake@junk")
    assert res.returncode == 0, res.stderr
    assert "lanes are checkouts" not in res.stderr
    data = race_json(project.root)
    assert data["winner"] == "fake@fix"
    head = git(project.root, "rev-parse", "HEAD")
    base = project.worktrees / ".racer-base" / head / "tree"
    assert _written(base.parent)
    assert (base / "calc.py").read_text(encoding="utf-8") == "def double(x):\n    return x\n"
    by_name = {c["name"]: c for c in data["candidates"]}
    for c in data["candidates"]:
        lane = Path(c["worktree"])
        # racer is gone: outside its namespace the lane's path is an empty mount point, and its
        # change set is in its upper layer
        assert not os.path.ismount(lane) and not any(lane.iterdir())
        assert (overlay.layers(lane) / "upper" / "calc.py").is_file()
    assert _mounts_under(project.worktrees) == []
    junk = by_name["fake@junk"]
    assert git(project.root, "show", f"{junk['branch']}:notes/n.txt") == "x"
    files = git(project.root, "ls-tree", "-r", "--name-only", junk["branch"]).split()
    assert "pyproject.toml" not in files and "tests/test_calc.py" in files
    # the baseline's layer went at the end of the race; the base checkout stays for the next
    assert not list((project.worktrees / data["id"]).glob(".baseline*"))
    merged = _racer(project, "merge", "fake@fix")
    assert merged.returncode == 0, merged.stderr
    assert (project.root / "calc.py").read_text(encoding="utf-8") == CORRECT
    for c in data["candidates"]:
        assert not overlay.layers(Path(c["worktree"])).exists()
        assert not Path(c["worktree"]).exists()
    assert base.is_dir()


def test_a_killed_racer_leaves_no_mount_and_resume_goes_on_from_the_upper_layer(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_overlay(project.worktrees)
    project.fake(monkeypatch, {"hang": {"write": {"calc.py": CORRECT}, "hang": True}})
    proc = subprocess.Popen(
        [sys.executable, "-m", "racer", "run", "specs/double.md", "--agents", "fake@hang"],
        cwd=project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(RACER_LANES="overlay"),
    )
    races = project.root / ".git" / "racer" / "races"
    deadline = time.monotonic() + 60
    while not any("child pid" in p.read_text() for p in races.glob("*/logs/*.agent.log")):
        assert time.monotonic() < deadline and proc.poll() is None, "the agent never started"
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    lane = Path(race_json(project.root)["candidates"][0]["worktree"])
    assert _mounts_under(project.worktrees) == []
    assert (overlay.layers(lane) / "upper" / "calc.py").read_text(encoding="utf-8") == CORRECT
    project.fake(monkeypatch, {"hang": {"append": {"calc.py": "# resumed\n"}}})
    resumed = _racer(project, "resume")
    assert resumed.returncode == 0, resumed.stderr
    data = race_json(project.root)
    assert data["status"] == "finished" and data["winner"] == "fake@hang"
    branch = data["candidates"][0]["branch"]
    assert git(project.root, "show", f"{branch}:calc.py") + "\n" == CORRECT + "# resumed\n"
    assert _mounts_under(project.worktrees) == []


def test_a_sandboxed_overlay_lane_sees_no_other_lane(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_overlay(project.worktrees)
    if subprocess.run(["bwrap", "--version"], capture_output=True).returncode != 0:
        pytest.skip("bubblewrap is not installed")
    peek = "ls -a .. > seen.txt; ls -a ../.racer-base ../../.racer-base >> seen.txt 2>&1 || true"
    project.fake(monkeypatch, {"peek": {"write": {"calc.py": CORRECT}, "run": [peek]}})
    res = _racer(project, "run", "specs/double.md", "--agents", "fake@peek*2", "--sandbox")
    assert res.returncode == 0, res.stderr
    data = race_json(project.root)
    for c in data["candidates"]:
        lane = Path(c["worktree"])
        seen = git(project.root, "show", f"{c['branch']}:seen.txt").splitlines()
        # its own lane only: not the other lane, nor any upper dir, nor the base checkout
        assert seen[:3] == [".", "..", lane.name], seen
        assert all("No such file" in line for line in seen[3:]), seen
        assert c["status"] == "passed"


def test_a_shared_dir_is_a_layer_whose_writes_never_reach_your_files(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_overlay(project.worktrees)
    with (project.root / ".gitignore").open("a", encoding="utf-8") as out:
        out.write("node_modules/\n")
    git(project.root, "commit", "--quiet", "-am", "ignore node_modules")
    lib = project.root / "node_modules" / "lib" / "index.js"
    lib.parent.mkdir(parents=True)
    lib.write_text("original\n", encoding="utf-8")
    (project.root / "node_modules" / "self").symlink_to(project.root / "node_modules" / "lib")
    edit = "echo patched >> node_modules/lib/index.js && cat node_modules/self/index.js > seen.txt"
    project.fake(monkeypatch, {"edit": {"write": {"calc.py": CORRECT}, "run": [edit]}})
    res = _racer(
        project, "run", "specs/double.md", "--agents", "fake@edit", "--share", "node_modules"
    )
    assert res.returncode == 0, res.stderr
    cand = race_json(project.root)["candidates"][0]
    # the lane read your files and its own edit, through a link made to lead into the lane
    assert git(project.root, "show", f"{cand['branch']}:seen.txt") == "original\npatched"
    assert lib.read_text(encoding="utf-8") == "original\n"
    files = git(project.root, "ls-tree", "-r", "--name-only", cand["branch"]).split()
    assert not [f for f in files if f.startswith("node_modules")]
    lane = Path(cand["worktree"])
    assert (overlay.layers(lane) / "share" / "0" / "upper" / "lib" / "index.js").is_file()


def test_pool_fill_makes_the_base_checkout_and_clear_drops_it(project: Project) -> None:
    _needs_overlay(project.worktrees)
    filled = _racer(project, "pool", "--fill", "3")
    assert filled.returncode == 0, filled.stderr
    assert "base checkout of HEAD" in filled.stdout and "1 base checkout" in filled.stdout
    base = project.worktrees / ".racer-base" / git(project.root, "rev-parse", "HEAD")
    assert (base / "tree" / "calc.py").is_file() and (base / "index").is_file()
    assert not (base / "tree" / ".git").exists()  # a lane's .git is its own, in its upper dir
    cleared = _racer(project, "pool", "--clear")
    assert cleared.returncode == 0, cleared.stderr
    assert not base.exists()


def test_lanes_overlay_where_it_cannot_be_is_a_config_error_and_auto_falls_back(
    project: Project, racer, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = project.root.parent / "work,trees"  # overlayfs options cannot carry the comma
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(odd))
    project.fake(monkeypatch, {"fix": {"write": {"calc.py": CORRECT}}})
    monkeypatch.setenv("RACER_LANES", "overlay")
    res = racer("run", "specs/double.md", "--agents", "fake@fix")
    assert res.exit_code == 1, res.stderr  # a bad configuration
    assert "lanes = overlay, but" in res.stderr and "Traceback" not in res.stderr
    monkeypatch.setenv("RACER_LANES", "auto")
    res = racer("run", "specs/double.md", "--agents", "fake@fix")
    assert res.exit_code == 0, res.stderr
    if sys.platform.startswith("linux"):
        assert "lanes are checkouts: worktree_root" in res.stderr
    lane = Path(race_json(project.root)["candidates"][0]["worktree"])
    assert (lane / ".git").is_dir() and not overlay.layers(lane).exists()


def test_racer_leaves_the_mounts_teardown_to_a_detached_process(tmp_path: Path) -> None:
    """At exit, a process of racer's namespace outlives it: the kernel's teardown of the lanes'
    mounts (a sync of the upper file system per mount) is not racer's to wait for."""
    _needs_overlay(tmp_path / "wt")
    script = (
        "import os, sys; from pathlib import Path; from racer import overlay; "
        "assert overlay.unavailable(Path(sys.argv[1])) is None; "
        "print(os.readlink('/proc/self/ns/mnt'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "wt")],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    ns = out.stdout.strip()
    assert ns != os.readlink("/proc/self/ns/mnt")  # racer had a namespace of its own
    holders = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/ns/mnt") == ns:
                holders.append(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0])
        except OSError:
            continue
    assert b"sleep" in holders


def _index_stamps(index: Path, git_dir: Path, work_tree: Path) -> tuple[int, list[int]]:
    """(the index file's mtime second as git reads it, each entry's recorded mtime second)."""
    listed = subprocess.run(
        ["git", "ls-files", "--debug"],
        env={**os.environ, "GIT_INDEX_FILE": str(index), "GIT_DIR": str(git_dir)},
        cwd=work_tree,
        capture_output=True,
        text=True,
    )
    stamps = [int(line.split()[1].split(":")[0]) for line in listed.stdout.splitlines()
              if line.strip().startswith("mtime:")]  # fmt: skip
    return int(index.stat().st_mtime), stamps


def test_no_file_of_the_base_checkout_is_racily_clean(tmp_path: Path) -> None:
    """git rereads every file whose mtime is not older than its index's whenever that index is
    written ("racily clean"): a fresh checkout's files share the index's second, and each lane's
    first commit reread them (26k files of a fresh 50k-file base, 1-3 s per lane). The base's
    index, and a lane's copy of it, is dated past every file, with no wait. ensure_base and
    copy_index need no mount."""
    files = {f"d{i % 9}/f{i}.txt": f"{i}\n" for i in range(600)}
    repo = make_repo(tmp_path / "repo", files)
    commit = git(repo, "rev-parse", "HEAD")
    for k in range(3):
        started = time.time()
        base = overlay.ensure_base(repo / ".git", tmp_path / f"worktrees-{k}", commit)
        assert time.time() - started < 5  # no wait for the second to pass
        lane_git = tmp_path / f"lane-{k}" / ".git"
        lane_git.mkdir(parents=True)
        overlay.copy_index(base, lane_git)
        newest = max(int(p.lstat().st_mtime) for p in (base / "tree").rglob("*") if p.is_file())
        for index in (base / "index", lane_git / "index"):
            stamp, entries = _index_stamps(index, repo / ".git", base / "tree")
            assert len(entries) == len(files)
            assert max(entries) < stamp and newest < stamp <= newest + 1, index


_IN_MEMORY = """
import json, os, sys
from pathlib import Path
from racer import basemem, overlay, upper
repo, root, lane = (Path(a) for a in sys.argv[1:4])
memory = sys.argv[4] == "yes"
if sys.argv[5:]:  # a tmpfs too small for the checkout
    basemem.memory_size = lambda common_dir, commit: int(sys.argv[5])
assert overlay.unavailable(root) is None
commit = os.popen(f"git -C {repo} rev-parse HEAD").read().strip()
overlay.check_out(repo / ".git", root, lane, "lane", commit, memory)
served = {str(k): str(v) for k, v in upper.SERVED.items()}
kinds = {line.split(" - ")[0].split()[4]: line.split(" - ")[1].split()[0]
         for line in Path("/proc/self/mountinfo").read_text().splitlines()}
print(json.dumps({"served": served, "kinds": kinds,
                  "seen": sorted(p.name for p in lane.iterdir())}))
"""


def _in_memory(
    tmp_path: Path, memory: bool, *size: str, **env: str
) -> tuple[Path, Path, dict[str, object]]:
    repo = make_repo(tmp_path / "repo", {f"d{i % 7}/f{i}.txt": f"{i}\n" for i in range(300)})
    root = tmp_path / "wt"
    _needs_overlay(root)
    lane = root / "race" / "lane"
    argv = [sys.executable, "-c", _IN_MEMORY, str(repo), str(root), str(lane)]
    out = subprocess.run(
        [*argv, "yes" if memory else "no", *size],
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return repo, root / ".racer-base" / git(repo, "rev-parse", "HEAD"), json.loads(out.stdout)


def test_the_first_race_of_a_commit_stands_on_a_base_in_memory_and_leaves_it_on_disk(
    tmp_path: Path,
) -> None:
    """No base checkout on disk yet: the lanes stand on one in a tmpfs of racer's namespace
    (creating 50k inodes on a busy disk is what a cold race waited for); at exit the tmpfs and
    its mount point go, and a detached process writes the disk's."""
    repo, base, seen = _in_memory(tmp_path, True)
    served = seen["served"]
    assert isinstance(served, dict) and list(served) == [str(base)]
    copy = served[str(base)]
    assert seen["kinds"][copy] == "tmpfs"  # type: ignore[index]
    assert seen["kinds"][str(tmp_path / "wt" / "race" / "lane")] == "overlay"  # type: ignore[index]
    assert seen["seen"] == [".git", *(f"d{i}" for i in range(7))]
    assert not Path(copy).exists()
    assert _written(base)  # by a process of its own, once racer is gone
    files = sorted(p.relative_to(base / "tree").as_posix() for p in (base / "tree").rglob("*.txt"))
    assert files == sorted(git(repo, "ls-files").split())
    assert (base / "index").is_file() and not list(base.parent.glob(".filling-*"))
    assert _mounts_under(tmp_path) == []


def test_a_mount_point_a_killed_racer_left_goes_with_the_next_base_in_memory(
    tmp_path: Path,
) -> None:
    """A SIGKILLed racer runs no exit handler: the empty mount point of its base in memory
    stays in TMPDIR until the next racer that makes one sweeps it (never a live racer's)."""
    proc = subprocess.Popen(["true"])  # a pid that has exited
    proc.wait()
    zombie = subprocess.Popen(["true"])  # exited, not yet reaped: its namespaces are gone too
    while Path(f"/proc/{zombie.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        time.sleep(0.01)
    tmp = tmp_path / "tmp"
    ns = os.readlink("/proc/self/ns/pid").rpartition("[")[2].rstrip("]")
    left = tmp / f"racer-base-{ns}-{proc.pid}-abc"
    left_zombie = tmp / f"racer-base-{ns}-{zombie.pid}-xyz"
    live = tmp / f"racer-base-{ns}-{os.getpid()}-def"
    # another pid namespace's (a container sharing TMPDIR): its pids mean nothing here
    elsewhere = tmp / f"racer-base-{int(ns) + 1}-{proc.pid}-ghi"
    for d in (left, left_zombie, live, elsewhere):
        d.mkdir(parents=True)
    _in_memory(tmp_path, True, TMPDIR=str(tmp))
    zombie.wait()
    assert not left.exists() and live.is_dir() and elsewhere.is_dir()
    assert sorted(p.name for p in tmp.iterdir()) == sorted(
        [live.name, elsewhere.name]
    )  # its own went at its exit


def test_a_base_goes_to_the_disk_alone_when_memory_is_off_or_too_small(tmp_path: Path) -> None:
    _, base, seen = _in_memory(tmp_path / "off", False)
    assert seen["served"] == {} and (base / "tree" / "d0" / "f0.txt").is_file()
    _, base, seen = _in_memory(tmp_path / "small", True, "65536")  # the checkout hits ENOSPC
    assert seen["served"] == {} and (base / "tree" / "d0" / "f0.txt").is_file()
    assert seen["seen"] == [".git", *(f"d{i}" for i in range(7))]
    assert not [k for k, v in seen["kinds"].items() if v == "tmpfs" and "racer-base" in k]  # type: ignore[union-attr]


def test_a_base_that_fits_a_quarter_of_the_free_memory_goes_to_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "d/b.bin": "x" * 10000})
    commit = git(repo, "rev-parse", "HEAD")
    monkeypatch.setattr(basemem, "available_memory", lambda: 2**30)
    need = basemem.memory_size(repo / ".git", commit)
    # a page for a.txt, three for b.bin, one per tree (the root's is not listed), and slack
    assert need == (4096 + 12288 + 2 * 128 + 4096) * 5 // 4 + 16 * 2**20
    monkeypatch.setattr(basemem, "available_memory", lambda: 4 * need - 1)
    assert basemem.memory_size(repo / ".git", commit) is None
    monkeypatch.setattr(basemem, "available_memory", lambda: None)
    assert basemem.memory_size(repo / ".git", commit) is None


def test_a_lane_whose_base_checkout_is_gone_gets_it_again_from_your_repository(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A racer killed while it wrote the disk's base behind the one in memory leaves lanes
    with no base: the next command checks it out again from your repository, never from a
    repository a lane's .git names (the agent wrote that)."""
    _needs_overlay(project.worktrees)
    project.fake(monkeypatch, {"fix": {"write": {"calc.py": CORRECT}}})
    res = _racer(project, "run", "specs/double.md", "--agents", "fake@fix")
    assert res.returncode == 0, res.stderr
    base = project.worktrees / ".racer-base" / git(project.root, "rev-parse", "HEAD")
    subprocess.run(["rm", "-rf", str(base)], check=True)
    lane = Path(race_json(project.root)["candidates"][0]["worktree"])
    hostile = project.root.parent / "hostile"  # an empty repository the agent named first
    (hostile / "objects").mkdir(parents=True)
    alternates = overlay.layers(lane) / "upper" / ".git" / "objects" / "info" / "alternates"
    alternates.write_text(f"{hostile / 'objects'}\n{alternates.read_text()}", encoding="utf-8")
    merged = _racer(project, "merge", "fake@fix")
    assert merged.returncode == 0, merged.stderr
    assert (project.root / "calc.py").read_text(encoding="utf-8") == CORRECT
    assert (base / "tree" / "calc.py").read_text(encoding="utf-8") == WRONG_BASE
    assert (
        not (hostile / ".racer-base").exists()
        and not (project.root.parent / ".racer-base").exists()
    )


def test_pool_zero_drops_half_made_bases_but_never_one_being_written(tmp_path: Path) -> None:
    """A race's end prunes base checkouts by `pool` (0: half-made ones too), and `racer pool
    --clear` too, while a racer, or the racer.basefill a racer left, may be writing one: its
    lock is held. A dropped base's lock file goes with it."""
    import fcntl

    bases = tmp_path / overlay.BASES
    mine, killed, old = (bases / n for n in (".filling-aaa-1", ".filling-bbb-2", ".filling-3"))
    done = bases / "ccc"
    for d in (mine, killed, old, done):
        (d / "tree").mkdir(parents=True)
    for commit in ("aaa", "bbb", "ccc"):
        (bases / f".{commit}.lock").touch()
    fd = os.open(bases / ".aaa.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert overlay.prune_bases(tmp_path, 0) == 3
    finally:
        os.close(fd)
    assert mine.is_dir() and not killed.exists() and not old.exists() and not done.exists()
    assert sorted(p.name for p in bases.glob(".*.lock")) == [".aaa.lock", ".bbb.lock"]


def test_the_detached_writer_of_a_base_waits_for_its_lock_then_writes_it_once(
    tmp_path: Path,
) -> None:
    """racer.basefill, what a racer hands the disk's base to at exit: under the base's lock
    (a racer command that needs the base waits on the same lock), and a second one finds it
    written."""
    import fcntl

    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "d/b.txt": "b\n"})
    commit = git(repo, "rev-parse", "HEAD")
    base = tmp_path / "wt" / ".racer-base" / commit
    base.parent.mkdir(parents=True)
    argv = [sys.executable, "-m", "racer.basefill", str(repo / ".git"), str(base), commit]
    fd = os.open(base.parent / f".{commit}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        writer = subprocess.Popen(argv, env=_env())
        time.sleep(1)
        assert writer.poll() is None and not base.exists()
    finally:
        os.close(fd)
    assert writer.wait(timeout=60) == 0
    assert (base / "tree" / "d" / "b.txt").read_text(encoding="utf-8") == "b\n"
    assert (base / "index").is_file() and not list(base.parent.glob(".filling-*"))
    stamp = (base / "index").stat().st_mtime_ns
    assert subprocess.run(argv, env=_env(), timeout=60).returncode == 0
    assert (base / "index").stat().st_mtime_ns == stamp  # found written: not made again
    usage = subprocess.run(argv[:4], env=_env(), capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: python -m racer.basefill")
