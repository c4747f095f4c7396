"""Rate limits, retries with backoff, fallback models, per-agent concurrency caps (fake agent),
the --max-cost budget and how agents report spending."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers.repos import CORRECT, Project, git, race_json

from racer.agents.aider import AiderAgent
from racer.agents.claude import ClaudeAgent
from racer.agents.codex import CodexAgent
from racer.agents.fake import FakeAgent
from racer.attempts import Budget


def _race_json(project: Project) -> dict:  # type: ignore[type-arg]
    return race_json(project.root)


def _config(project: Project, text: str) -> None:
    (project.root / "racer.toml").write_text(text)
    git(project.root, "add", "racer.toml")
    git(project.root, "commit", "-qm", "config")


def test_rate_limited_run_is_retried_with_backoff(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    project.fake(
        monkeypatch,
        {
            "flaky": {
                "fail_times": 1,
                "counter_file": str(tmp_path / "count"),
                "error": "API Error: 429 Too Many Requests",
                "write": {"calc.py": CORRECT},
            }
        },
    )
    _config(project, "retries = 2\nbackoff = 0.2\n")
    res = racer("run", "specs/double.md", "--agents", "fake@flaky")
    assert res.exit_code == 0, res.stderr
    cand = _race_json(project)["candidates"][0]
    assert cand["status"] == "passed"
    assert [a["rate_limited"] for a in cand["attempts"]] == [True, False]
    assert cand["attempts"][0]["api_status"] == 429
    assert Path(cand["attempts"][1]["log"]).name.endswith(".agent.2.log")
    assert "attempt 1" in res.stdout and "rate-limited" in res.stdout


def test_fallback_model_after_retries_run_out(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "busy": {"error": "overloaded_error: Overloaded (529)"},
            "spare": {"write": {"calc.py": CORRECT}},
        },
    )
    _config(project, 'backoff = 0\n[agents.fake]\nretries = 1\nfallback = ["spare"]\n')
    res = racer("run", "specs/double.md", "--agents", "fake@busy")
    assert res.exit_code == 0, res.stderr
    cand = _race_json(project)["candidates"][0]
    assert [(a["model"], a["rate_limited"]) for a in cand["attempts"]] == [
        ("busy", True),
        ("busy", True),
        ("spare", False),
    ]
    assert cand["model"] == "spare" and cand["status"] == "passed"
    report_md = (Path(_race_json(project)["race_dir"]) / "report.md").read_text()
    assert "attempt 3 (spare)" in report_md


def test_persistent_rate_limit_fails_the_lane_but_race_goes_on(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(
        monkeypatch, {"busy": {"error": "429 rate limit"}, "good": {"write": {"calc.py": CORRECT}}}
    )
    _config(project, "retries = 1\nbackoff = 0\n")
    res = racer("run", "specs/double.md", "--agents", "fake@busy,fake@good")
    assert res.exit_code == 0
    by = {c["name"]: c for c in _race_json(project)["candidates"]}
    assert by["fake@busy"]["status"] == "agent_failed"
    assert "rate-limited after 2 attempts" in by["fake@busy"]["error"]
    assert by["fake@good"]["rank"] == 1


def test_other_errors_are_not_retried(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, {"bad": {"error": "API Error: 401 invalid x-api-key"}})
    _config(project, "retries = 3\nbackoff = 0\n")
    assert racer("run", "specs/double.md", "--agents", "fake@bad").exit_code == 4
    cand = _race_json(project)["candidates"][0]
    assert len(cand["attempts"]) == 1 and cand["attempts"][0]["api_status"] == 401
    assert "401" in cand["error"]


def test_max_parallel_staggers_lanes_of_one_agent(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    # Each run appends "start"/"end" with its lane to a shared file; with max_parallel = 1 no two overlap.
    trace = tmp_path / "trace"
    script = tmp_path / "agent.sh"
    script.write_text(
        f'echo "start $RACER_LANE" >> {trace}; sleep 0.5; echo "end $RACER_LANE" >> {trace}\n'
    )
    _config(project, f'[agents.slowbot]\ncommand = ["sh", "{script}"]\nmax_parallel = 1\n')
    res = racer("run", "specs/double.md", "--agents", "slowbot*3")
    assert res.exit_code == 4  # nobody changed anything
    lines = trace.read_text().split("\n")[:-1]
    assert len(lines) == 6
    for i in range(0, 6, 2):
        assert lines[i].startswith("start") and lines[i + 1] == lines[i].replace("start", "end")


def test_cost_is_estimated_from_tokens_when_the_cli_reports_none(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(
        monkeypatch,
        {
            "gpt-5": {
                "write": {"calc.py": CORRECT},
                "tokens": {"input": 1_000_000, "output": 100_000},
            }
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@gpt-5")
    assert res.exit_code == 0
    cand = _race_json(project)["candidates"][0]
    assert cand["cost_estimated"] is True
    assert cand["cost_usd"] == 1.25 + 1.0  # 1M in at $1.25/M + 0.1M out at $10/M
    assert "(est.)" in res.stdout


def test_max_cost_stops_an_agent_whose_reported_spending_passes_it(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(
        monkeypatch,
        {
            # spends $0.30 at a time; the third report would come after a long pause
            "spender": {
                "run": ["printf 'def double(x):\\n    return 2 * x\\n' > calc.py"],
                "spend": [[0.3, 0.1], [0.3, 0.1], [0.3, 60]],
            },
            "frugal": {"spend": [[0.1, 0]], "write": {"calc.py": CORRECT}},
        },
    )
    started = time.monotonic()
    res = racer(
        "run", "specs/double.md", "--agents", "fake@spender,fake@frugal", "--max-cost", "0.5"
    )
    assert time.monotonic() - started < 50  # stopped, not waited out
    assert res.exit_code == 0
    data = race_json(project.root)
    spender = next(c for c in data["candidates"] if c["name"] == "fake@spender")
    assert spender["status"] == "agent_failed"
    assert "over --max-cost" in spender["error"] and "$0.6" in spender["error"]
    assert "2 * x" in git(project.root, "show", f"{spender['branch']}:calc.py")  # work kept
    assert data["winner"] == "fake@frugal"


def test_max_cost_is_validated(project: Project, racer) -> None:
    res = racer("run", "specs/double.md", "--agents", "fake", "--max-cost", "-1")
    assert res.exit_code == 1 and "max-cost" in res.stderr


def test_budget_adds_increments_and_takes_running_totals() -> None:
    inc = Budget(1.0, totals=False)
    assert not inc.add(0.6) and inc.add(0.6) and inc.spent == pytest.approx(1.2)
    tot = Budget(1.0, totals=True)
    assert not tot.add(0.4) and not tot.add(0.9) and tot.spent == pytest.approx(0.9)
    tot.new_run()  # a second attempt reports its own running total
    assert tot.add(0.2) and tot.spent == pytest.approx(1.1)


def test_agents_report_spending_line_by_line() -> None:
    assert ClaudeAgent().budget_args(0.5) == ("--max-budget-usd", "0.5000")
    assert CodexAgent().budget_args(0.5) == ()
    turn = json.dumps(
        {"type": "turn.completed", "usage": {"input_tokens": 1000, "output_tokens": 200}}
    )
    usd, tokens = CodexAgent().spend(turn)
    assert usd is None and tokens is not None and tokens.input == 1000 and tokens.output == 200
    assert CodexAgent().spend("plain text") == (None, None)
    aider_line = "Tokens: 2.1k sent, 150 received. Cost: $0.01 message, $0.05 session."
    assert AiderAgent().spend(aider_line)[0] == pytest.approx(0.05)
    assert AiderAgent().spend_is_total
    assert FakeAgent().spend('{"type": "cost", "usd": 0.25}') == (0.25, None)
