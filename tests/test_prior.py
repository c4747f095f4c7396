"""The race history at work (issue: memory and money): a contestant's track record in this
repository as a late tie-break, and `--cascade auto` ordering by $ per solved race. Real races
of the fake agent, recorded in a real SQLite file."""

from __future__ import annotations

from helpers.repos import CHURNY, CORRECT, WRONG, Project, race_json


def _history(project: Project, racer, monkeypatch) -> None:
    """Two races: `steady` passes both, `shaky` fails both."""
    project.fake(
        monkeypatch,
        {
            "steady": {"write": {"calc.py": CORRECT}, "cost_usd": 0.5},
            "shaky": {"write": {"calc.py": WRONG}, "cost_usd": 0.01},
        },
    )
    for _ in range(2):
        assert racer("run", "specs/double.md", "--agents", "fake@steady,fake@shaky").exit_code == 0


def test_a_track_record_breaks_a_tie_the_tests_cannot(project: Project, racer, monkeypatch) -> None:
    _history(project, racer, monkeypatch)
    # Now both pass the same tests; shaky's diff is the smaller one.
    project.fake(
        monkeypatch,
        {"steady": {"write": {"calc.py": CHURNY}}, "shaky": {"write": {"calc.py": CORRECT}}},
    )
    res = racer("run", "specs/double.md", "--agents", "fake@shaky,fake@steady")
    assert res.exit_code == 0, res.stderr
    data = race_json(project.root)
    cands = {c["name"]: c for c in data["candidates"]}
    assert data["winner"] == "fake@steady"
    assert data["decided_by"].startswith("track record here: fake@steady passed 2 of its last 2")
    assert data["confidence"] == "low"
    assert cands["fake@steady"]["track"]["passed"] == 2
    assert cands["fake@shaky"]["track"] == {"passed": 0, "races": 2, "score": 0.0}
    assert "track record: fake@steady passed 2 of its last 2 races here" in res.stdout
    # --no-history: the same race without the prior is decided by the smaller diff.
    res = racer("run", "specs/double.md", "--agents", "fake@shaky,fake@steady", "--no-history")
    data = race_json(project.root)
    assert data["winner"] == "fake@shaky" and data["decided_by"].startswith("smaller diff")
    assert all(c["track"] is None for c in data["candidates"])


def test_a_track_record_never_outweighs_test_evidence(project: Project, racer, monkeypatch) -> None:
    _history(project, racer, monkeypatch)
    project.fake(
        monkeypatch,
        {"steady": {"write": {"calc.py": WRONG}}, "shaky": {"write": {"calc.py": CORRECT}}},
    )
    assert racer("run", "specs/double.md", "--agents", "fake@steady,fake@shaky").exit_code == 0
    data = race_json(project.root)
    assert data["winner"] == "fake@shaky" and data["confidence"] == "high"


def test_cascade_auto_runs_the_cheapest_per_solve_first(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(
        monkeypatch,
        {
            "pricey": {"write": {"calc.py": CORRECT}, "cost_usd": 0.5},
            "cheap": {"write": {"calc.py": CORRECT}, "cost_usd": 0.01},
        },
    )
    for _ in range(2):
        assert racer("run", "specs/double.md", "--agents", "fake@pricey,fake@cheap").exit_code == 0
    res = racer("run", "specs/double.md", "--agents", "fake@pricey,fake@cheap", "--cascade", "auto")
    assert res.exit_code == 0, res.stderr
    data = race_json(project.root)
    info = data["cascade"]
    assert info["auto"] is True and info["tiers"] == [["fake@cheap"], ["fake@pricey"]]
    assert (info["solved_by"], info["spent"], info["skipped_cost"]) == (1, [0.01], 0.5)
    cands = {c["name"]: c for c in data["candidates"]}
    assert cands["fake@pricey"]["status"] == "skipped"
    assert "tier 2 skipped (about $0.5000 at their mean here)" in res.stdout.replace("\n", " ")
