"""Races built from real upstream commits (scripts/realwork/): a base tree, a spec, the fix's tests
as hidden acceptance tests, and candidates of known quality as patches the fake agent applies.

Used by tests/test_ranking_bench.py and scripts/bench_ranking.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racer.testfiles import DEFAULT_TEST_PATTERNS, is_test_file

ROOT = Path(__file__).resolve().parents[2] / "scripts" / "realwork"
# Where a task's dependencies (node_modules) are installed once, by the digest of its manifests.
CACHE = Path(os.environ.get("RACER_BENCH_CACHE") or Path.home() / ".cache" / "racer-bench")
# Manifests whose content decides what `install` puts in a shared dir.
MANIFESTS = ("package.json", "package-lock.json", "go.mod", "go.sum")

# Components of the ranking key that are test evidence (rank.COMPONENTS names).
TEST_EVIDENCE = (
    "hidden acceptance tests",
    "regressions (broken tests)",
    "failing tests",
    "fixed tests",
    "other candidates' tests",
)


@dataclass(frozen=True)
class Contestant:
    name: str
    kind: str
    diff: str | None  # the patch text
    scenario: dict[str, Any]
    correct: bool
    tampers: bool
    note: str


@dataclass(frozen=True)
class Task:
    id: str
    project: str
    path: Path
    test: str
    acceptance: tuple[tuple[Path, str], ...]  # (source, dest)
    contestants: tuple[Contestant, ...]
    install: str | None = None  # installs the shared dirs into a copy of the base (`npm ci`)
    share: tuple[str, ...] = ()  # raced with `--share DIR` each
    warm: bool = False  # the test command ran once in the user's checkout before the race

    @property
    def python(self) -> bool:
        return self.install is None and not self.share and self.test.startswith("python ")

    @property
    def name(self) -> str:
        return self.id


def load(path: Path) -> Task:
    meta = json.loads((path / "task.json").read_text(encoding="utf-8"))
    contestants = tuple(
        Contestant(
            name=c["name"],
            kind=c["kind"],
            diff=(path / c["diff"]).read_text(encoding="utf-8") if c.get("diff") else None,
            scenario=dict(c.get("scenario") or {}),
            correct=bool(c.get("correct")),
            tampers=bool(c.get("tampers")),
            note=c.get("note", ""),
        )
        for c in meta["candidates"]
    )
    return Task(
        id=meta["id"],
        project=meta["project"],
        path=path,
        test=meta.get("test", "python -m pytest -q"),
        acceptance=tuple((path / a["src"], a["dest"]) for a in meta["acceptance"]),
        contestants=contestants,
        install=meta.get("install"),
        share=tuple(meta.get("share") or ()),
        warm=bool(meta.get("warm")),
    )


def tasks(root: Path = ROOT) -> list[Task]:
    return [load(p.parent) for p in sorted(root.glob("*/task.json"))]


def task_test_patterns(task: Task) -> tuple[str, ...]:
    """The globs of the task's test files: its task.json's `test_paths` (racer.toml's key) if it
    has them, else racer's defaults."""
    meta = json.loads((task.path / "task.json").read_text(encoding="utf-8"))
    return tuple(meta.get("test_paths") or ()) or DEFAULT_TEST_PATTERNS


def diff_path(section: str) -> str:
    """The path one `diff --git` section of a patch changes (the old path if it deletes it)."""
    old = new = None
    for line in section.splitlines():
        if line.startswith("--- ") and old is None:
            old = line[4:].split("\t", 1)[0]
        elif line.startswith("+++ ") and new is None:
            new = line[4:].split("\t", 1)[0]
        elif line.startswith("rename to ") and new is None:
            new = "b/" + line[len("rename to ") :]
        elif line.startswith("@@"):
            break
    path = new if new and new != "/dev/null" else old
    if path and path != "/dev/null":
        return path[2:] if path[:2] in ("a/", "b/") else path
    header = section.splitlines()[0]  # diff --git a/X b/X (mode changes, binaries)
    return header.rsplit(" b/", 1)[-1]


def strip_test_files(diff: str, patterns: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The patch without its test files' sections (product-code sections intact, so `git apply`
    still works), and the paths dropped. An all-tests patch becomes ""."""
    lines = diff.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("diff --git ")]
    if not starts:
        return diff, ()
    head = "".join(lines[: starts[0]])
    kept: list[str] = []
    dropped: list[str] = []
    for i, start in enumerate(starts):
        section = "".join(lines[start : starts[i + 1] if i + 1 < len(starts) else len(lines)])
        path = diff_path(section)
        if is_test_file(path, patterns):
            dropped.append(path)
        else:
            kept.append(section)
    return (head + "".join(kept) if kept else ""), tuple(dropped)


def without_own_tests(task: Task) -> tuple[Task, dict[str, tuple[str, ...]]]:
    """The task with every candidate's patch stripped of its test files (agents that bring no
    tests), and the test files dropped per candidate. A patch left empty makes a no-op."""
    patterns = task_test_patterns(task)
    contestants = []
    dropped: dict[str, tuple[str, ...]] = {}
    for c in task.contestants:
        if c.diff is None:
            contestants.append(c)
            continue
        diff, dropped[c.name] = strip_test_files(c.diff, patterns)
        contestants.append(dataclasses.replace(c, diff=diff or None))
    return dataclasses.replace(task, contestants=tuple(contestants)), dropped


def _git(cwd: Path, *args: str) -> None:
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", *ident, *args], cwd=cwd, check=True, capture_output=True)


def deps(task: Task, cache: Path = CACHE) -> Path | None:
    """A directory holding the task's shared dirs as `install` leaves them in the base, installed
    once per content of the base's manifests (and node version) and kept in `cache`."""
    if not task.install:
        return None
    digest = hashlib.sha256(task.install.encode())
    digest.update(
        subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.encode()
    )
    for name in MANIFESTS:
        if (task.path / "base" / name).is_file():
            digest.update(name.encode() + b"\0" + (task.path / "base" / name).read_bytes())
    done = cache / f"{task.id}-{digest.hexdigest()[:16]}"
    if done.is_dir():
        return done
    work = cache / f"{done.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(task.path / "base", work)
    proc = subprocess.run(task.install, shell=True, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{task.install!r} failed for {task.id}: {proc.stderr[-2000:]}")
    try:
        work.rename(done)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(work, ignore_errors=True)
    return done


def tree_digest(root: Path) -> dict[str, tuple[int, str]]:
    """Every entry under root (files, links, dirs) -> (mode, sha256 of content or link target)."""
    out: dict[str, tuple[int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = (st.st_mode, os.readlink(path))
            elif path.is_file():
                out[rel] = (st.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                out[rel] = (st.st_mode, "")
    return out


def build(task: Task, where: Path, cache: Path = CACHE) -> Path:
    """The task's base tree as a committed repo, its fake scenarios beside it, its shared dirs
    installed (a copy of the cached install: the user's own, which a race must not write into)."""
    repo = where / "repo"
    shutil.copytree(task.path / "base", repo)
    shutil.copyfile(task.path / "spec.md", repo / "spec.md")
    installed = deps(task, cache)
    for rel in task.share:
        if installed is not None and (installed / rel).exists():
            subprocess.run(["cp", "-a", str(installed / rel), str(repo / rel)], check=True)
    scenarios = {}
    for c in task.contestants:
        scenario = dict(c.scenario)
        if c.diff is not None:
            scenario["patch"] = c.diff
        scenarios[c.name] = scenario
    (where / "scenarios.json").write_text(json.dumps(scenarios), encoding="utf-8")
    test = task.test.replace("python ", f"{sys.executable} ", 1)
    (repo / "racer.toml").write_text(
        f"test = {json.dumps(test)}\n"
        f"worktree_root = {json.dumps(str(where / 'worktrees'))}\n"
        "timeout = 60\nbaseline_runs = 2\npool = 0\n"
        f"[agents.fake]\nenv = {{ RACER_FAKE = {json.dumps(str(where / 'scenarios.json'))} }}\n",
        encoding="utf-8",
    )
    _git(repo, "init", "-q", "--initial-branch=main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", f"base of {task.id}")
    if task.warm:  # as a user who ran the tests once: tool caches under the shared dirs exist
        proc = subprocess.run(test, shell=True, cwd=repo, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{task.id}: the base's tests fail: {proc.stdout[-2000:]}")
    return repo


def run(task: Task, where: Path, cache: Path = CACHE) -> dict[str, Any]:
    """Race the task's candidates with racer, as a user would; returns race.json."""
    return race(task, where, cache=cache)


def race(
    task: Task,
    where: Path,
    *,
    acceptance: bool = True,
    args: tuple[str, ...] = (),
    scenarios: dict[str, Any] | None = None,
    cache: Path = CACHE,
) -> dict[str, Any]:
    """Like run(), with or without the hidden acceptance tests, with more racer arguments
    (`--review fake@NAME`, `--jobs 2`) and more fake scenarios (a reviewer's); returns race.json.
    The task's `share` dirs are raced with `--share DIR`, nothing else about them configured;
    race.json gains `shared_changed`: per shared dir, the entries of the user's copy whose mode or
    content the race changed (added, removed or rewritten), compared by hash."""
    repo = build(task, where, cache)
    before = {rel: tree_digest(repo / rel) for rel in task.share}
    if scenarios:
        path = where / "scenarios.json"
        played = json.loads(path.read_text(encoding="utf-8"))
        clash = set(played) & set(scenarios)
        if clash:
            raise ValueError(f"scenarios {sorted(clash)} are contestants of {task.id}")
        path.write_text(json.dumps({**played, **scenarios}), encoding="utf-8")
    # --no-history: judging measured on the evidence alone (these repositories' root commits
    # recur run after run, so a track record would carry over between runs).
    argv = [sys.executable, "-m", "racer", "run", "spec.md", "--json", "--no-history", "--agents"]
    argv.append(",".join(f"fake@{c.name}" for c in task.contestants))
    if acceptance:
        for src, dest in task.acceptance:
            argv += ["--acceptance", f"{src}:{dest}"]
    for rel in task.share:
        argv += ["--share", rel]
    argv += list(args)
    proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True, timeout=1800)
    if proc.returncode not in (0, 4):
        raise RuntimeError(f"racer failed on {task.id} ({proc.returncode}): {proc.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(proc.stdout)
    data["shared_changed"] = {}
    for rel, was in before.items():
        now = tree_digest(repo / rel)
        data["shared_changed"][rel] = sorted(
            k for k in was.keys() | now.keys() if was.get(k) != now.get(k)
        )
    return data


@dataclass(frozen=True)
class Score:
    task: str
    order: tuple[str, ...]
    top1: bool
    trap_first: bool
    tamper_total: int
    tamper_flagged: int
    flagged_honest: int
    by_tests: bool  # the decision between #1 and #2 was made by test evidence
    traps_by_tests: bool  # what put the best trap below the correct candidates was test evidence
    winner: str | None


def score(task: Task, race: dict[str, Any]) -> Score:
    by = {c["name"].split("@", 1)[1]: c for c in race["candidates"]}
    order = tuple(c["name"].split("@", 1)[1] for c in race["candidates"])
    correct = {c.name for c in task.contestants if c.correct}
    tamperers = {c.name for c in task.contestants if c.tampers}

    def flagged(name: str) -> bool:
        return any(f["severity"] == "tamper" for f in by[name]["flags"])

    decided = race.get("decided_by") or ""
    first_trap = next(
        (c for c in race["candidates"] if c["name"].split("@", 1)[1] not in correct), None
    )
    below = first_trap["reasons"][-1] if first_trap and first_trap["reasons"] else ""
    component = below.split(": ", 1)[1] if below.startswith("below ") and ": " in below else ""
    return Score(
        task=task.id,
        order=order,
        top1=order[0] in correct and (race.get("winner") or "").endswith("@" + order[0]),
        trap_first=order[0] not in correct,
        tamper_total=len(tamperers),
        tamper_flagged=sum(flagged(n) for n in tamperers),
        flagged_honest=sum(flagged(n) for n in by if n not in tamperers),
        by_tests=decided.startswith(TEST_EVIDENCE),
        traps_by_tests=component.startswith(TEST_EVIDENCE) or component.startswith("gates"),
        winner=race.get("winner"),
    )
