"""The verdict, pure: test deltas against the baseline, flags (once, knowing what the other
candidates touched), clusters of agreeing candidates, evidence → rank.rank. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from racer import cluster, doctests, fmt
from racer import rank as ranking
from racer.flags import (
    DEFAULT_TEST_PATTERNS,
    SEVERITY,
    FileChange,
    Flag,
    detect_flags,
    is_test_file,
)
from racer.report import Baseline, Candidate, Generated, RaceReport, Review
from racer.status import GATE_FAILURES, RaceStatus, ReviewStatus, Status
from racer.testsummary import SUITE_ID

PASS = "passed"
SKIPPED = "skipped"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


FAILING = ("failed", "error")


def _module_errors(base: Mapping[str, str]) -> tuple[str, ...]:
    """Modules that failed to collect (or errored in setup) on the base: JUnit ids without a
    test name, e.g. "tests.test_calc" (pytest names a collection error by its module)."""
    return tuple(t for t, o in base.items() if "::" not in t and o in FAILING and t != SUITE_ID)


def base_ran(base: Mapping[str, str]) -> bool:
    """Whether the base's run produced any per-test result (else every test is new to it)."""
    return any("::" in t for t in base) or SUITE_ID in base


def base_outcome(test: str, base: Mapping[str, str], errored: Sequence[str]) -> str | None:
    """The test's outcome on the base: its own, "error" when its module failed to collect
    there, None when the base never had it."""
    if test in base:
        return base[test]
    where = test.split("::", 1)[0]
    if any(where == m or where.startswith(m + ".") for m in errored):
        return "error"
    return None


def classify(
    outcomes: Mapping[str, str], base: Mapping[str, str], flaky: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Fixed (fail→pass) and broken (pass→fail, or gone) test ids; flaky tests are left out.

    A test of a module that failed to collect on the base failed there; when the base ran no
    test at all, every test that passes is fixed against an empty base.
    """
    skip = set(flaky)
    errored = _module_errors(base)
    empty = not base_ran(base)
    fixed = sorted(
        t
        for t, o in outcomes.items()
        if t not in skip
        and o == PASS
        and ("::" in t if empty else base_outcome(t, base, errored) not in (None, PASS))
    )
    broken = sorted(
        t
        for t, o in base.items()
        if t not in skip and o == PASS and outcomes.get(t) not in (PASS, SKIPPED)
    )
    return tuple(fixed), tuple(broken)


def failing(outcomes: Mapping[str, str], flaky: Sequence[str]) -> int:
    """Tests failing on the candidate's pristine tree, whatever they did on the base."""
    skip = set(flaky)
    return sum(1 for t, o in outcomes.items() if o in FAILING and t not in skip)


def _failing_ids(outcomes: Mapping[str, str], flaky: Sequence[str]) -> tuple[str, ...]:
    skip = set(flaky)
    return tuple(sorted(t for t, o in outcomes.items() if o in FAILING and t not in skip))


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
    sources: _Sources,
    base: Baseline | None,
) -> Candidate:
    """Flags from the candidate's changes and from what ran; a kept candidate without changes
    keeps its flags."""
    if c.name not in changes:
        return c
    secret = tuple(
        Flag(
            "secret_in_diff",
            path,
            "a key or token from the agent's environment is written into this file "
            "(redacted in every view; merging it needs --force)",
            SEVERITY["secret_in_diff"],
        )
        for path in c.secret_files
    )
    others: set[str] = set()
    if c.status == Status.OK and len(judged) > 1:
        others = {ch.path for o in judged if o != c.name for ch in changes.get(o, ())}
    flags = detect_flags(
        changes[c.name],
        touched_by_others=others,
        test_patterns=sources.test_patterns,
        base_tests=sources.base_tests,
        hidden_tests=sources.hidden_tests,
        spec=sources.spec,
        doctest_modules=doctests.modules_run(base.outcomes) if base is not None else set(),
    )
    ran = c.own_tests or c.tests
    if base is not None and base.runs and ran is not None and ran.junit:
        flags = (*flags, *ran_flags(base, ran.outcomes, changes[c.name], flags, sources.spec))
    return replace(c, flags=grouped(tuple(sorted((*flags, *secret), key=_flag_order))))


GROUP_OVER = 12  # flags of one kind beyond this many are one line with a count and examples
GROUP_EXAMPLES = 3


def grouped(flags: tuple[Flag, ...]) -> tuple[Flag, ...]:
    """Thousands of flags of one kind (5,000 new files, each "touched by no other candidate")
    as a few examples and one line with the count: every one still counts in the ranking."""
    out: list[Flag] = []
    by_kind: dict[str, list[Flag]] = {}
    for f in flags:
        by_kind.setdefault(f.kind, []).append(f)
    for f in flags:
        same = by_kind[f.kind]
        if len(same) <= GROUP_OVER:
            out.append(f)
        elif f is same[0]:
            rest = same[GROUP_EXAMPLES:]
            files = ", ".join(r.file for r in rest[:GROUP_EXAMPLES])
            out += same[:GROUP_EXAMPLES]
            out.append(
                Flag(
                    f.kind,
                    f"{len(rest)} more files",
                    f"and {len(rest)} more {f.kind} flags like these (e.g. {files}, …)",
                    f.severity,
                    count=sum(r.count for r in rest),
                )
            )
    return tuple(out)


def _flag_order(f: Flag) -> tuple[bool, str, str, str]:
    return (f.severity != "tamper", f.file, f.kind, f.detail)


@dataclass(frozen=True)
class _Sources:
    """Texts the flags compare a change with: the base's tests, the hidden tests, the spec."""

    test_patterns: Sequence[str]
    base_tests: Mapping[str, str] | None
    hidden_tests: Mapping[str, str] | None
    spec: str


_FILE_ID = re.compile(r"/|\.(?:[cm]?[jt]sx?|go|rs)$")  # other runners' ids start with a path


def name_in_id(test: str) -> str:
    """The function (or doctest) name in a JUnit id: "tests.test_x.TestA::test_b[1]" -> test_b;
    another runner's "test/a.test.js::math > adds" -> "math > adds"."""
    where, _, name = test.partition("::")
    if name and _FILE_ID.search(where):
        return name
    return test.rsplit("::", 1)[-1].split("[", 1)[0].rsplit(".", 1)[-1]


def _file_of(test: str, changes: Sequence[FileChange]) -> str:
    """The file a JUnit id comes from: a changed file whose module the id names, else a guess."""
    where = test.split("::", 1)[0]
    if _FILE_ID.search(where):
        return where
    for ch in changes:
        for path in (ch.path, ch.old_path):
            if path and path.endswith(".py"):
                mod = path[:-3].replace("/", ".")
                if where == mod or where.startswith(mod + "."):
                    return path
    return where.replace(".", "/") + ".py"


def ran_flags(
    base: Baseline,
    ran: Mapping[str, str],
    changes: Sequence[FileChange],
    found: Sequence[Flag],
    spec: str = "",
) -> tuple[Flag, ...]:
    """Tests that ran on the base and are gone or skipped in the candidate's own run (JUnit ids,
    parametrized cases one by one); a test whose module no longer collects is broken, not
    tampered with; a test the spec names may go. Tests the source analysis already caught are
    not flagged twice."""
    if not any("::" in t for t in ran):
        return ()
    errored = _module_errors(ran)
    skip = set(base.flaky)
    seen = {(f.kind, f.file) for f in found}
    named = {(f.kind, f.file, n) for f in found for n in re.findall(r"[A-Za-z_]\w*", f.detail)}
    out: list[Flag] = []
    for test, before in sorted(base.outcomes.items()):
        if "::" not in test or before == SKIPPED or test in skip:
            continue
        name = name_in_id(test)
        if name and re.search(rf"\b{re.escape(name)}\b", spec):
            continue  # the spec asked for it
        now = ran.get(test)
        file = _file_of(test, changes)
        if now is None and base_outcome(test, ran, errored) is None:
            if ("test_deleted", file, name) not in named:
                out.append(_ran_flag("test_deleted", file, f"test no longer runs: {test}"))
        elif now == SKIPPED and ("skip_added", file) not in seen:
            out.append(_ran_flag("skip_added", file, f"test skipped now: {test}"))
    return tuple(out)


def _ran_flag(kind: str, file: str, detail: str) -> Flag:
    return Flag(kind, file, detail, SEVERITY[kind])


def review_tests(c: Candidate, review: Review | None) -> tuple[tuple[str, bool], ...]:
    """The reviewer's reproduced tests that separate candidates, and whether `c` passes each
    (a candidate they could not run on counts as failing them)."""
    if review is None or review.status != ReviewStatus.DONE:
        return ()
    return tuple(
        (f.test.path, f.results.get(c.name) == PASS)
        for f in review.findings
        if f.separates and f.test is not None
    )


def generated_score(c: Candidate, generated: Generated | None) -> tuple[int, int]:
    """(passed, total) of the test writer's counted tests on `c`."""
    if generated is None or generated.status != ReviewStatus.DONE:
        return 0, 0
    return sum(t.passed.get(c.name, 0) for t in generated.tests), generated.total


def evidence(
    c: Candidate,
    sizes: Mapping[int, int],
    flaky: Sequence[str] = (),
    review: Review | None = None,
    generated: Generated | None = None,
    unloaded: Mapping[str, str] | None = None,
) -> ranking.Evidence:
    """`unloaded`: acceptance files that could not load on any candidate (not counted)."""
    unloaded = unloaded or {}
    tests = c.tests
    acc = c.acceptance
    tamper = sum(f.count for f in c.flags if f.severity == "tamper")
    fixed = len(tests.fixed) if tests else 0
    still = failing(tests.outcomes, flaky) if tests else 0
    note = None
    if fixed and any(f.kind == "special_cases_tests" for f in c.flags):
        # Product code that special-cases the tests makes them pass without fixing anything:
        # they count as still failing.
        note = f"no credit for {fmt.plural(fixed, 'fixed test')}: the product code special-cases the tests"
        still, fixed = still + fixed, 0
    return ranking.Evidence(
        name=c.name,
        order=c.order,
        status=c.status,
        failure=c.error,
        tests_ok=None if tests is None else tests.ok,
        tests_valid=tests is None or (not tests.timed_out and tests.error is None),
        tests_detail=tests.detail() if tests else "not run",
        per_test=tests is None or tests.junit,
        fixed=fixed,
        broken=len(tests.broken) if tests else 0,
        failing=still,
        # By id for the spec-change rule: per-test results only, never the whole command's.
        broken_ids=tuple(t for t in tests.broken if t != SUITE_ID) if tests and tests.junit else (),
        failing_ids=_failing_ids(tests.outcomes, flaky) if tests and tests.junit else (),
        acceptance_passed=acc.passed if acc else 0,
        acceptance_total=acc.total - sum(1 for f in acc.load_errors if f in unloaded) if acc else 0,
        cross_passed=c.cross.passed if c.cross else 0,
        cross_total=c.cross.total if c.cross else 0,
        generated_passed=generated_score(c, generated)[0],
        generated_total=generated_score(c, generated)[1],
        review_tests=review_tests(c, review),
        tamper=tamper,
        scope=sum(f.count for f in c.flags) - tamper,
        cluster_size=sizes.get(c.cluster, 1) if c.cluster is not None else 1,
        diff_files=c.diffstat.files,
        diff_lines=c.diffstat.lines,
        diff_added=c.diffstat.added,
        diff_removed=c.diffstat.removed,
        cost=c.cost_usd,
        duration=c.duration_s,
        note=note,
        track=c.track.prior if c.track else 0.5,
        track_said=c.track.said() if c.track and c.track.races else None,
    )


def judge(
    report: RaceReport,
    changes: Mapping[str, Sequence[FileChange]],
    test_patterns: Sequence[str] = DEFAULT_TEST_PATTERNS,
    base_tests: Mapping[str, str] | None = None,
    finished: str | None = None,
    *,
    hidden_tests: Mapping[str, str] | None = None,
    spec: str = "",
) -> RaceReport:
    """Fold baseline deltas, flags, clusters and the ranking into the record.

    `hidden_tests` (acceptance file texts) and `spec` (the spec's text) tell the flags which
    literals come from the tests and which the user gave."""
    sources = _Sources(test_patterns, base_tests, hidden_tests, spec)
    order = [c.name for c in sorted(report.candidates, key=lambda c: c.order)]
    prints = {c.name: c.fingerprint for c in report.candidates if c.status == Status.OK}
    groups = cluster.clusters(prints, [n for n in order if n in prints]) if prints else {}
    sizes = {cid: sum(1 for v in groups.values() if v == cid) for cid in set(groups.values())}
    judged = [c.name for c in report.candidates if c.status == Status.OK]
    cands = [
        replace(
            _with_flags(
                _with_deltas(c, report.baseline), changes, judged, sources, report.baseline
            ),
            cluster=groups.get(c.name),
        )
        for c in report.candidates
    ]
    flaky = report.baseline.flaky if report.baseline else ()
    unloaded = unloadable(cands)
    result = ranking.rank(
        [evidence(c, sizes, flaky, report.review, report.generated_tests, unloaded) for c in cands]
    )
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
        # The best candidate that passes, wherever it ranks ("no candidate passed" only if none).
        winner=next((c.name for c in ordered if c.passed), None),
        warnings=tuple(
            dict.fromkeys(
                (
                    *report.warnings,
                    *_base_warnings(report.baseline),
                    *(
                        f"acceptance test could not load: {msg} ({dest}, the same on every "
                        "candidate: not counted against any)"
                        for dest, msg in unloaded.items()
                    ),
                )
            )
        ),
        status=RaceStatus.FINISHED,
        finished=finished or now(),
        decided_by=result.decided_by,
        confidence=result.confidence,
        cluster_summary=summary,
    )


def unloadable(cands: Sequence[Candidate]) -> dict[str, str]:
    """Acceptance files that could not load, with the same first line, on every candidate that
    ran them (two or more): the test's own trouble, or a need none met; it separates nobody."""
    ran = [c.acceptance for c in cands if c.acceptance is not None and c.status == Status.OK]
    if len(ran) < 2:
        return {}
    return {
        dest: msg
        for dest, msg in sorted(ran[0].load_errors.items())
        if all(a.load_errors.get(dest) == msg for a in ran[1:])
    }


def unjudged(report: RaceReport) -> RaceReport:
    """The record as the lanes left it, before the verdict: judged candidates back to OK, so a
    later judge (after `racer review`) ranks them again."""
    cands = tuple(
        c
        if c.status in GATE_FAILURES or c.status in (Status.OK, Status.PENDING)
        else replace(c, status=Status.OK, rank=None, passed=False, reasons=())
        for c in report.candidates
    )
    return replace(report, candidates=cands)


def _base_warnings(base: Baseline | None) -> tuple[str, ...]:
    if base is None or not base.runs or base_ran(base.outcomes):
        return ()
    why = base.runs[0].detail()
    return (
        f"the base commit's tests did not run ({why}): every test that passes on a candidate "
        "counts as fixed against an empty base",
    )
