"""Ranking, first version: pure functions from per-lane evidence to an order with reasons.

Gates (agent ok, in time, changed something) → tests passing → smaller diff → order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    name: str
    order: int
    status: str  # lane status before ranking: ok, agent_failed, timed_out, setup_failed, no_changes, error
    failure: str | None  # why the gate failed, in words
    tests_ok: bool | None  # None: no test command
    tests_detail: str  # "12 passed", "1 failed, 3 passed", "not run"
    diff_files: int
    diff_lines: int  # added + removed


@dataclass(frozen=True)
class Ranked:
    name: str
    rank: int
    status: (
        str  # passed | tests_failed | no_changes | agent_failed | timed_out | setup_failed | error
    )
    passed: bool
    reasons: tuple[str, ...]


def _gate_ok(e: Evidence) -> bool:
    return e.status == "ok"


def _key(e: Evidence) -> tuple[int, int, int, int]:
    if not _gate_ok(e):
        return (
            1,
            0,
            0,
            e.order,
        )  # failed gates: no further evidence to compare, keep the order given
    tests_bad = 0 if e.tests_ok in (True, None) else 1
    return (0, tests_bad, e.diff_lines, e.order)


def _status(e: Evidence) -> str:
    if not _gate_ok(e):
        return e.status
    return "passed" if e.tests_ok in (True, None) else "tests_failed"


def _why_below(e: Evidence, above: Evidence) -> str:
    ka, kb = _key(above), _key(e)
    if ka[0] != kb[0]:
        return f"below {above.name}: {e.failure or e.status}"
    if kb[0] == 1:
        return f"below {above.name}: both failed a gate, listed later in --agents"
    if ka[1] != kb[1]:
        return f"below {above.name}: its tests pass, these fail"
    if ka[2] != kb[2]:
        return f"below {above.name}: larger diff ({e.diff_lines} vs {above.diff_lines} lines)"
    return f"below {above.name}: tie on evidence, listed later in --agents"


def rank(evidence: Sequence[Evidence]) -> list[Ranked]:
    """Order candidates best first; each carries the evidence for its place."""
    ordered = sorted(evidence, key=_key)
    out: list[Ranked] = []
    for i, e in enumerate(ordered):
        reasons: list[str] = []
        if _gate_ok(e):
            reasons.append("agent finished and changed files")
            if e.tests_ok is None:
                reasons.append("no test command: judged on the diff alone")
            else:
                reasons.append(("tests pass: " if e.tests_ok else "tests fail: ") + e.tests_detail)
        else:
            reasons.append(f"gate failed: {e.failure or e.status}")
        reasons.append(f"diff: {e.diff_files} file(s), {e.diff_lines} line(s) changed")
        if i > 0:
            reasons.append(_why_below(e, ordered[i - 1]))
        status = _status(e)
        out.append(Ranked(e.name, i + 1, status, status == "passed", tuple(reasons)))
    return out
