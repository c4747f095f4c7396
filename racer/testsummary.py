"""What one run of the test command showed (`TestSummary`) and one test's verdict (`TestCase`).

A leaf: the record (racer.report) reads them without loading the runner in racer.testrun.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["passed", "failed", "error", "skipped"]


@dataclass(frozen=True)
class TestCase:
    """One test's verdict, e.g. TestCase("tests.test_x::test_add", "passed")."""

    __test__ = False  # not a pytest test class, though its name says so

    id: str
    outcome: Outcome
    message: str = ""  # the first line of a failure's or error's message


SUITE_ID = "(test command)"  # the one "test" of a runner without per-test results


@dataclass(frozen=True)
class TestSummary:
    """What one run of the test command showed (the record keeps it as is); counts and
    per-test outcomes come from JUnit when junit is True."""

    __test__ = False  # not a pytest test class, though its name says so

    command: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    exit_code: int | None = None
    duration_s: float = 0.0
    timed_out: bool = False
    ok: bool = False
    junit: bool = False
    error: str | None = None  # it could not run, collected nothing, or its report was unreadable
    log: str | None = None
    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> passed/failed/error/skipped
    fixed: tuple[str, ...] = ()  # failed on the base commit, pass here (set by the verdict)
    broken: tuple[str, ...] = ()  # passed on the base commit, fail here (set by the verdict)
    pristine: bool = False  # scored with the base versions of the tests and test config

    @property
    def ran(self) -> bool:
        return self.exit_code is not None and not self.timed_out

    def detail(self) -> str:
        if self.error:
            return self.error
        if self.timed_out:
            return f"timed out after {self.duration_s:.0f} s"
        if not self.junit:
            # Never a count it did not see: what ran, how it ended, that per-test data is missing.
            return f"{self.command} exited {self.exit_code}; no per-test results"
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.failed, "failed"),
                (self.errors, "errors"),
                (self.passed, "passed"),
                (self.skipped, "skipped"),
            )
            if n
        ]
        said = ", ".join(parts) or "no tests"
        if self.exit_code and not self.failed and not self.errors:
            # every test passed, yet the command failed: a linter or type check beside them
            said += f"; {self.command} exited {self.exit_code}"
        return said
