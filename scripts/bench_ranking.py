#!/usr/bin/env python3
"""Ranker benchmark: race the fixture candidates in tests/helpers/ranking_fixtures.py and print
top-1 accuracy, top-2 recall and tamper-flag recall/precision.

    python scripts/bench_ranking.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import ranking_fixtures as fx  # the fixtures live with the tests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the fixture repos here and keep them")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="racer-bench-ranking-"))
    scores = []
    for fixture in fx.FIXTURES:
        t0 = time.monotonic()
        race = fx.run(fixture, root / fixture.name)
        s = fx.score(fixture, race)
        scores.append(s)
        print(f"{fixture.name:<14} {time.monotonic() - t0:5.1f} s  order: {' > '.join(s.order)}")
        print(f"{'':<14} decided by: {race['decided_by']} ({race['confidence']})")
    with_correct = [s for s in scores if s.top1 is not None]
    top1 = sum(bool(s.top1) for s in with_correct) / len(with_correct)
    top2 = sum(bool(s.top2) for s in with_correct) / len(with_correct)
    tampers = sum(s.tamper_total for s in scores)
    caught = sum(s.tamper_flagged for s in scores)
    false_pos = sum(s.flagged_honest for s in scores)
    recall = caught / tampers if tampers else 1.0
    precision = caught / (caught + false_pos) if caught + false_pos else 1.0
    print()
    print(f"fixtures: {len(scores)} ({len(with_correct)} with a correct candidate)")
    print(f"top-1 accuracy:         {top1:.2f}")
    print(f"top-2 recall:           {top2:.2f}")
    print(f"tamper-flag recall:     {recall:.2f} ({caught}/{tampers})")
    print(f"tamper-flag precision:  {precision:.2f} ({caught}/{caught + false_pos})")
    print(f"tamperer ranked first:  {sum(s.tamperer_first for s in scores)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
