"""Orchestration of a race: one task group of lanes and the baseline, then the cross-checks,
the verdict and the views. Lanes return LaneOutcomes; this module writes them into the record.

Expected failures (agent crashed, timed out, setup or tests failed) are values in the record,
never exceptions that would cancel the sibling lanes.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

import anyio

from racer import cascade, checkout, faults, history, overlay, pool, provision, reviewrun, tiers
from racer import changes as changed
from racer import repo as repos
from racer.collect import checkout_changed, collect, collect_lanes
from racer.context import NO_AGENT_CFG, Lane, LaneShared, background
from racer.errors import DiskFull, disk_full_in
from racer.flags import FileChange
from racer.lane import Start, run_lane
from racer.outcome import LaneOutcome
from racer.plan import RacePlan
from racer.planfile import save_plan
from racer.proc import child_env, secret_values
from racer.report import Attempt, Baseline, Candidate, Cascade, RaceReport, RaceState
from racer.reporter import NullReporter, Reporter
from racer.resume import resume_points, stop_leftovers
from racer.scoring import cross_check, run_baseline
from racer.status import RUNNING, RaceStatus, Status
from racer.store import BASELINE, RaceLock, release_reserve, reserve_space, write_atomic
from racer.verdict import judge, now
from racer.views import write_views

LaneRunner = Callable[[Lane, Start], Awaitable[LaneOutcome]]
# A lane's phases while its agent may still run.
BEFORE_TESTS = frozenset(
    {Status.PENDING, Status.CHECKOUT, Status.SETUP, Status.WAITING, Status.AGENT}
)
# File times come from a clock that lags by up to a tick: a file written right after the race
# started can carry a time a few ms before it.
CLOCK_SLACK_NS = 50_000_000


class Recorder:
    """A lane's Progress: each event goes to the record (so a resume knows it) and the board."""

    def __init__(
        self,
        state: RaceState,
        reporter: Reporter,
        name: str,
        agent_done: Callable[[str], None] | None = None,
    ) -> None:
        self.state, self.reporter, self.name = state, reporter, name
        self.agent_done = agent_done

    def _cand(self) -> Candidate:
        return self.state.candidate(self.name)

    def phase(self, status: Status) -> None:
        if status not in BEFORE_TESTS and self.agent_done is not None:
            self.agent_done(self.name)  # queued for its tests: its agent is gone, work committed
        self.state.put(replace(self._cand(), status=status))
        self.reporter.phase(self.name, status)

    def line(self, text: str) -> None:
        self.reporter.line(self.name, text)

    def process(self, pgid: int) -> None:
        self.state.put(replace(self._cand(), pgid=pgid))

    def attempts(self, attempts: tuple[Attempt, ...]) -> None:
        self.state.put(replace(self._cand(), attempts=attempts))

    def log(self, kind: str, path: Path) -> None:
        cand = self._cand()
        self.state.put(replace(cand, logs={**cand.logs, kind: str(path)}))

    def committed(self, sha: str) -> None:
        self.state.put(replace(self._cand(), commit=sha))

    def interim(self, outcome: LaneOutcome) -> None:
        self.state.put(outcome.apply(self._cand()))


def initial_report(plan: RacePlan) -> RaceReport:
    cands = []
    for c in plan.contestants:
        lane = checkout.slug(c.name)
        cands.append(
            Candidate(
                name=c.name,
                agent=c.agent,
                model=c.model or plan.config.agent_configs.get(c.agent, NO_AGENT_CFG).model,
                order=c.order,
                branch=plan.branch(lane),
                worktree=str(plan.checkout(lane)),
                tier=c.tier if plan.config.cascade else None,
                scripted=plan.registry[c.agent].scripted,
            )
        )
    tiers = sorted({c.tier for c in plan.contestants})
    info = (
        Cascade(
            tiers=tuple(tuple(c.name for c in plan.contestants if c.tier == t) for t in tiers),
            auto=plan.config.cascade == "auto",
        )
        if plan.config.cascade
        else None
    )
    return RaceReport(
        id=plan.race_id,
        status=RaceStatus.RUNNING,
        spec={"path": str(plan.spec.path), "title": plan.spec.title},
        base={"commit": plan.base_commit, "branch": plan.base_branch},
        created=now(),
        repo=str(plan.repo.root),
        race_dir=str(plan.race_dir.path),
        prompt=str(plan.race_dir.prompt),
        test_command=plan.test_command,
        candidates=tuple(cands),
        cascade=info,
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
    plan: RacePlan,
    reporter: Reporter | None = None,
    previous: RaceReport | None = None,
    runner: LaneRunner = run_lane,
) -> RaceReport:
    """Run every lane and the baseline, judge, write race.json and the reports; returns the record.

    With `previous` (an interrupted record of the same race), finish what is left instead:
    stop processes the interrupted racer left behind, keep finished lanes, rerun the tests of
    lanes whose agent had finished, and rerun (on top of their partial work) the others.
    `runner` runs one lane (tests give a fake one to check the scheduling without processes).
    """
    reporter = reporter or NullReporter()
    if previous is None:
        plan.race_dir.path.mkdir(parents=True)
    with RaceLock(plan.race_dir):
        # Held while it runs: on a full disk, given back to write that the race was interrupted.
        reserve_space(plan.race_dir.reserve)
        try:
            state, starts = await _begin(plan, previous)
            reporter.started(state.report)
            return await _run(plan, state, starts, reporter, runner)
        finally:
            release_reserve(plan.race_dir.reserve)


async def _begin(plan: RacePlan, previous: RaceReport | None) -> tuple[RaceState, dict[str, Start]]:
    """The live record and where each lane starts: all of them, or what a resume has left."""
    if previous is None:
        write_atomic(plan.race_dir.prompt, plan.prompt)
        save_plan(plan, plan.race_dir)
        report = initial_report(plan)
        if plan.config.history:
            report = await anyio.to_thread.run_sync(tiers.with_tracks, plan, report)
        if plan.config.share:
            stale = await anyio.to_thread.run_sync(
                provision.lockfile_warnings, plan.repo.root, plan.base_commit, plan.config.share
            )
            report = replace(report, warnings=(*report.warnings, *stale))
        state = RaceState(report)
        state.save()
        return state, {c.name: Start.CHECKOUT for c in plan.contestants}
    stopped = await anyio.to_thread.run_sync(stop_leftovers, previous)
    starts = resume_points(previous)
    notes = (f"resume stopped {stopped} process(es) the interrupted racer left running",)
    state = RaceState(
        replace(
            previous,
            status=RaceStatus.RUNNING,
            finished=None,
            resumed=previous.resumed + 1,
            interruption=None,
            warnings=(*previous.warnings, *(notes if stopped else ())),
        )
    )
    state.save()
    await _release(plan, plan.checkout(BASELINE))
    for name, start in starts.items():
        if start is Start.CHECKOUT:  # no agent ran there yet: nothing to keep
            await _release(plan, Path(state.candidate(name).worktree))
    return state, starts


async def _release(plan: RacePlan, path: Path) -> None:
    """Release the baseline's checkout, or a lane's no agent ran in yet (to the pool)."""
    await anyio.to_thread.run_sync(
        lambda: pool.release(plan.repo.root, path, plan.config.pool, agent_ran=False)
    )


@dataclass
class _Judging:
    """What the race gathers for the verdict while lanes finish."""

    changes: dict[str, Sequence[FileChange]]
    baseline: tuple[Baseline | None, bool] = (None, False)
    written: reviewrun.Written | None = None  # the test writer's answer (--write-tests)
    collected: set[tuple[str, str]] = field(default_factory=set)  # (lane, commit) fetched


async def _run(
    plan: RacePlan,
    state: RaceState,
    starts: Mapping[str, Start],
    reporter: Reporter,
    runner: LaneRunner,
) -> RaceReport:
    # Your checkout's state is read while the lanes start (a `git status` of a big tree would
    # hold the agents back); what changes from the race's start on counts as changed.
    # On 2 cores its 50k lstats held the base checkout back: it runs behind the lanes (what
    # changes after the race's start counts as changed, whenever it is read).
    since = time.time_ns() - CLOCK_SLACK_NS
    before = background(repos.checkout_snapshot, plan.repo.root, since, behind=True)
    hidden = await anyio.to_thread.run_sync(_hidden_tests, plan)
    gathered = _Judging(changes={})
    try:
        with state.written_behind():  # no lane waits for race.json to reach the disk
            shared = await _shared(plan, starts)
            judging = _judge_with(plan, gathered, shared, hidden)
            await _race(plan, state, starts, reporter, runner, shared, gathered, judging, before)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_interrupted, plan, state, exc)
        raise
    if plan.config.share:  # every test run is over; read-only modes do not stop root
        state.warn(
            *await anyio.to_thread.run_sync(
                provision.shared_writes, plan.worktree_root, plan.config.share
            )
        )
    async with anyio.create_task_group() as tg:
        # The baseline's checkout goes (and unused base checkouts) while the race is judged.
        tg.start_soon(_tidy, plan)
        await anyio.sleep(0)  # it has started (its git runs in a thread) before the judging
        faults.checkpoint("judging", plan.race_dir.path)
        state.set(judging(state.report))
        if plan.config.history:  # trouble with the database is one warning; the race goes on
            state.warn(
                *filter(None, [await anyio.to_thread.run_sync(history.record_race, state.report)])
            )
        write_views(state.report, plan.config.inline_diff_bytes)
    reporter.finished(state.report)
    return state.report


def _judge_with(
    plan: RacePlan, gathered: _Judging, shared: LaneShared, hidden: dict[str, str]
) -> Callable[[RaceReport], RaceReport]:
    """The verdict on a record, with what the race gathered so far (its lanes' changes)."""

    def judging(report: RaceReport) -> RaceReport:
        return judge(
            report,
            gathered.changes,
            plan.test_patterns,
            shared.base_tests,
            hidden_tests=hidden,
            spec=plan.spec.body,
        )

    return judging


async def _race(
    plan: RacePlan,
    state: RaceState,
    starts: Mapping[str, Start],
    reporter: Reporter,
    runner: LaneRunner,
    shared: LaneShared,
    gathered: _Judging,
    judging: Callable[[RaceReport], RaceReport],
    before: Future[dict[str, str]],
) -> None:
    """The lanes and the baseline, then what needs every lane done: your checkout checked,
    the lanes collected, the cross-checks, the review."""
    gathered.baseline = (state.report.baseline, False)
    await _lanes(plan, state, starts, reporter, runner, shared, gathered, judging)
    state.set(replace(state.report, baseline=gathered.baseline[0]))
    snapshot = await anyio.to_thread.run_sync(before.result)
    found: list[str | None] = []

    async def changed_checkout() -> None:
        root = Path(state.report.repo)
        found.append(await anyio.to_thread.run_sync(checkout_changed, root, snapshot))

    async with anyio.create_task_group() as tg:  # two git commands apart: at once
        tg.start_soon(changed_checkout)
        # Every agent has stopped: only now do lane branches reach the main repository (most
        # were fetched while the last tests ran).
        await anyio.to_thread.run_sync(collect_lanes, state, gathered.collected)
    state.warn(*filter(None, found))
    await anyio.to_thread.run_sync(kept_changes, state, gathered.changes, _secrets(plan))
    if gathered.baseline[1]:
        checks = await cross_check(plan, state.report.candidates, shared, gathered.baseline[0])
        for name, tests in checks.valid.items():
            state.put(replace(state.candidate(name), valid_new_tests=tests))
        for name, cross in checks.cross.items():
            state.put(replace(state.candidate(name), cross=cross))
    if plan.config.write_tests and gathered.written is None and not state.report.generated_tests:
        gathered.written = reviewrun.Written(None, None, "the race ended before it answered")
    if gathered.written is not None or plan.config.review:
        # The baseline's checkout is still there: the base tree for their tests.
        state.set(
            await reviewrun.after_lanes(
                plan,
                state.report,
                shared,
                gathered.changes,
                gathered.written,
                gathered.baseline[1],
                reporter,
                judging,
            )
        )


async def _tidy(plan: RacePlan) -> None:
    """The baseline's checkout released, and base checkouts of other commits no lane stands on
    dropped beyond the pool's size."""
    await _release(plan, plan.checkout(BASELINE))
    if plan.overlay:
        await anyio.to_thread.run_sync(overlay.prune_bases, plan.worktree_root, plan.config.pool)


def _interrupted(plan: RacePlan, state: RaceState, exc: BaseException) -> None:
    """Record that the race stopped (Ctrl-C, a crash, a full disk) and keep what lanes did.

    On a full disk the reserve is given back first, so the record can say so; lanes are then
    collected and the baseline released as far as space allows (a lane's commit stays in its
    checkout either way, and `racer resume` collects it)."""
    full = disk_full_in(exc)
    if full:
        release_reserve(plan.race_dir.reserve)
    why = "disk full" if full else None
    # Should even that fail, the record says running: with racer gone, `ls` says interrupted.
    with contextlib.suppress(DiskFull):
        state.set(
            replace(state.report, status=RaceStatus.INTERRUPTED, finished=now(), interruption=why)
        )
    try:
        collect_lanes(state)
        size = 0 if full else plan.config.pool
        pool.release(plan.repo.root, plan.checkout(BASELINE), size, agent_ran=False)
    except DiskFull:
        if not full:
            raise


def _hidden_tests(plan: RacePlan) -> dict[str, str]:
    """The acceptance files' texts: literals from them in product code are copied from tests."""
    out: dict[str, str] = {}
    for a in plan.acceptance:
        try:
            out[a.dest] = a.source.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # it was checked at planning; a file gone since only loses this evidence
    return out


async def _shared(plan: RacePlan, starts: Mapping[str, Start]) -> LaneShared:
    copies = await anyio.to_thread.run_sync(
        checkout.files_to_copy, plan.repo.root, plan.config.copy
    )
    hidden = {a.dest for a in plan.acceptance}
    copies = [c for c in copies if c not in hidden]  # hidden tests reach no checkout early
    # Wanted for the verdict, not by the lanes: read while they start.
    base_tests = background(
        changed.test_files_at, plan.repo.root, plan.base_commit, plan.test_patterns, behind=True
    )
    shared = LaneShared(plan, copies, base_tests)
    first = min((c.tier for c in plan.contestants if c.name in starts), default=0)
    for c in plan.contestants:
        # Kept from the interrupted run (nothing to check out), or a later cascade tier's:
        # neither holds the baseline's checkout back.
        if c.name not in starts or c.tier != first:
            shared.checked_out(c.name)
        if c.name not in starts:
            shared.agent_done(c.name)
    return shared


async def _lanes(
    plan: RacePlan,
    state: RaceState,
    starts: Mapping[str, Start],
    reporter: Reporter,
    runner: LaneRunner,
    shared: LaneShared,
    gathered: _Judging,
    judging: Callable[[RaceReport], RaceReport],
) -> None:
    """The lanes and the baseline in one task group, under the race's wall limit. A cascade's
    tiers run one after another; --first-pass ends a tier once a candidate clearly passed."""
    base_done = anyio.Event()
    levels = sorted({c.tier for c in plan.contestants})

    async def baseline() -> None:
        try:
            gathered.baseline = await run_baseline(plan, shared, state.report.baseline)
        finally:
            base_done.set()

    writer_done = anyio.Event()

    async def writer() -> None:
        try:
            gathered.written = await reviewrun.write_phase(plan, shared, reporter)
        finally:
            writer_done.set()

    async def collect_early() -> None:
        # No agent runs any more: the lanes' branches are fetched while the last tests run.
        await shared.agents_done.wait()
        await writer_done.wait()
        await anyio.to_thread.run_sync(collect, state.report, gathered.collected)

    def so_far(tier: int) -> RaceReport:
        """The race judged on the candidates of the tiers up to this one."""
        names = {c.name for c in plan.contestants if c.tier <= tier}
        cands = tuple(c for c in state.report.candidates if c.name in names)
        return judging(replace(state.report, baseline=gathered.baseline[0], candidates=cands))

    if plan.test_command is None:
        base_done.set()
    with anyio.move_on_after(plan.config.race_timeout or math.inf) as deadline:
        async with anyio.create_task_group() as tg:
            if plan.test_command is not None:
                tg.start_soon(baseline)
            if plan.config.write_tests and state.report.generated_tests is None:
                tg.start_soon(writer)
            else:
                writer_done.set()
            tg.start_soon(collect_early)
            ended: str | None = None
            for n, tier in enumerate(levels, 1):
                names = [c.name for c in plan.contestants if c.tier == tier]
                if ended is not None:
                    tiers.skip(state, reporter, names, f"skipped: {ended}")
                    continue
                prompt = await tiers.tier_prompt(plan, state, tier, levels, base_done, so_far)
                await _tier(plan, state, starts, reporter, runner, shared, gathered, names, prompt,
                            base_done, so_far)  # fmt: skip
                if len(levels) > 1:
                    await base_done.wait()
                    solved = cascade.solved(so_far(tier))
                    if solved is not None:
                        tiers.cascade_note(state, n, solved)
                        ended = f"tier {n} solved it: {solved}"
            shared.agents_done.set()  # skipped tiers' lanes never start one
    if deadline.cancelled_caught:
        # Lanes still running were stopped (process groups killed, their work committed).
        why = f"race timed out after {plan.config.race_timeout:g} s"
        for cand in state.report.candidates:
            if cand.status in RUNNING:
                state.put(replace(cand, status=Status.TIMED_OUT, error=why))
                reporter.phase(cand.name, Status.TIMED_OUT)
    if state.report.cascade is not None:
        await anyio.to_thread.run_sync(tiers.cascade_costs, plan, state)


async def _tier(
    plan: RacePlan,
    state: RaceState,
    starts: Mapping[str, Start],
    reporter: Reporter,
    runner: LaneRunner,
    shared: LaneShared,
    gathered: _Judging,
    names: Sequence[str],
    prompt: tuple[str, Path] | None,
    base_done: anyio.Event,
    so_far: Callable[[int], RaceReport],
) -> None:
    """One tier's lanes (all of the race's, outside a cascade) at once."""
    first: list[str] = []  # --first-pass: why the others were stopped

    async def one(lane: Lane, start: Start, scope: anyio.CancelScope) -> None:
        try:
            outcome = await runner(lane, start)
        finally:
            shared.checked_out(lane.name)
            shared.agent_done(lane.name)
        state.put(outcome.apply(state.candidate(lane.name)))
        reporter.phase(lane.name, outcome.status)
        if outcome.changes is not None:
            gathered.changes[lane.name] = outcome.changes
        if plan.config.first_pass and not first and outcome.status == Status.OK:
            await base_done.wait()
            judged = so_far(lane.contestant.tier)
            # Clearly ahead of everything finished so far, or two that passed: solved either way.
            passed = sum(1 for c in judged.candidates if c.passed)
            clear = judged.confidence == "high" or passed >= 2
            if judged.winner is not None and clear and not first:
                first.append(f"{judged.winner} passed first (--first-pass)")
                scope.cancel()

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            for name in names:
                if name in starts:
                    lane = make_lane(plan, state, reporter, shared, name, prompt)
                    tg.start_soon(one, lane, starts[name], scope)
    if first:
        # Stopped like a timed-out lane: process group killed, its work committed and kept.
        for name in names:
            cand = state.candidate(name)
            if cand.status in RUNNING:
                state.put(replace(cand, status=Status.STOPPED, error=f"stopped: {first[0]}"))
                reporter.phase(name, Status.STOPPED)


def make_lane(
    plan: RacePlan,
    state: RaceState,
    reporter: Reporter,
    shared: LaneShared,
    name: str,
    prompt: tuple[str, Path] | None = None,
) -> Lane:
    contestant = next(c for c in plan.contestants if c.name == name)
    port = str(shared.ports[name])
    # A port of its own, so dev servers and integration tests of parallel lanes don't collide.
    env = child_env(
        os.environ,
        {"RACER_RACE_ID": plan.race_id, "RACER_LANE": name, "RACER_PORT": port, "PORT": port},
    )
    return Lane(
        plan=plan,
        contestant=contestant,
        record=state.candidate(name),
        shared=shared,
        progress=Recorder(state, reporter, name, shared.agent_done),
        env=env,
        prompt=prompt[0] if prompt else None,
        prompt_file=prompt[1] if prompt else None,
    )


def _secrets(plan: RacePlan) -> tuple[str, ...]:
    """Every value the lanes' logs and diffs redact: your environment's and the agents' tables'."""
    tables = [secret_values(cfg.env) for cfg in plan.config.agent_configs.values()]
    return tuple(dict.fromkeys(secret_values(os.environ) + tuple(v for t in tables for v in t)))


def kept_changes(
    state: RaceState, changes: dict[str, Sequence[FileChange]], secrets: Sequence[str] = ()
) -> None:
    """File changes of lanes a resumed race kept, for the flags and clusters of the verdict
    (secrets redacted, as a lane's own changes are: flags quote these texts)."""
    root = Path(state.report.repo)
    base = str(state.report.base.get("commit"))
    for cand in state.report.candidates:
        if cand.name in changes or cand.status != Status.OK or not cand.commit:
            continue
        where = Path(cand.worktree) if checkout.is_lane_repo(Path(cand.worktree)) else root
        if where != root:
            checkout.seal(where)
        found = changed.changed_files(where, base, cand.commit)
        changes[cand.name] = changed.redacted(found, secrets)
