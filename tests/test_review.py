"""The reviewer end to end with fake agents: its findings' tests run on every candidate and can
change the winner; every way it fails leaves the race's ranking and exit code as they were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.repos import make_repo, race_json

SAFE_DIV = {
    "calc/__init__.py": "",
    "calc/ops.py": "def safe_div(a, b):\n    raise NotImplementedError\n",
    "tests/test_calc.py": "from calc.ops import safe_div  # noqa: F401\n\n\ndef test_imports():\n    assert True\n",
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
    "spec.md": "---\ntitle: safe_div\n---\nWrite `calc.ops.safe_div(a, b)`: it returns `a / b` as a float.\n",
}
FLOORS = "def safe_div(a, b):\n    return a // b\n"
TRUE_DIV = "def safe_div(a, b):\n    # true division, as the spec asks\n    return a / b\n"
THEIR_TEST = (
    "from calc.ops import safe_div\n\n\ndef test_six_by_three():\n    assert safe_div(6, 3) == 2\n"
)
REVIEW_TEST = "from calc.ops import safe_div\n\n\ndef test_true_division():\n    assert safe_div(7, 2) == 3.5\n"


def finding(label: str = "@P@", test: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    f: dict[str, Any] = {
        "candidate": label,
        "file": "calc/ops.py",
        "line": 2,
        "severity": "high",
        "claim": "safe_div floors: safe_div(7, 2) returns 3, the spec asks 3.5",
        "test": test
        if test is not None
        else {"path": "tests/test_review_safe_div.py", "content": REVIEW_TEST},
    }
    f.update(extra)
    return f


def reviewer(findings: list[dict[str, Any]], *, fenced: bool = True) -> dict[str, Any]:
    body = json.dumps({"findings": findings, "summary": "P floors"}, indent=1)
    say = f"Review done.\n```json\n{body}\n```" if fenced else body
    return {"say": say, "label_of": {"@P@": "a // b", "@C@": "a / b"}, "cost_usd": 0.01}


SCENARIOS: dict[str, Any] = {
    "p": {"write": {"calc/ops.py": FLOORS, "tests/test_p.py": THEIR_TEST}},
    "c": {"write": {"calc/ops.py": TRUE_DIV, "tests/test_c.py": THEIR_TEST}},
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo", SAFE_DIV)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    return root


def play(root: Path, monkeypatch: pytest.MonkeyPatch, **more: Any) -> None:
    path = root.parent / "scenarios.json"
    path.write_text(json.dumps({**SCENARIOS, **more}), encoding="utf-8")
    monkeypatch.setenv("RACER_FAKE", str(path))


def run(racer: Any, *extra: str) -> tuple[Any, dict[str, Any]]:
    res = racer(
        "run", "spec.md", "--agents", "fake@p,fake@c", "--test", "python -m pytest -q", *extra
    )
    return res, race_json(Path.cwd())


def test_without_a_reviewer_the_smaller_floor_division_wins(
    project: Path, racer, monkeypatch
) -> None:
    play(project, monkeypatch)
    res, data = run(racer)
    assert res.exit_code == 0
    assert data["winner"] == "fake@p"
    assert "the tests cannot tell these apart" in data["decided_by"]
    assert data["review"] is None


def test_a_reproduced_finding_changes_the_winner(project: Path, racer, monkeypatch) -> None:
    play(project, monkeypatch, rev=reviewer([finding()]))
    res, data = run(racer, "--review", "fake@rev")
    assert res.exit_code == 0, res.stdout + res.stderr
    review = data["review"]
    assert review["status"] == "done", review
    assert sorted(review["labels"].values()) == ["fake@c", "fake@p"]
    [f] = review["findings"]
    assert f["candidate"] == "fake@p" and f["outcome"] == "reproduced" and f["separates"]
    assert f["results"] == {"fake@p": "failed", "fake@c": "passed"}
    assert f["base"] in ("failed", "wrong")
    assert data["winner"] == "fake@c"
    assert data["decided_by"] == (
        "reviewer's test tests/test_review_safe_div.py: passes on fake@c, fails on fake@p"
    )
    assert data["confidence"] == "high"
    assert review["cost_usd"] == pytest.approx(0.01)
    md = (Path(data["race_dir"]) / "report.md").read_text()
    assert "reproduced" in md and "safe_div floors" in md
    assert "reproduced" in res.stdout and "safe_div floors" in res.stdout


def test_a_finding_whose_test_passes_everywhere_changes_nothing(
    project: Path, racer, monkeypatch
) -> None:
    passing = {"path": "tests/test_review_six.py", "content": THEIR_TEST}
    play(project, monkeypatch, rev=reviewer([finding(test=passing)]))
    res, data = run(racer, "--review", "fake@rev")
    assert res.exit_code == 0
    [f] = data["review"]["findings"]
    assert f["outcome"] == "not reproduced" and not f["separates"]
    assert data["winner"] == "fake@p"


BAD_ANSWERS = {
    "no json": {"say": "Looks fine to me."},
    "wrong types": {"say": json.dumps({"findings": "none"})},
    "outside the repo": reviewer([finding(test={"path": "../evil/test_x.py", "content": "x"})]),
    "inside .git": reviewer([finding(test={"path": ".git/hooks/test_x.py", "content": "x"})]),
    "too many": reviewer(
        [finding(test={"path": f"tests/test_r{i}.py", "content": "x"}) for i in range(11)]
    ),
    "test too big": reviewer(
        [finding(test={"path": "tests/test_big.py", "content": "#" * 70_000})]
    ),
    "unknown label": reviewer([finding(label="Z")]),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_an_unusable_answer_leaves_the_race_as_it_was(
    project: Path, racer, monkeypatch, case: str
) -> None:
    play(project, monkeypatch, rev=BAD_ANSWERS[case])
    res, data = run(racer, "--review", "fake@rev")
    assert res.exit_code == 0
    assert data["review"]["status"] == "unusable", data["review"]
    assert data["review"]["reason"]
    assert data["winner"] == "fake@p"
    assert "review unusable" in res.stdout


FAILURES = {
    "api error": {"error": "API Error: 500 internal server error"},
    "timeout": {"hang": True},
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_failing_reviewer_is_skipped(project: Path, racer, monkeypatch, case: str) -> None:
    play(project, monkeypatch, rev=FAILURES[case])
    res, data = run(racer, "--review", "fake@rev", "--timeout", "8")
    assert res.exit_code == 0
    assert data["review"]["status"] == "skipped", data["review"]
    assert data["winner"] == "fake@p"
    assert "review skipped" in res.stdout


def test_a_reviewer_that_is_not_installed_is_skipped(project: Path, racer, monkeypatch) -> None:
    play(project, monkeypatch)
    (project / "racer.toml").write_text(
        '[agents.ghost]\ncommand = ["ghost-reviewer-not-installed"]\n'
    )
    res, data = run(racer, "--review", "ghost")
    assert res.exit_code == 0
    assert data["review"]["status"] == "skipped"
    assert "not on PATH" in data["review"]["reason"] and data["winner"] == "fake@p"
    res, data = run(racer, "--review", "nosuchagent")
    assert res.exit_code == 0 and data["winner"] == "fake@p"
    assert "unknown agent 'nosuchagent'" in data["review"]["reason"]


def test_racer_review_of_a_finished_race(project: Path, racer, monkeypatch) -> None:
    play(project, monkeypatch, rev=reviewer([finding()]))
    res, data = run(racer)
    assert data["winner"] == "fake@p"
    res = racer("review", "--agent", "fake@rev")
    assert res.exit_code == 0, res.stdout + res.stderr
    again = race_json(project)
    assert again["id"] == data["id"] and again["winner"] == "fake@c"
    assert again["review"]["findings"][0]["outcome"] == "reproduced"
    assert again["finished"] == data["finished"]


WRITTEN = {
    "tests": [
        {
            "path": "tests/test_accept_div.py",
            "content": (
                "import math\n\nfrom calc.ops import safe_div\n\n\n"
                "def test_true_division():\n    assert safe_div(7, 2) == 3.5\n\n\n"
                "def test_importable():\n    assert callable(safe_div)\n\n\n"
                "def test_by_zero_is_inf():\n    assert safe_div(1, 0) == math.inf\n"
            ),
        }
    ]
}


def test_generated_acceptance_tests_count_only_what_fails_on_the_base(
    project: Path, racer, monkeypatch
) -> None:
    play(project, monkeypatch, writer={"say": json.dumps(WRITTEN), "cost_usd": 0.02})
    res, data = run(racer, "--write-tests", "fake@writer")
    assert res.exit_code == 0, res.stdout + res.stderr
    gen = data["generated_tests"]
    assert gen["status"] == "done", gen
    [t] = gen["tests"]
    assert [i.split("::")[-1] for i in t["counted"]] == ["test_true_division"]
    assert [i.split("::")[-1] for i in t["discounted"]] == ["test_by_zero_is_inf"]
    assert [i.split("::")[-1] for i in t["passes_on_base"]] == ["test_importable"]
    assert t["passed"] == {"fake@p": 0, "fake@c": 1}
    assert data["winner"] == "fake@c"
    assert data["decided_by"].startswith(
        "generated acceptance tests: generated acceptance 1/1 vs 0/1"
    )
    assert "generated tests by fake" in res.stdout


def test_a_failing_test_writer_is_skipped(project: Path, racer, monkeypatch) -> None:
    play(project, monkeypatch, writer={"error": "API Error: 500"})
    res, data = run(racer, "--write-tests", "fake@writer")
    assert res.exit_code == 0 and data["winner"] == "fake@p"
    assert data["generated_tests"]["status"] == "skipped"
    assert "test writer skipped" in res.stdout


def test_review_from_spec_front_matter_and_config(project: Path, racer, monkeypatch) -> None:
    play(project, monkeypatch, rev=reviewer([finding()]))
    spec = (
        (project / "spec.md")
        .read_text()
        .replace("title: safe_div", "title: safe_div\nreview: fake@rev")
    )
    (project / "spec.md").write_text(spec)
    res, data = run(racer)
    assert res.exit_code == 0
    assert data["review"]["status"] == "done" and data["winner"] == "fake@c"


def test_reviewer_under_sandbox_cannot_write_outside_and_its_changes_are_discarded(
    project: Path, racer, monkeypatch
) -> None:
    from helpers.repos import require_bwrap

    require_bwrap()
    outside = project.parent / "outside.txt"
    rev = reviewer([finding()])
    rev["run"] = [f"echo hacked > {outside}", "echo planted > planted.txt"]
    play(project, monkeypatch, rev=rev)
    res, data = run(racer, "--review", "fake@rev", "--sandbox")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert not outside.exists()
    assert data["review"]["status"] == "done" and data["winner"] == "fake@c"
    log = Path(data["review"]["log"]).read_text()
    assert "Read-only file system" in log or "Permission denied" in log
    assert not (project / "planted.txt").exists()
    assert not Path(data["candidates"][0]["worktree"]).parent.joinpath("_review").exists()


def test_max_cost_stops_a_reviewer_that_overspends(project: Path, racer, monkeypatch) -> None:
    rev = reviewer([finding()])
    rev["spend"] = [[0.6, 0.1], [0.6, 5]]
    play(project, monkeypatch, rev=rev)
    res, data = run(racer, "--review", "fake@rev", "--max-cost", "1")
    assert res.exit_code == 0
    review = data["review"]
    assert review["status"] == "skipped" and "--max-cost" in review["reason"], review
    assert data["winner"] == "fake@p"


def test_the_report_says_when_the_reviewer_shares_a_family(
    project: Path, racer, monkeypatch
) -> None:
    same = {
        "claude-p": SCENARIOS["p"],
        "gpt-c": SCENARIOS["c"],
        "claude-rev": reviewer([finding()]),
    }
    play(project, monkeypatch, **same)
    res = racer(
        "run", "spec.md", "--agents", "fake@claude-p,fake@gpt-c", "--test", "python -m pytest -q",
        "--review", "fake@claude-rev",
    )  # fmt: skip
    data = race_json(project)
    assert data["review"]["family"] == "anthropic"
    assert data["review"]["same_family"] == ["fake@claude-p"]
    assert "same model family (anthropic) as the reviewer" in res.stdout
    assert data["winner"] == "fake@gpt-c"


def test_review_auto_picks_an_installed_agent_of_another_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from racer.agents import build_registry
    from racer.reviewing import pick_helper

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("claude", "codex"):
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    registry = build_registry({})
    anthropic = [("claude", "claude-sonnet-4-5"), ("opencode", None)]
    assert pick_helper("auto", registry, anthropic).agent == "codex"  # type: ignore[union-attr]
    assert pick_helper("auto", registry, [("codex", "gpt-5.5")]).agent == "claude"  # type: ignore[union-attr]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert "no installed agent" in str(pick_helper("auto", registry, anthropic))
    assert "not on PATH" in str(pick_helper("codex@gpt-5.5", registry, anthropic))


def test_a_rate_limited_reviewer_is_retried(project: Path, racer, monkeypatch) -> None:
    rev = reviewer([finding()])
    counter = project.parent / "rev-runs"
    rev.update({"fail_times": 1, "counter_file": str(counter), "error": "429 rate limit exceeded"})
    play(project, monkeypatch, rev=rev)
    (project / "racer.toml").write_text("retries = 1\nbackoff = 0\n")
    res, data = run(racer, "--review", "fake@rev")
    assert res.exit_code == 0
    review = data["review"]
    assert review["status"] == "done" and len(review["attempts"]) == 2
    assert review["attempts"][0]["rate_limited"] and data["winner"] == "fake@c"


def test_a_candidate_symlink_never_carries_a_findings_test_out_of_its_tree(tmp_path: Path) -> None:
    from racer.scoring import inside, write_files

    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    (tree / "tests").symlink_to(outside)
    assert inside(tree, "tests/test_review_x.py") is None
    assert inside(tree, "other/test_x.py") == tree / "other" / "test_x.py"
    # every file racer places (findings' and writers' tests, acceptance tests, cross-checks)
    written = write_files(tree, [("tests/test_a.py", b"x"), ("other/test_b.py", b"y")])
    assert written == ["other/test_b.py"] and list(outside.iterdir()) == []


def test_racer_review_of_a_race_recorded_before_reviews_existed(
    project: Path, racer, monkeypatch
) -> None:
    play(project, monkeypatch, rev=reviewer([finding()]))
    run(racer)
    record = Path(race_json(project)["race_dir"]) / "race.json"
    old = json.loads(record.read_text())
    del old["review"], old["generated_tests"]
    record.write_text(json.dumps(old))
    assert racer("show").exit_code == 0
    res = racer("review", "--agent", "fake@rev")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert race_json(project)["winner"] == "fake@c"
    assert "reproduced" in res.stdout


def test_racer_review_refuses_in_one_line(project: Path, racer, monkeypatch) -> None:
    res = racer("review", "--agent", "fake@rev")
    assert res.exit_code == 1 and "no races" in res.stderr and "Traceback" not in res.stderr
    play(project, monkeypatch, rev=reviewer([finding()]))
    run(racer)
    res = racer("review", "--agent", "no such,agent")
    assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    res = racer("review", "--agent", "nosuchagent")
    assert res.exit_code == 1 and "unknown agent 'nosuchagent'" in res.stderr
    assert racer("merge", "fake@p").exit_code == 0
    res = racer("review", "--agent", "fake@rev")
    assert res.exit_code == 1 and "merged already" in res.stderr


COMMAND_REVIEWER = """\
import json, re, sys
prompt = open(sys.argv[1], encoding="utf-8").read()
parts = re.split(r"^## Candidate ([A-Z])$", prompt, flags=re.M)
label = next(l for l, body in zip(parts[1::2], parts[2::2]) if "a // b" in body)
print("Reviewing…")
print(json.dumps({"findings": [%s], "summary": "P floors"}, indent=2).replace("@P@", label))
"""


def test_a_command_agent_reviews_with_a_many_line_answer(project: Path, racer, monkeypatch) -> None:
    play(project, monkeypatch)
    script = project.parent / "reviewer.py"
    script.write_text(COMMAND_REVIEWER % json.dumps(finding()))
    (project / "racer.toml").write_text(
        f'[agents.shrev]\ncommand = ["python3", "{script}", "{{prompt_file}}"]\n'
    )
    res, data = run(racer, "--review", "shrev")
    assert res.exit_code == 0
    review = data["review"]
    assert review["status"] == "done", review
    assert review["family"] == "unknown" and data["winner"] == "fake@c"
