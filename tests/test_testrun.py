"""Tests for racer.testrun: real pytest runs in tiny tmp projects, detection, JUnit parsing.

Each tmp project has its own pytest.ini, so this repo's pytest config never applies to it.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from racer.testrun import (
    NO_TESTS,
    PYTEST,
    detect_test_command,
    parse_junit,
    run_tests,
    suite_ok,
)
from racer.testsummary import TestCase, TestSummary

pytestmark = pytest.mark.anyio

PYTEST_HERE = f"{shlex.quote(sys.executable)} -m pytest"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def env() -> dict[str, str]:
    # The outer run's PYTEST_* settings (PYTEST_CURRENT_TEST, a CI's PYTEST_ADDOPTS) are not
    # the inner project's; plugin autoload off keeps the inner runs quick and isolated.
    clean = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    clean["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return clean


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


async def run_in(
    project: Path, env: dict[str, str], command: str = PYTEST_HERE, timeout: float = 60
) -> TestSummary:
    return await run_tests(
        command,
        project,
        log_path=project.parent / "out" / "tests.log",
        junit_path=project.parent / "out" / "junit.xml",
        env=env,
        timeout=timeout,
    )


MATH_TESTS = """
import pytest

def test_add():
    assert 1 + 1 == 2

def test_sub():
    assert 2 - 1 == 1

@pytest.mark.skip(reason="not today")
def test_later():
    pass
"""


async def test_all_passing(tmp_path: Path, env: dict[str, str]) -> None:
    project = write(
        tmp_path / "proj", {"pytest.ini": "[pytest]\n", "tests/test_math.py": MATH_TESTS}
    )
    lines: list[str] = []
    result = await run_tests(
        PYTEST_HERE,
        project,
        log_path=tmp_path / "out" / "tests.log",
        junit_path=tmp_path / "out" / "junit.xml",
        env=env,
        timeout=60,
        on_line=lines.append,
    )
    assert result.ok, Path(result.log or "").read_text()
    assert result.ran
    assert result.junit
    assert (result.passed, result.failed, result.errors, result.skipped) == (2, 0, 0, 1)
    assert result.outcomes == {
        "tests.test_math::test_add": "passed",
        "tests.test_math::test_sub": "passed",
        "tests.test_math::test_later": "skipped",
    }
    assert result.error is None
    assert result.command == PYTEST_HERE
    assert any("2 passed, 1 skipped" in line for line in lines)
    assert "2 passed, 1 skipped" in Path(result.log or "").read_text()


async def test_one_failing(tmp_path: Path, env: dict[str, str]) -> None:
    project = write(
        tmp_path / "proj",
        {
            "pytest.ini": "[pytest]\n",
            "tests/test_math.py": MATH_TESTS,
            "tests/test_bad.py": "def test_wrong():\n    assert 1 == 2\n",
        },
    )
    result = await run_in(project, env)
    assert not result.ok
    assert result.ran
    assert result.exit_code == 1
    assert (result.passed, result.failed, result.errors) == (2, 1, 0)
    assert [t for t, o in result.outcomes.items() if o == "failed"] == [
        "tests.test_bad::test_wrong"
    ]


async def test_pytest_inside_a_wrapper_command_still_reports(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # Like `make test`: the command cds elsewhere and keeps its own PYTEST_ADDOPTS.
    write(
        tmp_path / "proj" / "sub",
        {"pytest.ini": "[pytest]\n", "tests/test_math.py": MATH_TESTS},
    )
    env["PYTEST_ADDOPTS"] = "-k test_add"
    result = await run_in(tmp_path / "proj", env, command=f"cd sub && {PYTEST_HERE}")
    assert result.ok
    assert result.outcomes == {"tests.test_math::test_add": "passed"}


async def test_no_tests_is_not_ok(tmp_path: Path, env: dict[str, str]) -> None:
    project = write(tmp_path / "proj", {"pytest.ini": "[pytest]\n"})
    result = await run_in(project, env)
    assert result.exit_code == 5
    assert result.junit
    assert result.error == NO_TESTS
    assert "no tests" in result.error
    assert not result.ok


async def test_failure_without_pytest_and_stale_report_ignored(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = write(tmp_path / "proj", {})
    stale = write(tmp_path / "out", {"junit.xml": PASSING_SUITE}) / "junit.xml"
    result = await run_in(project, env, command="echo broken; exit 3")
    assert not stale.exists()
    assert result.exit_code == 3
    assert result.ran
    assert not result.junit
    assert not result.ok
    assert result.error is None
    assert (result.passed, result.junit) == (0, False)
    assert result.outcomes == {"(test command)": "failed"}  # one pseudo-test: the command
    assert Path(result.log or "").read_text() == "broken\n"


async def test_success_without_pytest_depends_on_exit_code(
    tmp_path: Path, env: dict[str, str]
) -> None:
    result = await run_in(write(tmp_path / "proj", {}), env, command="true")
    assert result.ok
    assert not result.junit


async def test_unreadable_report(tmp_path: Path, env: dict[str, str]) -> None:
    junit = tmp_path / "out" / "junit.xml"
    command = f"printf 'not xml' > {shlex.quote(str(junit))}"
    result = await run_in(write(tmp_path / "proj", {}), env, command=command)
    assert result.exit_code == 0
    assert result.error is not None
    assert result.error.startswith("JUnit report unreadable: ")
    assert not result.ok


async def test_timeout(tmp_path: Path, env: dict[str, str]) -> None:
    result = await run_in(write(tmp_path / "proj", {}), env, command="sleep 30", timeout=1)
    assert result.timed_out
    assert not result.ran
    assert not result.ok
    assert result.duration_s < 15


async def test_missing_worktree_is_an_error_value(tmp_path: Path, env: dict[str, str]) -> None:
    result = await run_in(tmp_path / "nowhere", env, command="true")
    assert result.exit_code is None
    assert not result.ran
    assert not result.ok
    assert result.error is not None
    assert "not found" in result.error


NPM_INIT_PACKAGE = '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, PYTEST),
        ({"pyproject.toml": "[tool.pytest]\nminversion = '9.0'\n"}, PYTEST),
        ({"pyproject.toml": "[project]\nname = 'x'\n"}, None),
        ({"pyproject.toml": "not [ toml"}, None),
        ({"pytest.ini": ""}, PYTEST),
        ({"tox.ini": "[tox]\nenvlist = py311\n\n[pytest]\naddopts = -q\n"}, PYTEST),
        ({"tox.ini": "[tox]\nenvlist = py311\n"}, None),
        ({"setup.cfg": "[metadata]\nname = x\n\n[tool:pytest]\naddopts = -q\n"}, PYTEST),
        ({"setup.cfg": "[metadata]\nname = x\n"}, None),
        ({"conftest.py": ""}, PYTEST),
        ({"tests/test_thing.py": ""}, PYTEST),
        ({"test/unit/thing_test.py": ""}, PYTEST),
        ({"tests/helpers.py": ""}, None),
        ({"package.json": '{"scripts": {"test": "vitest run"}}'}, "npm test"),
        ({"package.json": NPM_INIT_PACKAGE}, None),
        ({"package.json": '{"name": "x"}'}, None),
        ({"package.json": "{oops"}, None),
        ({"go.mod": "module example.com/x\n"}, "go test ./..."),
        ({"Cargo.toml": "[package]\nname = 'x'\n"}, "cargo test"),
        ({"pytest.ini": "", "package.json": '{"scripts": {"test": "jest"}}'}, PYTEST),
        ({"package.json": '{"scripts": {"test": "jest"}}', "go.mod": ""}, "npm test"),
        ({"go.mod": "", "Cargo.toml": ""}, "go test ./..."),
        ({"README.md": "hi"}, None),
    ],
)
def test_detect_test_command(tmp_path: Path, files: dict[str, str], expected: str | None) -> None:
    assert detect_test_command(write(tmp_path, files)) == expected


PASSING_SUITE = """<?xml version="1.0" encoding="utf-8"?>
<testsuite name="pytest" tests="1"><testcase classname="t" name="test_ok"/></testsuite>
"""

MIXED_SUITES = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="a" tests="4">
    <testcase classname="tests.test_a" name="test_ok" time="0.1"/>
    <testcase classname="tests.test_a" name="test_bad"><failure message="assert 1 == 2"/></testcase>
    <testcase classname="tests.test_a" name="test_boom"><error message="fixture"/></testcase>
    <testcase classname="tests.test_a" name="test_later"><skipped message="later"/></testcase>
  </testsuite>
  <testsuite name="b" tests="2">
    <testcase classname="tests.test_b.TestK" name="test_both">
      <failure message="x"/><error message="teardown"/>
    </testcase>
    <testcase classname="" name="tests.test_c"><error message="collection failure"/></testcase>
  </testsuite>
</testsuites>
"""


def test_parse_junit_testsuites(tmp_path: Path) -> None:
    path = write(tmp_path, {"junit.xml": MIXED_SUITES}) / "junit.xml"
    passed, failed, errors, skipped, cases = parse_junit(path)
    assert (passed, failed, errors, skipped) == (1, 2, 2, 1)
    assert cases == (
        TestCase("tests.test_a::test_ok", "passed"),
        TestCase("tests.test_a::test_bad", "failed", "assert 1 == 2"),
        TestCase("tests.test_a::test_boom", "error", "fixture"),
        TestCase("tests.test_a::test_later", "skipped"),  # a skip's reason is no failure
        TestCase("tests.test_b.TestK::test_both", "failed", "x"),  # the failure's own message
        TestCase("tests.test_c", "error", "collection failure"),
    )


def test_parse_junit_bare_testsuite(tmp_path: Path) -> None:
    path = write(tmp_path, {"junit.xml": PASSING_SUITE}) / "junit.xml"
    assert parse_junit(path) == (1, 0, 0, 0, (TestCase("t::test_ok", "passed"),))


@pytest.mark.parametrize("text", ["", "<testsuite>", "<html><body/></html>"])
def test_parse_junit_rejects_unreadable(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, {"junit.xml": text}) / "junit.xml"
    with pytest.raises(ValueError, match=r"junit\.xml"):
        parse_junit(path)


def test_parse_junit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        parse_junit(tmp_path / "absent.xml")


def test_ok_rules() -> None:
    assert suite_ok(0, False, None, junit=False)
    assert not suite_ok(0, True, None, junit=False)  # timed out
    assert not suite_ok(None, False, "x", junit=False)  # could not run
    assert not suite_ok(0, False, None, junit=True)  # nothing passed
    assert suite_ok(0, False, None, junit=True, counts=(1, 0, 0))
    assert not suite_ok(0, False, None, junit=True, counts=(1, 0, 1))
    assert not suite_ok(1, False, None, junit=False)


def test_a_summary_says_in_words_what_happened() -> None:
    assert TestSummary("c", failed=1, passed=2, junit=True).detail() == "1 failed, 2 passed"
    assert TestSummary("c", exit_code=2).detail() == "c exited 2; no per-test results"
    # Every test passed, yet the command failed (the linter after ava): both are said.
    assert (
        TestSummary("ava && xo", passed=7, exit_code=1, junit=True).detail()
        == "7 passed; ava && xo exited 1"
    )
    assert TestSummary("c", timed_out=True, duration_s=30).detail() == "timed out after 30 s"
    assert TestSummary("c", error="no tests collected").detail() == "no tests collected"
