"""Cascades, --first-pass and setups (issue: memory and money): real races of the fake agent in
real git repos, the record and the prompts checked."""

from __future__ import annotations

import time
from pathlib import Path

from helpers.repos import CORRECT, WRONG, Project, race_json

SCENARIOS = {
    "bad": {"write": {"calc.py": WRONG}, "cost_usd": 0.01},
    "bad2": {"write": {"calc.py": "def double(x):\n    return x + 1\n"}, "cost_usd": 0.02},
    "good": {"write": {"calc.py": CORRECT}, "cost_usd": 0.5},
    "slow": {"sleep": 60, "write": {"calc.py": CORRECT}},
}


def _cands(project: Project) -> dict[str, dict]:
    return {c["name"]: c for c in race_json(project.root)["candidates"]}


def test_a_later_tier_runs_only_when_the_earlier_failed_and_hears_why(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, SCENARIOS)
    res = racer("run", "specs/double.md", "--cascade", "fake@bad,fake@bad2;fake@good;fake@slow")
    assert res.exit_code == 0, res.stderr
    data = race_json(project.root)
    cands = _cands(project)
    assert data["winner"] == "fake@good"
    assert [cands[n]["tier"] for n in ("fake@bad", "fake@bad2", "fake@good", "fake@slow")] == [
        0,
        0,
        1,
        2,
    ]
    assert cands["fake@slow"]["status"] == "skipped" and cands["fake@slow"]["commit"] is None
    assert "tier 2 solved it: fake@good passed" in cands["fake@slow"]["error"]
    info = data["cascade"]
    assert info["tiers"] == [["fake@bad", "fake@bad2"], ["fake@good"], ["fake@slow"]]
    assert (info["solved_by"], info["spent"]) == (2, [0.03, 0.5])
    assert "cascade: tier 2 of 3 solved it" in res.stdout and "tier 3 skipped" in res.stdout
    # The second tier was told which tests failed and why, never shown the failed code.
    prompt = (Path(data["race_dir"]) / "prompt-tier2.md").read_text()
    assert prompt.startswith((Path(data["race_dir"]) / "prompt.md").read_text().rstrip())
    assert "2 earlier attempts" in prompt and "test_double failed: assert 9 == 6" in prompt
    assert "x * x" not in prompt and "x + 1" not in prompt
    assert "prompt-tier2.md" in cands["fake@good"]["attempts"][0]["command"]
    assert "prompt-tier2.md" not in cands["fake@bad"]["attempts"][0]["command"]


def test_a_first_tier_that_solves_it_ends_the_race(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, SCENARIOS)
    res = racer("run", "specs/double.md", "--cascade", "fake@good;fake@slow,fake@bad")
    assert res.exit_code == 0, res.stderr
    cands = _cands(project)
    assert {n: c["status"] for n, c in cands.items()} == {
        "fake@good": "passed",
        "fake@slow": "skipped",
        "fake@bad": "skipped",
    }
    assert "agent" not in cands["fake@bad"]["logs"]  # its agent never started
    data = race_json(project.root)
    assert data["cascade"]["spent"] == [0.5]
    # Lanes that never ran are no evidence: one finisher is the only candidate, not a winner
    # "by gates" at high confidence.
    assert (data["decided_by"], data["confidence"]) == ("only candidate", "medium")


def test_no_tier_solves_it_then_every_tier_ran(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, SCENARIOS)
    (project.root / "racer.toml").write_text("cascade_feedback = false\n")
    res = racer("run", "specs/double.md", "--cascade", "fake@bad;fake@bad2")
    assert res.exit_code == 4, res.stderr
    data = race_json(project.root)
    assert data["cascade"]["solved_by"] is None and data["cascade"]["spent"] == [0.01, 0.02]
    assert not (Path(data["race_dir"]) / "prompt-tier2.md").exists()  # feedback off
    assert "no tier of 2 solved it" in res.stdout


def test_first_pass_stops_the_lanes_still_running(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, SCENARIOS)
    started = time.monotonic()
    res = racer("run", "specs/double.md", "--agents", "fake@good,fake@slow", "--first-pass")
    assert res.exit_code == 0, res.stderr
    assert time.monotonic() - started < 45  # the 60 s agent did not run to its end
    slow = _cands(project)["fake@slow"]
    assert slow["status"] == "stopped" and slow["error"] == (
        "stopped: fake@good passed first (--first-pass)"
    )
    assert slow["commit"]  # its (empty) work was committed like any stopped lane's


def test_first_pass_stops_once_two_candidates_passed_alike(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, {**SCENARIOS, "good2": {"write": {"calc.py": CORRECT}}})
    # The first to pass is judged once the baseline is done (lanes still running count as not
    # passed): four runs of the base's suite, one after another, outlast both lanes' one, so
    # both have passed when the first is judged, however the two lanes' tests interleave.
    monkeypatch.setenv("RACER_BASELINE_RUNS", "4")
    started = time.monotonic()
    res = racer(
        "run", "specs/double.md", "--agents", "fake@good,fake@good2,fake@slow", "--first-pass"
    )
    assert res.exit_code == 0, res.stderr
    assert time.monotonic() - started < 45
    cands = _cands(project)
    assert cands["fake@slow"]["status"] == "stopped"
    assert cands["fake@good"]["passed"] and cands["fake@good2"]["passed"]


def test_cascade_input_errors_are_one_line(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, SCENARIOS)
    for args, words in [
        (["--cascade", "fake@good"], "--cascade must be tiers like"),
        (["--cascade", "fake@good;;fake@bad"], "--cascade must be tiers like"),
        (["--cascade", "fake@good;fake@bad", "--agents", "fake"], "drop --agents"),
        (["--cascade", "auto", "--agents", "fake@good"], "two or more contestants"),
    ]:
        res = racer("run", "specs/double.md", *args)
        lines = res.stderr.strip().splitlines()
        assert res.exit_code == 1 and len(lines) == 1 and words in lines[0], (args, lines)
    assert not (project.root / ".git" / "racer" / "races").exists()


def test_a_setup_brings_its_own_instructions_and_args(project: Project, racer, monkeypatch) -> None:
    (project.root / "docs").mkdir()
    (project.root / "docs" / "terse.md").write_text("Answer tersely. TERSE-SETUP\n")
    (project.root / "AGENTS.md").write_text("The project's own instructions.\n")
    from helpers.repos import git

    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "instructions")
    (project.root / "racer.toml").write_text(
        '[agents.terse]\nagent = "fake"\ninstructions = "docs/terse.md"\n'
        'extra_args = ["--flag-of-terse"]\n'
    )
    project.fake(
        monkeypatch,
        {"good": {"write": {"calc.py": CORRECT}, "run": ["cp AGENTS.md seen.txt"]}},
    )
    res = racer("run", "specs/double.md", "--agents", "terse@good,fake@good")
    assert res.exit_code == 0, res.stderr
    cands = _cands(project)
    terse, plain = cands["terse@good"], cands["fake@good"]
    seen = git(project.root, "show", f"{terse['branch']}:seen.txt")
    assert "TERSE-SETUP" in seen  # the setup's file was in place while its agent ran
    assert "own instructions" in git(project.root, "show", f"{plain['branch']}:seen.txt")
    # …and put back before its work was committed: not part of its diff.
    assert "AGENTS.md" not in terse["diffstat"]["paths"]
    assert terse["attempts"][0]["command"].endswith("--flag-of-terse")
    assert "--flag-of-terse" not in plain["attempts"][0]["command"]
    bad = '[agents.terse]\nagent = "fake"\ninstructions = "docs/missing.md"\n'
    (project.root / "racer.toml").write_text(bad)
    res = racer("run", "specs/double.md", "--agents", "terse@good")
    assert res.exit_code == 1 and "agents.terse.instructions" in res.stderr, res.stderr
