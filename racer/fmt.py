"""One spelling for every value the views show: the terminal, report.md and report.html all format
money, diff sizes, durations, tokens, attempts and test results through these functions.

Pure text, no markup: each view escapes or styles the result itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from racer.report import Attempt, DiffStat, TestSummary, Tokens

NONE = "—"  # a value that is missing: not measured, not run, not reported


def money(cost_usd: float | None, estimated: bool) -> str:
    """`$0.0100`, or `$0.0100 (est.)` when racer estimated it from its price table."""
    if cost_usd is None:
        return NONE
    return f"${cost_usd:.4f}" + (" (est.)" if estimated else "")


def diffstat(ds: DiffStat | None) -> str:
    """`2 files +3 -1` (`1 file +0 -5`)."""
    if ds is None:
        return NONE
    files = f"{ds.files} file" + ("" if ds.files == 1 else "s")
    return f"{files} +{ds.added} -{ds.removed}"


def duration(seconds: float | None) -> str:
    """`42.5 s`."""
    return NONE if seconds is None else f"{seconds:.1f} s"


def tokens(t: Tokens | None) -> str:
    """`1000 in / 200 out`, with `/ 50 cached` when any were cached."""
    if t is None:
        return NONE
    cached = f" / {t.cached} cached" if t.cached else ""
    return f"{t.input} in / {t.output} out{cached}"


def rank(n: int | None) -> str:
    return NONE if n is None else str(n)


def commit(sha: str | None) -> str:
    """A commit as the views show it: its first 12 hex digits."""
    return (sha or "")[:12]


def tests(t: TestSummary | None, *, passed: bool = False) -> str:
    """A candidate's test result in a few words; `passed`: its verdict (no tests yet it passed)."""
    if t is None:
        return "no test command" if passed else "not run"
    return t.detail()


def attempt_outcome(a: Attempt) -> str:
    """How one launch of the agent ended: `rate-limited`, its error, `timed out`, or `exit N`."""
    if a.rate_limited:
        return "rate-limited"
    if a.error:
        return a.error
    if a.timed_out:
        return "timed out"
    return "no exit code" if a.exit_code is None else f"exit {a.exit_code}"


def attempt(a: Attempt) -> str:
    """`attempt 2 (opus): rate-limited, 3.1 s`."""
    model = a.model or "default model"
    return f"attempt {a.n} ({model}): {attempt_outcome(a)}, {duration(a.duration_s)}"


def attempts(runs: Sequence[Attempt]) -> list[str]:
    """One line per attempt, or none when a single launch ran without a rate limit."""
    if len(runs) > 1 or any(a.rate_limited for a in runs):
        return [attempt(a) for a in runs]
    return []
