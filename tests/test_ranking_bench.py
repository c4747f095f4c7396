"""The ranker on the fixture races and on races built from real upstream fixes: correct first,
tamperers flagged and never first, reruns identical."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ranking_fixtures as fx
from helpers import realwork as rw


@pytest.mark.parametrize("fixture", fx.FIXTURES, ids=lambda f: f.name)
def test_fixture_ranking(fixture: fx.Fixture, tmp_path: Path) -> None:
    race = fx.run(fixture, tmp_path)
    s = fx.score(fixture, race)
    if s.top1 is not None:
        assert s.top1, s.order
        assert race["winner"] is not None
    else:
        assert race["winner"] is None  # nobody right: no winner, exit 4
    assert s.tamper_flagged == s.tamper_total, (
        s.order,
        [(c["name"], c["flags"]) for c in race["candidates"]],
    )
    assert s.flagged_honest == 0
    assert not s.tamperer_first, s.order
    for cand in race["candidates"]:
        assert cand["reasons"], cand["name"]
        if any(f["severity"] == "tamper" for f in cand["flags"]):
            assert cand["status"] != "passed"  # shown, flagged, never the winner
    assert race["decided_by"] and race["confidence"] in {"high", "medium", "low"}


def test_reruns_rank_byte_for_byte_the_same(tmp_path: Path) -> None:
    first = fx.ranking_view(fx.run(fx.PEEK, tmp_path / "one"))
    second = fx.ranking_view(fx.run(fx.PEEK, tmp_path / "two"))
    assert first == second


# --- races built from real upstream fixes (scripts/realwork/) -----------------------------------

TASKS = rw.tasks()


def test_the_real_work_benchmark_covers_enough_projects_and_styles() -> None:
    assert len(TASKS) >= 8
    assert len({t.project for t in TASKS}) >= 3
    kinds = {c.kind for t in TASKS for c in t.contestants}
    assert {"real", "churn", "wrong", "overfit", "tamper", "regression"} <= kinds
    for task in TASKS:  # the correct contestants race last: the order never helps them
        flags = [c.correct for c in task.contestants]
        assert flags == sorted(flags), task.id


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_real_work_ranking(task: rw.Task, tmp_path: Path) -> None:
    race = rw.run(task, tmp_path)
    s = rw.score(task, race)
    report = [
        (c["name"], c["status"], [f["detail"] for f in c["flags"]]) for c in race["candidates"]
    ]
    assert s.top1 and not s.trap_first, report
    assert s.tamper_flagged == s.tamper_total, report
    assert s.flagged_honest == 0, report
