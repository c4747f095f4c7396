"""When the test writer and the reviewer run: the writer beside the lanes; once the lanes and the
cross-checks are done, the writer's tests and then the review of the best candidates, before the
final verdict; and `racer review` of a finished race. Fail open throughout: any failure becomes
a record that says "skipped" or "unusable" and why, and the ranking goes on without it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import anyio

from racer import changes as changed
from racer import checkout, pool
from racer import reviewing as helpers
from racer.context import LaneShared
from racer.errors import RacerError
from racer.flags import FileChange
from racer.plan import RacePlan
from racer.prepare import prepare_checkout
from racer.report import Candidate, Generated, RaceReport, Review, ReviewTest, ranked
from racer.reporter import Reporter
from racer.scoring import pristine_plan
from racer.status import GATE_FAILURES, ReviewStatus, Status
from racer.store import BASELINE
from racer.verdict import judge, unjudged

_T = TypeVar("_T")


@dataclass(frozen=True)
class Written:
    """The test writer's answer, kept until the candidates are there to run its tests on."""

    run: helpers.HelperRun | None
    tests: tuple[ReviewTest, ...] | None
    why: str | None


def spec_text(plan: RacePlan) -> tuple[str, str]:
    """(title, body) of the spec; a resumed or reviewed race has the body in its prompt only."""
    body = plan.spec.body or plan.prompt.split(f"# Task: {plan.spec.title}\n\n", 1)[-1]
    return plan.spec.title, body


async def _fail_open(make: Callable[[], Awaitable[_T]], skipped: Callable[[str], _T]) -> _T:
    try:
        return await make()
    except Exception as exc:  # fail open: the race is judged without it
        return skipped(f"racer could not run it: {type(exc).__name__}: {exc}")


async def write_phase(plan: RacePlan, shared: LaneShared, reporter: Reporter) -> Written:
    """The test writer, while the contestants work: it sees the spec and the base only."""
    value = plan.config.write_tests
    assert value is not None
    against = [(c.agent, c.model) for c in plan.contestants]
    who = helpers.pick_helper(value, plan.registry, against)
    if isinstance(who, str):
        return Written(None, None, who)
    reporter.phase("write-tests", Status.AGENT)

    async def make() -> Written:
        run, tests, why = await helpers.write_tests(plan, shared, who, spec_text(plan), reporter)
        return Written(run, tests, why)

    written = await _fail_open(make, lambda why: Written(None, None, why))
    reporter.phase("write-tests", Status.OK if written.tests else Status.AGENT_FAILED)
    return written


def candidate_trees(
    report: RaceReport, changes: Mapping[str, Sequence[FileChange]], patterns: Sequence[str]
) -> list[helpers.Tree]:
    """The candidates whose tests ran, in their own checkouts, made pristine for each run."""
    return [
        helpers.Tree(c.name, Path(c.worktree), c.commit, pristine_plan(changes[c.name], patterns))
        for c in report.candidates
        if _judged(c) and c.name in changes and checkout.is_lane_repo(Path(c.worktree))
    ]


def _judged(c: Candidate) -> bool:
    return c.status not in GATE_FAILURES and c.commit is not None and c.tests is not None


async def generated_phase(
    plan: RacePlan, shared: LaneShared, written: Written, trees: Sequence[helpers.Tree]
) -> Generated:
    if written.run is None:
        return Generated(status=ReviewStatus.SKIPPED, reason=written.why)
    run = written.run

    async def make() -> Generated:
        return await helpers.check_generated(plan, shared, (run, written.tests, written.why), trees)

    return await _fail_open(make, lambda why: Generated(status=ReviewStatus.SKIPPED, reason=why))


def to_review(report: RaceReport, top: int) -> list[Candidate]:
    """The best candidates that passed, as the ranking orders them."""
    return [c for c in ranked(report) if c.passed][:top]


MAX_REVIEW_DIFF = 4 * 2**20  # bytes of one candidate's diff a reviewer gets (no one reads more)


def _diffs(cands: Sequence[Candidate]) -> dict[str, str]:
    """The candidates' saved diffs, each cut at MAX_REVIEW_DIFF bytes (said where it is cut)."""
    out = {}
    for c in cands:
        if not c.diff:
            out[c.name] = ""
            continue
        try:
            with Path(c.diff).open("rb") as fh:
                raw = fh.read(MAX_REVIEW_DIFF + 1)
                size = fh.seek(0, 2)
        except OSError:
            out[c.name] = ""
            continue
        text = raw[:MAX_REVIEW_DIFF].decode("utf-8", errors="replace")
        if len(raw) > MAX_REVIEW_DIFF:
            text += f"\n(racer: this diff is cut at {MAX_REVIEW_DIFF} of {size} bytes)\n"
        out[c.name] = text
    return out


async def review_phase(
    plan: RacePlan,
    shared: LaneShared,
    judged: RaceReport,
    trees: Sequence[helpers.Tree],
    reporter: Reporter,
    value: str,
) -> Review:
    """The reviewer on the best candidates of `judged` (a verdict without the review)."""
    reviewed = to_review(judged, plan.config.review_top)
    if not reviewed:
        return Review(reason="no candidate passed: nothing to review")
    who = helpers.pick_helper(value, plan.registry, [(c.agent, c.model) for c in reviewed])
    if isinstance(who, str):
        return Review(reason=who)
    reporter.phase("review", Status.AGENT)

    async def make() -> Review:
        return await helpers.review(
            plan, shared, who, reviewed, _diffs(reviewed), trees, spec_text(plan), reporter
        )

    review = await _fail_open(make, lambda why: Review(reason=why))
    reporter.phase(
        "review", Status.OK if review.status == ReviewStatus.DONE else Status.AGENT_FAILED
    )
    return review


async def after_lanes(
    plan: RacePlan,
    report: RaceReport,
    shared: LaneShared,
    changes: Mapping[str, Sequence[FileChange]],
    written: Written | None,
    base_ready: bool,
    reporter: Reporter,
    judging: Callable[[RaceReport], RaceReport],
) -> RaceReport:
    """The writer's tests, then the review, on the race's checkouts (the baseline's for the
    base): the record with their blocks, ready for the final verdict."""
    patterns = plan.test_patterns
    trees = candidate_trees(report, changes, patterns)
    if base_ready:
        trees.insert(0, helpers.Tree(helpers.BASE, plan.checkout(BASELINE), None))
    if written is not None:
        report = replace(
            report, generated_tests=await generated_phase(plan, shared, written, trees)
        )
    if plan.config.review:
        review = await review_phase(
            plan, shared, judging(report), trees, reporter, plan.config.review
        )
        report = replace(report, review=review)
    return report


# --- `racer review` of a finished race ----------------------------------------------------------


async def review_finished(
    plan: RacePlan, report: RaceReport, value: str, reporter: Reporter
) -> RaceReport:
    """Review a finished race without rerunning anyone: fresh checkouts of the base and of each
    candidate's commit for the findings' tests, removed after; then the verdict again."""
    patterns = plan.test_patterns
    copies = await anyio.to_thread.run_sync(
        checkout.files_to_copy, plan.repo.root, plan.config.copy
    )
    hidden = {a.dest for a in plan.acceptance}
    base_tests = await anyio.to_thread.run_sync(
        changed.test_files_at, plan.repo.root, plan.base_commit, patterns
    )
    shared = LaneShared(plan, [c for c in copies if c not in hidden], base_tests)
    made: list[Path] = []
    try:
        trees = await _fresh_trees(plan, report, shared, patterns, made)
        review = await review_phase(plan, shared, report, trees, reporter, value)
    finally:
        with anyio.CancelScope(shield=True):
            for path in made:
                await anyio.to_thread.run_sync(pool.release, plan.repo.root, path, 0)
    again = judge(unjudged(replace(report, review=review)), {}, patterns, finished=report.finished)
    return again


async def _fresh_trees(
    plan: RacePlan,
    report: RaceReport,
    shared: LaneShared,
    patterns: Sequence[str],
    made: list[Path],
) -> list[helpers.Tree]:
    trees: list[helpers.Tree] = []
    wanted: list[tuple[str, str | None]] = [(helpers.BASE, None)]
    wanted += [(c.name, c.commit) for c in report.candidates if _judged(c)]
    for name, commit in wanted:
        lane = "_review-" + checkout.slug(name)
        path = plan.checkout(lane)
        made.append(path)
        try:
            await anyio.to_thread.run_sync(pool.release, plan.repo.root, path, 0)
            failed = await prepare_checkout(
                plan,
                path,
                plan.branch(lane),
                copies=shared.copies,
                env=helpers.helper_env(plan, lane),
                setup_log=plan.race_dir.log(lane, "setup"),
                commit=commit,
            )
        except (OSError, RacerError):
            continue  # its commit is gone (cleaned and collected): its results are missing
        if failed:
            continue
        if commit is None:
            trees.append(helpers.Tree(name, path, None))
            continue
        found = await anyio.to_thread.run_sync(
            changed.changed_files, path, plan.base_commit, commit
        )
        trees.append(helpers.Tree(name, path, commit, pristine_plan(found, patterns)))
    return trees
