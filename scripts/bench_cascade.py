#!/usr/bin/env python3
"""Cascade benchmark: what racer's spending strategies buy, on simulated contestants whose pass
probability, cost and duration are known, in real racer races (the fake agent).

One git repository holds N + W small broken functions f0, f1, … (pkg/fK.py), each with its own
test (tests/test_fK.py) and spec (specs/fK.md, `test:` that test alone). Whether each contestant
gets each function right is drawn up front with a seeded RNG, per (spec, contestant, sample);
before every race the fake agent's scenarios are written so that `fake@cheap`, `fake@mid` and
`fake@strong` write the correct or a wrong (test-failing) body, report their cost and sleep
their duration. Every strategy sees the same draws (sample 0; the retry's second run sample 1):

    all-at-once      --agents fake@cheap,fake@mid,fake@strong
    strongest alone  --agents fake@strong
    strongest+retry  strongest alone; when that race has no winner, once more (sample 1); the
                     first run is the strongest-alone race itself (the same draw and command)
    cascade          --cascade "fake@cheap;fake@mid;fake@strong"
    cascade auto     --agents fake@strong,fake@mid,fake@cheap --cascade auto, after W warm-up
                     races all-at-once (the history learns each one's $ per solved race here)
    first pass       --agents fake@cheap,fake@mid,fake@strong --first-pass

Only cascade auto and its warm-up use the race history (a file in the temp dir); every other race
is --no-history. A task counts as solved when racer's winner is a candidate drawn correct. Cost
is race.json's candidates[].cost_usd; a lane stopped before its agent reported one is charged pro
rata of the time it ran over its scheduled sleep (at most all of it), a skipped lane nothing.

Prints per task the drawn truth next to each strategy's winner, then one row per strategy side by
side: solved, rate with its 95 % Wilson interval, total $, $ per solved task, mean wall seconds per
task, and $ per solved against strongest+retry.

    python scripts/bench_cascade.py [--specs N] [--warmup W] [--seed S] [--quick] [--json]
                                    [--p-cheap P --cost-cheap USD --sleep-cheap S …] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's racer, also for the races (PYTHONPATH below)

from racer.stats import wilson  # noqa: E402 (after the path to this checkout's racer)

NAMES = ("cheap", "mid", "strong")  # weakest to strongest
DEFAULTS = {  # name -> (pass probability, $ per run, agent seconds)
    "cheap": (0.50, 0.02, 0.2),
    "mid": (0.70, 0.08, 0.4),
    "strong": (0.85, 0.40, 3.0),
}
STRATEGIES = ("all", "strong", "retry", "cascade", "auto", "first")
TITLES = {
    "all": "all at once",
    "strong": "strongest alone",
    "retry": "strongest + 1 retry",
    "cascade": "cascade",
    "auto": "cascade auto",
    "first": "first pass",
}
REFERENCE = "retry"  # the ratios' denominator
QUICK_SPECS, QUICK_WARMUP = 8, 4
RACE_TIMEOUT = 600  # seconds per racer subprocess


@dataclass(frozen=True)
class Contestant:
    name: str  # its fake scenario: fake@<name>
    p: float
    cost: float
    sleep: float

    @property
    def key(self) -> str:
        return f"fake@{self.name}"


# --- the repository: broken functions, their tests and specs --------------------------------------


@dataclass(frozen=True)
class Function:
    """One task: fK in pkg/fK.py, broken at base; `cases` are (argument, expected) pairs."""

    name: str
    task: str  # what the spec asks, in words
    base: str  # body lines, broken
    correct: str
    wrong: str  # what a contestant that gets it wrong writes: fails the test too
    cases: tuple[tuple[Any, Any], ...]

    def source(self, body: str) -> str:
        return f"def {self.name}(x):\n    {body}\n"

    @property
    def path(self) -> str:
        return f"pkg/{self.name}.py"


def _make(
    name: str, task: str, base: str, correct: str, wrong: str, args: Sequence[Any]
) -> Function:
    bodies = {}
    for kind, body in (("base", base), ("correct", correct), ("wrong", wrong)):
        scope: dict[str, Any] = {}
        exec(f"def f(x):\n    {body}\n", scope)  # our own template text, checked right here
        bodies[kind] = scope["f"]
    cases = tuple((a, bodies["correct"](a)) for a in args)
    for kind in ("base", "wrong"):  # each must fail the test, or the draw means nothing
        if all(bodies[kind](a) == want for a, want in cases):
            raise AssertionError(f"{name}: the {kind} body passes the test")
    return Function(name, task, base, correct, wrong, cases)


def function(k: int) -> Function:
    """The k-th task: one of three kinds, its constants from k (the same for every seed)."""
    name = f"f{k}"
    a, b = 2 + k % 7, 1 + k % 5
    kind = k % 3
    if kind == 0:
        return _make(
            name,
            f"`{name}(x)` must return {a} * x + {b}.",
            f"return x * {a} - {b}",
            f"return x * {a} + {b}",
            f"return x * {a} + {b} + 1",
            (0, 1, 5, -3),
        )
    if kind == 1:
        lo, hi = -b, a + 3
        return _make(
            name,
            f"`{name}(x)` must clamp x into [{lo}, {hi}]: {lo} below, {hi} above, x between.",
            f"return max(min(x, {lo}), {hi})",
            f"return min(max(x, {lo}), {hi})",
            f"return min(max(x, {lo}), {hi} - 1)",
            (lo - 4, lo, 0, hi, hi + 9),
        )
    chars = "aeiou"[: 1 + k % 5]
    return _make(
        name,
        f"`{name}(x)` must count the characters of the string x that are among {chars!r}.",
        "return len(x)",
        f"return sum(1 for ch in x if ch in {chars!r})",
        f"return sum(1 for ch in x if ch not in {chars!r})",
        ("", "banana", "education", "xyz"),
    )


def test_file(fn: Function) -> str:
    checks = "".join(f"    assert {fn.name}({a!r}) == {want!r}\n" for a, want in fn.cases)
    return f"from pkg.{fn.name} import {fn.name}\n\n\ndef test_{fn.name}():\n{checks}"


def test_command(fn: Function) -> str:
    """`python -m pytest -q tests/test_fK.py`, with this interpreter's directory first on the
    races' PATH; its full path when that directory has no `python`."""
    here = Path(sys.executable)
    python = "python" if (here.parent / "python").exists() else shlex.quote(str(here))
    return f"{python} -m pytest -q tests/test_{fn.name}.py"


def spec_text(fn: Function) -> str:
    return (
        f"---\ntitle: Fix {fn.name}\ntest: {test_command(fn)}\n---\n\n"
        f"# Fix {fn.name}\n\n{fn.task} It does not: fix it in {fn.path}.\n"
        f"tests/test_{fn.name}.py shows the expected values.\n"
    )


def git(cwd: Path, *args: str) -> None:
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", *ident, *args], cwd=cwd, check=True, capture_output=True)


def build_repo(repo: Path, fns: Sequence[Function]) -> None:
    for d in ("pkg", "tests", "specs"):
        (repo / d).mkdir(parents=True, exist_ok=True)
    (repo / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (repo / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n", encoding="utf-8")
    for fn in fns:
        (repo / fn.path).write_text(fn.source(fn.base), encoding="utf-8")
        (repo / "tests" / f"test_{fn.name}.py").write_text(test_file(fn), encoding="utf-8")
        (repo / "specs" / f"{fn.name}.md").write_text(spec_text(fn), encoding="utf-8")
    git(repo, "init", "-q", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"{len(fns)} broken functions, a test and a spec each")


# --- draws and races ------------------------------------------------------------------------------


def draw(seed: int, task: str, who: Contestant, sample: int) -> bool:
    """Whether `who` gets `task` right in this sample: its own seeded stream per (task,
    contestant, sample), so that --specs, --warmup or another contestant's p change nothing else."""
    return random.Random(f"{seed}:{task}:{who.name}:{sample}").random() < who.p


@dataclass
class Lane:
    name: str  # cheap | mid | strong
    status: str
    correct: bool  # as drawn
    cost: float  # charged
    how: str  # reported | pro rata | skipped | unknown


@dataclass
class Race:
    seconds: float
    winner: str | None  # contestant name
    lanes: list[Lane]
    tiers: tuple[str, ...] = ()  # a cascade's tiers, in the order they were to run
    decided_by: str = ""
    confidence: str = ""
    race_id: str = ""

    @property
    def cost(self) -> float:
        return sum(lane.cost for lane in self.lanes)

    @property
    def solved(self) -> bool:
        return any(lane.name == self.winner and lane.correct for lane in self.lanes)


@dataclass
class Setup:
    repo: Path
    work: Path
    env: dict[str, str]
    contestants: dict[str, Contestant]
    seed: int
    log: Callable[[str], None]

    def truth(self, fn: Function, sample: int) -> dict[str, bool]:
        return {n: draw(self.seed, fn.name, c, sample) for n, c in self.contestants.items()}


def scenarios(setup: Setup, fn: Function, truth: Mapping[str, bool]) -> dict[str, Any]:
    out = {}
    for name, c in setup.contestants.items():
        body = fn.correct if truth[name] else fn.wrong
        out[name] = {
            "sleep": c.sleep,
            "write": {fn.path: fn.source(body)},
            "cost_usd": c.cost,
            "say": f"fixed {fn.name}",
        }
    return out


def short(name: str | None) -> str | None:
    return name.split("@", 1)[1] if name and "@" in name else name


def charge(cand: Mapping[str, Any], who: Contestant) -> tuple[float, str]:
    """What a candidate cost: its reported cost; stopped before reporting one, its cost pro rata
    of the time its agent ran over its scheduled sleep (at most 1); skipped, nothing."""
    if cand.get("cost_usd") is not None:
        return float(cand["cost_usd"]), "reported"
    if cand["status"] == "skipped":
        return 0.0, "skipped"
    ran = cand.get("duration_s")
    if ran is None:
        ran = sum(a.get("duration_s") or 0.0 for a in cand.get("attempts") or ())
    if cand["status"] == "stopped":
        share = min(1.0, ran / who.sleep) if who.sleep > 0 else 1.0
        return who.cost * share, "pro rata"
    return who.cost, "unknown"  # ended without a cost otherwise: charged in full


def run_race(setup: Setup, fn: Function, args: Sequence[str], truth: Mapping[str, bool]) -> Race:
    (setup.work / "scenarios.json").write_text(
        json.dumps(scenarios(setup, fn, truth)), encoding="utf-8"
    )
    argv = [sys.executable, "-m", "racer", "run", f"specs/{fn.name}.md", "--json", *args]
    t0 = time.monotonic()
    proc = subprocess.run(
        argv,
        cwd=setup.repo,
        env=setup.env,
        capture_output=True,
        text=True,
        timeout=RACE_TIMEOUT,
    )
    seconds = time.monotonic() - t0
    if proc.returncode not in (0, 4):  # 0: a winner, 4: none; anything else is racer failing
        raise RuntimeError(
            f"racer failed on {fn.name} ({shlex.join(argv[1:])}): exit {proc.returncode}:"
            f" {proc.stderr[-3000:]}"
        )
    data: dict[str, Any] = json.loads(proc.stdout)
    lanes = []
    for cand in data["candidates"]:
        name = short(cand["name"]) or ""
        cost, how = charge(cand, setup.contestants[name])
        lanes.append(Lane(name, cand["status"], truth[name], cost, how))
    cascade = data.get("cascade") or {}
    return Race(
        seconds=seconds,
        winner=short(data.get("winner")),
        lanes=lanes,
        tiers=tuple(short(n) or "" for tier in cascade.get("tiers") or () for n in tier),
        decided_by=str(data.get("decided_by") or ""),
        confidence=str(data.get("confidence") or ""),
        race_id=str(data.get("id") or ""),
    )


# --- strategies -----------------------------------------------------------------------------------


@dataclass
class Result:
    """One strategy on one task."""

    strategy: str
    task: str
    races: list[Race]
    ideal: bool  # some candidate it ran was drawn correct (what a perfect judge solves)

    @property
    def solved(self) -> bool:
        return any(r.solved for r in self.races)

    @property
    def cost(self) -> float:
        return sum(r.cost for r in self.races)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.races)

    @property
    def wrong_pick(self) -> bool:
        return any(r.winner is not None and not r.solved for r in self.races)


def flags(setup: Setup, strategy: str) -> list[str]:
    cs = list(setup.contestants.values())
    every = ",".join(c.key for c in cs)
    if strategy == "all":
        return ["--agents", every, "--no-history"]
    if strategy in ("strong", "retry"):
        return ["--agents", cs[-1].key, "--no-history"]
    if strategy == "cascade":
        return ["--cascade", ";".join(c.key for c in cs), "--no-history"]
    if strategy == "auto":  # strongest first: the order racer picks is its own
        return ["--agents", ",".join(c.key for c in reversed(cs)), "--cascade", "auto"]
    if strategy == "first":
        return ["--agents", every, "--first-pass", "--no-history"]
    raise ValueError(strategy)


def race_task(setup: Setup, fn: Function) -> dict[str, Result]:
    """Every strategy on one task, on the same draws."""
    truth0, truth1 = setup.truth(fn, 0), setup.truth(fn, 1)
    strong = NAMES[-1]
    out: dict[str, Result] = {}
    any0 = any(truth0.values())
    for strategy in STRATEGIES:
        if strategy == "retry":
            races = [out["strong"].races[0]]  # the strongest-alone race is its first run
            if races[0].winner is None:
                races.append(run_race(setup, fn, flags(setup, "retry"), truth1))
            ideal = truth0[strong] or truth1[strong]
        else:
            races = [run_race(setup, fn, flags(setup, strategy), truth0)]
            ideal = truth0[strong] if strategy == "strong" else any0
        out[strategy] = Result(strategy, fn.name, races, ideal)
    return out


def warm_up(setup: Setup, fns: Sequence[Function]) -> tuple[float, int]:
    """All-at-once races with the history on: what --cascade auto orders by. ($, solved)"""
    cost, solved = 0.0, 0
    every = ",".join(c.key for c in setup.contestants.values())
    for fn in fns:
        race = run_race(setup, fn, ["--agents", every], setup.truth(fn, 0))
        cost += race.cost
        solved += race.solved
        setup.log(f"warm-up {fn.name}: winner {race.winner} ({race.seconds:.1f} s)")
    return cost, solved


# --- figures --------------------------------------------------------------------------------------


@dataclass
class Row:
    strategy: str
    title: str
    n: int
    solved: int
    ideal: int
    rate: float
    low: float
    high: float
    total_usd: float
    per_solved: float | None
    per_task_usd: float
    mean_s: float
    ratio: float | None = None  # per_solved / the reference's
    expected_rate: float | None = None
    expected_per_solved: float | None = None
    pro_rata: int = 0  # lanes charged pro rata
    skipped: int = 0
    stopped: int = 0
    wrong_picks: int = 0
    notes: list[str] = field(default_factory=list)


def expected(strategy: str, cs: Sequence[Contestant], order: Sequence[str]) -> tuple[float, float]:
    """(solve rate, $ per task) a perfect judge gets from these probabilities; cascades by
    `order`. Not for first pass: what it saves depends on timing."""
    by = {c.name: c for c in cs}
    strong = cs[-1]
    if strategy == "all":
        miss = 1.0
        for c in cs:
            miss *= 1 - c.p
        return 1 - miss, sum(c.cost for c in cs)
    if strategy == "strong":
        return strong.p, strong.cost
    if strategy == "retry":
        return 1 - (1 - strong.p) ** 2, strong.cost * (2 - strong.p)
    reach, cost = 1.0, 0.0
    for name in order:
        cost += reach * by[name].cost
        reach *= 1 - by[name].p
    return 1 - reach, cost


def rows(
    results: Sequence[dict[str, Result]], cs: Sequence[Contestant], auto_order: Sequence[str]
) -> list[Row]:
    out = []
    for strategy in STRATEGIES:
        rs = [r[strategy] for r in results]
        n = len(rs)
        solved = sum(r.solved for r in rs)
        low, high = wilson(solved, n)
        total = sum(r.cost for r in rs)
        lanes = [lane for r in rs for race in r.races for lane in race.lanes]
        row = Row(
            strategy=strategy,
            title=TITLES[strategy],
            n=n,
            solved=solved,
            ideal=sum(r.ideal for r in rs),
            rate=solved / n if n else 0.0,
            low=low,
            high=high,
            total_usd=total,
            per_solved=total / solved if solved else None,
            per_task_usd=total / n if n else 0.0,
            mean_s=sum(r.seconds for r in rs) / n if n else 0.0,
            pro_rata=sum(lane.how == "pro rata" for lane in lanes),
            skipped=sum(lane.status == "skipped" for lane in lanes),
            stopped=sum(lane.status == "stopped" for lane in lanes),
            wrong_picks=sum(r.wrong_pick for r in rs),
        )
        unknown = sum(lane.how == "unknown" for lane in lanes)
        if unknown:
            row.notes.append(f"{unknown} lane(s) ended without a cost: charged in full")
        if strategy == "first":
            # --first-pass stops the others only at confidence high; two passing candidates
            # with the same change rank by cost at confidence low, so nothing is stopped.
            kept = sum(
                sum(lane.status == "passed" for lane in race.lanes) >= 2
                and not any(lane.status == "stopped" for lane in race.lanes)
                for r in rs
                for race in r.races
            )
            if kept:
                row.notes.append(
                    f"in {kept} race(s) two or more candidates passed and no lane was stopped"
                )
        if strategy != "first":
            order = auto_order if strategy == "auto" else [c.name for c in cs]
            rate, per_task = expected(strategy, cs, order)
            row.expected_rate, row.expected_per_solved = rate, per_task / rate if rate else None
        out.append(row)
    ref = next(r for r in out if r.strategy == REFERENCE).per_solved
    for row in out:
        row.ratio = row.per_solved / ref if row.per_solved is not None and ref else None
    return out


def usd(v: float | None) -> str:
    return "—" if v is None else f"${v:.4f}"


def print_tasks(
    fns: Sequence[Function], results: Sequence[dict[str, Result]], setup: Setup
) -> None:
    """Per task: the drawn truth, then each strategy's winner ('-': none; '!': a wrong one)."""
    initials = "".join(n[0] for n in NAMES)
    print(
        f"\nper task: drawn correct ({initials} = {', '.join(NAMES)}; retry's second draw after '/')"
    )
    head = f"  {'task':<6}{'truth':<10}" + "".join(f"{TITLES[s]:<24}" for s in STRATEGIES)
    print(head)
    for fn, res in zip(fns, results, strict=True):
        task = fn.name
        fn_truth = [setup.truth(fn, s) for s in (0, 1)]
        t0 = "".join(n[0] if fn_truth[0][n] else "." for n in NAMES)
        cells = [f"{t0}/{'s' if fn_truth[1][NAMES[-1]] else '.'}"]
        for s in STRATEGIES:
            r = res[s]
            winners = "+".join(
                (race.winner or "-") + ("!" if race.winner and not race.solved else "")
                for race in r.races
            )
            extra = ""
            stopped = sum(lane.status == "stopped" for race in r.races for lane in race.lanes)
            ran = sum(lane.status != "skipped" for race in r.races for lane in race.lanes)
            if s in ("cascade", "auto"):
                extra = f" ran {ran}"
            elif s == "first" and stopped:
                extra = f" stopped {stopped}"
            cells.append(f"{winners}{extra} {usd(r.cost)}")
        print(f"  {task:<6}{cells[0]:<10}" + "".join(f"{c:<24}" for c in cells[1:]))


def print_table(table: Sequence[Row]) -> None:
    print(
        "\n| strategy | solved | rate (95 %) | total $ | $/solved | s/task | $/solved vs retry"
        " | expected rate, $/solved |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in table:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
        exp = (
            "—"
            if r.expected_rate is None
            else f"{r.expected_rate:.0%}, {usd(r.expected_per_solved)}"
        )
        print(
            f"| {r.title} | {r.solved}/{r.n} | {r.rate:.0%} ({r.low:.0%}-{r.high:.0%})"
            f" | {usd(r.total_usd)} | {usd(r.per_solved)} | {r.mean_s:.1f} | {ratio} | {exp} |"
        )


def verdict(table: Sequence[Row]) -> str:
    by = {r.strategy: r for r in table}
    cas, ref = by["cascade"], by[REFERENCE]
    if cas.per_solved is None or ref.per_solved is None:
        return "cascade vs strongest + 1 retry: no $ per solved to compare (nothing solved)"
    cheaper = cas.per_solved < ref.per_solved
    inside = ref.low <= cas.rate <= ref.high
    yes = cheaper and inside
    return (
        f"cascade vs strongest + 1 retry: $ per solved {usd(cas.per_solved)} vs"
        f" {usd(ref.per_solved)} ({cas.ratio:.2f}x: {'below' if cheaper else 'NOT below'}),"
        f" solve rate {cas.rate:.0%} {'inside' if inside else 'OUTSIDE'} retry's 95 % interval"
        f" {ref.low:.0%}-{ref.high:.0%} → {'yes' if yes else 'no'}: the cascade"
        f" {'costs less per solved task at a comparable solve rate' if yes else 'does not beat it here'}"
    )


def findings(results: Sequence[dict[str, Result]]) -> list[str]:
    """What racer did that it should not have, with the race id as evidence."""
    out = []
    for res in results:
        for s, r in res.items():
            for race in r.races:
                if race.winner is not None and not race.solved:
                    out.append(
                        f"{r.task} {TITLES[s]}: racer picked {race.winner}, drawn wrong"
                        f" (race {race.race_id}, decided by {race.decided_by!r})"
                    )
            if r.ideal and not r.solved and not r.wrong_pick:
                correct = [lane.name for race in r.races for lane in race.lanes if lane.correct]
                states = [f"{lane.name} {lane.status}" for race in r.races for lane in race.lanes]
                out.append(
                    f"{r.task} {TITLES[s]}: no winner although {', '.join(correct)} was drawn"
                    f" correct ({'; '.join(states)};"
                    f" races {', '.join(race.race_id for race in r.races)})"
                )
    return out


# --- main -----------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--specs", type=int, help="evaluation specs (default 30; --quick: 8)")
    parser.add_argument("--warmup", type=int, help="warm-up specs for cascade auto (10; quick 4)")
    parser.add_argument("--seed", type=int, default=20261206, help="the draws' seed")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer specs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    for name in NAMES:
        p, cost, sleep = DEFAULTS[name]
        parser.add_argument(f"--p-{name}", type=float, default=p, help=f"pass probability ({p})")
        parser.add_argument(f"--cost-{name}", type=float, default=cost, help=f"$ per run ({cost})")
        parser.add_argument(
            f"--sleep-{name}", type=float, default=sleep, help=f"agent seconds ({sleep})"
        )
    args = parser.parse_args(argv)
    if args.specs is None:
        args.specs = QUICK_SPECS if args.quick else 30
    if args.warmup is None:
        args.warmup = QUICK_WARMUP if args.quick else 10
    if args.specs < 1 or args.warmup < 1:
        parser.error("--specs and --warmup must be at least 1")
    for name in NAMES:
        if not 0.0 <= getattr(args, f"p_{name}") <= 1.0:
            parser.error(f"--p-{name} must be between 0 and 1")
    return args


def race_env(work: Path) -> dict[str, str]:
    """The races' environment: the user's, without RACER_*/GIT_* settings, everything racer
    writes (history, worktrees, temp files) under `work`, and this checkout's racer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RACER_", "GIT_"))}
    for d in ("data", "worktrees", "tmp"):
        (work / d).mkdir(parents=True, exist_ok=True)
    env.update(
        RACER_FAKE=str(work / "scenarios.json"),
        RACER_HISTORY_DB=str(work / "history.sqlite3"),
        XDG_DATA_HOME=str(work / "data"),
        RACER_WORKTREE_ROOT=str(work / "worktrees"),
        TMPDIR=str(work / "tmp"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
        PATH=os.pathsep.join(p for p in (str(Path(sys.executable).parent), env.get("PATH")) if p),
    )
    return env


@dataclass
class Bench:
    """One run: the draws, every strategy's races, and the figures from them."""

    args: argparse.Namespace
    contestants: list[Contestant]
    setup: Setup
    evaluation: list[Function]
    results: list[dict[str, Result]]
    warm_cost: float
    warm_solved: int
    orders: Counter[str]  # cascade auto's tier order -> races
    table: list[Row]
    problems: list[str]
    wall: float


def contestants(args: argparse.Namespace) -> list[Contestant]:
    return [
        Contestant(
            n, getattr(args, f"p_{n}"), getattr(args, f"cost_{n}"), getattr(args, f"sleep_{n}")
        )
        for n in NAMES
    ]


def bench(args: argparse.Namespace, log: Callable[[str], None] = lambda _: None) -> Bench:
    t_start = time.monotonic()
    cs = contestants(args)
    work = args.keep or Path(tempfile.mkdtemp(prefix="racer-bench-cascade-"))
    work.mkdir(parents=True, exist_ok=True)
    fns = [function(k) for k in range(args.specs + args.warmup)]
    evaluation, warm = fns[: args.specs], fns[args.specs :]
    setup = Setup(work / "repo", work, race_env(work), {c.name: c for c in cs}, args.seed, log)
    try:
        build_repo(setup.repo, fns)
        warm_cost, warm_solved = warm_up(setup, warm)
        results = []
        for fn in evaluation:
            res = race_task(setup, fn)
            results.append(res)
            log(
                f"{fn.name}: "
                + ", ".join(f"{s} {res[s].races[-1].winner or '-'}" for s in STRATEGIES)
                + f" ({sum(r.seconds for r in res.values()):.1f} s)"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    orders = Counter(" > ".join(res["auto"].races[0].tiers) for res in results)
    top = orders.most_common(1)[0][0].split(" > ") if orders else [c.name for c in cs]
    table = rows(results, cs, top)
    return Bench(
        args,
        cs,
        setup,
        evaluation,
        results,
        warm_cost,
        warm_solved,
        orders,
        table,
        findings(results),
        time.monotonic() - t_start,
    )


def as_json(b: Bench) -> dict[str, Any]:
    return {
        "specs": b.args.specs,
        "warmup": b.args.warmup,
        "seed": b.args.seed,
        "contestants": [asdict(c) for c in b.contestants],
        "rows": [asdict(r) for r in b.table],
        "auto_orders": dict(b.orders),
        "warmup_usd": round(b.warm_cost, 6),
        "warmup_solved": b.warm_solved,
        "tasks": [
            {
                "task": fn.name,
                "truth": [b.setup.truth(fn, s) for s in (0, 1)],
                "strategies": {
                    s: {
                        "winners": [race.winner for race in r.races],
                        "solved": r.solved,
                        "ideal": r.ideal,
                        "usd": round(r.cost, 6),
                        "seconds": round(r.seconds, 3),
                        "lanes": [[asdict(lane) for lane in race.lanes] for race in r.races],
                        "tiers": [list(race.tiers) for race in r.races],
                    }
                    for s, r in res.items()
                },
            }
            for fn, res in zip(b.evaluation, b.results, strict=True)
        ],
        "findings": b.problems,
        "verdict": verdict(b.table),
        "wall_s": round(b.wall, 1),
    }


def print_report(b: Bench) -> None:
    args = b.args
    print(
        f"cascade benchmark: {args.specs} evaluation specs, {args.warmup} warm-up, seed {args.seed},"
        " one repository, fake agents in real racer races"
    )
    n = len(b.evaluation)
    for c in b.contestants:
        drawn = sum(b.setup.truth(fn, 0)[c.name] for fn in b.evaluation)
        print(
            f"  fake@{c.name}: p {c.p:.2f}, ${c.cost:.2f} per run, {c.sleep:g} s;"
            f" drawn correct on {drawn}/{n} evaluation specs"
        )
    print_tasks(b.evaluation, b.results, b.setup)
    print_table(b.table)
    print(
        f"\ncascade auto chose: {', '.join(f'{o} ({k}x)' for o, k in b.orders.most_common())}"
        f" after {args.warmup} warm-up races all at once (${b.warm_cost:.4f},"
        f" solved {b.warm_solved}/{args.warmup}; not counted above)"
    )
    for r in b.table:
        parts = []
        if r.skipped:
            parts.append(f"{r.skipped} lane(s) skipped, charged $0")
        if r.stopped:
            parts.append(
                f"{r.stopped} stopped, {r.pro_rata} of them before reporting a cost (charged pro"
                " rata of their agent time over their scheduled sleep)"
            )
        parts += r.notes
        if r.ideal != r.solved:
            parts.append(f"a perfect judge would have solved {r.ideal}")
        if parts:
            print(f"  {r.title}: {'; '.join(parts)}")
    print("  expected: a perfect judge with these probabilities (first pass: timing-dependent)")
    print(f"\n{verdict(b.table)}")
    if b.problems:
        print("\nracer findings (winner drawn wrong, or no winner with a correct candidate):")
        for line in b.problems:
            print(f"  {line}")
    else:
        print("\nracer findings: none (every winner drawn correct; a winner whenever one could be)")
    print(f"\nwall time {b.wall:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    b = bench(args, log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(as_json(b), indent=1))
    else:
        print_report(b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
