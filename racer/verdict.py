"""The verdict, pure: test deltas against the baseline, flags (once, knowing what the other
candidates touched), clusters of agreeing candidates, evidence → rank.rank. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from racer import cluster
from racer import rank as ranking
from racer.flags import DEFAULT_TEST_PATTERNS, FileChange, detect_flags, is_test_file
from racer.report import Baseline, Candidate, RaceReport
from racer.status import RaceStatus, Status

PASS = "passed"
SKIPPED = "skipped"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def classify(
    outcomes: Mapping[str, str], base: Mapping[str, str], flaky: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Fixed (fail→pass) and broken (pass→fail, or gone) test ids; flaky tests are left out."""
    skip = set(flaky)
    fixed = sorted(
        t
        for t, o in outcomes.items()
        if t not in skip and o == PASS and base.get(t, PASS) != PASS and t in base
    )
    broken = sorted(
        t
        for t, o in base.items()
        if t not in skip and o == PASS and outcomes.get(t) not in (PASS, SKIPPED)
    )
    return tuple(fixed), tuple(broken)


def fingerprint(changes: Sequence[FileChange], test_patterns: Sequence[str]) -> str | None:
    """The product change, normalised: agreement is about it (everyone's new tests differ)."""
    product = {ch.path: ch.after for ch in changes if not is_test_file(ch.path, test_patterns)}
    return cluster.fingerprint(product) if product else None


def _with_deltas(c: Candidate, base: Baseline | None) -> Candidate:
    if c.tests is None or base is None or not base.runs:
        return c
    fixed, broken = classify(c.tests.outcomes, base.outcomes, base.flaky)
    return replace(c, tests=replace(c.tests, fixed=fixed, broken=broken))


def _with_flags(
    c: Candidate,
    changes: Mapping[str, Sequence[FileChange]],
    judged: Sequence[str],
    test_patterns: Sequence[str],
    base_tests: Mapping[str, str] | None,
) -> Candidate:
    """Flags from the candidate's changes; a kept candidate without changes keeps its flags."""
    if c.name not in changes:
        return c
    others: set[str] = set()
    if c.status == Status.OK and len(judged) > 1:
        others = {ch.path for o in judged if o != c.name for ch in changes.get(o, ())}
    flags = detect_flags(
        changes[c.name],
        touched_by_others=others,
        test_patterns=test_patterns,
        base_tests=base_tests,
    )
    return replace(c, flags=tuple(flags))


def evidence(c: Candidate, sizes: Mapping[int, int]) -> ranking.Evidence:
    tests = c.tests
    acc = c.acceptance
    tamper = sum(1 for f in c.flags if f.severity == "tamper")
    fixed = len(tests.fixed) if tests else 0
    note = None
    if fixed and any(f.kind == "special_cases_tests" for f in c.flags):
        # Product code that special-cases the tests makes them pass without fixing anything.
        note = f"no credit for {fixed} fixed test(s): the product code special-cases the tests"
        fixed = 0
    return ranking.Evidence(
        name=c.name,
        order=c.order,
        status=c.status,
        failure=c.error,
        tests_ok=None if tests is None else tests.ok,
        tests_valid=tests is None or (not tests.timed_out and tests.error is None),
        tests_detail=tests.detail() if tests else "not run",
        fixed=fixed,
        broken=len(tests.broken) if tests else 0,
        acceptance_passed=acc.passed if acc else 0,
        acceptance_total=acc.total if acc else 0,
        cross_passed=c.cross.passed if c.cross else 0,
        cross_total=c.cross.total if c.cross else 0,
        tamper=tamper,
        scope=len(c.flags) - tamper,
        cluster_size=sizes.get(c.cluster, 1) if c.cluster is not None else 1,
        diff_files=c.diffstat.files,
        diff_lines=c.diffstat.lines,
        cost=c.cost_usd,
        duration=c.duration_s,
        note=note,
    )


def judge(
    report: RaceReport,
    changes: Mapping[str, Sequence[FileChange]],
    test_patterns: Sequence[str] = DEFAULT_TEST_PATTERNS,
    base_tests: Mapping[str, str] | None = None,
    finished: str | None = None,
) -> RaceReport:
    """Fold baseline deltas, flags, clusters and the ranking into the record."""
    order = [c.name for c in sorted(report.candidates, key=lambda c: c.order)]
    prints = {c.name: c.fingerprint for c in report.candidates if c.status == Status.OK}
    groups = cluster.clusters(prints, [n for n in order if n in prints]) if prints else {}
    sizes = {cid: sum(1 for v in groups.values() if v == cid) for cid in set(groups.values())}
    judged = [c.name for c in report.candidates if c.status == Status.OK]
    cands = [
        replace(
            _with_flags(
                _with_deltas(c, report.baseline), changes, judged, test_patterns, base_tests
            ),
            cluster=groups.get(c.name),
        )
        for c in report.candidates
    ]
    result = ranking.rank([evidence(c, sizes) for c in cands])
    by_name = {c.name: c for c in cands}
    ordered = [
        replace(by_name[r.name], rank=r.rank, status=r.status, passed=r.passed, reasons=r.reasons)
        for r in result.candidates
    ]
    summary = (
        cluster.describe(groups, [n for n in order if n in groups]) if len(groups) > 1 else None
    )
    return replace(
        report,
        candidates=tuple(ordered),
        winner=ordered[0].name if ordered and ordered[0].passed else None,
        status=RaceStatus.FINISHED,
        finished=finished or now(),
        decided_by=result.decided_by,
        confidence=result.confidence,
        cluster_summary=summary,
    )
