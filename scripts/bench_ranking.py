#!/usr/bin/env python3
"""Ranker benchmark: races built from real upstream fixes (scripts/realwork/) and the fixture races
(tests/helpers/ranking_fixtures.py); prints per race racer's order and decided_by, then top-1,
traps ranked first, tamper-flag recall and precision, the share of decisions made by tests, the
mean race time, and whether a rerun ranks byte for byte the same — for the Python tasks and for
the others (JavaScript/TypeScript with `--share node_modules`, Go) apart. A shared dir of the
user's checkout that a race changed is named (it must stay byte-identical).

    python scripts/bench_ranking.py [--keep DIR] [--only ID] [--no-rerun] [--cache DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import ranking_fixtures as fx  # the fixtures live with the tests
from helpers import realwork as rw


def _pct(n: int, d: int) -> str:
    return f"{n / d:.0%} ({n}/{d})" if d else "n/a"


def _summary(label: str, scores: list[rw.Score]) -> None:
    n = len(scores)
    tampers = sum(s.tamper_total for s in scores)
    caught = sum(s.tamper_flagged for s in scores)
    false_pos = sum(s.flagged_honest for s in scores)
    rows = (
        (f"{label} real-work tasks", str(n)),
        ("  top-1", _pct(sum(s.top1 for s in scores), n)),
        ("  traps first", str(sum(s.trap_first for s in scores))),
        ("  #1 vs #2 decided by tests", _pct(sum(s.by_tests for s in scores), n)),
        ("  traps below by tests/gates", _pct(sum(s.traps_by_tests for s in scores), n)),
        ("  tamper-flag recall", _pct(caught, tampers)),
        ("  tamper-flag precision", _pct(caught, caught + false_pos)),
    )
    for name, value in rows:
        print(f"  {name + ':':<30}{value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the race repos here and keep them")
    parser.add_argument("--only", action="append", help="race only these task ids")
    parser.add_argument("--no-rerun", action="store_true", help="skip the determinism rerun")
    parser.add_argument(
        "--cache", type=Path, default=rw.CACHE, help="installed node_modules, kept between runs"
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="racer-bench-ranking-"))

    tasks = [t for t in rw.tasks() if not args.only or t.id in args.only]
    fixtures = [f for f in fx.FIXTURES if not args.only or f.name in args.only]
    print(f"real-work tasks: {len(tasks)} from {len({t.project for t in tasks})} projects")
    scores: list[rw.Score] = []
    times: list[float] = []
    identical = 0
    written: dict[str, int] = {}
    for task in tasks:
        t0 = time.monotonic()
        race = rw.run(task, root / task.id, args.cache)
        times.append(time.monotonic() - t0)
        s = rw.score(task, race)
        scores.append(s)
        print(f"\n{task.id} ({task.project}) {times[-1]:.1f} s  winner: {s.winner}")
        print(f"  order:      {' > '.join(s.order)}")
        print(f"  decided by: {race['decided_by']} ({race['confidence']})")
        for c in race["candidates"]:
            tamper = [f["kind"] for f in c["flags"] if f["severity"] == "tamper"]
            print(f"    {c['rank']:>2} {c['name']:<22} {c['status']:<18} tamper: {tamper or '-'}")
        for rel, changed in race["shared_changed"].items():
            written[task.id] = written.get(task.id, 0) + len(changed)
            shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
            print(f"  {rel}: {'unchanged' if not changed else f'{len(changed)} CHANGED: {shown}'}")
        if not args.no_rerun:
            again = rw.run(task, root / f"{task.id}.rerun", args.cache)
            same = fx.ranking_view(race) == fx.ranking_view(again)
            identical += same
            print(f"  rerun:      {'identical' if same else 'DIFFERENT'}")

    fixture_scores = []
    for fixture in fixtures:
        t0 = time.monotonic()
        race = fx.run(fixture, root / fixture.name)
        times.append(time.monotonic() - t0)
        fs = fx.score(fixture, race)
        fixture_scores.append(fs)
        print(f"\nfixture {fixture.name} {times[-1]:.1f} s")
        print(f"  order:      {' > '.join(fs.order)}")
        print(f"  decided by: {race['decided_by']} ({race['confidence']})")

    n = len(scores)
    tampers = sum(s.tamper_total for s in scores) + sum(s.tamper_total for s in fixture_scores)
    caught = sum(s.tamper_flagged for s in scores) + sum(s.tamper_flagged for s in fixture_scores)
    false_pos = sum(s.flagged_honest for s in scores) + sum(
        s.flagged_honest for s in fixture_scores
    )
    with_correct = [s for s in fixture_scores if s.top1 is not None]
    python = {t.id for t in tasks if t.python}
    print("\nsummary")
    for label, group in (
        ("Python", [s for s in scores if s.task in python]),
        ("JS/TS/Go", [s for s in scores if s.task not in python]),
    ):
        if group:
            _summary(label, group)
    if written:
        print(f"  shared-dir entries changed: {written}")
    if not args.no_rerun:
        print(f"  reruns identical:           {identical}/{n}")
    print(
        f"  fixture top-1:              {_pct(sum(bool(s.top1) for s in with_correct), len(with_correct))}"
    )
    print(f"  fixture tamperers first:    {sum(s.tamperer_first for s in fixture_scores)}")
    print(f"  tamper-flag recall (all):   {_pct(caught, tampers)}")
    print(f"  tamper-flag precision (all):{_pct(caught, caught + false_pos):>0}")
    print(f"  mean race time:             {sum(times) / len(times):.1f} s" if times else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
