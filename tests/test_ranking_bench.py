"""The ranker on the fixture races: correct first, tamperers flagged and never first, reruns identical."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ranking_fixtures as fx


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
