"""The pure parts of scoring: which test files go back to the base's (pristine), narrowing a
pytest command to some files, and reading the acceptance tests' outcomes (and a race where
they cannot be read)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.repos import CORRECT, Project, Result, git, race_json

from racer.flags import DEFAULT_TEST_PATTERNS, FileChange
from racer.scoring import acceptance_of, outcomes_in, pristine_plan, pytest_command_for
from racer.testsummary import SUITE_ID, TestSummary


def test_pristine_plan_restores_edited_tests_and_removes_added_ones() -> None:
    changes = [
        FileChange("calc.py", "calc.py", "a", "b"),
        FileChange("tests/test_calc.py", "tests/test_calc.py", "old", "new"),
        FileChange("tests/test_new.py", None, None, "def test_x(): pass\n"),
        FileChange("tests/test_moved.py", "tests/test_old.py", "t", "t"),
    ]
    plan = pristine_plan(changes, DEFAULT_TEST_PATTERNS)
    assert plan.restore == ("tests/test_calc.py", "tests/test_old.py")
    assert plan.remove == ("tests/test_moved.py", "tests/test_new.py")
    # New tests may be added to an existing file as well as in a new one.
    assert plan.own_tests == ("tests/test_calc.py", "tests/test_new.py")
    assert plan.needed
    assert not pristine_plan(changes[:1], DEFAULT_TEST_PATTERNS).needed


def test_pytest_command_is_narrowed_to_files_and_other_commands_are_left_alone() -> None:
    files = ["tests/test_a.py"]
    assert pytest_command_for("python -m pytest -q", files) == "python -m pytest tests/test_a.py"
    assert pytest_command_for("npm test", files) == "npm test"
    assert pytest_command_for("pytest 'unclosed", files) == "pytest 'unclosed"


def test_outcomes_in_matches_junit_classnames_of_the_files() -> None:
    outcomes = {
        "tests.test_a::test_x": "passed",
        "tests.test_a.TestK::test_y": "failed",
        "tests.test_ab::test_z": "passed",
    }
    assert outcomes_in(outcomes, ["tests/test_a.py"]) == {
        "tests.test_a::test_x": "passed",
        "tests.test_a.TestK::test_y": "failed",
    }


def test_acceptance_counts_and_says_when_they_did_not_run() -> None:
    res = TestSummary(
        "pytest",
        junit=True,
        log="/l",
        outcomes={
            "tests.test_h::a": "passed",
            "tests.test_h::b": "error",
            "tests.other::c": "failed",
        },
    )
    acc = acceptance_of(res, ["tests/test_h.py"])
    assert (acc.passed, acc.failed, acc.errors, acc.total, acc.error) == (1, 0, 1, 2, None)
    empty = acceptance_of(TestSummary("pytest", junit=True), ["tests/test_h.py"])
    assert empty.error == "the acceptance tests did not run (no results for them)"
    assert empty.errors == 1
    no_junit = acceptance_of(TestSummary("npm test", outcomes={SUITE_ID: "passed"}), ["t.js"])
    assert (no_junit.passed, no_junit.total) == (1, 1)  # npm test narrowed to t.js: its exit
    # The whole suite's exit code is not the hidden tests' result: unknown, for every candidate.
    whole = acceptance_of(
        TestSummary("make test", outcomes={SUITE_ID: "passed"}), ["t.js"], narrowed=False
    )
    assert (whole.passed, whole.errors, whole.outcomes) == (0, 1, {})
    assert whole.error and whole.error.startswith("the acceptance tests' result is unknown: `make")
    # With per-test results the unnarrowed run still tells (pytest over tests/ ran the file).
    ran = acceptance_of(
        TestSummary("pytest", junit=True, outcomes={"tests.test_h::a": "passed"}),
        ["tests/test_h.py"],
        narrowed=False,
    )
    assert (ran.passed, ran.error) == (1, None)


def test_a_hidden_test_the_command_cannot_run_alone_is_unknown_not_the_suites_result(
    project: Project, racer: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`sh check.sh` checks double(3) with a plain script, no per-test results: the hidden test
    is never run, so its result is unknown on every candidate, not check.sh's exit code."""
    check = "python -c 'from calc import double; assert double(3) == 6'\n"
    (project.root / "check.sh").write_text(check)
    git(project.root, "add", "check.sh")
    git(project.root, "commit", "-qm", "check.sh")
    hidden = tmp_path / "test_hidden.py"
    hidden.write_text("def test_never_run():\n    assert False\n")
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    res = racer(
        "run", "specs/double.md", "--agents", "fake", "--test", "sh check.sh",
        "--acceptance", str(hidden),
    )  # fmt: skip
    record = race_json(project.root)
    acc = record["candidates"][0]["acceptance"]
    assert (acc["passed"], acc["failed"]) == (0, 0), acc  # before: 1 passed, check.sh's exit 0
    assert acc["error"].startswith("the acceptance tests' result is unknown: `sh check.sh`")
    assert "tests/test_hidden.py" in acc["error"]
    assert "result is unknown" in res.stdout + res.stderr
