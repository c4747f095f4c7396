#!/usr/bin/env python3
"""Race benchmark: racer's wall time against the ideal, its peak RSS and its own command costs on a
synthetic 50k-file repo, and the same race under coderace (its default and --parallel modes).

    python scripts/bench_race.py [--sizes 1,4,8,16] [--files 50000] [--agent-seconds 4]
        [--test-seconds 1] [--no-coderace] [--coderace-lanes 5] [--coderace-rounds 3] [--rounds 1]
        [--keep] [--cache DIR]
        [--profile DIR] [--pool cold|warm|both] [--lanes overlay|checkout|both] [--against TREE]

The coderace comparison runs first: --coderace-rounds rounds (default 3) of racer's race at
--coderace-lanes (in each pool mode), then coderace's default and --parallel modes, interleaved;
its targets are judged on the medians (one run of either tool moves by more than their margins
on this VM). Then each kind of lanes at the sizes in the order given, --rounds times (each race
with its own ideal; with more than one round, the targets are judged on the median ratio).

Every contestant, racer's and coderace's, is one fake agent executable: it ignores its arguments,
sleeps --agent-seconds, fixes calc.add in its working directory and prints one line. The test
suite sleeps --test-seconds.

The ideal, measured on this machine right before each race, is the physical limit of an N-lane
race here: one `git worktree add` of the repo (with git's parallel checkout, checkout.workers =
max(8, CPUs) as racer's own checkouts: several times faster than git's default of one on this
VM's disk, so the ideal is no slower than racer could be), then N lanes of (agent + its test) at once as
plain processes in plain directories (each lane a directory of the files the agent and the test
touch, the data files linked from that one checkout; each lane's test starts when its agent
ends), so the ratio says what racer costs, not what N test runs on 2 cores cost. The old ideal,
one lane alone (agent + test) plus one `git worktree add`, is printed beside it ("1-lane ideal").

Racer runs with `--jobs N` (so its test runs are not capped at the CPU count) and the default
`baseline_runs` (2: the base commit's suite runs twice in its own lane while the agents work).
racer's modules are byte-compiled first, as `pip install` does (this machine's environment sets
PYTHONDONTWRITEBYTECODE=1, which would otherwise compile them on every start).
Its peak RSS is the racer process's own (getrusage(RUSAGE_SELF) read by a tiny in-process wrapper
at exit), not its children's (git, pytest): RUSAGE_CHILDREN would report the largest descendant.
The phases printed under each race come from the fake agent's and the test's own timestamps, and
where racer's time went from a trace of its steps (TRACED, timed in-process in every thread, and
every git command it runs): launch -> first agent (imports, plan, lanes), each lane's commit,
diff and scoring (min/median/max over the lanes), the baseline's runs, and what follows the last
test (collecting the lanes, judging, writing the report) up to the process's exit.
pytest runs with PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 so that a test run costs its sleep, not ~1 s of
CPU scanning every installed distribution for plugins.

With --against TREE (another racer source tree, say a worktree of main), every race is run a
second time right after the first, with that tree's racer, against the same ideal: before and
after a change in one run, under the same load.

Each N is raced with both kinds of lanes (--lanes both, config key `lanes`): "overlay" (one
base checkout shared by every lane, a writable layer each, racer/overlay.py) and "checkout" (a
checkout per lane); and each twice (--pool both): "cold", with the pool emptied first (`racer
pool --clear`: no spare checkout and no base checkout — every checkout lane, or the overlay
lanes' one base checkout, is made afresh), and "warm" (`racer pool --fill`: N + 1 spares for
checkout lanes, the base checkout for overlay lanes). The repo's racer.toml sets `pool` to the
largest N + 1. Before each race the bench waits until the checkouts racer deleted in the
background are gone, and every timed step (the ideal's checkout, the race, coderace) starts after
a sync, so none pays for writing back the files of the one before. The coderace comparison races racer with overlay lanes.

After each race: `racer show` (best of 3), then a plain `racer merge WINNER` (landing it and
removing every lane: into the pool while it has room), then the base branch reset to the base
commit for the next race. XDG_DATA_HOME and TMPDIR point into the temp dir, so racer's and
coderace's checkouts land there and go with it.
coderace is installed from PyPI into its own venv under --cache (kept between runs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's racer

# The ideal's checkout writes its files as racer's own checkouts do.
from racer.git import CHECKOUT_WORKERS

CODERACE_VERSION = "2.0.0"

# coderace's adapters (coderace/adapters/__init__.py ADAPTERS), each launching the executable of
# the same name; Task.validate (coderace/types.py) refuses any other name, and a repeated name
# reuses one branch, so coderace races at most these five lanes.
CODERACE_AGENTS = ("claude", "codex", "aider", "gemini", "opencode")
AGENT = "bench"  # racer's command agent, raced as bench*N

BUGGY = '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a - b\n'
FIXED = '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a + b\n'
SPEC = """---
title: Fix calc.add
---
`calc.add(a, b)` must return the sum of its arguments; `python -m pytest` shows it does not.
Fix it without touching the tests.
"""

FAKE_AGENT = '''#!{python}
"""Fake coding agent for scripts/bench_race.py: ignores its arguments, sleeps, fixes calc.add."""
import json, os, sys, time

start = time.time()
path = os.path.join("calc", "__init__.py")
with open(path) as fh:
    already_fixed = fh.read() == {fixed!r}
time.sleep({seconds!r})
with open(path, "w") as fh:
    fh.write({fixed!r})
with open({log!r}, "a") as fh:
    record = {{"name": os.path.basename(sys.argv[0]), "cwd": os.getcwd(), "start": start,
              "end": time.time(), "already_fixed": already_fixed}}
    fh.write(json.dumps(record) + "\\n")
print("Fixed calc.add: it now returns the sum of its arguments.")
'''

TEST_FILE = """import json
import os
import time

from calc import add


def test_add():
    start = time.time()
    time.sleep({seconds!r})
    with open({log!r}, "a") as fh:
        fh.write(json.dumps({{"cwd": os.getcwd(), "start": start, "end": time.time()}}) + "\\n")
    assert add(2, 3) == 5


def test_data_present():
    assert os.path.isfile(os.path.join("data", "d000", "f00000.txt"))
"""

# Runs racer in-process, so the max RSS it reports at exit is the racer process's own. With a
# trace path, racer's steps (TRACED) and every git command it runs are timed in-process, in
# every thread, and written as JSON lines: (what, label, thread, start, end) in time.time().
RSS_WRAPPER = """
import atexit, cProfile, resource, sys, time
t_main = time.time()
rss_path, prof_path, trace_path = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = ["racer", *sys.argv[4:]]
prof = cProfile.Profile() if prof_path else None
spans = []
done = []

def finish():
    # At racer's exit: racer's main ends the process itself (os._exit after the exit
    # handlers, racer/exiting.py), so this runs as the last exit handler (the first registered).
    if done:
        return
    done.append(1)
    if prof is not None:
        prof.disable()
        prof.dump_stats(prof_path)
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(rss_path, "w") as fh:
        fh.write(f"{own.ru_maxrss} {kids.ru_maxrss} {own.ru_utime + own.ru_stime}"
                 f" {kids.ru_utime + kids.ru_stime}")
    if trace_path:
        import json
        spans.append(("exit", "", "main", time.time(), time.time()))
        with open(trace_path, "w") as fh:
            for s in spans:
                fh.write(json.dumps(s) + "\\n")

atexit.register(finish)
if prof is not None:
    prof.enable()
from racer.cli import main
if trace_path:
    import importlib
    exec(open(trace_path + ".py").read())
spans.append(("imports", "", "main", t_main, time.time()))
main()  # (a racer from before racer/exiting.py returns by SystemExit: finish runs at exit)
"""
# racer's steps the trace times (module, function): wrapped wherever racer holds a reference.
TRACED = (
    ("racer.plan", "prepare"),
    ("racer.prepare", "choose_lanes"),
    ("racer.repo", "checkout_snapshot"),
    ("racer.race", "_begin"),
    ("racer.race", "_shared"),
    ("racer.race", "_lanes"),
    ("racer.race", "collect_lanes"),
    ("racer.collect", "collect_lanes"),
    ("racer.race", "check_main_checkout"),
    ("racer.collect", "checkout_changed"),
    ("racer.race", "kept_changes"),
    ("racer.race", "_release"),
    ("racer.overlay", "ensure_base"),
    ("racer.overlay", "check_out"),
    ("racer.overlay", "prune_bases"),
    ("racer.prepare", "prepare_checkout"),
    ("racer.attempts", "run_attempts"),
    ("racer.checkout", "commit_all"),
    ("racer.checkout", "write_diff"),
    ("racer.changes", "diffstat_of"),
    ("racer.changes", "changed_files"),
    ("racer.changes", "test_files_at"),
    ("racer.scoring", "score"),
    ("racer.scoring", "run_baseline"),
    ("racer.scoring", "reset_checkout"),
    ("racer.scoring", "cross_check"),
    ("racer.testrun", "run_tests"),
    ("racer.orphans", "find"),
    ("racer.provision", "shared_writes"),
    ("racer.verdict", "judge"),
    ("racer.views", "write_views"),
    ("racer.pool", "release"),
    ("racer.git", "git"),
)

# Wraps TRACED in the racer process (exec'd by RSS_WRAPPER with `spans` in scope).
TRACER = """
import functools, inspect, threading, time
from pathlib import Path as _P
for _m in {modules!r}:
    importlib.import_module(_m)
_originals = {{}}
for _mod, _name in {traced!r}:
    _fn = getattr(importlib.import_module(_mod), _name, None)
    if _fn is not None:  # a racer of another tree (--against) may not have it
        _originals[_fn] = _name

def _label(name, args, kwargs):
    if name == "git":
        return " ".join(str(a) for a in args[0][:2]) + " @" + _P(args[1]).name
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, _P):
            return a.name
        if hasattr(a, "slug") and isinstance(getattr(a, "slug"), str):
            return a.slug
    return ""

def _wrap(fn, name):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            t0 = time.time()
            try:
                return await fn(*args, **kwargs)
            finally:
                spans.append((name, _label(name, args, kwargs), threading.current_thread().name, t0, time.time()))
    else:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            t0 = time.time()
            try:
                return fn(*args, **kwargs)
            finally:
                spans.append((name, _label(name, args, kwargs), threading.current_thread().name, t0, time.time()))
    return wrapper

_wrapped = {{fn: _wrap(fn, name) for fn, name in _originals.items()}}
for _mod in list(sys.modules.values()):
    if not getattr(_mod, "__name__", "").startswith("racer"):
        continue
    for _attr, _val in list(vars(_mod).items()):
        try:
            if _val in _wrapped:
                setattr(_mod, _attr, _wrapped[_val])
        except TypeError:
            continue
"""

GIT_ID = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


@dataclass(frozen=True)
class Ideal:
    worktree_add: float
    agent: float
    test: float
    lanes: float  # N lanes of agent + test at once, plain processes in plain directories
    n: int

    @property
    def total(self) -> float:
        """The physical limit of an N-lane race here: one checkout, then N lanes at once."""
        return self.worktree_add + self.lanes

    @property
    def one_lane(self) -> float:
        """The old ideal: one lane alone (agent + test) plus one checkout."""
        return self.worktree_add + self.agent + self.test


@dataclass(frozen=True)
class Phases:
    """When things happened in a race, in seconds after its launch (from the fakes' own logs)."""

    first_agent_start: float
    last_agent_start: float
    last_agent_end: float
    last_test_end: float  # the lanes' test runs (not the baseline's)
    report_md: float | None  # report.md written (after judging and the baseline's removal)


@dataclass(frozen=True)
class RacerRun:
    lanes: int
    kind: str  # "overlay" | "checkout"
    wall: float
    exit_code: int
    rss_mb: float
    children_rss_mb: float
    cpu_s: float  # the racer process's own user + system time
    children_cpu_s: float  # its descendants' (git, agents, pytest)
    race_id: str
    ran: int
    scored: int
    passed: int
    winner: str | None
    phases: Phases | None
    baseline_runs: int
    breakdown: tuple[str, ...] = ()  # where racer's time went (the trace), one line each


@dataclass(frozen=True)
class CoderaceRun:
    mode: str
    lanes: int
    wall: float
    exit_code: int
    ran: int
    scored: int
    passed: int
    leaked: int  # lanes whose agent started on a tree a previous lane had already fixed
    failed_to_run: int


def fmt_target(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    *,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise SystemExit(
            f"command failed ({proc.returncode}): {shlex.join(argv)}\n{proc.stderr[-3000:]}"
        )
    return proc


def timed(fn: Callable[[], object]) -> float:
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_jsonl_list(path: Path) -> list[list[Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


Span = tuple[str, str, str, float, float]  # what, label (lane, git command), thread, start, end


def _spread(values: Sequence[float]) -> str:
    """min/median/max of per-lane seconds."""
    if not values:
        return "-"
    v = sorted(values)
    return f"{v[0]:.2f}/{v[len(v) // 2]:.2f}/{v[-1]:.2f}"


def breakdown(
    spans: Sequence[Span],
    agents: Sequence[Mapping[str, Any]],
    tests: Sequence[Mapping[str, Any]],
    t0: float,
) -> list[str]:
    """Where racer's time went in one race, from the trace of its steps (seconds after launch;
    per-lane figures as min/median/max over the lanes)."""
    if not spans:
        return []
    by: dict[str, list[Span]] = {}
    for sp in spans:
        by.setdefault(sp[0], []).append(sp)

    def one(name: str) -> str:
        got = by.get(name) or []
        if not got:
            return f"{name} -"
        return f"{name} {got[0][3] - t0:.2f}->{got[-1][4] - t0:.2f} ({sum(g[4] - g[3] for g in got):.2f} s)"

    def per_lane(name: str, lanes: set[str]) -> list[Span]:
        return [sp for sp in by.get(name, []) if sp[1] in lanes]

    lanes = {Path(a["cwd"]).name for a in agents}
    end_of = {Path(a["cwd"]).name: a["end"] for a in agents}
    first_test: dict[str, float] = {}
    for t in tests:
        lane = Path(t["cwd"]).name
        first_test[lane] = min(first_test.get(lane, math.inf), t["start"])
    lines = [
        "  ".join(
            one(n)
            for n in (
                "imports",
                "prepare",
                "choose_lanes",
                "_begin",
                "checkout_snapshot",
                "_shared",
            )
        ),
        "  ".join(one(n) for n in ("ensure_base", "check_out", "prepare_checkout", "run_attempts")),
    ]
    after = []
    for name in (
        "commit_all",
        "write_diff",
        "diffstat_of",
        "changed_files",
        "score",
        "reset_checkout",
    ):
        after.append(f"{name} {_spread([sp[4] - sp[3] for sp in per_lane(name, lanes)])}")
    lines.append("per lane (s, min/med/max): " + "  ".join(after))
    gap = [first_test[ln] - end_of[ln] for ln in lanes if ln in first_test]
    queue = []
    for sp in per_lane("score", lanes):
        commit = [c for c in per_lane("changed_files", {sp[1]})]
        if commit:
            queue.append(sp[3] - commit[-1][4])
    test_runs = [sp for sp in by.get("run_tests", []) if sp[1] in lanes]
    lines.append(
        f"agent end -> its test's start {_spread(gap)}; changes found -> scoring starts {_spread(queue)}; "
        f"{len(test_runs)} test runs for {len(lanes)} lanes, {_spread([sp[4] - sp[3] for sp in test_runs])} s "
        f"(pytest's own sleep {_spread([t['end'] - t['start'] for t in tests if Path(t['cwd']).name in lanes])})"
    )
    base_runs = [sp for sp in by.get("run_tests", []) if sp[1] not in lanes]
    lines.append(
        one("run_baseline")
        + f"  baseline test runs {', '.join(f'{sp[3] - t0:.2f}->{sp[4] - t0:.2f}' for sp in base_runs)}"
    )
    lines.append(
        "  ".join(
            one(n)
            for n in (
                "_lanes",
                "check_main_checkout",
                "checkout_changed",
                "collect_lanes",
                "_release",
                "prune_bases",
                "judge",
                "write_views",
                "exit",
            )
        )
    )
    gits: dict[str, list[float]] = {}
    for sp in by.get("git", []):
        gits.setdefault(sp[1].split(" @")[0].split(" ")[0], []).append(sp[4] - sp[3])
    top = sorted(gits.items(), key=lambda kv: -sum(kv[1]))[:8]
    lines.append(
        f"git: {sum(len(v) for v in gits.values())} calls, {sum(sum(v) for v in gits.values()):.1f} s in all (thread time); "
        + ", ".join(f"{k} {len(v)}x {sum(v):.1f} s" for k, v in top)
    )
    return lines


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="racer-bench-race-")).resolve()
        self.repo = self.root / "repo"
        self.bin = self.root / "bin"
        self.logs = self.root / "logs"
        self.agent_log = self.logs / "agents.jsonl"
        self.test_log = self.logs / "tests.jsonl"
        self.xdg = self.root / "xdg"
        self.spec = self.root / "spec.md"
        self.fake = self.bin / "fake-agent"
        self.test_cmd = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider"
        self.env = {
            **os.environ,
            **GIT_ID,
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "XDG_DATA_HOME": str(self.xdg),  # racer's worktrees land here, not in $HOME
            "TMPDIR": str(self.root / "tmp"),  # coderace's worktrees (mkdtemp) land here
            "NO_COLOR": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            # The suite's cost should be its sleep: pytest's plugin autoload scans every installed
            # distribution's entry points, ~1.1 s of CPU per run here, which 16 parallel runs on
            # 2 cores would turn into ~10 s that no tool can avoid.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "RACER_JOBS", "RACER_TEST"):
            self.env.pop(var, None)
        self.racer = self._racer_argv()
        self.races = 0
        self.coderace_runs = 0

    @staticmethod
    def _racer_argv() -> list[str]:
        script = Path(sys.executable).parent / "racer"
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script)]
        return [sys.executable, "-m", "racer"]

    # -- setup -------------------------------------------------------------------------------

    def build(self) -> None:
        for d in (self.bin, self.logs, self.xdg, self.root / "tmp", self.repo / "calc"):
            d.mkdir(parents=True, exist_ok=True)
        self.fake.write_text(
            FAKE_AGENT.format(
                python=sys.executable,
                fixed=FIXED,
                seconds=float(self.args.agent_seconds),
                log=str(self.agent_log),
            )
        )
        self.fake.chmod(0o755)
        for name in CODERACE_AGENTS:
            (self.bin / name).symlink_to(self.fake)
        self.spec.write_text(SPEC)

        repo = self.repo
        for i in range(self.args.files):
            d = repo / "data" / f"d{i // 100:03d}"
            if i % 100 == 0:
                d.mkdir(parents=True, exist_ok=True)
            (d / f"f{i:05d}.txt").write_text(f"data file {i}\n")
        (repo / "calc" / "__init__.py").write_text(BUGGY)
        (repo / "tests").mkdir()
        (repo / "tests" / "test_calc.py").write_text(
            TEST_FILE.format(seconds=float(self.args.test_seconds), log=str(self.test_log))
        )
        (repo / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
        (repo / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n.coderace/\n")
        pool = max(int(s) for s in self.args.sizes.split(",") if s.strip()) + 1
        (repo / "racer.toml").write_text(
            f"pool = {max(pool, self.args.coderace_lanes + 1)}\n"
            f"[agent.{AGENT}]\ncommand = [{json.dumps(str(self.fake))}]\n"
        )
        run(["git", "init", "-q", "-b", "main"], repo, self.env)
        run(["git", "add", "-A"], repo, self.env)
        run(["git", "config", "gc.auto", "0"], repo, self.env)
        run(["git", "commit", "-q", "-m", "synthetic repo"], repo, self.env)
        # One pack, now: 50k loose objects would otherwise start a `git gc --auto` in the
        # background during the first race, and every checkout reads them one file at a time.
        run(["git", "repack", "-adq"], repo, self.env)
        self.base = run(["git", "rev-parse", "HEAD"], repo, self.env).stdout.strip()

    def clear_logs(self) -> None:
        for log in (self.agent_log, self.test_log):
            log.unlink(missing_ok=True)

    # -- the ideal ---------------------------------------------------------------------------

    def measure_ideal(self, n: int) -> Ideal:
        wt = self.root / "ideal-wt"
        add = timed(
            lambda: run(
                ["git", *CHECKOUT_WORKERS, "worktree", "add", "-q", "--detach", str(wt), "HEAD"],
                self.repo,
            )
        )
        agent = timed(lambda: run([str(self.fake), "-p", "fix it"], wt, self.env))
        test = timed(lambda: run(shlex.split(self.test_cmd), wt, self.env))
        run(["git", "checkout", "-q", "--", "."], wt)
        lanes = self.ideal_lanes(wt, n)
        self.clear_logs()
        os.sync()  # racer, next, does not pay for writing back the ideal's checkout
        return Ideal(add, agent, test, lanes, n)

    def ideal_lanes(self, wt: Path, n: int) -> float:
        """N lanes of (agent + its test) at once, as plain processes in plain directories: each
        lane a directory of the files the agent and the test touch, the 50k data files linked
        from the one checkout (so no lane pays for creating them). Each lane's test starts as
        soon as its agent ends. Returns the seconds from the first agent's start to the last
        test's end."""
        lanes = []
        for i in range(n):
            lane = self.root / "ideal-lanes" / str(i)
            shutil.rmtree(lane, ignore_errors=True)
            lane.mkdir(parents=True)
            for name in ("calc", "tests"):
                shutil.copytree(wt / name, lane / name)
            for name in ("pytest.ini", ".gitignore", "racer.toml"):
                shutil.copy2(wt / name, lane / name)
            (lane / "data").symlink_to(wt / "data")
            lanes.append(lane)
        t0 = time.monotonic()
        agents = [self._spawn([str(self.fake), "-p", "fix it"], lane) for lane in lanes]
        tests: dict[int, subprocess.Popen[bytes]] = {}
        while len(tests) < n or any(t.poll() is None for t in tests.values()):
            for i, proc in enumerate(agents):
                if i not in tests and proc.poll() is not None:
                    tests[i] = self._spawn(shlex.split(self.test_cmd), lanes[i])
            time.sleep(0.01)
        took = time.monotonic() - t0
        failed = [i for i, t in tests.items() if t.returncode != 0]
        if failed:
            raise SystemExit(f"the ideal's lanes {failed} failed their tests")
        shutil.rmtree(self.root / "ideal-lanes", ignore_errors=True)
        return took

    def _spawn(self, argv: Sequence[str], cwd: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def drop_ideal(self) -> None:
        """Remove the ideal's worktree after the race: deleting 50k files right before racer
        creates its own would make racer pay for the deletion (file creation right after many
        deletions is several times slower on this VM)."""
        wt = self.root / "ideal-wt"
        if wt.exists():
            run(["git", "worktree", "remove", "--force", str(wt)], self.repo)

    # -- racer -------------------------------------------------------------------------------

    def race(self, n: int, kind: str, tree: Path | None = None) -> RacerRun:
        """One `racer run` of N lanes; with `tree`, of the racer sources there (--against)."""
        self.clear_logs()
        rss_file = self.root / f"rss-{n}.txt"
        self.races += 1
        prof = ""
        if self.args.profile:
            self.args.profile.mkdir(parents=True, exist_ok=True)
            prof = str(self.args.profile.resolve() / f"racer-run-{self.races}-{kind}-{n}.prof")
        trace = self.logs / f"trace-{self.races}.jsonl"
        modules = sorted({m for m, _ in TRACED} | {"racer.cli", "racer.race", "racer.lane"})
        Path(f"{trace}.py").write_text(TRACER.format(modules=modules, traced=TRACED))
        argv = [
            sys.executable,
            "-P",  # the synthetic repo (cwd) must not shadow any module
            "-c",
            RSS_WRAPPER,
            str(rss_file),
            prof,
            str(trace),
            "run",
            str(self.spec),
            "--no-history",  # timing only: no database read or written
            "--agents",
            f"{AGENT}*{n}",
            "--jobs",
            str(n),
            "--test",
            self.test_cmd,
            "--json",
        ]
        t_launch = time.time()
        t0 = time.monotonic()
        env = {**self.env, "RACER_LANES": kind}
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
        proc = run(argv, self.repo, env, check=False)
        wall = time.monotonic() - t0
        if "lanes are checkouts" in proc.stderr and kind == "overlay":
            raise SystemExit(f"overlay lanes unavailable here: {proc.stderr.strip()}")
        if proc.returncode not in (0, 4):
            raise SystemExit(f"racer run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        (self.root / f"racer-run-{n}.stderr.log").write_text(proc.stderr)
        record = json.loads(proc.stdout)
        own, kids, cpu, kids_cpu = (float(x) for x in rss_file.read_text().split())
        cands = record["candidates"]
        agents = [a for a in read_jsonl(self.agent_log) if str(self.xdg) in a["cwd"]]
        tests = [
            t
            for t in read_jsonl(self.test_log)
            if str(self.xdg) in t["cwd"] and not t["cwd"].endswith("_baseline")
        ]
        report_md = None
        md = Path(record.get("race_dir") or "") / "report.md"
        if md.is_file():
            report_md = md.stat().st_mtime
        phases = None
        if agents:
            phases = Phases(
                first_agent_start=min(a["start"] for a in agents) - t_launch,
                last_agent_start=max(a["start"] for a in agents) - t_launch,
                last_agent_end=max(a["end"] for a in agents) - t_launch,
                last_test_end=max((t["end"] for t in tests), default=t_launch) - t_launch,
                report_md=report_md - t_launch if report_md else None,
            )
        baseline = record.get("baseline") or {}
        spans = [tuple(x) for x in read_jsonl_list(trace)]
        every_test = [t for t in read_jsonl(self.test_log) if str(self.xdg) in t["cwd"]]
        return RacerRun(
            lanes=n,
            kind=kind,
            wall=wall,
            exit_code=proc.returncode,
            rss_mb=own / 1024,
            children_rss_mb=kids / 1024,
            cpu_s=cpu,
            children_cpu_s=kids_cpu,
            race_id=record["id"],
            ran=len(agents),
            scored=sum(1 for c in cands if c.get("tests")),
            passed=sum(1 for c in cands if (c.get("tests") or {}).get("ok")),
            winner=record.get("winner"),
            phases=phases,
            baseline_runs=len(baseline.get("runs") or ()),
            breakdown=tuple(breakdown(spans, agents, every_test, t_launch)),
        )

    def racer_cmd(self, *args: str, kind: str = "checkout") -> subprocess.CompletedProcess[str]:
        return run([*self.racer, *args], self.repo, {**self.env, "RACER_LANES": kind})

    def best_of(self, times: int, *args: str) -> float:
        return min(timed(lambda: self.racer_cmd(*args)) for _ in range(times))

    def merge(self, r: RacerRun) -> float | None:
        """`racer merge` of the winner (landing it and removing every lane: into the pool while
        it has room), then the base branch back to the base commit; `racer clean --force`
        when there is no winner."""
        if not r.winner:
            self.racer_cmd("clean", r.race_id, "--force", kind=r.kind)
            return None
        took = timed(lambda: self.racer_cmd("merge", r.winner or "", kind=r.kind))
        run(["git", "reset", "-q", "--hard", self.base], self.repo, self.env)
        return took

    def spares(self) -> int:
        return len(
            [p for p in self.xdg.glob("racer/worktrees/*/.racer-pool/*") if p.name[0] != "."]
        )

    def bases(self) -> int:
        return len(
            [p for p in self.xdg.glob("racer/worktrees/*/.racer-base/*") if p.name[0] != "."]
        )

    def settle(self) -> None:
        """Wait until the checkouts racer deleted in the background are gone: a race must not
        pay for the previous one's `rm -rf`."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            trash = list(self.xdg.glob("racer/worktrees/*/.racer-trash/*"))
            if not trash:
                break
            time.sleep(0.5)
        # Every timed step starts on a flushed disk: the ideal's 50k new files would otherwise
        # be written back while racer's own checkout runs (and the other way round).
        os.sync()

    def prepare(self, n: int, mode: str, kind: str) -> float:
        """Empty the pool (cold) or fill it with n + 1 spares (warm: n lanes + the baseline) or
        the base checkout (overlay lanes); returns the seconds `racer pool --fill` took (0 when
        the pool already held them)."""
        took = 0.0
        if mode == "cold":
            self.racer_cmd("pool", "--clear")
        else:
            took = timed(lambda: self.racer_cmd("pool", "--fill", str(n + 1), kind=kind))
        self.settle()
        return took

    # -- coderace ----------------------------------------------------------------------------

    def ensure_coderace(self) -> Path:
        venv = (Path(self.args.cache) / f"coderace-{CODERACE_VERSION}").resolve()
        exe = venv / "bin" / "coderace"
        if exe.is_file():
            got = run([str(exe), "version"], self.root, check=False).stdout
            if CODERACE_VERSION in got:
                return exe
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", str(venv)], self.root)
        run(
            [
                str(venv / "bin" / "python"),
                *("-m", "pip", "install", "-q", "--disable-pip-version-check"),
                f"coderace=={CODERACE_VERSION}",
            ],
            self.root,
        )
        return exe

    def coderace(self, exe: Path, lanes: int, parallel: bool) -> CoderaceRun:
        mode = "--parallel" if parallel else "default"
        self.coderace_runs += 1  # a directory per run: none pays for deleting another's clone
        work = self.root / f"coderace-{'parallel' if parallel else 'default'}-{self.coderace_runs}"
        work.mkdir()
        repo = work / "repo"  # a fresh clone per run: nothing leaks between runs
        run(["git", "clone", "-q", str(self.repo), str(repo)], self.root, self.env)
        agents = list(CODERACE_AGENTS[:lanes])
        task = {
            "name": "fix-add",
            "description": SPEC.split("---", 2)[2].strip(),
            "repo": str(repo),
            "test_command": self.test_cmd,
            "timeout": 300,
            "agents": agents,
        }
        task_file = work / "task.yaml"
        task_file.write_text(json.dumps(task, indent=2))  # JSON is YAML
        env = {**self.env, "HOME": str(work / "home"), "COLUMNS": "200"}
        self.clear_logs()
        os.sync()
        argv = [str(exe), "run", str(task_file), "--no-save"] + (["--parallel"] if parallel else [])
        t0 = time.monotonic()
        proc = run(argv, work, env, check=False)
        wall = time.monotonic() - t0
        (work / "coderace.log").write_text(proc.stdout + proc.stderr)
        results_file = work / ".coderace" / "fix-add-results.json"
        results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
        ran = read_jsonl(self.agent_log)
        return CoderaceRun(
            mode=mode,
            lanes=len(agents),
            wall=wall,
            exit_code=proc.returncode,
            ran=len(ran),
            scored=len(results),
            passed=sum(1 for r in results if r["breakdown"]["tests_pass"]),
            leaked=sum(1 for a in ran if a["already_fixed"]),
            failed_to_run=proc.stdout.count("failed to run"),
        )

    def cleanup(self) -> None:
        if self.args.keep:
            print(f"\nkept: {self.root}")
            return
        # racer's worktrees live under self.xdg and coderace's under self.root/tmp: all inside.
        shutil.rmtree(self.root, ignore_errors=True)


def print_races(runs: Sequence[tuple[str, RacerRun, Ideal]], largest: int) -> None:
    print(
        f"{'N':>3} {'lanes':>8} {'pool':>5} {'racer s':>8} {'ideal s':>8} {'ratio':>6} {'target':>12} "
        f"{'1-lane ideal':>12} {'ratio':>6} "
        f"{'RSS MB':>7} {'CPU s':>6} {'kids CPU s':>10} {'ran/scored/passed':>18}"
    )
    for mode, r, ideal in runs:
        ratio = r.wall / ideal.total
        limit = {8: 1.05, 16: 1.10}.get(r.lanes)
        target = f"<={limit:.2f} {fmt_target(ratio <= limit)}" if limit else "-"
        print(
            f"{r.lanes:>3} {r.kind:>8} {mode:>5} {r.wall:>8.2f} {ideal.total:>8.2f} {ratio:>6.2f} {target:>12} "
            f"{ideal.one_lane:>12.2f} {r.wall / ideal.one_lane:>6.2f} "
            f"{r.rss_mb:>7.1f} {r.cpu_s:>6.2f} {r.children_cpu_s:>10.2f} "
            f"{f'{r.ran}/{r.scored}/{r.passed} of {r.lanes}':>18}"
        )
        p = r.phases
        if p is None:
            print("      no agent ran")
            continue
        print(
            f"      s after launch: agents started {p.first_agent_start:.1f}..{p.last_agent_start:.1f}"
            f", done {p.last_agent_end:.1f}; last lane test done {p.last_test_end:.1f}; "
            + (f"report.md {p.report_md:.1f}; " if p.report_md is not None else "")
            + f"exit {r.wall:.1f}  (ideal: agent starts at {ideal.worktree_add:.1f})"
        )
    for mode, r, _ in runs:
        if r.lanes == largest:
            ok = r.rss_mb <= 150
            print(
                f"peak RSS of the racer process at N={r.lanes} ({r.kind}, {mode}): "
                f"{r.rss_mb:.1f} MB (<= 150) "
                f"{fmt_target(ok)}; largest descendant (git/pytest): {r.children_rss_mb:.1f} MB"
            )


def print_medians(runs: Sequence[tuple[str, RacerRun, Ideal]]) -> None:
    """Each race's ratio over the rounds, the target judged on the median: one 50k-file
    checkout here takes 2-9 s from one minute to the next, the ideal's and racer's alike."""
    groups: dict[tuple[str, int, str], list[tuple[RacerRun, Ideal]]] = {}
    for mode, r, ideal in runs:
        groups.setdefault((r.kind, r.lanes, mode), []).append((r, ideal))
    print("\n== racer vs the ideal, each round's ratio and their median (the targets) ==")
    print(
        f"{'N':>3} {'lanes':>8} {'pool':>5} {'racer s':>20} {'ideal s':>20} {'ratios':>20} {'median':>7} {'target':>13}"
    )
    for (kind, n, mode), pairs in groups.items():
        ratios = [r.wall / i.total for r, i in pairs]
        median = statistics.median(ratios)
        limit = {8: 1.05, 16: 1.10}.get(n)
        target = f"<={limit:.2f} {fmt_target(median <= limit)}" if limit else "-"
        walls = ", ".join(f"{r.wall:.1f}" for r, _ in pairs)
        ideals = ", ".join(f"{i.total:.1f}" for _, i in pairs)
        each = ", ".join(f"{x:.2f}" for x in ratios)
        print(
            f"{n:>3} {kind:>8} {mode:>5} {walls:>20} {ideals:>20} {each:>20} {median:>7.2f} {target:>13}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1,4,8,16", help="lane counts to race (default 1,4,8,16)"
    )
    parser.add_argument("--files", type=int, default=50_000, help="data files in the repo")
    parser.add_argument("--agent-seconds", type=float, default=4.0, help="fake agent's run time")
    parser.add_argument("--test-seconds", type=float, default=1.0, help="the test suite's sleep")
    parser.add_argument("--no-coderace", action="store_true", help="skip the coderace comparison")
    parser.add_argument("--coderace-lanes", type=int, default=5, help="lanes for the comparison")
    parser.add_argument(
        "--coderace-rounds",
        type=int,
        default=3,
        help="rounds of the comparison (racer, then coderace's two modes); judged on medians",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="rounds of the N races, each with its own ideal; with more than one, the targets "
        "are judged on the median ratio",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (repo, logs)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "racer-bench-cache",
        help="where coderace's venv is kept between runs",
    )
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of each `racer run` here"
    )
    parser.add_argument(
        "--pool",
        choices=("cold", "warm", "both"),
        default="both",
        help="race with an empty pool of spare checkouts (every lane checked out afresh), a "
        "full one (every lane a renewed spare), or both (default)",
    )
    parser.add_argument(
        "--lanes",
        choices=("overlay", "checkout", "both"),
        default="both",
        help="race with overlay lanes, checkout lanes, or both (default)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="another racer source tree (say, a worktree of main): each race is run again "
        "with it, right after this one's, against the same ideal",
    )
    args = parser.parse_args()
    modes = ("cold", "warm") if args.pool == "both" else (args.pool,)
    kinds = ("overlay", "checkout") if args.lanes == "both" else (args.lanes,)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    cr_lanes = min(args.coderace_lanes, len(CODERACE_AGENTS))

    bench = Bench(args)
    try:
        t0 = time.monotonic()
        bench.build()
        print(
            f"synthetic repo: {args.files:,} data files + calc/ + tests/ "
            f"(built in {time.monotonic() - t0:.1f} s); agent {args.agent_seconds:g} s, "
            f"test {args.test_seconds:g} s; {os.cpu_count()} CPUs"
        )
        print(f"racer: {shlex.join(bench.racer)}; run with --jobs N, baseline_runs default (2)")
        print(f"tests: {bench.test_cmd} with PYTEST_DISABLE_PLUGIN_AUTOLOAD=1")
        for tree in (Path(__file__).resolve().parent.parent, args.against):
            if tree is not None:  # as `pip install` does: racer's modules byte-compiled
                run([sys.executable, "-m", "compileall", "-q", str(tree / "racer")], tree)
        print(f"load before: {_load()}")
        print()

        help_s = bench.best_of(5, "--help")
        runs: list[tuple[str, RacerRun, Ideal]] = []
        against: list[tuple[str, RacerRun, Ideal]] = []
        costs: dict[tuple[str, str, int], tuple[float, float | None]] = {}

        def race(n: int, mode: str, kind: str) -> tuple[str, RacerRun, Ideal]:
            fill = bench.prepare(n, mode, kind)
            spares, bases = bench.spares(), bench.bases()
            ideal = bench.measure_ideal(n)
            r = bench.race(n, kind)
            bench.drop_ideal()
            show = bench.best_of(3, "show", r.race_id)
            merge = bench.merge(r)
            costs[(kind, mode, n)] = (show, merge)
            print(
                f"  raced N={n}, {kind} lanes, {mode} pool ({spares} spares, {bases} base"
                + (f", filled in {fill:.1f} s" if fill > 0.5 else "")
                + f"): {r.wall:.1f} s (ideal {ideal.total:.1f} = worktree add "
                f"{ideal.worktree_add:.2f} + {n} lanes at once {ideal.lanes:.2f}; one lane alone: "
                f"agent {ideal.agent:.2f} + test {ideal.test:.2f}); "
                f"baseline runs {r.baseline_runs}; load {_load()}",
                flush=True,
            )
            p = r.phases
            print(
                f"    ratio {r.wall / ideal.total:.2f}; RSS {r.rss_mb:.1f} MB; show {show:.2f} s; "
                + (f"merge {merge:.2f} s; " if merge is not None else "no winner; ")
                + f"ran/scored/passed {r.ran}/{r.scored}/{r.passed}"
                + (
                    f"; agents started {p.first_agent_start:.1f}..{p.last_agent_start:.1f} s, "
                    f"done {p.last_agent_end:.1f}, last test {p.last_test_end:.1f}"
                    if p is not None
                    else ""
                ),
                flush=True,
            )
            for line in r.breakdown:
                print(f"      {line}", flush=True)
            if args.against is not None:
                bench.prepare(n, mode, kind)
                old = bench.race(n, kind, args.against)
                bench.merge(old)
                against.append((mode, old, ideal))
                p = old.phases
                print(
                    f"    against {args.against}: {old.wall:.1f} s, ratio {old.wall / ideal.total:.2f}; "
                    f"RSS {old.rss_mb:.1f} MB; ran/scored/passed {old.ran}/{old.scored}/{old.passed}"
                    + (
                        f"; agents started {p.first_agent_start:.1f}..{p.last_agent_start:.1f} s, "
                        f"done {p.last_agent_end:.1f}, last test {p.last_test_end:.1f}"
                        if p is not None
                        else ""
                    ),
                    flush=True,
                )
                for line in old.breakdown:
                    print(f"      {line}", flush=True)
            return mode, r, ideal

        # The comparison: `--coderace-rounds` rounds, each racer's race (per pool mode) and then
        # coderace's two modes, interleaved, so that the medians see the same minutes.
        cmp_racer: dict[str, list[tuple[RacerRun, Ideal]]] = {mode: [] for mode in modes}
        cr_runs: dict[str, list[CoderaceRun]] = {"default": [], "--parallel": []}
        if not args.no_coderace:
            exe = bench.ensure_coderace()
            best = kinds[0]  # overlay lanes when they are raced
            for k in range(max(1, args.coderace_rounds)):
                print(f"  comparison round {k + 1}:", flush=True)
                for mode in modes:
                    _, r, ideal = race(cr_lanes, mode, best)
                    cmp_racer[mode].append((r, ideal))
                for parallel in (False, True):
                    cr = bench.coderace(exe, cr_lanes, parallel)
                    cr_runs[cr.mode].append(cr)
                    print(f"  coderace {cr.mode}: {cr.wall:.1f} s", flush=True)

        # After the comparison (the targets' numbers first, on a long run on a busy machine).
        for k in range(max(1, args.rounds)):
            if args.rounds > 1:
                print(f"  round {k + 1} of the N races:", flush=True)
            for kind in kinds:
                for n in sizes:
                    for mode in modes:
                        runs.append(race(n, mode, kind))

        print()
        print(
            "== racer vs the ideal (one `git worktree add` + N lanes of agent and test at once, "
            "plain processes in plain dirs; the old one-lane ideal beside it) =="
        )
        print_races(runs, max(sizes))
        if args.rounds > 1:
            print_medians(runs)
        if against:
            print(f"\n== the same races with the racer of {args.against} (--against) ==")
            print_races(against, max(sizes))
        print()
        print("== racer's own cost ==")
        largest = max(sizes)
        print(
            f"racer --help (best of 5):           {help_s:6.2f} s  (<= 0.3) {fmt_target(help_s <= 0.3)}"
        )
        for kind in kinds:
            for mode in modes:
                show, merge = costs[(kind, mode, largest)]
                print(
                    f"racer show, N={largest} race, {kind} {mode} (best of 3): {show:6.2f} s  "
                    f"(<= 0.5) {fmt_target(show <= 0.5)}"
                )
                if merge is None:
                    print(f"racer merge: no winner at N={largest}, {kind} {mode}, not measured")
                else:
                    print(
                        f"racer merge (land + remove {largest} lanes), {kind} {mode}: "
                        f"{merge:6.2f} s  (<= 3) {fmt_target(merge <= 3)}"
                    )
        for (kind, mode, n), (s, m) in costs.items():
            shown = f"{m:5.2f} s" if m is not None else "no winner"
            print(f"  N={n:<3} {kind:>8} {mode:>4}: show {s:5.2f} s, merge {shown}")

        for mode, pairs in cmp_racer.items():
            if pairs:
                print_comparison(mode, pairs, cr_runs, cr_lanes)
        print(f"\nload after: {_load()}")
    finally:
        bench.cleanup()
    return 0


def print_comparison(
    mode: str,
    pairs: Sequence[tuple[RacerRun, Ideal]],
    cr_runs: dict[str, list[CoderaceRun]],
    cr_lanes: int,
) -> None:
    """racer's races in one pool mode against coderace's runs of the same rounds: each round's
    walls, and the targets judged on the medians."""
    walls = [r.wall for r, _ in pairs]
    racer_s = statistics.median(walls)
    print()
    print(
        f"== racer ({pairs[0][0].kind} lanes, {mode} pool) vs coderace {CODERACE_VERSION}, "
        f"{cr_lanes} lanes ({', '.join(CODERACE_AGENTS[:cr_lanes])} -> the same fake agent), "
        f"{len(pairs)} round(s), medians =="
    )
    print(
        f"{'tool':<20} {'median s':>8} {'speed-up':>9} {'target':>12} {'each round (s)':>22} "
        f"{'ran/scored/passed per round':>28}"
    )
    rounds = ", ".join(f"{w:.2f}" for w in walls)
    counts = ", ".join(f"{r.ran}/{r.scored}/{r.passed}" for r, _ in pairs)
    ideals = ", ".join(f"{i.total:.2f}" for _, i in pairs)
    print(f"{'racer':<20} {racer_s:>8.2f} {'':>9} {'':>12} {rounds:>22} {counts:>28}")
    print(f"{'  (its ideal)':<20} {'':>8} {'':>9} {'':>12} {ideals:>22}")
    for cr_mode, runs in cr_runs.items():
        if not runs:
            continue
        cr_s = statistics.median(cr.wall for cr in runs)
        speed = cr_s / racer_s
        want = 3.0 if cr_mode == "default" else 1.3
        each = ", ".join(f"{cr.wall:.2f}" for cr in runs)
        counts = ", ".join(f"{cr.ran}/{cr.scored}/{cr.passed}" for cr in runs)
        per = ", ".join(f"{cr.wall / w:.2f}x" for cr, w in zip(runs, walls, strict=False))
        print(
            f"{'coderace ' + cr_mode:<20} {cr_s:>8.2f} {speed:>8.2f}x "
            f"{f'>={want:g}x ' + fmt_target(speed >= want):>12} {each:>22} {counts:>28}"
            f"   (per round {per})"
        )
        # The ideal (a checkout + the N lanes at once) bounds what any tool can do, racer's
        # cold race included: a target above the ideal's own speed-up is out of reach.
        bound = cr_s / statistics.median(i.total for _, i in pairs)
        print(f"{'':<20} the ideal, against the same: {bound:.2f}x")
        failed = sum(cr.failed_to_run for cr in runs)
        leaked = sum(cr.leaked for cr in runs)
        if failed or leaked:
            print(
                f"{'':<20} over its rounds: {failed} lane(s) 'failed to run', {leaked} started "
                "on an earlier lane's edits"
            )
    every = all(r.ran == r.scored == r.lanes for r, _ in pairs)
    print(f"racer ran and scored every lane in every round: {fmt_target(every)}")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


if __name__ == "__main__":
    sys.exit(main())
