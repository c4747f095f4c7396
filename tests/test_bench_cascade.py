"""scripts/bench_cascade.py on a few specs: its table has a row per strategy, its figures add up
on the same draws, and with every contestant always right every strategy solves every task while
the cascades pay for the cheapest tier alone."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_cascade.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cascade", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bc = _load()
EPS = 1e-9


def test_every_task_is_broken_at_base_and_a_wrong_answer_fails_its_test() -> None:
    for k in range(60):  # _make raises when the base or the wrong body passes the test
        fn = bc.function(k)
        assert fn.name == f"f{k}" and fn.cases
        assert f"tests/test_f{k}.py" in bc.test_command(fn)


def test_draws_are_per_task_contestant_and_sample() -> None:
    cheap = bc.Contestant("cheap", 0.5, 0.02, 0.2)
    draws = [bc.draw(7, f"f{k}", cheap, 0) for k in range(200)]
    assert draws == [bc.draw(7, f"f{k}", cheap, 0) for k in range(200)]  # seeded
    assert 60 < sum(draws) < 140
    assert draws != [bc.draw(7, f"f{k}", cheap, 1) for k in range(200)]  # the retry's sample
    always = bc.Contestant("cheap", 1.0, 0.02, 0.2)
    assert all(bc.draw(7, f"f{k}", always, 0) for k in range(50))


def test_a_stopped_lane_without_a_cost_is_charged_pro_rata_and_a_skipped_one_nothing() -> None:
    strong = bc.Contestant("strong", 0.85, 0.40, 2.0)
    assert bc.charge({"status": "passed", "cost_usd": 0.4}, strong) == (0.4, "reported")
    assert bc.charge({"status": "stopped", "cost_usd": 0.4}, strong) == (0.4, "reported")
    assert bc.charge({"status": "skipped", "cost_usd": None}, strong) == (0.0, "skipped")
    stopped = {"status": "stopped", "cost_usd": None, "duration_s": None, "attempts": []}
    cost, how = bc.charge({**stopped, "attempts": [{"duration_s": 0.5}]}, strong)
    assert how == "pro rata" and cost == pytest.approx(0.1)
    assert bc.charge({**stopped, "duration_s": 9.0}, strong)[0] == pytest.approx(0.4)  # capped


@pytest.mark.slow
def test_quick_run_prints_every_strategy_and_its_figures_add_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = bc.parse(
        ["--quick", "--specs", "4", "--warmup", "2", "--sleep-strong", "1", "--keep", str(tmp_path)]
    )
    b = bc.bench(args)
    bc.print_report(b)
    out = capsys.readouterr().out
    for title in bc.TITLES.values():
        assert f"\n| {title} | " in out, out
    assert "cascade vs strongest + 1 retry" in out and "wall time" in out
    assert out.count("drawn correct on") == len(bc.NAMES)

    assert b.problems == [], b.problems  # every winner drawn correct, a winner when one could be
    by = {row.strategy: row for row in b.table}
    assert list(by) == list(bc.STRATEGIES)
    for row in b.table:
        assert row.n == 4 and 0 <= row.solved <= row.ideal <= row.n
        assert row.low <= row.rate <= row.high
        if row.solved:
            assert row.per_solved * row.solved == pytest.approx(row.total_usd)
    assert by["retry"].ratio == pytest.approx(1.0)
    assert by["retry"].solved >= by["strong"].solved

    cs = {c.name: c for c in b.contestants}
    for fn, res in zip(b.evaluation, b.results, strict=True):
        truth = b.setup.truth(fn, 0)
        for race in res["all"].races + res["cascade"].races + res["first"].races:
            assert all(lane.correct == truth[lane.name] for lane in race.lanes)
        # The same draws: a cascade runs a subset of the lanes all at once runs.
        for s in ("cascade", "auto", "first"):
            assert res[s].cost <= res["all"].cost + EPS, (fn.name, s)
        assert res["all"].cost == pytest.approx(sum(c.cost for c in cs.values()))
        assert res["strong"].cost == pytest.approx(cs["strong"].cost)
        assert len(res["retry"].races) == (2 if res["strong"].races[0].winner is None else 1)
        assert sorted(res["auto"].races[0].tiers) == sorted(cs)


@pytest.mark.slow
def test_when_every_contestant_is_always_right_the_cascade_pays_the_cheapest_tier_alone(
    tmp_path: Path,
) -> None:
    args = bc.parse(
        ["--specs", "2", "--warmup", "1", "--sleep-strong", "1", "--keep", str(tmp_path)]
        + [f"--p-{name}=1" for name in bc.NAMES]
    )
    b = bc.bench(args)
    assert b.problems == []
    for row in b.table:
        assert row.solved == row.n == 2, row
    cheap = b.contestants[0]
    for res in b.results:
        for s in ("cascade", "auto"):
            (race,) = res[s].races
            assert race.tiers[0] == "cheap", race.tiers
            assert res[s].cost == pytest.approx(cheap.cost)
            assert {lane.name: lane.status for lane in race.lanes} == {
                "cheap": "passed",
                "mid": "skipped",
                "strong": "skipped",
            }
        assert len(res["retry"].races) == 1
    data = bc.as_json(b)
    assert [r["solved"] for r in data["rows"]] == [2] * len(bc.STRATEGIES)
    assert data["auto_orders"] == {"cheap > mid > strong": 2}
