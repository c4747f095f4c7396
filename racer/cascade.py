"""Cascades: tiers of contestants run one after another, cheapest first. A tier ends the race
when one of the candidates so far passes with confidence high or medium and no tamper flag;
otherwise the next tier starts from the same base, told what the earlier tiers' tests said.

Pure functions: the race (racer.race) runs the tiers, this module decides and words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from racer import fmt
from racer.report import Candidate, RaceReport
from racer.status import GATE_FAILURES, Status
from racer.testsummary import TestCase

MAX_FEEDBACK_TESTS = 10  # failing tests named per earlier attempt
MAX_MESSAGE = 300  # characters of one failure's message


def split_tiers(text: str) -> tuple[list[str], list[int]]:
    """`a,b;c` → the contestant items in order and each one's tier (0-based)."""
    items: list[str] = []
    tiers: list[int] = []
    for tier, part in enumerate(text.split(";")):
        for item in (t.strip() for t in part.split(",")):
            if item:
                items.append(item)
                tiers.append(tier)
    return items, tiers


def auto_order(keys: Sequence[str], per_solve: Mapping[str, float | None]) -> list[int]:
    """Positions of `keys` cheapest first: by $ per solved race where the history knows it,
    the others after them by the list-price estimate in `per_solve` (None: last, as given)."""

    def rank(i: int) -> tuple[float, int]:
        cost = per_solve.get(keys[i])
        return (cost if cost is not None else float("inf"), i)

    return sorted(range(len(keys)), key=rank)


def solved(judged: RaceReport) -> str | None:
    """Why the race may end here: its winner passed with confidence high or medium and carries
    no tamper flag; None when the next tier must run."""
    if judged.winner is None or judged.confidence not in ("high", "medium"):
        return None
    best = judged.candidate(judged.winner)
    if any(f.severity == "tamper" for f in best.flags):
        return None
    return f"{best.name} passed with confidence {judged.confidence}"


def feedback(failed: Sequence[Candidate], cases: Mapping[str, Sequence[TestCase]]) -> str:
    """What the earlier tiers' attempts showed, for the next tier's prompt: which tests failed
    and why, or how the attempt ended — never their code, never a hidden test's name."""
    if not failed:
        return ""
    lines = [
        "## Earlier attempts",
        "",
        f"{fmt.plural(len(failed), 'earlier attempt')} at this task did not solve it. Their code is not "
        "shown; this is what the project's tests said about them:",
        "",
    ]
    for n, cand in enumerate(failed, 1):
        lines.append(f"- attempt {n}: {_how_it_ended(cand)}")
        shown = [c for c in cases.get(cand.name, ()) if c.outcome in ("failed", "error")]
        for case in shown[:MAX_FEEDBACK_TESTS]:
            why = f": {fmt.printable(case.message)[:MAX_MESSAGE]}" if case.message else ""
            lines.append(f"  - {fmt.printable(case.id)} {case.outcome}{why}")
        if len(shown) > MAX_FEEDBACK_TESTS:
            lines.append(
                f"  - and {fmt.plural(len(shown) - MAX_FEEDBACK_TESTS, 'more failing test')}"
            )
    lines += ["", "Avoid what made them fail."]
    return "\n".join(lines)


def _how_it_ended(c: Candidate) -> str:
    if c.status in GATE_FAILURES:
        return fmt.printable(c.error or str(c.status))[:MAX_MESSAGE]
    tests = c.tests
    if tests is None:
        return str(c.status)
    if c.status == Status.ACCEPTANCE_FAILED:
        return "the project's tests passed, but the task's acceptance check failed"
    if c.status in (Status.FLAGGED, Status.TESTS_INVALID):
        return f"not accepted ({c.status}): {fmt.printable(tests.detail())[:MAX_MESSAGE]}"
    broken = (
        f", broke {fmt.plural(len(tests.broken), 'test')} that passed before"
        if tests.broken
        else ""
    )
    return f"tests failed: {fmt.printable(tests.detail())[:MAX_MESSAGE]}{broken}"


def spent(cands: Sequence[Candidate], tiers: int) -> tuple[float | None, ...]:
    """What each tier cost (None: no cost known for any of its candidates)."""
    out: list[float | None] = []
    for tier in range(tiers):
        costs = [c.cost_usd for c in cands if c.tier == tier and c.cost_usd is not None]
        out.append(round(sum(costs), 6) if costs else None)
    return tuple(out)
