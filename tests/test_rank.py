"""The ranker: gates, then tests, then diff size, then the order given; the evidence order."""

from __future__ import annotations

from dataclasses import replace

from racer import rank


def _ev(
    name: str,
    order: int,
    status: str = "ok",
    tests: bool | None = True,
    lines: int = 10,
    **kw: object,
) -> rank.Evidence:
    return rank.Evidence(
        name,
        order,
        status,
        None if status == "ok" else status,
        tests,
        True,
        "detail",
        diff_files=1,
        diff_lines=lines,
        **kw,  # type: ignore[arg-type]
    )


def test_rank_order_gates_then_tests_then_size_then_order() -> None:
    out = rank.rank(
        [
            _ev("crashed", 0, "agent_failed"),
            _ev("failing", 1, tests=False, lines=1, broken=1),
            _ev("big", 2, lines=50),
            _ev("small", 3, lines=5),
            _ev("small-too", 4, lines=5),
            _ev("empty", 5, "no_changes", lines=0),
        ]
    )
    assert [r.name for r in out.candidates] == [
        "small",
        "small-too",
        "big",
        "failing",
        "crashed",
        "empty",
    ]
    assert [r.rank for r in out.candidates] == [1, 2, 3, 4, 5, 6]
    assert [r.passed for r in out.candidates] == [True, True, True, False, False, False]
    assert out.candidates[3].status == "tests_failed"
    assert "order given" in out.candidates[1].reasons[-1]
    assert "smaller diff" in out.candidates[2].reasons[-1]
    assert "broken tests" in out.candidates[3].reasons[-1]
    assert all(r.reasons for r in out.candidates)
    assert (out.decided_by, out.confidence) == (
        "order given: tie on all evidence, listed later in --agents; the tests cannot tell these"
        " apart: a hidden acceptance test (--acceptance) or a reviewer's test (--review) would",
        "low",
    )
    again = rank.rank(list(reversed([_ev("a", 0), _ev("b", 1)])))
    assert again.candidates[0].name == "a"  # input order irrelevant


def test_rank_evidence_order() -> None:
    # regressions beat acceptance beats generated acceptance beats failing beats fixed beats
    # cross beats flags beats agreement beats size
    pairs = [
        (
            dict(broken=0, acceptance_passed=1, acceptance_total=2),
            dict(broken=1, acceptance_passed=2, acceptance_total=2),
            "regressions (broken tests)",
        ),
        (
            dict(acceptance_passed=2, acceptance_total=2, failing=3),
            dict(acceptance_passed=1, acceptance_total=2),
            "hidden acceptance",
        ),
        (
            dict(generated_passed=2, generated_total=2, failing=3),
            dict(generated_passed=1, generated_total=2),
            "generated acceptance",
        ),
        (dict(broken=0, fixed=0), dict(broken=1, fixed=5), "broken"),
        # Suite state: a candidate whose pristine suite passes outranks one that still fails.
        (dict(failing=0, fixed=0), dict(failing=1, fixed=5), "failing tests"),
        (
            dict(fixed=2, cross_passed=0, cross_total=3),
            dict(fixed=1, cross_passed=3, cross_total=3),
            "fixed",
        ),
        (
            dict(cross_passed=3, cross_total=3, tamper=1),
            dict(cross_passed=1, cross_total=3),
            "other candidates",
        ),
        (dict(tamper=0, scope=5), dict(tamper=1, scope=0), "tamper"),
        (dict(scope=0, cluster_size=1), dict(scope=1, cluster_size=3), "scope"),
        (dict(cluster_size=2, lines=90), dict(cluster_size=1, lines=1), "agreement"),
    ]
    for better, worse, what in pairs:
        lb, lw = better.pop("lines", 10), worse.pop("lines", 10)
        out = rank.rank([_ev("worse", 0, lines=lw, **worse), _ev("better", 1, lines=lb, **better)])
        assert out.candidates[0].name == "better", what
        assert out.decided_by is not None and what in out.decided_by, (what, out.decided_by)
    flagged = rank.rank([_ev("t", 0, tamper=1)])
    assert flagged.candidates[0].status == "flagged" and not flagged.candidates[0].passed


def test_when_only_size_decides_the_report_says_the_tests_cannot_tell() -> None:
    out = rank.rank(
        [
            _ev("big", 0, lines=9, acceptance_passed=1, acceptance_total=1),
            _ev("small", 1, lines=2, acceptance_passed=1, acceptance_total=1),
        ]
    )
    assert out.decided_by == (
        "smaller diff: 2 vs 9 changed lines; the tests cannot tell these apart: another hidden"
        " acceptance test or a reviewer's test (--review) would"
    )
    by_tests = rank.rank([_ev("a", 0, fixed=1), _ev("b", 1, fixed=2)])
    assert by_tests.decided_by == "fixed tests: 2 vs 1 fixed tests"


def test_an_unknown_cost_is_unknown_not_the_most_expensive() -> None:
    # A CLI that reports no cost must not lose (or win) on cost to one that does.
    out = rank.rank([_ev("claude", 0, cost=0.009), _ev("mystery", 1, cost=None)])
    assert (out.decided_by or "").startswith("order given: tie on all evidence")
    assert [c.name for c in out.candidates] == ["claude", "mystery"]
    out = rank.rank([_ev("mystery", 0, cost=None), _ev("claude", 1, cost=0.009)])
    assert [c.name for c in out.candidates] == ["mystery", "claude"]
    assert "$0.0000" not in " ".join(r for c in out.candidates for r in c.reasons)
    # Known on both sides, cost decides as before.
    out = rank.rank([_ev("dear", 0, cost=0.02), _ev("cheap", 1, cost=0.01)])
    assert out.decided_by is not None and out.decided_by.startswith("cost: $0.0100 vs $0.0200")


def test_time_decides_only_when_the_times_are_far_apart() -> None:
    # 0.4 s against 1.6 s is noise a rerun would flip: the order given decides.
    out = rank.rank([_ev("slowish", 0, duration=1.6), _ev("quick", 1, duration=0.4)])
    assert [c.name for c in out.candidates] == ["slowish", "quick"]
    assert (out.decided_by or "").startswith("order given")
    # 30 s against 90 s is not.
    out = rank.rank([_ev("slow", 0, duration=90.0), _ev("fast", 1, duration=30.0)])
    assert [c.name for c in out.candidates] == ["fast", "slow"]
    assert (out.decided_by or "").startswith("time: 30 s vs 90 s")


def test_an_unknown_cost_elsewhere_leaves_a_tie_of_known_costs_to_cost() -> None:
    # The candidate without a cost is not tied with the two: their costs still decide.
    out = rank.rank(
        [
            _ev("dear", 0, cost=0.03),
            _ev("cheap", 1, cost=0.02),
            _ev("bigger", 2, lines=50, cost=None),
        ]
    )
    assert [c.name for c in out.candidates] == ["cheap", "dear", "bigger"]
    assert (out.decided_by or "").startswith("cost: $0.0200 vs $0.0300")


def _accept(name: str, order: int, passed: int, *broken: str, **kw: object) -> rank.Evidence:
    """A candidate with 2 hidden acceptance tests, `passed` of them passing, and these tests
    broken (each one failing on its pristine tree too)."""
    return _ev(
        name,
        order,
        tests=not broken,
        acceptance_passed=passed,
        acceptance_total=2,
        broken=len(broken),
        failing=len(broken),
        broken_ids=broken,
        failing_ids=broken,
        **kw,
    )


SPEC_LINE = "broken by every candidate that passes the hidden tests — taken as changed by the spec"


def test_regressions_rank_before_hidden_acceptance() -> None:
    # Issue 17's camelcase: the skipper and the deleter pass the hidden test but break two of
    # the restored tests; `wrong` breaks nothing and fails one hidden test; `real` does it all.
    out = rank.rank(
        [
            _accept("wrong", 0, 1),
            _accept("skip", 1, 2, "t::a", "t::b"),
            _accept("deleter", 2, 2, "t::a", "t::b"),
            _accept("real", 3, 2),
        ]
    )
    assert [c.name for c in out.candidates] == ["real", "wrong", "skip", "deleter"]
    assert out.decided_by == "hidden acceptance tests: acceptance 2/2 vs 1/2"
    assert out.confidence == "high"
    assert out.candidates[2].reasons[-1] == (
        "below wrong: regressions (broken tests) — 0 vs 2 broken tests"
    )
    # `real` broke nothing, so nothing is taken as changed by the spec.
    assert not any(SPEC_LINE in r for c in out.candidates for r in c.reasons)


def test_no_hidden_tests_means_regressions_first_and_nothing_excused() -> None:
    out = rank.rank(
        [_ev("changes", 0, tests=False, broken=1, broken_ids=("t::a",), fixed=3), _ev("noop", 1)]
    )
    assert [c.name for c in out.candidates] == ["noop", "changes"]
    assert (out.decided_by or "").startswith("regressions (broken tests): 0 vs 1")
    assert not any(SPEC_LINE in r for c in out.candidates for r in c.reasons)


def test_a_test_every_hidden_test_passer_breaks_is_taken_as_changed_by_the_spec() -> None:
    # The spec changes what t::pinned expects: both correct candidates break it; the no-op
    # and the wrong one keep it passing and fail hidden tests.
    out = rank.rank(
        [
            _accept("noop", 0, 0),
            _accept("wrong", 1, 1),
            _accept("right", 2, 2, "t::pinned", lines=5),
            _accept("right-too", 3, 2, "t::pinned", lines=7),
        ]
    )
    assert [c.name for c in out.candidates] == ["right", "right-too", "wrong", "noop"]
    right = out.candidates[0]
    assert f"test t::pinned: {SPEC_LINE}" in right.reasons
    assert "against the base: 0 fixed, 0 broken, 0 failing" in right.reasons
    # Its suite failed all the same: it ranks first but did not pass (review it, merge --force).
    assert right.status == "tests_failed" and not right.passed
    assert (out.decided_by or "").startswith("smaller diff")
    assert out.candidates[2].reasons[-1].startswith("below right-too: hidden acceptance tests")
    # A candidate that fails a hidden test and breaks the same test is excused for it as well.
    out = rank.rank([_accept("half", 0, 1, "t::pinned"), _accept("right", 1, 2, "t::pinned")])
    assert f"test t::pinned: {SPEC_LINE}" in out.candidates[1].reasons
    assert (out.decided_by or "").startswith("hidden acceptance tests")


def test_a_lone_hidden_test_passer_still_beats_a_no_op() -> None:
    # The only candidate that passes the hidden tests broke two: they are excused, so it still
    # beats the no-op (as when acceptance ranked first); a test only it broke beyond another
    # passer's is not.
    out = rank.rank([_accept("noop", 0, 0), _accept("fix", 1, 2, "t::a", "t::b")])
    assert [c.name for c in out.candidates] == ["fix", "noop"]
    assert f"tests t::a, t::b: {SPEC_LINE}" in out.candidates[0].reasons
    out = rank.rank(
        [
            _accept("noop", 0, 0),
            _accept("fix", 1, 2, "t::a"),
            _accept("fix-and-break", 2, 2, "t::a", "t::other"),
        ]
    )
    assert [c.name for c in out.candidates] == ["fix", "noop", "fix-and-break"]
    assert out.decided_by == "hidden acceptance tests: acceptance 2/2 vs 0/2"
    assert out.candidates[2].reasons[-1] == (
        "below noop: regressions (broken tests) — 0 vs 1 broken tests"
    )


def test_gated_and_id_less_candidates_excuse_nothing() -> None:
    # A gate failure's results are no evidence: it cannot make a test "changed by the spec".
    crashed = replace(_accept("crashed", 0, 2), status="agent_failed", failure="crashed")
    out = rank.rank([crashed, _accept("noop", 1, 0), _accept("breaks", 2, 1, "t::a")])
    assert [c.name for c in out.candidates] == ["noop", "breaks", "crashed"]
    # A passer without per-test results (no ids) cannot say which tests the spec changed.
    blind = replace(_accept("blind", 0, 2), broken=1, failing=1, per_test=False, tests_ok=False)
    out = rank.rank([blind, _accept("fix", 1, 2, "t::a"), _accept("noop", 2, 0)])
    assert [c.name for c in out.candidates] == ["noop", "blind", "fix"]
    assert not any(SPEC_LINE in r for c in out.candidates for r in c.reasons)


def test_the_spec_change_line_names_a_few_tests_and_counts_the_rest() -> None:
    ids = tuple(f"t::{n}" for n in "abcde")
    assert rank.spec_changed_line(ids) == f"tests t::a, t::b, t::c and 2 more: {SPEC_LINE}"
    assert rank.spec_changes([_accept("x", 0, 2, *ids), _accept("y", 1, 2, "t::c")]) == {"t::c"}
    assert rank.spec_changes([_accept("x", 0, 1, *ids)]) == frozenset()
