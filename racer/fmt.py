"""One spelling for every value the views show: the terminal, report.md and report.html all format
money, diff sizes, durations, tokens, attempts and test results through these functions.

Pure text, no markup: each view escapes or styles the result itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from racer.report import (
        Acceptance,
        Attempt,
        Candidate,
        Cascade,
        DiffStat,
        Finding,
        Generated,
        RaceReport,
        Review,
        TestSummary,
        Tokens,
    )

NONE = "—"  # a value that is missing: not measured, not run, not reported

# Terminal escape sequences (CSI, OSC, other ESC sequences) and every other control character.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """Text an agent controls, safe for a terminal: escape sequences dropped, any other control
    character (newlines and tabs too) made a space. Nothing it prints can retitle the window,
    write the clipboard or clear the screen."""
    return _CONTROLS.sub(" ", _ESCAPES.sub("", str(text)))


def money(cost_usd: float | None, estimated: bool) -> str:
    """`$0.0100`, or `$0.0100 (est.)` when racer estimated it from its price table."""
    if cost_usd is None:
        return NONE
    return f"${cost_usd:.4f}" + (" (est.)" if estimated else "")


def cost(c: Candidate) -> str:
    """A candidate's cost: `$0.0100`, `(est.)` when racer estimated it, `(scripted)` when its
    agent only plays one (the fake agent: nothing was spent)."""
    return money(c.cost_usd, c.cost_estimated) + (
        " (scripted)" if c.scripted and c.cost_usd is not None else ""
    )


def usage(c: Candidate) -> str:
    """A candidate's tokens, `(scripted)` like its cost."""
    return tokens(c.tokens) + (" (scripted)" if c.scripted and c.tokens is not None else "")


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 file`, `2 files`, `0 files` (`many` for words not made plural by an s)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def diffstat(ds: DiffStat | None) -> str:
    """`2 files +3 -1` (`1 file +0 -5`)."""
    if ds is None:
        return NONE
    return f"{plural(ds.files, 'file')} +{ds.added} -{ds.removed}"


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


# --- the reviewer and the test writer ---------------------------------------------------------

MAX_ADVICE = 5  # unverified findings shown per candidate; the record keeps them all
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_OUTCOME_ORDER = {
    "reproduced": 0,
    "broken test": 2,
    "not reproduced": 3,
    "not run": 3,
    "advisory": 1,
}


def _who(agent: str | None, model: str | None, family: str | None) -> str:
    parts = [p for p in (model, family) if p]
    return f"{agent or '?'}" + (f" ({', '.join(parts)})" if parts else "")


def review(r: Review | None) -> str | None:
    """`review by codex (gpt-5.5, openai): 2 findings, 1 reproduced; $0.0100, 14.0 s`, or
    `review skipped: why` / `review unusable: why`."""
    if r is None:
        return None
    if r.status != "done":
        by = f" ({_who(r.agent, r.model, r.family)})" if r.agent else ""
        return f"review {r.status}{by}: {r.reason or 'no reason recorded'}"
    reproduced = sum(1 for f in r.findings if f.outcome == "reproduced")
    n = len(r.findings)
    return (
        f"review by {_who(r.agent, r.model, r.family)}: {n} finding{'' if n == 1 else 's'}, "
        f"{reproduced} reproduced; {money(r.cost_usd, r.cost_estimated)}, {duration(r.duration_s)}"
    )


def generated(g: Generated | None) -> str | None:
    """`generated tests by claude (…): 3 counted, 1 discounted (no candidate passes them)`."""
    if g is None:
        return None
    if g.status != "done":
        by = f" ({_who(g.agent, g.model, g.family)})" if g.agent else ""
        return f"test writer {g.status}{by}: {g.reason or 'no reason recorded'}"
    counted = sum(len(t.counted) for t in g.tests)
    discounted = sum(len(t.discounted) for t in g.tests)
    on_base = sum(len(t.passes_on_base) for t in g.tests)
    return (
        f"generated tests by {_who(g.agent, g.model, g.family)}: {counted} counted, "
        f"{discounted} discounted (no candidate passes them), {on_base} pass on the base "
        f"(not counted); {money(g.cost_usd, g.cost_estimated)}, {duration(g.duration_s)}"
    )


def placed(files: Sequence[Mapping[str, object]]) -> str | None:
    """Where each hidden acceptance test was put: `acceptance tests placed at: tests/b.js (from
    /home/me/hidden/b.js)`."""
    if not files:
        return None
    where = ", ".join(f"{f.get('dest')} (from {f.get('source')})" for f in files)
    return f"acceptance tests placed at: {where}"


def acceptance(a: Acceptance | None) -> str:
    """A candidate's hidden acceptance tests in a few words, with files that could not load."""
    if a is None:
        return "not run"
    said = f"{a.passed} passed, {a.failed} failed, {a.errors} errors"
    if a.error:
        said += f" ({a.error})"
    for dest, why in sorted(a.load_errors.items()):
        said += f"; {dest} could not load: {why}"
    return said


def cascade(c: Cascade | None) -> str | None:
    """`cascade: tier 2 of 3 solved it (fake@good passed with confidence high); spent $0.51
    (tier 1 $0.01, tier 2 $0.50); tier 3 skipped, about $1.20 at its mean here`."""
    if c is None:
        return None
    n = len(c.tiers)
    how = " (ordered by $ per solved race here)" if c.auto else ""
    head = (
        f"cascade{how}: tier {c.solved_by} of {n} solved it ({printable(c.reason)})"
        if c.solved_by
        else f"cascade{how}: no tier of {n} solved it"
    )
    ran = list(enumerate(c.spent, 1))
    known = [cost for _, cost in ran if cost is not None]
    per = ", ".join(f"tier {i} {money(cost, False)}" for i, cost in ran)
    line = f"{head}; spent {money(sum(known), False)} ({per})" if known else head
    skipped = range(len(c.spent) + 1, n + 1)
    if skipped:
        which = ", ".join(str(i) for i in skipped)
        at = (
            f"about {money(c.skipped_cost, False)} at their mean here"
            if c.skipped_cost is not None
            else "no cost known for them here yet"
        )
        line += f"; tier {which} skipped ({at})"
    return line


def findings_of(r: Review | None, name: str) -> list[Finding]:
    """A candidate's findings: verified ones first, then advice by severity, capped."""
    if r is None or r.status != "done":
        return []
    mine = sorted(
        (f for f in r.findings if f.candidate == name),
        key=lambda f: (_OUTCOME_ORDER.get(f.outcome, 3), _SEVERITY_ORDER.get(f.severity, 3)),
    )
    shown = [f for f in mine if f.outcome == "reproduced"]
    return shown + [f for f in mine if f.outcome != "reproduced"][:MAX_ADVICE]


def finding(f: Finding) -> str:
    """`[reproduced] high calc/ops.py:9 — the claim (test tests/test_r.py)`."""
    where = f.file + (f":{f.line}" if f.line else "")
    test = f" (test {f.test.path})" if f.test else ""
    return f"[{f.outcome}] {f.severity} {where} — {f.claim}{test}"


def reviewed_as(report: RaceReport, name: str) -> str | None:
    """`reviewed as B by codex; same model family (openai) as the reviewer`."""
    r = report.review
    if r is None or r.status != "done":
        return None
    label = next((lb for lb, n in r.labels.items() if n == name), None)
    if label is None:
        return None
    text = f"reviewed as {label} by {r.agent}"
    if name in r.same_family:
        text += f"; same model family ({r.family}) as the reviewer: its review is weaker evidence"
    return text
