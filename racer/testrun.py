"""Running a project's test command in a worktree, and reading per-test results from JUnit XML.

Any pytest the command starts is asked (through PYTEST_ADDOPTS) to write its JUnit report for us.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import shlex
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from racer import proc, runners, runparse, testglobs
from racer.testfiles import is_test_file as is_test_path
from racer.testsummary import SUITE_ID, Outcome, TestCase, TestSummary

PYTEST = "python -m pytest"
# What `npm init` writes: a placeholder, not a test suite.
_NPM_PLACEHOLDER = 'echo "Error: no test specified" && exit 1'
_PYTEST_NO_TESTS = 5
NO_TESTS = "no tests collected"


def suite_ok(
    exit_code: int | None,
    timed_out: bool,
    error: str | None,
    junit: bool,
    counts: tuple[int, int, int] = (0, 0, 0),
) -> bool:
    """Whether a run passed: it ran, exited 0, and (with JUnit) passed something, failing
    nothing; `counts` is (passed, failed, errors)."""
    if exit_code is None or timed_out or exit_code != 0 or error is not None:
        return False
    passed, failed, errors = counts
    return not junit or (passed > 0 and failed == 0 and errors == 0)


def detect_test_command(root: Path) -> str | None:
    """Guess the project's test command from its files: pytest, npm, go, then cargo."""
    if _uses_pytest(root):
        return PYTEST
    if _npm_test_script(root / "package.json"):
        return "npm test"
    if (root / "go.mod").is_file():
        return "go test ./..."
    if (root / "Cargo.toml").is_file():
        return "cargo test"
    return None


def parse_junit(path: Path) -> tuple[int, int, int, int, tuple[TestCase, ...]]:
    """Read a JUnit XML report: (passed, failed, errors, skipped, cases).

    Takes <testsuites> or a bare <testsuite>; raises ValueError when the file is unreadable.
    """
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise ValueError(f"{path}: root element is <{root.tag}>, not <testsuites>/<testsuite>")
    cases = tuple(_case(element) for element in root.iter("testcase"))
    counts = {outcome: 0 for outcome in ("passed", "failed", "error", "skipped")}
    for case in cases:
        counts[case.outcome] += 1
    return counts["passed"], counts["failed"], counts["error"], counts["skipped"], cases


async def run_tests(
    command: str,
    worktree: Path,
    *,
    log_path: Path,
    junit_path: Path,
    env: Mapping[str, str],
    timeout: float | None,
    on_line: Callable[[str], None] | None = None,
    test_report: str | None = None,
    wrap: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None,
) -> TestSummary:
    """Run command with /bin/sh in worktree and collect its results; failures are values.

    `test_report`: where (relative to the worktree) a non-pytest runner writes JUnit XML.
    """
    junit_path = junit_path.absolute()  # pytest runs wherever the command cds to
    junit_path.unlink(missing_ok=True)  # a stale report would pass for this run's
    if test_report:
        (worktree / test_report).unlink(missing_ok=True)
    # Other runners are asked for their machine-readable report, into racer's directory.
    inst = _instrument(command, worktree, junit_path, log_path)
    # A module that fails to import must not hide the results of the others: per-test evidence
    # from every module that collects (pytest otherwise stops the whole run).
    addopts = (
        f"--junitxml={shlex.quote(str(junit_path))} -p no:cacheprovider"
        " --continue-on-collection-errors"
    )
    if existing := env.get("PYTEST_ADDOPTS", "").strip():
        addopts = f"{existing} {addopts}"
    argv: tuple[str, ...] = ("/bin/sh", "-c", inst.command)
    request = proc.ProcRequest(
        argv=wrap(argv) if wrap else argv,
        cwd=worktree,
        env=proc.child_env(env, {"PYTEST_ADDOPTS": addopts}),
        log_path=log_path,
        timeout=timeout,
        secrets=proc.secret_values(env),  # a test run may print the environment
    )
    start = log_path.stat().st_size if log_path.is_file() else 0  # the log is appended to
    outcome = await proc.run_process(request, on_line)
    if inst.reports and outcome.error is None:
        _collect(inst, worktree, junit_path, start)
    if test_report and not junit_path.exists() and (worktree / test_report).is_file():
        junit_path.parent.mkdir(parents=True, exist_ok=True)
        junit_path.write_bytes((worktree / test_report).read_bytes())
    passed = failed = errors = skipped = 0
    cases: tuple[TestCase, ...] = ()
    junit = False
    error = outcome.error
    if error is None and junit_path.exists():
        try:
            passed, failed, errors, skipped, cases = parse_junit(junit_path)
        except ValueError as exc:
            error = f"JUnit report unreadable: {exc}"
        else:
            junit = True
            if outcome.exit_code == _PYTEST_NO_TESTS or not cases:
                error = NO_TESTS
    ok = suite_ok(outcome.exit_code, outcome.timed_out, error, junit, (passed, failed, errors))
    return TestSummary(
        command=command,
        passed=passed,
        failed=failed,
        errors=errors,
        skipped=skipped,
        exit_code=outcome.exit_code,
        duration_s=round(outcome.duration_s, 3),
        timed_out=outcome.timed_out,
        ok=ok,
        junit=junit,
        error=error,
        log=str(log_path),
        outcomes={c.id: c.outcome for c in cases} if junit else {SUITE_ID: _word(ok)},
    )


def _instrument(command: str, worktree: Path, junit_path: Path, log: Path) -> runners.Instrumented:
    stem = junit_path.with_suffix("")
    inst = runners.instrument(command, worktree, stem, log)
    if inst.reports:
        stem.parent.mkdir(parents=True, exist_ok=True)  # the runners write there, not racer
    for kind, report in inst.reports:
        if kind != "cargo":
            report.unlink(missing_ok=True)
        if kind == "node":
            reporter = stem.with_name(f"{stem.name}.node-reporter.mjs")
            reporter.parent.mkdir(parents=True, exist_ok=True)
            reporter.write_text(runparse.NODE_REPORTER, encoding="utf-8")
    return inst


def _collect(inst: runners.Instrumented, worktree: Path, junit_path: Path, start: int) -> None:
    """The runners' reports as one JUnit report (with pytest's own, when it wrote one)."""
    cases: list[runparse.Case] = []
    for kind, path in inst.reports:
        report = path
        if kind == "cargo":  # cargo's report is this run's part of the log
            report = junit_path.with_suffix(".cargo.txt")
            with path.open("rb") as log:
                log.seek(start)
                report.write_bytes(log.read())
        if not report.is_file():
            continue  # that part of the command never ran (an earlier part failed)
        if kind == "ava":
            cases += runparse.ava(report, worktree, _ava_files(worktree, inst.ava_files))
        else:
            cases += runparse.PARSERS[kind](report, worktree)
    if not cases:
        return
    if junit_path.is_file():
        with contextlib.suppress(ValueError):  # pytest's report unreadable: the others still count
            cases = [(c.id, c.outcome, c.message) for c in parse_junit(junit_path)[4]] + cases
    runparse.write_junit(runparse.worst(cases), junit_path)


_SKIP_DIRS = {"node_modules", ".git", "dist", "build", "coverage"}
_MAX_WALK = 50_000


def _ava_files(worktree: Path, named: tuple[str, ...]) -> list[str]:
    """The files ava could have run: those named on its command line, else its globs' matches."""
    given = [n for n in named if (worktree / n).is_file()]
    if given:
        return given
    globs = testglobs.runner_globs(worktree, "ava")
    found: list[str] = []
    for _, rel in zip(range(_MAX_WALK), _walk(worktree), strict=False):
        if is_test_path(rel, globs):
            found.append(rel)
    return found


def _walk(root: Path) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        base = Path(folder).relative_to(root)
        for name in sorted(files):
            yield (base / name).as_posix()


def _word(ok: bool) -> str:
    return "passed" if ok else "failed"


def _case(element: ET.Element) -> TestCase:
    classname = element.get("classname", "")
    name = element.get("name", "")
    # A test can carry several verdicts (failed, then errored in teardown); the failure is the
    # test's own verdict, so it wins.
    outcome: Outcome = "passed"
    verdict: ET.Element | None = None
    if (verdict := element.find("failure")) is not None:
        outcome = "failed"
    elif (verdict := element.find("error")) is not None:
        outcome = "error"
    elif element.find("skipped") is not None:
        outcome = "skipped"
    message = ""
    if verdict is not None:
        text = verdict.get("message") or verdict.text or ""
        if text == "collection failure":  # pytest: the reason is the traceback's `E` line
            lines = (verdict.text or "").splitlines()
            text = next((ln[1:] for ln in lines if ln.startswith("E ")), text)
        message = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:300]
    # pytest leaves classname empty for collection errors, whose name is the module.
    return TestCase(
        id=f"{classname}::{name}" if classname else name, outcome=outcome, message=message
    )


def _uses_pytest(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    if _has_pytest_table(root / "pyproject.toml"):
        return True
    if _has_ini_section(root / "tox.ini", "pytest") or _has_ini_section(
        root / "setup.cfg", "tool:pytest"
    ):
        return True
    for folder in (root / "tests", root / "test"):
        if folder.is_dir() and (any(folder.rglob("test_*.py")) or any(folder.rglob("*_test.py"))):
            return True
    return False


def _has_pytest_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    # [tool.pytest.ini_options], or pytest 9's native [tool.pytest] table.
    return isinstance(tool, dict) and isinstance(tool.get("pytest"), dict)


def _has_ini_section(path: Path, section: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return False
    return parser.has_section(section)


def _npm_test_script(package_json: Path) -> bool:
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    scripts = data.get("scripts") if isinstance(data, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(test, str) and test.strip() != "" and test.strip() != _NPM_PLACEHOLDER
