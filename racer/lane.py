"""One lane = one contestant: its checkout and setup, the agent's attempts, its work committed,
then its tests scored. `run_lane` returns a LaneOutcome; progress goes through lane.progress.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import anyio

from racer import changes as changed
from racer import checkout, fmt, instructions, orphans, prices
from racer.agents import STATE_FILES
from racer.attempts import AgentRun, run_attempts
from racer.context import Lane, sandbox_for
from racer.errors import DiskFull, RacerError
from racer.flags import FileChange
from racer.outcome import AgentResult, LaneOutcome, Scores
from racer.prepare import prepare_checkout
from racer.proc import secret_values
from racer.scoring import PristinePlan, pristine_plan, reset_checkout, score
from racer.status import Status
from racer.verdict import fingerprint


class Start(StrEnum):
    """Where a lane starts: all of it, or where an interrupted race left it (racer resume)."""

    CHECKOUT = "worktree"  # no agent ran yet
    AGENT = "agent"  # its agent was interrupted: keep its partial work, run it again on top
    TESTS = "tests"  # its agent had finished: only the scoring is redone


@dataclass(frozen=True)
class _Work:
    """The agent's run and what it changed."""

    run: AgentRun
    result: AgentResult
    changes: tuple[FileChange, ...]
    pristine: PristinePlan


async def run_lane(lane: Lane, start: Start = Start.CHECKOUT) -> LaneOutcome:
    """One lane from `start` to its outcome; expected failures are values, never exceptions."""
    async with anyio.create_task_group() as tg:
        # Asked while the checkout is made; wanted only once the agent has run.
        tg.start_soon(lane.shared.fetch_version, lane.contestant.agent)
        outcome = await _run(lane, start)
    return outcome


async def _run(lane: Lane, start: Start) -> LaneOutcome:
    if start is not Start.CHECKOUT:  # its checkout is there already
        lane.shared.checked_out(lane.name)
    if start is Start.TESTS:
        try:
            return await _rescore(lane)
        except DiskFull:
            raise
        except RacerError as exc:
            return _ended(lane, Status.ERROR, exc.message)
    worked = await _agent_part(lane, start)
    if isinstance(worked, LaneOutcome):
        return worked
    if lane.plan.test_command is None:
        return _outcome(lane, worked, Status.OK)
    return await score_lane(lane, _outcome(lane, worked, Status.QUEUED), worked.pristine)


async def agent_lane(lane: Lane) -> LaneOutcome:
    """A lane up to its committed work, without its tests (a remote agent step: the tests
    run where the race is judged). Its end when the agent failed, timed out or changed
    nothing; else QUEUED, with the agent's result and changes, for `score_lane`."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(lane.shared.fetch_version, lane.contestant.agent)
        worked = await _agent_part(lane, Start.CHECKOUT)
    if isinstance(worked, LaneOutcome):
        return worked
    return _outcome(lane, worked, Status.QUEUED)


async def _agent_part(lane: Lane, start: Start) -> _Work | LaneOutcome:
    """Checkout (or an interrupted agent's partial work kept), setup, the agent, its work
    committed: the work, or the lane's end when it ended there."""
    try:
        if start is Start.CHECKOUT:
            failed = await _check_out(lane)
            if failed:
                return _ended(lane, Status.SETUP_FAILED, failed)
        else:  # an interrupted agent's partial work is kept before it starts again
            message = f"racer: partial work of {lane.name} before race {lane.plan.race_id} was interrupted"
            await anyio.to_thread.run_sync(
                checkout.commit_all,
                lane.checkout,
                message,
                STATE_FILES,
                lane.branch,
                lane.plan.repo.common_dir,
            )
        work = await _run_agent(lane)
    except DiskFull:
        raise  # not the lane's failure: the race stops, `racer resume` goes on
    except RacerError as exc:
        return _ended(lane, Status.ERROR, exc.message)
    return _agent_end(lane, work) or work


async def score_lane(lane: Lane, queued: LaneOutcome, pristine: PristinePlan) -> LaneOutcome:
    """The tests of a lane whose agent's work is committed in its checkout (`queued`)."""
    assert queued.agent is not None
    lane.progress.interim(queued)
    lane.progress.phase(Status.QUEUED)
    try:
        scores = await _score(lane, queued.agent.commit, pristine)
    except DiskFull:
        raise
    except RacerError as exc:
        return replace(queued, status=Status.ERROR, error=exc.message)
    return replace(queued, status=Status.OK, scores=scores)


def _ended(lane: Lane, status: Status, error: str) -> LaneOutcome:
    return LaneOutcome(lane.name, status, error)


def _outcome(
    lane: Lane, work: _Work, status: Status, error: str | None = None, scores: Scores | None = None
) -> LaneOutcome:
    return LaneOutcome(
        lane.name,
        status,
        error,
        agent=work.result,
        scores=scores,
        attempts=work.run.attempts,
        changes=work.changes,
    )


async def _check_out(lane: Lane) -> str | None:
    """The lane's checkout and setup; an error text when setup failed."""
    lane.progress.phase(Status.CHECKOUT)
    setup_log = lane.dir.log(lane.slug, "setup")
    if lane.plan.config.setup:
        lane.progress.log("setup", setup_log)

    def on_setup() -> None:
        lane.shared.checked_out(lane.name)
        lane.progress.phase(Status.SETUP)

    try:
        return await prepare_checkout(
            lane.plan,
            lane.checkout,
            lane.branch,
            copies=lane.shared.copies,
            env=lane.env,
            setup_log=setup_log,
            on_setup=on_setup,
        )
    finally:
        lane.shared.checked_out(lane.name)


async def _run_agent(lane: Lane) -> _Work:
    """The agent's attempts; whatever happens (even Ctrl-C), its work is committed after."""
    c, plan = lane.contestant, lane.plan
    lane.progress.log("agent", lane.dir.log(lane.slug, "agent"))
    lane.progress.phase(Status.AGENT)
    # The agent's own dirs are where its env (with its [agents.NAME] env table) points.
    box = sandbox_for(plan, lane.checkout, {**lane.env, **lane.agent_cfg.env}, lane.agent)
    placed = await anyio.to_thread.run_sync(_place_instructions, lane)
    try:
        run = await run_attempts(lane, box)
    finally:
        with anyio.CancelScope(shield=True):
            # Processes that left the agent's process group (setsid, daemons) go too.
            escaped = await anyio.to_thread.run_sync(
                lambda: orphans.stop(orphans.find(plan.race_id, lane=lane.name))
            )
            await anyio.to_thread.run_sync(instructions.restore, placed)
            message = f"racer: work of {lane.name} ({c.agent}) in race {plan.race_id}"
            tip = await anyio.to_thread.run_sync(
                checkout.commit_all,
                lane.checkout,
                message,
                STATE_FILES,
                lane.branch,
                plan.repo.common_dir,
            )
            lane.progress.committed(tip)  # recorded at once: a resumed race keeps it
    # A key or token of the lane's environment written into a file: flagged, and never shown.
    secrets = secret_values({**lane.env, **lane.agent_cfg.env})
    diff_path = lane.dir.diff(lane.slug)
    await anyio.to_thread.run_sync(
        checkout.write_diff, lane.checkout, plan.base_commit, tip, diff_path, secrets
    )
    stat = await anyio.to_thread.run_sync(changed.diffstat_of, lane.checkout, plan.base_commit, tip)
    found = await anyio.to_thread.run_sync(
        changed.changed_files, lane.checkout, plan.base_commit, tip
    )
    leaked = changed.holding(found, secrets)
    found = changed.redacted(found, secrets)
    patterns = plan.test_patterns
    pristine = pristine_plan(found, patterns)
    parsed = run.output
    model = parsed.model or run.model or prices.DEFAULT_MODELS.get(c.agent)
    cost, estimated = prices.cost_of(parsed.cost_usd, parsed.tokens, model)
    left = (f"stopped {escaped} process(es) the agent left running outside its group",)
    result = AgentResult(
        commit=tip,
        diff=str(diff_path),
        diffstat=stat,
        exit_code=run.outcome.exit_code,
        duration_s=round(sum(a.duration_s for a in run.attempts), 3),
        timed_out=run.outcome.timed_out,
        final_message=parsed.final_message,
        tokens=parsed.tokens,
        cost_usd=cost,
        cost_estimated=estimated,
        turns=parsed.turns,
        model=parsed.model or run.model,
        agent_version=await lane.shared.version(c.agent),
        warnings=parsed.warnings + (left if escaped else ()),
        fingerprint=fingerprint(found, patterns),
        new_tests=pristine.own_tests,
        secret_files=leaked,
    )
    return _Work(run, result, tuple(found), pristine)


def _place_instructions(lane: Lane) -> instructions.Placed | None:
    """A setup's instructions file in place of the repository's, for this lane's agent."""
    rel = lane.agent_cfg.instructions
    if rel is None:
        return None
    source = lane.plan.repo.root / rel
    return instructions.place(lane.checkout, lane.agent.instructions_file, source)


def _agent_end(lane: Lane, work: _Work) -> LaneOutcome | None:
    """The lane's end when the agent timed out, failed or changed nothing; else None."""
    out, parsed, config = work.run.outcome, work.run.output, lane.plan.config
    if out.timed_out:
        why = (
            f"agent printed nothing for {config.idle_timeout:g} s (idle timeout)"
            if out.idle and config.idle_timeout
            else f"agent timed out after {config.timeout:g} s"
        )
        return _outcome(lane, work, Status.TIMED_OUT, why)
    if out.error or out.exit_code != 0 or parsed.error:
        why = out.error or parsed.error or f"agent exited {out.exit_code}"
        if parsed.rate_limited:
            why = f"rate-limited after {fmt.plural(len(work.run.attempts), 'attempt')}: {why}"
        return _outcome(lane, work, Status.AGENT_FAILED, f"agent failed: {why}")
    if not work.changes:
        return _outcome(lane, work, Status.NO_CHANGES, "agent changed nothing")
    return None


async def _score(lane: Lane, tip: str, pristine: PristinePlan) -> Scores:
    async with lane.shared.test_slots:
        lane.progress.phase(Status.TESTING)
        scores = await score(lane.plan, lane.slug, lane.checkout, tip, pristine, lane.env)
    tests = scores.tests
    lane.progress.line(f"tests {'pass' if tests.ok else 'fail'}: {tests.detail()}")
    return scores


async def _rescore(lane: Lane) -> LaneOutcome:
    """A resumed lane whose agent had finished: its tree back at its commit, then the tests."""
    tip = lane.record.commit
    assert tip is not None
    # Only racer's own scoring edits (restored test files, placed hidden tests) can be there.
    await anyio.to_thread.run_sync(reset_checkout, lane.checkout, tip)
    found = await anyio.to_thread.run_sync(
        changed.changed_files, lane.checkout, lane.plan.base_commit, tip
    )
    patterns = lane.plan.test_patterns
    if lane.plan.test_command is None:
        return LaneOutcome(lane.name, Status.OK, changes=tuple(found))
    scores = await _score(lane, tip, pristine_plan(found, patterns))
    return LaneOutcome(lane.name, Status.OK, scores=scores, changes=tuple(found))
