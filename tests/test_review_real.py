"""The reviewer and the test writer as real CLIs (claude, codex) against the fake model server.

The contestants stay racer's built-in fake agent (fake@p floors `a // b`, fake@c divides
`a / b`); only the helper is a real CLI, driven through racer's own adapter. Labels are blind,
so the scripted reviewer names its candidate with `{{label_of:a // b}}`, which the fake model
server resolves from the prompt the CLI sent it.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.agent_env import AGENT_BIN, agent_setup
from helpers.fakemodel import FakeModelServer, Scenario, resolve_labels
from helpers.repos import make_repo, race_json
from test_agents_real import require
from test_review import SAFE_DIV, SCENARIOS, finding

from racer.findings import review_prompt

MODELS = {"claude": "claude-sonnet-4-5", "codex": "gpt-5.5"}
FAMILIES = {"claude": "anthropic", "codex": "openai"}
DECIDED = "reviewer's test tests/test_review_safe_div.py: passes on fake@c, fails on fake@p"
ACCEPT_TEST = "from calc.ops import safe_div\n\n\ndef test_seven_by_two():\n    assert safe_div(7, 2) == 3.5\n"


def review_answer() -> str:
    """The reviewer's final message: one finding against the label of the `a // b` diff."""
    body = json.dumps(
        {"findings": [finding(label="{{label_of:a // b}}")], "summary": "P floors"}, indent=1
    )
    return f"Review done.\n```json\n{body}\n```"


def writer_answer() -> str:
    tests = [{"path": "tests/test_accept_div.py", "content": ACCEPT_TEST}]
    return "Tests written.\n```json\n" + json.dumps({"tests": tests}, indent=1) + "\n```"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeModelServer]:
    with FakeModelServer(log_dir=tmp_path / "server") as srv:
        yield srv


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # racer finds the real CLIs on PATH, as a user's shell would after scripts/install-agents.sh
    monkeypatch.setenv("PATH", f"{AGENT_BIN}{os.pathsep}{os.environ['PATH']}")
    root = make_repo(tmp_path / "repo", SAFE_DIV)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    # the contestants: racer's fake agent, scripted through RACER_FAKE (reaches every lane)
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps(SCENARIOS), encoding="utf-8")
    monkeypatch.setenv("RACER_FAKE", str(scenarios))
    return root


@pytest.fixture
def helper(
    project: Path, server: FakeModelServer, tmp_path: Path
) -> Iterator[Any]:  # returns configure(name, scenario)
    """racer.toml pointing the real CLI `name` at the server's `scenario`; fast failures."""
    cleanup: list[Path] = []

    def configure(name: str, scenario: Scenario) -> str:
        require(name)
        server.add(name, scenario)
        env, args = agent_setup(name, server.base(name), tmp_path / "homes" / name)
        if "CODEX_HOME" in env and not Path(env["CODEX_HOME"]).is_relative_to(tmp_path):
            cleanup.append(Path(env["CODEX_HOME"]))
        lines = [
            'test = "python -m pytest -q"',
            "retries = 0",
            "backoff = 0",
            "timeout = 60",
            "",
            f"[agents.{name}]",
            "env = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items()) + " }",
        ]
        if args:
            lines.append(f"args = {json.dumps(args)}")
        (project / "racer.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return f"{name}@{MODELS[name]}"

    yield configure
    for path in cleanup:
        shutil.rmtree(path, ignore_errors=True)


def run(racer: Any, *extra: str) -> tuple[Any, dict[str, Any]]:
    res = racer("run", "spec.md", "--agents", "fake@p,fake@c", *extra)
    return res, race_json(Path.cwd())


def explain(server: FakeModelServer, name: str, res: Any, data: dict[str, Any]) -> str:
    calls = [
        (r["status"], r.get("model"), r.get("k"), r.get("action"))
        for r in server.for_scenario(name)
    ]
    block = data.get("review") or data.get("generated_tests")
    return f"requests {calls}\nrecord {block}\n--- stdout\n{res.stdout[-3000:]}"


def assert_reviewed(data: dict[str, Any], name: str) -> None:
    review = data["review"]
    assert review["status"] == "done", review
    assert review["agent"] == name and review["family"] == FAMILIES[name]
    assert review["model"] == MODELS[name]
    assert sorted(review["labels"].values()) == ["fake@c", "fake@p"]
    [f] = review["findings"]
    assert f["candidate"] == "fake@p", (f, review["labels"])
    assert f["outcome"] == "reproduced" and f["separates"], f
    assert f["results"] == {"fake@p": "failed", "fake@c": "passed"}
    assert data["winner"] == "fake@c"
    assert data["decided_by"] == DECIDED
    assert data["confidence"] == "high"


@pytest.mark.parametrize("name", ["codex", "claude"])
def test_a_real_reviewer_reproduces_a_finding_and_flips_the_winner(
    project: Path, server: FakeModelServer, helper: Any, racer: Any, name: str
) -> None:
    reviewer = helper(name, Scenario(final_text=review_answer()))
    res, data = run(racer, "--review", reviewer)
    assert res.exit_code == 0, explain(server, name, res, data)
    assert_reviewed(data, name)
    # the CLI really asked the model, with racer's review prompt, diffs labelled blind
    asked = [r for r in server.for_scenario(name) if r.get("tools")]
    assert asked and all(r["status"] == 200 for r in asked)
    prompt = (Path(data["race_dir"]) / "review-prompt.md").read_text()
    label = next(k for k, v in data["review"]["labels"].items() if v == "fake@p")
    assert "return a // b" in prompt.split(f"## Candidate {label}\n", 1)[1].split("## ", 1)[0]
    md = (Path(data["race_dir"]) / "report.md").read_text()
    assert "reproduced" in md and "safe_div floors" in md


@pytest.mark.parametrize("name", ["codex", "claude"])
def test_a_reviewer_whose_model_fails_is_skipped_and_the_race_stands(
    project: Path, server: FakeModelServer, helper: Any, racer: Any, name: str
) -> None:
    reviewer = helper(name, Scenario(final_text=review_answer(), error_status=500, error_on="all"))
    res, data = run(racer, "--review", reviewer)
    assert res.exit_code == 0, explain(server, name, res, data)
    review = data["review"]
    assert review["status"] == "skipped", review
    assert review["reason"] and review["agent"] == name
    assert data["winner"] == "fake@p"
    assert "the tests cannot tell these apart" in data["decided_by"]
    assert any(r["status"] == 500 for r in server.for_scenario(name))
    assert "review skipped" in res.stdout


@pytest.mark.parametrize("name", ["claude", "codex"])
def test_a_real_test_writer_adds_acceptance_tests_that_decide(
    project: Path, server: FakeModelServer, helper: Any, racer: Any, name: str
) -> None:
    writer = helper(name, Scenario(final_text=writer_answer()))
    res, data = run(racer, "--write-tests", writer)
    assert res.exit_code == 0, explain(server, name, res, data)
    generated = data["generated_tests"]
    assert generated["status"] == "done", generated
    assert generated["agent"] == name and generated["family"] == FAMILIES[name]
    [t] = generated["tests"]
    assert t["path"] == "tests/test_accept_div.py" and t["content"] == ACCEPT_TEST
    assert t["counted"], t
    assert t["passed"] == {"fake@p": 0, "fake@c": len(t["counted"])}
    assert data["winner"] == "fake@c"
    assert data["decided_by"].startswith("generated acceptance tests:"), data["decided_by"]
    assert data["review"] is None


def test_racer_review_of_a_finished_race_with_a_real_reviewer(
    project: Path, server: FakeModelServer, helper: Any, racer: Any
) -> None:
    reviewer = helper("codex", Scenario(final_text=review_answer()))
    res, data = run(racer)
    assert res.exit_code == 0 and data["winner"] == "fake@p" and data["review"] is None
    assert not server.for_scenario("codex")  # no reviewer ran in the race itself
    res = racer("review", "--agent", reviewer)
    again = race_json(project)
    assert res.exit_code == 0, explain(server, "codex", res, again)
    assert again["id"] == data["id"] and again["finished"] == data["finished"]
    assert_reviewed(again, "codex")


FLOOR_DIFF = (
    "--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n-    raise X\n+    return a // b\n"
)
TRUE_DIFF = FLOOR_DIFF.replace("a // b", "a / b")


@pytest.mark.parametrize("order", ["floors first", "floors last"])
def test_the_fake_model_resolves_labels_from_the_request(
    server: FakeModelServer, order: str
) -> None:
    """`{{label_of:NEEDLE}}` names the `## Candidate X` whose diff holds NEEDLE, per request."""
    diffs = {"A": FLOOR_DIFF, "B": TRUE_DIFF}
    if order == "floors last":
        diffs = {"A": TRUE_DIFF, "B": FLOOR_DIFF}
    floors = "A" if order == "floors first" else "B"
    prompt = review_prompt("safe_div", "Write safe_div.", diffs)
    answer = review_answer()
    resolved = resolve_labels(answer, prompt + "\ntrailing text: a // b")
    [f] = json.loads(resolved.split("```json\n", 1)[1].split("\n```")[0])["findings"]
    assert f["candidate"] == floors
    assert resolve_labels("{{label_of:a / b}} {{label_of:nowhere}}", prompt) == (
        f"{'B' if floors == 'A' else 'A'} ?"
    )
    # through the server: an Anthropic request offering a tool gets the resolved final text
    server.add("rev", Scenario(final_text="label {{label_of:a // b}}"))
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
    }
    request = urllib.request.Request(
        server.base("rev") + "/v1/messages",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        reply = json.loads(response.read())
    assert reply["content"] == [{"type": "text", "text": f"label {floors}"}]
