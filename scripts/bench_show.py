#!/usr/bin/env python3
"""`racer show` benchmark: the time to show a 16-lane race against the ideal, side by side.

    python scripts/bench_show.py [--lanes 16] [--rounds 10] [--dir DIR] [--json]

Makes the offline demo project (`racer demo --dir`; kept in --dir, else a temp dir) and races
--lanes fake contestants in it, the demo's four scenarios in turn (`fake@minimal*4,fake@wrong*4,
fake@churny*4,fake@idle*4` at 16), --no-history. Then, in each of --rounds rounds, one after
the other (so that a change in the machine's load hits all of them alike):

    python            `python -c pass`: the interpreter's start-up, nothing of racer's
    json.load         `python -c 'import json; json.load(open(race.json))'`: reading the record
    python -m racer   `python -m racer show`, its output to /dev/null (rich renders for a
                      120-column non-terminal, as it would into a pipe)
    racer             the `racer` console script beside this Python (when installed)

and prints each one's best and median, racer's over the ideal (json.load), the load average
before and after, and where racer's import time goes (one `-X importtime` run: the
cumulative time of each top-level import of racer.cli and of the show command).

Bytecode is written and used (PYTHONDONTWRITEBYTECODE is dropped; one warm-up run first), as an
installed racer runs: without it every run would compile racer's modules again.
The racer measured is the one this script sits in (PYTHONPATH is its checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("minimal", "wrong", "churny", "idle")  # the demo's fake-scenarios.json
TARGET_S = 0.5


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT)}


def _run(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 4):  # 4: a race without a winner is still a race
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def agents_for(lanes: int) -> str:
    """`fake@minimal*4,fake@wrong*4,…`: the demo's scenarios in turn, `lanes` contestants."""
    counts = [lanes // len(SCENARIOS) + (i < lanes % len(SCENARIOS)) for i in range(len(SCENARIOS))]
    return ",".join(
        f"fake@{s}*{n}" if n > 1 else f"fake@{s}"
        for s, n in zip(SCENARIOS, counts, strict=True)
        if n
    )


def make_race(where: Path, lanes: int, env: dict[str, str]) -> tuple[Path, Path]:
    """The demo project in `where` with one race of `lanes` lanes: (project, its race.json)."""
    project = where / "project"
    if not project.exists():
        _run([sys.executable, "-m", "racer", "demo", "--dir", str(where)], where, env)
    argv = ["run", "specs/slugify.md", "--agents", agents_for(lanes), "--no-history", "--json"]
    data = json.loads(_run([sys.executable, "-m", "racer", *argv], project, env).stdout)
    if len(data["candidates"]) != lanes:
        sys.exit(f"the race has {len(data['candidates'])} lanes, not {lanes}")
    return project, Path(data["race_dir"]) / "race.json"


def _timed(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}")
    return took


def commands(record: Path) -> dict[str, list[str]]:
    py = sys.executable
    cmds = {
        "python": [py, "-c", "pass"],
        "json.load": [py, "-c", f"import json; json.load(open({str(record)!r}))"],
        "python -m racer": [py, "-m", "racer", "show"],
    }
    script = Path(py).parent / "racer"
    if script.is_file():
        cmds["racer"] = [str(script), "show"]
    return cmds


def import_split(project: Path, env: dict[str, str]) -> dict[str, float]:
    """Where `racer show`'s import time goes (one `-X importtime` run, cumulative ms): each
    top-level import, racer.cli's split into what it imports (typer, racer's helpers)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "racer", "show"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    split: dict[str, float] = {}
    children: list[tuple[str, float]] = []  # depth-1 imports, printed before their parent
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or "cumulative" in parts[1]:
            continue
        name, cumulative = parts[2].rstrip(), int(parts[1]) / 1000
        depth = (len(name) - len(name.lstrip())) // 2
        if depth == 1:
            children.append((name.strip(), cumulative))
        elif depth == 0:
            if name.strip() == "racer.cli":
                for child, ms in children:
                    split[f"racer.cli: {child}"] = ms
                cumulative -= sum(ms for _, ms in children)
            split[name.strip()] = cumulative
            children = []
    return {k: v for k, v in sorted(split.items(), key=lambda kv: -kv[1]) if v >= 1.0}


def measure(project: Path, record: Path, rounds: int, env: dict[str, str]) -> dict[str, object]:
    cmds = commands(record)
    for argv in cmds.values():  # warm-up: bytecode written, files in the page cache
        _timed(argv, project, env)
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, argv in cmds.items():
            times[name].append(_timed(argv, project, env))
    load_after = os.getloadavg()
    return {
        "times": {
            n: {"best": min(t), "median": statistics.median(t), "all": t} for n, t in times.items()
        },
        "load_before": load_before,
        "load_after": load_after,
        "imports_ms": import_split(project, env),
    }


def report(result: dict[str, object], lanes: int, rounds: int) -> None:
    times = result["times"]
    assert isinstance(times, dict)
    ideal = times["json.load"]
    print(f"racer show of a {lanes}-lane race, {rounds} rounds side by side (best / median):")
    for name, t in times.items():
        ratio = ""
        if name.startswith(("python -m", "racer")):
            ratio = (
                f"   {t['best'] / ideal['best']:5.1f}x / {t['median'] / ideal['median']:5.1f}x"
                f" the ideal; target <= {TARGET_S} s: "
                + ("met" if t["median"] <= TARGET_S else "MISSED")
            )
        print(f"  {name:<16} {t['best']:6.3f} s / {t['median']:6.3f} s{ratio}")
    before, after = result["load_before"], result["load_after"]
    assert isinstance(before, tuple) and isinstance(after, tuple)
    print(f"  load average: {before[0]:.2f} before, {after[0]:.2f} after")
    imports = result["imports_ms"]
    assert isinstance(imports, dict)
    print("  imports (one -X importtime run, cumulative ms):")
    for name, ms in imports.items():
        print(f"    {ms:7.1f}  {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lanes", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--dir", type=Path, help="where the demo project is made (kept); reused")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    env = _env()
    with tempfile.TemporaryDirectory(prefix="racer-bench-show-") as tmp:
        where = (args.dir or Path(tmp)).resolve()
        where.mkdir(parents=True, exist_ok=True)
        project, record = make_race(where, args.lanes, env)
        result = measure(project, record, args.rounds, env)
    if args.json:
        print(json.dumps({"lanes": args.lanes, "rounds": args.rounds, **result}, indent=2))
    else:
        report(result, args.lanes, args.rounds)


if __name__ == "__main__":
    main()
