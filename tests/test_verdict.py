"""The verdict on hand-built records, in milliseconds: test deltas, flags computed once with
what the other candidates touched, clusters, and the ranking folded into the record."""

from __future__ import annotations

from dataclasses import replace

from racer.doctests import modules_run
from racer.flags import FileChange
from racer.report import Acceptance, Baseline, Candidate, Cross, DiffStat, RaceReport, TestSummary
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


# --- suite state, base errors, what ran --------------------------------------------------------


def test_a_module_that_failed_to_collect_on_the_base_makes_its_tests_fixed() -> None:
    # The visible test file imports what the spec asks for: on the base, pytest names only the
    # module, with an error; on a candidate its tests are there one by one.
    base = {"tests.test_calc": "error", "tests.test_other::test_ok": "passed"}
    after = {
        "tests.test_calc::test_add": "passed",
        "tests.test_calc.TestMul::test_mul": "passed",
        "tests.test_calc::test_div": "failed",
        "tests.test_other::test_ok": "passed",
    }
    fixed, broken = classify(after, base, ())
    assert fixed == ("tests.test_calc.TestMul::test_mul", "tests.test_calc::test_add")
    assert broken == ()


def test_when_the_base_ran_no_test_every_passing_test_is_fixed() -> None:
    after = {"tests.test_calc::test_add": "passed", "tests.test_calc::test_div": "failed"}
    assert classify(after, {}, ()) == (("tests.test_calc::test_add",), ())


def _errored_base(*cands: Candidate) -> RaceReport:
    base = {"tests.test_calc": "error"}
    run = TestSummary("pytest", errors=1, exit_code=1, junit=True, outcomes=base)
    return replace(_report(*cands), baseline=Baseline(runs=(run,), outcomes=base))


def test_a_passing_candidate_outranks_a_failing_one_and_wins() -> None:
    # Issue 12, point 1: P (4 passed, 1 failed, smaller diff) had ranked above C (5 passed)
    # and "no candidate passed" was printed.
    names = [f"tests.test_calc::test_{i}" for i in range(5)]
    p = _cand("p", 0, {n: ("failed" if i == 4 else "passed") for i, n in enumerate(names)}, 3)
    c = _cand("c", 1, dict.fromkeys(names, "passed"), 4)
    report = judge(_errored_base(p, c), changes={})
    assert [x.name for x in report.candidates] == ["c", "p"]
    assert report.winner == "c"
    first = report.candidates[0]
    assert first.tests is not None and len(first.tests.fixed) == 5
    assert report.decided_by == "failing tests: 0 vs 1 failing tests"
    assert report.confidence == "high"


def test_the_winner_is_the_best_candidate_that_passed() -> None:
    flagged = _cand("flagged", 0, FIXED, 1, cross=Cross(passed=2, total=2))
    ok = _cand("ok", 1, FIXED, 5, cross=Cross(passed=0, total=2))
    py = "def test_a():\n    assert f() == 2\n"
    cheat = [FileChange("tests/test_t.py", "tests/test_t.py", py, py.replace("== 2", ""))]
    report = judge(_report(flagged, ok), {"flagged": cheat, "ok": []})
    assert report.candidates[0].name == "flagged"  # passes the others' tests, weakens an assert
    assert report.candidates[0].status is Status.FLAGGED
    assert report.winner == "ok"


def _ran_report(own: dict[str, str], base: dict[str, str]) -> Candidate:
    cand = _cand("a", 0, dict(own), 1, own_tests=_summary(own))
    report = replace(
        _report(cand), baseline=Baseline(runs=(_summary(base),), outcomes=base, flaky=())
    )
    change = FileChange("tests/test_mix.py", "tests/test_mix.py", "x = 1\n", "x = 2\n")
    return judge(report, {"a": [change]}, spec="Remove test_slots: it tests nothing.").candidates[0]


def test_tests_gone_or_skipped_in_the_candidates_own_run_are_tamper_flags() -> None:
    base = {
        "tests.test_mix.CacheMixin::test_decorator_slots": "passed",  # a mixin: no Test* name
        "tests.test_mix::test_p[1]": "passed",
        "tests.test_mix::test_p[2]": "passed",
        "tests.test_mix::test_skipped_already": "skipped",
        "tests.test_mix::test_slots": "passed",  # the spec names it: it may go
        "tests.test_mod::test_x": "passed",
    }
    own = {
        "tests.test_mix::test_p[1]": "passed",
        "tests.test_mix::test_p[2]": "skipped",
        "tests.test_mod": "error",  # no longer collects: broken, not tampered with
    }
    flags = _ran_report(own, base).flags
    assert [(f.kind, f.file, f.detail) for f in flags] == [
        ("skip_added", "tests/test_mix.py", "test skipped now: tests.test_mix::test_p[2]"),
        (
            "test_deleted",
            "tests/test_mix.py",
            "test no longer runs: tests.test_mix.CacheMixin::test_decorator_slots",
        ),
    ]
    assert all(f.severity == "tamper" for f in flags)


def test_doctests_are_recognised_by_their_ids() -> None:
    assert modules_run(
        {
            "boltons.strutils::boltons.strutils.singularize": "passed",
            "pkg.mod::pkg.mod": "passed",
            "src.semver.version::semver.version.Version.parse": "failed",
        }
    ) == {"boltons.strutils", "pkg.mod", "semver.version"}
    assert modules_run({"tests.test_x::test_a": "passed", "tests.test_x": "error"}) == set()


def test_a_hidden_test_that_loads_nowhere_separates_no_one() -> None:
    from racer.report import Acceptance
    from racer.verdict import unloadable

    def acc(why: str | None, passed: int = 0) -> Acceptance:
        if why is None:
            return Acceptance(passed=passed, outcomes={"tests/acc.js::t": "passed"})
        return Acceptance(
            errors=1, outcomes={"tests/acc.js": "error"}, load_errors={"tests/acc.js": why}
        )

    ALL = dict.fromkeys(BASE, "passed")  # every base test passes: no other evidence
    same = "Error: Cannot find module 'nope.js'"
    a = _cand("a", 0, ALL, 1, acceptance=acc(same))
    b = _cand("b", 1, ALL, 2, acceptance=acc(same))
    assert unloadable([a, b]) == {"tests/acc.js": same}
    judged = judge(_report(a, b), {"a": [], "b": []})
    assert judged.winner == "a" and all(c.status == Status.PASSED for c in judged.candidates)
    assert any(w.startswith(f"acceptance test could not load: {same}") for w in judged.warnings)
    # It loads on one candidate: the others' load errors count against them.
    c = _cand("c", 2, ALL, 3, acceptance=acc(None, 1))
    assert unloadable([a, b, c]) == {}
    judged = judge(_report(a, b, c), {"a": [], "b": [], "c": []})
    assert judged.winner == "c" and not any("could not load" in w for w in judged.warnings)
    # One candidate alone: its failure to load is its own.
    assert unloadable([a]) == {}
    assert unloadable([a, _cand("d", 3, ALL, 1, acceptance=acc("SyntaxError: x"))]) == {}


def test_without_per_test_results_broken_tests_are_not_claimed_as_seen() -> None:
    blind = TestSummary("npm test", exit_code=1, outcomes={"(test command)": "failed"})
    a = replace(_cand("a", 0, dict.fromkeys(BASE, "passed"), 1), tests=blind)
    b = _cand("b", 1, dict.fromkeys(BASE, "passed"), 1)
    judged = judge(_report(a, b), {"a": [], "b": []})
    reasons = {c.name: c.reasons for c in judged.candidates}
    assert "tests fail: npm test exited 1; no per-test results" in reasons["a"]
    assert any("no per-test results here, so the" in r for r in reasons["a"]), reasons["a"]
    assert not any("0 passed" in r for r in reasons["a"])
    assert judged.winner == "b"


def test_a_test_every_hidden_test_passer_breaks_is_excused_and_flaky_ones_never_count() -> None:
    # `right` passes both hidden tests and breaks t::a (the spec changed it); the flaky test
    # fails on both and is no evidence either way. `same` keeps everything and fails them.
    right = {"t::a": "failed", "t::b": "passed", "t::c": "passed", "t::flaky": "failed"}
    same = {"t::a": "passed", "t::b": "failed", "t::c": "passed", "t::flaky": "failed"}
    report = judge(
        _report(
            _cand("same", 0, same, 1, acceptance=Acceptance(failed=2)),
            _cand("right", 1, right, 3, acceptance=Acceptance(passed=2)),
        ),
        changes={},
    )
    first, second = report.candidates
    assert first.name == "right", report.decided_by
    assert first.tests is not None and first.tests.broken == ("t::a",)  # the record keeps it
    assert "against the base: 1 fixed, 0 broken, 0 failing" in first.reasons
    assert (
        "test t::a: broken by every candidate that passes the hidden tests — taken as changed "
        "by the spec"
    ) in first.reasons
    assert not any("t::flaky" in r for r in first.reasons)
    assert report.decided_by == "hidden acceptance tests: acceptance 2/2 vs 0/2"
    # Its suite failed all the same: ranked first, not the winner.
    assert first.status is Status.TESTS_FAILED and report.winner is None
    assert second.status is Status.ACCEPTANCE_FAILED
