"""Ranking: pure functions from per-candidate evidence to an order, reasons and a confidence.

Order of evidence: gates → broken (regressions against the base) → hidden acceptance →
generated acceptance → failing → fixed → cross-candidate → reviewer's tests → tamper flags →
scope flags → cluster size → track record here → smaller diff → cost → time → order given: any
difference in test evidence decides before flags, agreement or size. Same inputs, same output.

Regressions first, as Agentless does: a candidate that breaks what worked loses to one that
does not, whatever else it passes. Except tests the spec changes: when at least one candidate
passes every hidden acceptance test, a test broken by *every* such candidate is taken as one
whose expectation the spec changed, and is counted against no candidate (each one's reasons
say so) — else a no-op would beat every correct candidate of a spec that changes tested
behaviour. Only the user's hidden tests excuse a regression: generated tests are an agent's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from racer import fmt
from racer.status import Status


@dataclass(frozen=True)
class Evidence:
    name: str
    order: int
    status: Status  # the lane's result before ranking: OK or a gate failure
    failure: str | None = None  # why a gate failed, in words
    tests_ok: bool | None = None  # None: no test command
    tests_valid: bool = True  # the test command ran and collected tests
    tests_detail: str = "not run"
    per_test: bool = True  # the run gave per-test results (else its "broken" were not seen)
    fixed: int = 0
    broken: int = 0
    failing: int = 0  # tests failing on the pristine tree (still failing or newly failing)
    broken_ids: tuple[str, ...] = ()  # the broken tests by id (per-test results only)
    failing_ids: tuple[str, ...] = ()  # the failing tests by id (per-test results only)
    spec_changed: tuple[str, ...] = ()  # broken tests not counted: the spec changed them
    acceptance_passed: int = 0
    acceptance_total: int = 0  # 0: no acceptance tests
    cross_passed: int = 0
    cross_total: int = 0
    generated_passed: int = 0  # the test writer's tests that fail on the base
    generated_total: int = 0
    # The reviewer's reproduced tests that separate candidates: (test file, passes here).
    review_tests: tuple[tuple[str, bool], ...] = ()
    tamper: int = 0
    scope: int = 0
    cluster_size: int = 1
    diff_files: int = 0
    diff_lines: int = 0  # added + removed
    diff_added: int = 0
    diff_removed: int = 0
    cost: float | None = None
    duration: float | None = None
    note: str | None = None  # e.g. why fixed tests earned no credit
    track: float = 0.5  # its track record here as a prior (0.5: none known)
    track_said: str | None = None  # "passed 9 of its last 10 races here"

    @property
    def review_passed(self) -> int:
        return sum(1 for _, ok in self.review_tests if ok)


@dataclass(frozen=True)
class Ranked:
    name: str
    rank: int
    status: Status  # a verdict, or the lane's gate failure
    passed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Ranking:
    candidates: tuple[Ranked, ...]
    decided_by: str | None  # what separated #1 from #2
    confidence: str | None  # high | medium | low


# Names of the key's components, in order, and how much a decision on each one is worth.
COMPONENTS = (
    ("gates", "high"),
    ("regressions (broken tests)", "high"),
    ("hidden acceptance tests", "high"),
    ("generated acceptance tests", "high"),
    ("failing tests", "high"),
    ("fixed tests", "high"),
    ("other candidates' tests", "high"),
    ("reviewer's tests", "high"),
    ("tamper flags", "medium"),
    ("scope flags", "medium"),
    ("agreement with other candidates", "medium"),
    ("track record here", "low"),
    ("smaller diff", "low"),
    ("cost", "low"),
    ("time", "low"),
    ("order given", "low"),
)


_INDEX = {name: i for i, (name, _) in enumerate(COMPONENTS)}
SIZE = _INDEX["smaller diff"]
TRACK = _INDEX["track record here"]
REVIEW = _INDEX["reviewer's tests"]


def gate_ok(e: Evidence) -> bool:
    return e.status == Status.OK and e.tests_valid


def _frac(passed: int, total: int) -> float:
    return passed / total if total else 0.0


def key(e: Evidence) -> tuple[float, ...]:
    if not gate_ok(e):
        # Failed gates: nothing else to compare; keep the order given.
        return (1.0, *(0.0,) * (len(COMPONENTS) - 2), float(e.order))
    return (
        0.0,
        float(e.broken),
        -_frac(e.acceptance_passed, e.acceptance_total),
        -_frac(e.generated_passed, e.generated_total),
        float(e.failing),
        -float(e.fixed),
        -_frac(e.cross_passed, e.cross_total),
        -_frac(e.review_passed, len(e.review_tests)),
        float(e.tamper),
        float(e.scope),
        -float(e.cluster_size),
        -e.track,
        float(e.diff_lines),
        e.cost if e.cost is not None else 0.0,  # unknown for one: compared for none (rank)
        # Whole seconds: run-to-run jitter must not reorder candidates that took the same time.
        float(round(e.duration)) if e.duration is not None else math.inf,
        float(e.order),
    )


def status_of(e: Evidence) -> Status:
    if not gate_ok(e):
        return e.status if e.status != Status.OK else Status.TESTS_INVALID
    if e.acceptance_total and e.acceptance_passed < e.acceptance_total:
        return Status.ACCEPTANCE_FAILED
    if e.tests_ok is False:
        return Status.TESTS_FAILED
    if e.tamper:
        return Status.FLAGGED
    return Status.PASSED


def _gate_reason(e: Evidence) -> str:
    if e.status != Status.OK:
        return e.failure or e.status
    return f"tests did not run properly: {e.tests_detail}"


def _evidence_lines(e: Evidence) -> list[str]:
    if not gate_ok(e):
        return [
            f"gate failed: {_gate_reason(e)}",
            f"diff: {_diffstat(e)}",
        ]
    lines = ["agent finished in time and changed files"]
    if e.acceptance_total:
        lines.append(f"hidden acceptance tests: {e.acceptance_passed}/{e.acceptance_total} passed")
    if e.tests_ok is None:
        lines.append("no test command: judged on the diff alone")
    else:
        lines.append(("tests pass: " if e.tests_ok else "tests fail: ") + e.tests_detail)
        if e.per_test or not e.broken:
            lines.append(
                f"against the base: {e.fixed} fixed, {e.broken} broken, {e.failing} failing"
            )
        else:
            lines.append(
                f"against the base: no per-test results here, so the {e.broken} tests that passed "
                "on the base count as broken"
            )
        if e.spec_changed:
            lines.append(spec_changed_line(e.spec_changed))
    if e.generated_total:
        lines.append(f"generated acceptance tests: {e.generated_passed}/{e.generated_total} passed")
    if e.cross_total:
        lines.append(f"other candidates' new tests: {e.cross_passed}/{e.cross_total} passed")
    if e.review_tests:
        lines.append(f"reviewer's tests: {e.review_passed}/{len(e.review_tests)} passed")
    if e.note:
        lines.append(e.note)
    if e.tamper or e.scope:
        lines.append(f"flags: {e.tamper} tamper, {e.scope} scope")
    if e.cluster_size > 1:
        lines.append(f"same change as {fmt.plural(e.cluster_size - 1, 'other candidate')}")
    if e.track_said:
        lines.append(f"track record: {e.name} {e.track_said}")
    lines.append(f"diff: {_diffstat(e)}")
    return lines


SHOWN_IDS = 3  # test ids named in the spec-change line; the rest as a count


def spec_changed_line(tests: Sequence[str]) -> str:
    """The one line that says which broken tests were not counted, and why."""
    names = ", ".join(tests[:SHOWN_IDS]) + (
        f" and {len(tests) - SHOWN_IDS} more" if len(tests) > SHOWN_IDS else ""
    )
    return (
        f"{'test' if len(tests) == 1 else 'tests'} {names}: broken by every candidate that "
        "passes the hidden tests — taken as changed by the spec"
    )


def spec_changes(evidence: Sequence[Evidence]) -> frozenset[str]:
    """Tests broken by every candidate past the gates that passes all hidden acceptance tests
    (one at least): the spec changed what they pin. Empty without hidden tests, when none
    passes them all, or when one that does has no per-test results."""
    passers = [
        e
        for e in evidence
        if gate_ok(e) and e.acceptance_total and e.acceptance_passed == e.acceptance_total
    ]
    if not passers:
        return frozenset()
    return frozenset.intersection(*(frozenset(e.broken_ids) for e in passers))


def _spec_changes_excused(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Each candidate's broken (and failing) tests that the spec changed taken off its counts."""
    changed = spec_changes(evidence)
    out: list[Evidence] = []
    for e in evidence:
        mine = sorted(changed & set(e.broken_ids))
        if mine and gate_ok(e):
            e = replace(
                e,
                broken=e.broken - len(mine),
                failing=max(0, e.failing - len(set(mine) & set(e.failing_ids))),
                spec_changed=tuple(mine),
            )
        out.append(e)
    return out


def _diffstat(e: Evidence) -> str:
    """The one diffstat format of every view: `1 file +5 -1`."""
    return f"{fmt.plural(e.diff_files, 'file')} +{e.diff_added} -{e.diff_removed}"


def _difference(i: int, e: Evidence, above: Evidence) -> str:
    """Words for component i, comparing `above` (ranked higher) with e."""
    if i == 0:
        return _gate_reason(e) if not gate_ok(e) else _gate_reason(above)
    words = {
        "hidden acceptance tests": f"acceptance {above.acceptance_passed}/{above.acceptance_total} vs {e.acceptance_passed}/{e.acceptance_total}",
        "generated acceptance tests": f"generated acceptance {above.generated_passed}/{above.generated_total} vs {e.generated_passed}/{e.generated_total}",
        "regressions (broken tests)": f"{above.broken} vs {e.broken} broken tests",
        "failing tests": f"{above.failing} vs {e.failing} failing tests",
        "fixed tests": f"{above.fixed} vs {e.fixed} fixed tests",
        "other candidates' tests": f"passes {above.cross_passed}/{above.cross_total} vs {e.cross_passed}/{e.cross_total} of others' tests",
        "reviewer's tests": reviewer_difference(above, e),
        "tamper flags": f"{above.tamper} vs {e.tamper} tamper flags",
        "scope flags": f"{above.scope} vs {e.scope} scope flags",
        "agreement with other candidates": f"agrees with {above.cluster_size - 1} vs {fmt.plural(e.cluster_size - 1, 'other candidate')}",
        "track record here": f"{above.name} {above.track_said or 'has no record here'}, {e.name} {e.track_said or 'has no record here'}",
        "smaller diff": f"{above.diff_lines} vs {e.diff_lines} changed lines",
        "cost": f"{fmt.money(above.cost, False)} vs {fmt.money(e.cost, False)}",
        "time": f"{above.duration or 0:.0f} s vs {e.duration or 0:.0f} s",
        "order given": "tie on all evidence, listed later in --agents",
    }
    return words[COMPONENTS[i][0]]


def reviewer_difference(above: Evidence, e: Evidence) -> str:
    """The reviewer's test that tells them apart: "reviewer's test T: passes on A, fails on B"."""
    mine = dict(e.review_tests)
    for path, ok in above.review_tests:
        if ok and not mine.get(path, False):
            return f"reviewer's test {path}: passes on {above.name}, fails on {e.name}"
    return f"passes {above.review_passed}/{len(above.review_tests)} vs {e.review_passed}/{len(e.review_tests)} of the reviewer's tests"


def first_difference(a: Evidence, b: Evidence) -> int:
    ka, kb = key(a), key(b)
    return next((i for i, (x, y) in enumerate(zip(ka, kb, strict=True)) if x != y), len(ka) - 1)


def rank(evidence: Sequence[Evidence]) -> Ranking:
    """Order candidates best first; each carries the evidence for its place."""
    evidence = _spec_changes_excused(evidence)
    evidence = _costs_where_known(evidence)
    evidence = _time_where_it_tells(evidence)
    ordered = sorted(evidence, key=lambda e: (key(e), e.name))
    out: list[Ranked] = []
    for i, e in enumerate(ordered):
        reasons = _evidence_lines(e)
        if i > 0:
            above = ordered[i - 1]
            j = first_difference(above, e)
            reasons.append(f"below {above.name}: {COMPONENTS[j][0]} — {_difference(j, e, above)}")
        status = status_of(e)
        out.append(Ranked(e.name, i + 1, status, status == Status.PASSED, tuple(reasons)))
    decided_by, confidence = _decision(ordered)
    return Ranking(tuple(out), decided_by, confidence)


COST, TIME = _INDEX["cost"], _INDEX["time"]
TIME_GAP_S, TIME_GAP_SHARE = 2.0, 0.25  # closer than this, times are run-to-run noise


def _tie_groups(evidence: Sequence[Evidence], upto: int) -> list[list[Evidence]]:
    """Candidates past the gates that tie on every key component before `upto`."""
    groups: dict[tuple[float, ...], list[Evidence]] = {}
    for e in evidence:
        if gate_ok(e):
            groups.setdefault(key(e)[:upto], []).append(e)
    return [g for g in groups.values() if len(g) > 1]


def _costs_where_known(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Cost decides between tied candidates only when each of theirs is known: an unknown cost
    is unknown, not the most expensive."""
    unknown = {
        e.name
        for group in _tie_groups(evidence, COST)
        if any(e.cost is None for e in group)
        for e in group
    }
    return [replace(e, cost=None) if e.name in unknown else e for e in evidence]


def _time_where_it_tells(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Time decides between candidates tied on everything before it only when their times
    are far apart (each gap at least 2 s and a quarter of the longer): otherwise it is noise
    that would reorder a rerun, and the order given decides."""
    noisy: set[str] = set()
    for group in _tie_groups(evidence, TIME):
        times = sorted(e.duration for e in group if e.duration is not None)
        gaps_tell = len(times) == len(group) and all(
            b - a >= max(TIME_GAP_S, TIME_GAP_SHARE * b) for a, b in itertools.pairwise(times)
        )
        if not gaps_tell:
            noisy |= {e.name for e in group}
    return [replace(e, duration=None) if e.name in noisy else e for e in evidence]


NEVER_COMPARED = frozenset({Status.SKIPPED, Status.STOPPED})  # they never finished: no evidence


def _decision(ordered: Sequence[Evidence]) -> tuple[str | None, str | None]:
    if not ordered or not gate_ok(ordered[0]):
        return None, None
    # A cascade's skipped lane or one --first-pass stopped lost to no evidence: the winner is
    # judged against those that finished (a lone finisher is the only candidate).
    ordered = [e for e in ordered if e.status not in NEVER_COMPARED]
    if len(ordered) == 1:
        return "only candidate", "medium"
    j = first_difference(ordered[0], ordered[1])
    name, weight = COMPONENTS[j]
    decided = f"{name}: {_difference(j, ordered[1], ordered[0])}"
    if j == REVIEW:  # the words name the reviewer's test already
        decided = _difference(j, ordered[1], ordered[0])
    if j >= TRACK and gate_ok(ordered[1]):
        # Only track record, size, cost, time or order: say so, and what would separate them.
        would = (
            "another hidden acceptance test or a reviewer's test (--review)"
            if ordered[0].acceptance_total
            else "a hidden acceptance test (--acceptance) or a reviewer's test (--review)"
        )
        decided += f"; the tests cannot tell these apart: {would} would"
    return decided, weight
