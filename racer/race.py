"""Orchestration of a race: lanes and the baseline run concurrently, then the judging.

Expected failures (agent crashed, timed out, setup or tests failed) are values in the record,
never exceptions that would cancel the sibling lanes.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import anyio

from racer import cluster, faults, judge, lane, store, worktree
from racer import rank as ranking
from racer import report as rpt
from racer.agents import Agent, Contestant
from racer.config import Config
from racer.errors import RacerError
from racer.flags import DEFAULT_TEST_PATTERNS, FileChange, detect_flags
from racer.lane import NO_AGENT_CFG
from racer.proc import child_env
from racer.spec import Spec
from racer.testrun import run_tests


class Reporter(Protocol):
    """What the UI hears while a race runs (racer.ui implements it; tests may record it)."""

    def started(self, report: rpt.RaceReport) -> None: ...
    def phase(self, lane: str, phase: str) -> None: ...
    def line(self, lane: str, text: str) -> None: ...
    def finished(self, report: rpt.RaceReport) -> None: ...


class NullReporter:
    def started(self, report: rpt.RaceReport) -> None:
        pass

    def phase(self, lane: str, phase: str) -> None:
        pass

    def line(self, lane: str, text: str) -> None:
        pass

    def finished(self, report: rpt.RaceReport) -> None:
        pass


@dataclass(frozen=True)
class RacePlan:
    """Everything validated before anything is created on disk."""

    repo: worktree.RepoInfo
    spec: Spec
    prompt: str
    config: Config
    contestants: tuple[Contestant, ...]
    registry: Mapping[str, Agent]
    base_commit: str
    base_branch: str | None
    test_command: str | None
    worktree_root: Path
    race_id: str
    acceptance: tuple[judge.AcceptanceFile, ...] = ()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RaceState:
    """The live record; every change is written to race.json atomically."""

    def __init__(self, report: rpt.RaceReport, race_dir: Path) -> None:
        self.report = report
        self.race_dir = race_dir

    def save(self) -> None:
        store.write_json(self.race_dir / "race.json", rpt.to_dict(self.report))

    def update(self, name: str, **changes: object) -> rpt.Candidate:
        cand = replace(self.report.candidate(name), **changes)  # type: ignore[arg-type]  # dataclass fields checked at runtime
        self.report = self.report.with_candidate(cand)
        self.save()
        return cand


def initial_report(plan: RacePlan, race_dir: Path) -> rpt.RaceReport:
    cands = []
    for c in plan.contestants:
        lane = worktree.slug(c.name)
        cands.append(
            rpt.Candidate(
                name=c.name,
                agent=c.agent,
                model=c.model or plan.config.agent_configs.get(c.agent, NO_AGENT_CFG).model,
                order=c.order,
                branch=f"racer/{plan.race_id}/{lane}",
                worktree=str(plan.worktree_root / plan.race_id / lane),
            )
        )
    return rpt.RaceReport(
        id=plan.race_id,
        status="running",
        spec={"path": str(plan.spec.path), "title": plan.spec.title},
        base={"commit": plan.base_commit, "branch": plan.base_branch},
        created=_now(),
        repo=str(plan.repo.root),
        race_dir=str(race_dir),
        prompt=str(race_dir / "prompt.md"),
        test_command=plan.test_command,
        candidates=tuple(cands),
        acceptance_files=tuple(
            {"source": str(a.source), "dest": a.dest, "tracked": a.tracked} for a in plan.acceptance
        ),
        warnings=tuple(
            f"acceptance test {a.dest} is tracked in the base commit: the agents could read it"
            for a in plan.acceptance
            if a.tracked
        ),
    )


async def run_race(
    plan: RacePlan, reporter: Reporter | None = None, previous: rpt.RaceReport | None = None
) -> rpt.RaceReport:
    """Run every lane and the baseline, judge, write race.json and report.md; returns the record.

    With `previous` (an interrupted record of the same race), finish what is left instead:
    stop processes the interrupted racer left behind, keep finished lanes, rerun the tests of
    lanes whose agent had finished, and rerun (on top of their partial work) the others.
    """
    reporter = reporter or NullReporter()
    race_dir = store.races_dir(plan.repo.common_dir) / plan.race_id
    if previous is None:
        race_dir.mkdir(parents=True)
    with store.RaceLock(race_dir):
        return await _run_race(plan, reporter, race_dir, previous)


async def _run_race(
    plan: RacePlan, reporter: Reporter, race_dir: Path, previous: rpt.RaceReport | None
) -> rpt.RaceReport:
    from racer.planfile import save_plan

    base_wt = plan.worktree_root / plan.race_id / BASELINE
    if previous is None:
        store.write_atomic(race_dir / "prompt.md", plan.prompt)
        save_plan(plan, race_dir)
        report = initial_report(plan, race_dir)
        if plan.config.share:
            from racer.provision import lockfile_warnings

            stale = await anyio.to_thread.run_sync(
                lockfile_warnings, plan.repo.root, plan.base_commit, plan.config.share
            )
            report = replace(report, warnings=(*report.warnings, *stale))
        state = RaceState(report, race_dir)
        starts: dict[str, str] = {c.name: "worktree" for c in plan.contestants}
    else:
        stopped = await anyio.to_thread.run_sync(stop_leftovers, previous)
        starts = resume_points(previous)
        notes = (f"resume stopped {stopped} process(es) the interrupted racer left running",)
        state = RaceState(
            replace(
                previous,
                status="running",
                finished=None,
                resumed=previous.resumed + 1,
                warnings=(*previous.warnings, *(notes if stopped else ())),
            ),
            race_dir,
        )
        await anyio.to_thread.run_sync(
            worktree.remove_worktree, plan.repo.root, base_wt, plan.config.pool
        )
        for name, start in starts.items():
            cand = state.report.candidate(name)
            if start == "worktree":  # no agent ran there yet: nothing to keep
                await anyio.to_thread.run_sync(
                    worktree.remove_worktree, plan.repo.root, Path(cand.worktree), plan.config.pool
                )
    state.save()
    reporter.started(state.report)
    checkout_before = await anyio.to_thread.run_sync(worktree.checkout_snapshot, plan.repo.root)
    try:
        copies = await anyio.to_thread.run_sync(
            worktree.files_to_copy, plan.repo.root, plan.config.copy
        )
        hidden = {a.dest for a in plan.acceptance}
        copies = [c for c in copies if c not in hidden]  # hidden tests reach no worktree early
        limiter = anyio.CapacityLimiter(plan.config.jobs)
        extras = lane.LaneShared(plan)
        for c in plan.contestants:
            if c.name not in starts:  # kept from the interrupted run: nothing to check out
                extras.checked_out(c.name)
        extras.base_tests = await anyio.to_thread.run_sync(
            judge.test_files_at,
            plan.repo.root,
            plan.base_commit,
            plan.config.test_paths or DEFAULT_TEST_PATTERNS,
        )
        work = lane.LaneWork()
        baseline = Baseline(state.report.baseline)
        with anyio.move_on_after(plan.config.race_timeout or math.inf) as race_deadline:
            async with anyio.create_task_group() as tg:
                for agent_name in dict.fromkeys(c.agent for c in plan.contestants):
                    tg.start_soon(extras.fetch_version, agent_name)
                if plan.test_command is not None:
                    tg.start_soon(
                        baseline.run,
                        plan,
                        state,
                        base_wt,
                        copies,
                        limiter,
                        extras.lanes_checked_out,
                    )
                for c in plan.contestants:
                    if c.name in starts:
                        tg.start_soon(
                            functools.partial(
                                lane.run_lane,
                                plan,
                                state,
                                c,
                                copies,
                                limiter,
                                reporter,
                                extras,
                                work,
                                start=starts[c.name],
                            )
                        )
        if race_deadline.cancelled_caught:
            # Lanes still running were stopped (process groups killed, their work committed).
            why = f"race timed out after {plan.config.race_timeout:g} s"
            for cand in state.report.candidates:
                if cand.status in lane.RUNNING_PHASES:
                    state.update(cand.name, status="timed_out", error=why)
                    reporter.phase(cand.name, "timed_out")
        state.report = replace(state.report, baseline=baseline.result)
        await anyio.to_thread.run_sync(check_main_checkout, state, checkout_before)
        # Every agent has stopped: only now do lane branches reach the main repository.
        await anyio.to_thread.run_sync(collect_lanes, state)
        await anyio.to_thread.run_sync(kept_changes, state, work)
        if baseline.ready:
            await cross_check(plan, state, base_wt, limiter, reporter)
    except BaseException:
        state.report = replace(state.report, status="interrupted", finished=_now())
        with anyio.CancelScope(shield=True):
            state.save()
            await anyio.to_thread.run_sync(collect_lanes, state)
            await anyio.to_thread.run_sync(
                worktree.remove_worktree, plan.repo.root, base_wt, plan.config.pool
            )
        raise
    await anyio.to_thread.run_sync(
        worktree.remove_worktree, plan.repo.root, base_wt, plan.config.pool
    )
    faults.checkpoint("judging", race_dir)
    state.report = finish(
        state.report,
        work.changes,
        plan.config.test_paths or DEFAULT_TEST_PATTERNS,
        extras.base_tests,
    )
    state.save()
    rpt.write_views(state.report)
    reporter.finished(state.report)
    return state.report


def check_main_checkout(state: RaceState, before: dict[str, str]) -> None:
    """Warn when files of the user's checkout changed while the agents ran."""
    after = worktree.checkout_snapshot(Path(state.report.repo))
    changed = worktree.snapshot_changes(before, after)
    if changed:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        state.report = replace(
            state.report,
            warnings=(
                *state.report.warnings,
                f"your checkout changed while the agents ran ({shown}): if that was not you, an "
                "agent wrote outside its worktree — check those files; --sandbox prevents it",
            ),
        )
        state.save()


def resume_points(report: rpt.RaceReport) -> dict[str, str]:
    """Where each unfinished lane of an interrupted race starts again (finished lanes are kept):
    "worktree" (no agent ran yet), "agent" (rerun it on top of its partial work) or "tests"."""
    points: dict[str, str] = {}
    for cand in report.candidates:
        if cand.status not in lane.RUNNING_PHASES:
            continue
        wt = Path(cand.worktree)
        if cand.status in ("pending", "worktree", "setup") or not worktree.is_lane_repo(wt):
            points[cand.name] = "worktree"
        elif cand.status in ("queued", "testing") and cand.commit:
            points[cand.name] = "tests"
        else:
            points[cand.name] = "agent"
    return points


def find_leftovers(report: rpt.RaceReport) -> list[int]:
    """Processes of this race still alive (after a SIGKILL of racer, say)."""
    from racer import orphans

    since = datetime.fromisoformat(report.created).timestamp()
    try:  # the record is rewritten at every change: its last write is about when racer died
        until = (Path(report.race_dir) / "race.json").stat().st_mtime + 5
    except OSError:
        until = since
    pgids = [c.pgid for c in report.candidates if c.pgid]
    return orphans.find(report.id, pgids, since, until)


def stop_leftovers(report: rpt.RaceReport) -> int:
    """Stop the processes a killed racer left running for this race; returns how many."""
    from racer import orphans

    return orphans.stop(find_leftovers(report))


def kept_changes(state: RaceState, work: lane.LaneWork) -> None:
    """File changes of lanes a resumed race kept, for the flags and clusters of the judging."""
    root = Path(state.report.repo)
    base = str(state.report.base.get("commit"))
    for cand in state.report.candidates:
        if cand.name in work.changes or cand.status != "ok" or not cand.commit:
            continue
        where = Path(cand.worktree) if worktree.is_lane_repo(Path(cand.worktree)) else root
        work.changes[cand.name] = judge.changed_files(where, base, cand.commit)


BASELINE = "_baseline"


def collect_lanes(state: RaceState) -> None:
    """Fetch each lane's recorded work into the main repository as its `racer/...` branch.

    A lane that cannot be collected (its checkout is gone) keeps its record and gets a warning;
    the others are unaffected. Lanes are fetched in parallel: each fetch updates its own ref.
    """
    from concurrent.futures import ThreadPoolExecutor

    root = Path(state.report.repo)

    def collect(cand: rpt.Candidate) -> str | None:
        wt = Path(cand.worktree)
        if cand.commit is None or not worktree.is_lane_repo(wt):
            return None
        if worktree.branch_tip(root, cand.branch) == cand.commit:
            return None
        try:
            worktree.collect_lane(root, wt, cand.branch, cand.commit)
        except RacerError as exc:
            return f"{cand.name}: work not collected: {exc}"
        return None

    cands = state.report.candidates
    with ThreadPoolExecutor(max_workers=max(1, min(len(cands), os.cpu_count() or 1))) as ex:
        problems = [p for p in ex.map(collect, cands) if p]
    if problems:
        state.report = replace(state.report, warnings=(*state.report.warnings, *problems))
    state.save()


class Baseline:
    """The test command on the base commit, in its own worktree, while the agents work."""

    def __init__(self, previous: rpt.Baseline | None = None) -> None:
        self.result: rpt.Baseline | None = previous
        self.ready = False

    async def run(
        self,
        plan: RacePlan,
        state: RaceState,
        wt: Path,
        copies: list[str],
        limiter: anyio.CapacityLimiter,
        lanes_ready: anyio.Event,
    ) -> None:
        assert plan.test_command is not None
        logs = state.race_dir / "logs"
        await lanes_ready.wait()
        env = child_env(os.environ, {"RACER_RACE_ID": plan.race_id, "RACER_LANE": BASELINE})
        try:
            failed = await lane.prepare_worktree(
                plan,
                state,
                wt,
                f"racer/{plan.race_id}/{BASELINE}",
                copies=copies,
                env=env,
                setup_log=logs / "baseline.setup.log",
            )
        except RacerError as exc:
            failed = exc.message
        if failed:
            self.result = rpt.Baseline(error=failed)
            return
        if self.result is not None and self.result.runs and self.result.error is None:
            self.ready = True  # a resumed race keeps its baseline; the checkout serves cross-checks
            return
        runs: list[rpt.TestSummary] = []
        for i in range(1, plan.config.baseline_runs + 1):
            log = logs / f"baseline.{i}.log"
            async with limiter:
                res = await run_tests(
                    plan.test_command,
                    wt,
                    log_path=log,
                    junit_path=state.race_dir / "junit" / f"baseline.{i}.xml",
                    env=env,
                    timeout=plan.config.test_timeout,
                    test_report=plan.config.test_report,
                )
            runs.append(lane.summarize(res, log))
        first = runs[0].outcomes if runs else {}
        flaky = sorted(
            {
                t
                for r in runs[1:]
                for t in set(first) | set(r.outcomes)
                if r.outcomes.get(t) != first.get(t)
            }
        )
        self.result = rpt.Baseline(runs=tuple(runs), outcomes=first, flaky=tuple(flaky))
        self.ready = True


async def cross_check(
    plan: RacePlan,
    state: RaceState,
    base_wt: Path,
    limiter: anyio.CapacityLimiter,
    reporter: Reporter,
) -> None:
    """Each candidate's new tests that fail on base and pass on it, run against every other one."""
    assert plan.test_command is not None
    judged = [c for c in state.report.candidates if c.status == "ok" and c.commit and c.tests]
    authors = [c for c in judged if c.new_tests and c.own_tests and c.own_tests.junit]
    if not authors:
        return
    env = child_env(os.environ, {"RACER_RACE_ID": plan.race_id})
    junit_dir, logs = state.race_dir / "junit", state.race_dir / "logs"

    async def run_files(wt: Path, author: rpt.Candidate, tag: str) -> dict[str, str]:
        files = [(Path(author.worktree) / f, f) for f in author.new_tests]
        lane_slug = worktree.slug(author.name)
        box = lane.sandbox_for(plan, state, "", wt, env)  # a candidate's tests are its code
        try:
            dests = await anyio.to_thread.run_sync(judge.place_files, wt, files)
            res = await run_tests(
                judge.pytest_command_for(plan.test_command or "", dests),
                wt,
                log_path=logs / f"cross.{lane_slug}.on.{tag}.log",
                junit_path=(box.tmpdir if box else junit_dir) / f"cross.{lane_slug}.on.{tag}.xml",
                env=env,
                timeout=plan.config.test_timeout,
                wrap=box.wrap if box else None,
            )
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(judge.reset_worktree, wt, "HEAD")
        return judge.outcomes_in(lane.outcomes_of(res), dests) if res.junit else {}

    # Valid tests of an author: new ids that passed on the author and fail on the base commit.
    valid: dict[str, set[str]] = {}
    for author in authors:
        assert author.own_tests is not None
        own = judge.outcomes_in(author.own_tests.outcomes, author.new_tests)
        async with limiter:
            on_base = await run_files(base_wt, author, BASELINE)
        valid[author.name] = {
            t for t, o in own.items() if o == "passed" and on_base.get(t) != "passed"
        }
        state.update(author.name, valid_new_tests=tuple(sorted(valid[author.name])))

    async def judge_one(target: rpt.Candidate) -> None:
        passed = total = 0
        by_author: dict[str, str] = {}
        for author in authors:
            tests = valid[author.name]
            if author.name == target.name or not tests:
                continue
            async with limiter:
                got = await run_files(Path(target.worktree), author, worktree.slug(target.name))
            ok = sum(1 for t in tests if got.get(t) == "passed")
            by_author[author.name] = f"{ok}/{len(tests)}"
            passed, total = passed + ok, total + len(tests)
        if total:
            state.update(
                target.name, cross=rpt.Cross(passed=passed, total=total, by_author=by_author)
            )

    async with anyio.create_task_group() as tg:
        for target in judged:
            tg.start_soon(judge_one, target)


def classify(
    outcomes: Mapping[str, str], base: Mapping[str, str], flaky: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Fixed (fail→pass) and broken (pass→fail, or gone) test ids; flaky tests are left out."""
    skip = set(flaky)
    good = {"passed"}
    fixed = sorted(
        t
        for t, o in outcomes.items()
        if t not in skip and o in good and base.get(t, "passed") not in good and t in base
    )
    broken = sorted(
        t
        for t, o in base.items()
        if t not in skip
        and o in good
        and outcomes.get(t) not in good
        and outcomes.get(t) != "skipped"
    )
    return tuple(fixed), tuple(broken)


def finish(
    report: rpt.RaceReport,
    changes: Mapping[str, Sequence[FileChange]],
    test_patterns: Sequence[str] = DEFAULT_TEST_PATTERNS,
    base_tests: Mapping[str, str] | None = None,
) -> rpt.RaceReport:
    """Fold baseline deltas, flags, clusters and the ranking into the record (no I/O)."""
    base = report.baseline
    order = [c.name for c in sorted(report.candidates, key=lambda c: c.order)]
    prints = {c.name: c.fingerprint for c in report.candidates if c.status == "ok"}
    groups = cluster.clusters(prints, [n for n in order if n in prints]) if prints else {}
    sizes = {cid: sum(1 for v in groups.values() if v == cid) for cid in set(groups.values())}
    judged = [c for c in report.candidates if c.status == "ok"]
    cands: list[rpt.Candidate] = []
    for c in report.candidates:
        tests = c.tests
        if tests is not None and base is not None and base.runs:
            fixed, broken = classify(tests.outcomes, base.outcomes, base.flaky)
            tests = replace(tests, fixed=fixed, broken=broken)
        flags = c.flags
        if c.name in changes and len(judged) > 1 and c.status == "ok":
            others = {
                p
                for o in judged
                if o.name != c.name
                for p in (ch.path for ch in changes.get(o.name, ()))
            }
            flags = lane.flag_records(
                detect_flags(
                    changes[c.name],
                    touched_by_others=others,
                    test_patterns=test_patterns,
                    base_tests=base_tests,
                )
            )
        cands.append(replace(c, tests=tests, flags=flags, cluster=groups.get(c.name)))
    evidence = [_evidence(c, sizes) for c in cands]
    result = ranking.rank(evidence)
    by_name = {c.name: c for c in cands}
    ordered = [
        replace(by_name[r.name], rank=r.rank, status=r.status, passed=r.passed, reasons=r.reasons)
        for r in result.candidates
    ]
    winner = ordered[0].name if ordered and ordered[0].passed else None
    summary = (
        cluster.describe(groups, [n for n in order if n in groups]) if len(groups) > 1 else None
    )
    return replace(
        report,
        candidates=tuple(ordered),
        winner=winner,
        status="finished",
        finished=_now(),
        decided_by=result.decided_by,
        confidence=result.confidence,
        cluster_summary=summary,
    )


def _evidence(c: rpt.Candidate, sizes: Mapping[int, int]) -> ranking.Evidence:
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
