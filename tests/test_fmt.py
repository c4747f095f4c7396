"""racer.fmt: the one spelling of each value every view shows."""

from __future__ import annotations

from racer import fmt
from racer import report as rpt
from racer.report import Attempt, DiffStat, Tokens


def test_money() -> None:
    assert fmt.money(0.01, False) == "$0.0100"
    assert fmt.money(0.01, True) == "$0.0100 (est.)"
    assert fmt.money(1.23456, False) == "$1.2346"
    assert fmt.money(0.0, True) == "$0.0000 (est.)"  # zero is a cost, not a missing one
    assert fmt.money(None, False) == "—"
    assert fmt.money(None, True) == "—"


def test_diffstat() -> None:
    assert fmt.diffstat(DiffStat(files=2, added=3, removed=1)) == "2 files +3 -1"
    assert fmt.diffstat(DiffStat(files=1, added=0, removed=5)) == "1 file +0 -5"
    assert fmt.diffstat(DiffStat()) == "0 files +0 -0"
    assert fmt.diffstat(None) == "—"


def test_duration() -> None:
    assert fmt.duration(42.5) == "42.5 s"
    assert fmt.duration(0) == "0.0 s"
    assert fmt.duration(3.14159) == "3.1 s"
    assert fmt.duration(None) == "—"


def test_tokens() -> None:
    assert fmt.tokens(Tokens(input=1000, output=200)) == "1000 in / 200 out"
    assert fmt.tokens(Tokens(input=1000, output=200, cached=50)) == "1000 in / 200 out / 50 cached"
    assert fmt.tokens(Tokens()) == "0 in / 0 out"
    assert fmt.tokens(None) == "—"


def test_rank_and_commit() -> None:
    assert fmt.rank(1) == "1"
    assert fmt.rank(None) == "—"
    assert fmt.commit("0123456789abcdef0123") == "0123456789ab"
    assert fmt.commit("abc") == "abc"
    assert fmt.commit(None) == ""


def test_tests() -> None:
    junit = rpt.TestSummary(command="pytest", passed=3, failed=1, junit=True)
    assert fmt.tests(junit) == "1 failed, 3 passed"
    assert fmt.tests(rpt.TestSummary(command="make", exit_code=2)) == (
        "make exited 2; no per-test results"
    )
    assert fmt.tests(rpt.TestSummary(command="make", error="no tests ran")) == "no tests ran"
    assert fmt.tests(None) == "not run"
    assert fmt.tests(None, passed=True) == "no test command"


def _attempt(n: int = 1, **kw: object) -> Attempt:
    base: dict[str, object] = {"n": n, "model": "opus", "exit_code": 0, "duration_s": 3.14}
    return Attempt(**(base | kw))  # type: ignore[arg-type]


def test_attempt_outcome_and_line() -> None:
    assert fmt.attempt_outcome(_attempt(rate_limited=True, error="429")) == "rate-limited"
    assert fmt.attempt_outcome(_attempt(error="API Error: 401")) == "API Error: 401"
    assert fmt.attempt_outcome(_attempt(exit_code=3)) == "exit 3"
    assert fmt.attempt_outcome(_attempt(exit_code=None)) == "no exit code"
    assert fmt.attempt_outcome(_attempt(exit_code=None, timed_out=True)) == "timed out"
    assert fmt.attempt(_attempt(2, rate_limited=True)) == "attempt 2 (opus): rate-limited, 3.1 s"
    assert fmt.attempt(_attempt(model=None)) == "attempt 1 (default model): exit 0, 3.1 s"


def test_attempts_shown_only_when_there_is_a_story() -> None:
    assert fmt.attempts([]) == []
    assert fmt.attempts([_attempt()]) == []  # one clean launch: nothing to say
    assert fmt.attempts([_attempt(rate_limited=True)]) == ["attempt 1 (opus): rate-limited, 3.1 s"]
    assert fmt.attempts([_attempt(1, rate_limited=True), _attempt(2, model="spare")]) == [
        "attempt 1 (opus): rate-limited, 3.1 s",
        "attempt 2 (spare): exit 0, 3.1 s",
    ]
