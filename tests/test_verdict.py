"""The verdict on hand-built records, in milliseconds: test deltas, flags computed once with
what the other candidates touched, clusters, and the ranking folded into the record."""

from __future__ import annotations

from dataclasses import replace

from racer.flags import FileChange
from racer.report import Baseline, Candidate, DiffStat, RaceReport, TestSummary
from racer.status import RaceStatus, Status
from racer.verdict import classify, fingerprint, judge

BASE = {"t::a": "passed", "t::b": "failed", "t::c": "passed", "t::flaky": "passed"}


def test_classify_fixed_broken_and_flaky_left_out() -> None:
    after = {"t::a": "failed", "t::b": "passed", "t::flaky": "failed", "t::new": "passed"}
    # t::c is gone: that is broken too; t::new was not on the base: neither fixed nor broken.
    assert classify(after, BASE, flaky=["t::flaky"]) == (("t::b",), ("t::a", "t::c"))


def test_a_skipped_test_is_not_broken() -> None:
    after = {"t::a": "skipped", "t::c": "passed", "t::flaky": "passed"}
    assert classify(after, BASE, ()) == ((), ())


def _summary(outcomes: dict[str, str]) -> TestSummary:
    ok = all(o == "passed" for o in outcomes.values())
    passed = sum(o == "passed" for o in outcomes.values())
    return TestSummary(
        "pytest",
        passed=passed,
        failed=len(outcomes) - passed,
        exit_code=0 if ok else 1,
        ok=ok,
        junit=True,
        outcomes=outcomes,
    )


def _cand(name: str, order: int, outcomes: dict[str, str], lines: int, **kw: object) -> Candidate:
    return replace(
        Candidate(name=name, agent="fake", model=None, order=order),
        status=Status.OK,
        tests=_summary(outcomes),
        diffstat=DiffStat(files=1, added=lines),
        **kw,  # type: ignore[arg-type]  # Candidate fields, as the tests below name them
    )


def _report(*cands: Candidate) -> RaceReport:
    return RaceReport(
        id="r",
        status=RaceStatus.RUNNING,
        spec={"title": "t"},
        base={"commit": "b", "branch": "main"},
        created="2026-12-02T00:00:00+00:00",
        repo="/r",
        race_dir="/r/.git/racer/races/r",
        prompt="/p",
        test_command="pytest",
        candidates=cands,
        baseline=Baseline(runs=(_summary(BASE),), outcomes=BASE, flaky=("t::flaky",)),
    )


FIXED = {"t::a": "passed", "t::b": "passed", "t::c": "passed", "t::flaky": "passed"}
BROKEN = {"t::a": "failed", "t::b": "passed", "t::c": "passed", "t::flaky": "passed"}


def test_judge_ranks_on_deltas_and_names_the_winner() -> None:
    report = judge(
        _report(_cand("breaks", 0, BROKEN, 1), _cand("fixes", 1, FIXED, 9)),
        changes={},
        finished="2026-12-02T00:01:00+00:00",
    )
    first, second = report.candidates
    assert (first.name, first.rank, first.status, first.passed) == ("fixes", 1, Status.PASSED, True)
    assert first.tests is not None and first.tests.fixed == ("t::b",)
    assert second.tests is not None and second.tests.broken == ("t::a",)
    assert second.status is Status.TESTS_FAILED
    assert report.winner == "fixes"
    assert report.status is RaceStatus.FINISHED
    assert report.decided_by == "regressions (broken tests): 0 vs 1 broken tests"
    assert report.finished == "2026-12-02T00:01:00+00:00"


def test_no_winner_when_the_first_did_not_pass() -> None:
    failing = _cand("only", 0, BROKEN, 1)
    assert judge(_report(failing), changes={}).winner is None


def _change(path: str, after: str) -> FileChange:
    return FileChange(path=path, old_path=path, before="x = 1\n", after=after)


def test_flags_know_what_the_other_candidates_touched() -> None:
    # Both fix calc.py; only "wide" also rewrites README.md, which nobody else needed to touch.
    calc = _change("calc.py", "x = 2\n")
    readme = _change("README.md", "docs\n")
    changes = {"narrow": [calc], "wide": [calc, readme]}
    report = judge(_report(_cand("narrow", 0, FIXED, 1), _cand("wide", 1, FIXED, 2)), changes)
    wide = report.candidate("wide")
    assert [(f.kind, f.file) for f in wide.flags] == [("unique_file", "README.md")]
    assert report.candidate("narrow").flags == ()
    # Alone in the race, nobody is there to disagree: no unique-file flag.
    alone = judge(_report(_cand("wide", 0, FIXED, 2)), {"wide": [calc, readme]})
    assert alone.candidate("wide").flags == ()


def test_a_kept_candidate_without_changes_keeps_its_recorded_flags() -> None:
    recorded = judge(_report(_cand("a", 0, FIXED, 1)), {"a": [_change("calc.py", "x = 2\n")]})
    flagged = replace(recorded.candidates[0], status=Status.OK, flags=recorded.candidates[0].flags)
    again = judge(_report(flagged), changes={})
    assert again.candidates[0].flags == flagged.flags


def test_candidates_making_the_same_product_change_form_a_cluster() -> None:
    same = [_change("calc.py", "def f():\n    return 2\n")]
    other = [_change("calc.py", "def f():\n    return 3\n")]
    prints = {
        n: fingerprint(c, ("tests/**",)) for n, c in {"a": same, "b": same, "c": other}.items()
    }
    cands = [_cand(n, i, FIXED, 1, fingerprint=prints[n]) for i, n in enumerate("abc")]
    report = judge(_report(*cands), {"a": same, "b": same, "c": other})
    by = {c.name: c for c in report.candidates}
    assert by["a"].cluster == by["b"].cluster != by["c"].cluster
    assert report.cluster_summary is not None
    assert [c.name for c in report.candidates] == ["a", "b", "c"]
