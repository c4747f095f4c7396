"""Orchestration of a race: one lane per contestant, all concurrent, tests as each agent finishes.

Expected failures (agent crashed, timed out, setup or tests failed) are values in the record,
never exceptions that would cancel the sibling lanes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import anyio
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from racer import prices, store, worktree
from racer import rank as ranking
from racer import report as rpt
from racer.agents import Agent, AgentOutput, Contestant, LaunchContext
from racer.config import AgentConfig, Config
from racer.errors import RacerError
from racer.proc import ProcOutcome, ProcRequest, child_env, run_capture, run_process
from racer.spec import Spec
from racer.testrun import run_tests

PARSE_TAIL_BYTES = 4 * 1024 * 1024  # structured results sit at the end of an agent's output


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RaceState:
    """The live record; every change is written to race.json atomically."""

    def __init__(self, report: rpt.RaceReport, race_dir: Path) -> None:
        self.report = report
        self.race_dir = race_dir
        self.worktree_lock = anyio.Lock()  # see worktree.register_worktree

    def save(self) -> None:
        store.write_json(self.race_dir / "race.json", rpt.to_dict(self.report))

    def update(self, name: str, **changes: object) -> rpt.Candidate:
        cand = replace(self.report.candidate(name), **changes)  # type: ignore[arg-type]  # dataclass fields checked at runtime
        self.report = self.report.with_candidate(cand)
        self.save()
        return cand


def diffstat(diff: str) -> rpt.DiffStat:
    if not diff.strip():
        return rpt.DiffStat()
    try:
        patch = PatchSet(diff)
    except UnidiffParseError:
        return rpt.DiffStat(files=diff.count("\ndiff --git ") + diff.startswith("diff --git "))
    paths = tuple(p.path for p in patch)
    return rpt.DiffStat(files=len(patch), added=patch.added, removed=patch.removed, paths=paths)


def _read_tail(path: Path) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            if size > PARSE_TAIL_BYTES:
                fh.seek(size - PARSE_TAIL_BYTES)
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def initial_report(plan: RacePlan, race_dir: Path) -> rpt.RaceReport:
    cands = []
    for c in plan.contestants:
        lane = worktree.slug(c.name)
        cands.append(
            rpt.Candidate(
                name=c.name,
                agent=c.agent,
                model=c.model or plan.config.agent_configs.get(c.agent, _NO_AGENT_CFG).model,
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
    )


_NO_AGENT_CFG = AgentConfig(name="")  # for agents without a config table


async def run_race(plan: RacePlan, reporter: Reporter | None = None) -> rpt.RaceReport:
    """Run every lane, rank, write race.json and report.md; returns the final record."""
    reporter = reporter or NullReporter()
    race_dir = store.races_dir(plan.repo.common_dir) / plan.race_id
    race_dir.mkdir(parents=True)
    store.write_atomic(race_dir / "prompt.md", plan.prompt)
    state = RaceState(initial_report(plan, race_dir), race_dir)
    state.save()
    reporter.started(state.report)
    try:
        branches = [c.branch for c in state.report.candidates]
        await anyio.to_thread.run_sync(
            worktree.create_branches, plan.repo.root, branches, plan.base_commit
        )
        copies = await anyio.to_thread.run_sync(
            worktree.files_to_copy, plan.repo.root, plan.config.copy
        )
        limiter = anyio.CapacityLimiter(plan.config.jobs)
        extras = LaneShared(plan)
        async with anyio.create_task_group() as tg:
            for agent_name in dict.fromkeys(c.agent for c in plan.contestants):
                tg.start_soon(extras.fetch_version, agent_name)
            for c in plan.contestants:
                tg.start_soon(_run_lane, plan, state, c, copies, limiter, reporter, extras)
    except BaseException:
        state.report = replace(state.report, status="interrupted", finished=_now())
        state.save()
        raise
    state.report = finish(state.report)
    state.save()
    store.write_atomic(race_dir / "report.md", rpt.render_markdown(state.report))
    reporter.finished(state.report)
    return state.report


def finish(report: rpt.RaceReport) -> rpt.RaceReport:
    """Rank the candidates and fold the ranking into the record (pure)."""
    evidence = []
    for c in report.candidates:
        evidence.append(
            ranking.Evidence(
                name=c.name,
                order=c.order,
                status=c.status,
                failure=c.error,
                tests_ok=None if c.tests is None else c.tests.ok,
                tests_detail=c.tests.detail() if c.tests else "not run",
                diff_files=c.diffstat.files,
                diff_lines=c.diffstat.lines,
            )
        )
    by_name = {c.name: c for c in report.candidates}
    ordered = []
    for r in ranking.rank(evidence):
        ordered.append(
            replace(
                by_name[r.name], rank=r.rank, status=r.status, passed=r.passed, reasons=r.reasons
            )
        )
    winner = ordered[0].name if ordered and ordered[0].passed else None
    return replace(
        report, candidates=tuple(ordered), winner=winner, status="finished", finished=_now()
    )


class LaneShared:
    """What lanes share: per-agent concurrency caps and the agents' versions (asked once)."""

    def __init__(self, plan: RacePlan) -> None:
        self.plan = plan
        self.caps: dict[str, anyio.CapacityLimiter] = {}
        for name, cfg in plan.config.agent_configs.items():
            if cfg.max_parallel:
                self.caps[name] = anyio.CapacityLimiter(cfg.max_parallel)
        self.versions: dict[str, str | None] = {}
        self.version_ready: dict[str, anyio.Event] = {}

    async def fetch_version(self, agent_name: str) -> None:
        event = self.version_ready.setdefault(agent_name, anyio.Event())
        argv = self.plan.registry[agent_name].version_argv()
        version = None
        if argv:
            code, text = await anyio.to_thread.run_sync(lambda: run_capture(argv, timeout=20))
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            version = lines[0][:80] if code == 0 and lines else None
        self.versions[agent_name] = version
        event.set()

    async def version(self, agent_name: str) -> str | None:
        event = self.version_ready.get(agent_name)
        if event is not None:
            with anyio.move_on_after(25):
                await event.wait()
        return self.versions.get(agent_name)


async def _run_attempts(
    plan: RacePlan,
    state: RaceState,
    c: Contestant,
    agent_cfg: AgentConfig,
    wt: Path,
    lane_env: dict[str, str],
    agent_log: Path,
    reporter: Reporter,
    extras: LaneShared,
) -> tuple[ProcOutcome, AgentOutput, str | None]:
    """Run the agent; on a rate limit, back off and retry, then move on to fallback models."""
    name = c.name
    agent = plan.registry[c.agent]
    first = c.model or agent_cfg.model
    models = [first, *(m for m in agent_cfg.fallback if m != first)]
    retries = agent_cfg.retries if agent_cfg.retries is not None else plan.config.retries
    deadline = anyio.current_time() + plan.config.timeout
    cap = extras.caps.get(c.agent)
    attempts: list[rpt.Attempt] = []

    def on_line(line: str) -> None:
        text = agent.progress(line)
        if text:
            reporter.line(name, text)

    def on_start(pid: int) -> None:
        state.update(name, pgid=pid)

    result: tuple[ProcOutcome, AgentOutput, str | None] | None = None
    for model in models:
        for retry in range(retries + 1):
            remaining = deadline - anyio.current_time()
            if result is not None and remaining <= 1:
                return result
            n = len(attempts) + 1
            log = agent_log if n == 1 else agent_log.with_name(f"{agent_log.stem}.{n}.log")
            ctx = LaunchContext(
                prompt=plan.prompt,
                prompt_file=state.race_dir / "prompt.md",
                model=model,
                worktree=wt,
                extra_args=tuple(agent_cfg.args),
                extra_env=dict(agent_cfg.env),
                env=lane_env,
            )
            inv = agent.invocation(ctx)
            request = ProcRequest(inv.argv, wt, {**lane_env, **inv.env}, log, max(remaining, 0.1))
            if cap is None:
                out = await run_process(request, on_line, on_start=on_start)
            else:
                if cap.available_tokens < 1:
                    state.update(name, status="waiting")
                    reporter.phase(name, "waiting")
                async with cap:
                    state.update(name, status="agent")
                    reporter.phase(name, "agent")
                    out = await run_process(request, on_line, on_start=on_start)
            parsed = agent.parse_output(_read_tail(log), out.exit_code)
            attempts.append(
                rpt.Attempt(
                    n=n,
                    model=model,
                    exit_code=out.exit_code,
                    duration_s=round(out.duration_s, 3),
                    timed_out=out.timed_out,
                    error=out.error or parsed.error,
                    rate_limited=parsed.rate_limited and not out.timed_out,
                    api_status=parsed.api_status,
                    log=str(log),
                )
            )
            state.update(
                name,
                attempts=tuple(attempts),
                logs={
                    **state.report.candidate(name).logs,
                    f"agent.{n}" if n > 1 else "agent": str(log),
                },
            )
            result = (out, parsed, model)
            if not parsed.rate_limited or out.timed_out:
                return result
            if retry < retries:
                delay = min(
                    plan.config.backoff * 2**retry, max(deadline - anyio.current_time() - 1, 0)
                )
                reporter.line(
                    name, f"rate-limited ({parsed.api_status or 'busy'}); retry in {delay:.0f} s"
                )
                await anyio.sleep(delay)
        if model != models[-1]:
            reporter.line(
                name, f"still rate-limited on {model or 'the default model'}; trying the next model"
            )
    assert result is not None  # the loops run at least once
    return result


async def _run_lane(
    plan: RacePlan,
    state: RaceState,
    c: Contestant,
    copies: list[str],
    limiter: anyio.CapacityLimiter,
    reporter: Reporter,
    extras: LaneShared,
) -> None:
    name = c.name
    cand = state.report.candidate(name)
    wt = Path(cand.worktree)
    logs_dir = state.race_dir / "logs"
    lane = worktree.slug(name)
    agent_cfg = plan.config.agent_configs.get(c.agent, _NO_AGENT_CFG)

    def phase(p: str, **changes: object) -> None:
        state.update(name, status=p, **changes)
        reporter.phase(name, p)

    try:
        phase("worktree")
        async with state.worktree_lock:
            await anyio.to_thread.run_sync(
                worktree.register_worktree, plan.repo.root, wt, cand.branch
            )
        await anyio.to_thread.run_sync(worktree.populate_worktree, wt)
        await anyio.to_thread.run_sync(worktree.copy_into, plan.repo.root, wt, copies)
        lane_env = child_env(os.environ, {"RACER_RACE_ID": plan.race_id, "RACER_LANE": name})

        if plan.config.setup:
            setup_log = logs_dir / f"{lane}.setup.log"
            phase("setup", logs={**cand.logs, "setup": str(setup_log)})
            out = await run_process(
                ProcRequest(
                    ("/bin/sh", "-c", plan.config.setup),
                    wt,
                    lane_env,
                    setup_log,
                    plan.config.timeout,
                ),
                lambda line: reporter.line(name, line),
            )
            if not out.ok:
                why = "timed out" if out.timed_out else (out.error or f"exit {out.exit_code}")
                phase("setup_failed", error=f"setup command failed ({why}); see {setup_log}")
                return

        agent_log = logs_dir / f"{lane}.agent.log"
        phase("agent", logs={**state.report.candidate(name).logs, "agent": str(agent_log)})
        try:
            out, parsed, model = await _run_attempts(
                plan, state, c, agent_cfg, wt, lane_env, agent_log, reporter, extras
            )
        finally:
            # Whatever happens (even Ctrl-C), the agent's work is committed on its branch.
            with anyio.CancelScope(shield=True):
                tip = await anyio.to_thread.run_sync(
                    worktree.commit_all,
                    wt,
                    f"racer: work of {name} ({c.agent}) in race {plan.race_id}",
                )
        diff = await anyio.to_thread.run_sync(
            worktree.diff_text, plan.repo.root, plan.base_commit, tip
        )
        diff_path = state.race_dir / "diffs" / f"{lane}.diff"
        store.write_atomic(diff_path, diff)
        stat = diffstat(diff)
        tokens = rpt.TokenCount(**vars(parsed.tokens)) if parsed.tokens else None
        cost, estimated = parsed.cost_usd, False
        if cost is None and parsed.tokens is not None:
            cost = prices.estimate(
                parsed.tokens, parsed.model or model or prices.DEFAULT_MODELS.get(c.agent)
            )
            estimated = cost is not None
        common = {
            "exit_code": out.exit_code,
            "duration_s": round(
                sum(a.duration_s for a in state.report.candidate(name).attempts), 3
            ),
            "timed_out": out.timed_out,
            "final_message": parsed.final_message,
            "diffstat": stat,
            "diff": str(diff_path),
            "commit": tip,
            "tokens": tokens,
            "cost_usd": cost,
            "cost_estimated": estimated,
            "turns": parsed.turns,
            "model": parsed.model or model,
            "agent_version": await extras.version(c.agent),
            "warnings": parsed.warnings,
        }
        if out.timed_out:
            phase("timed_out", error=f"agent timed out after {plan.config.timeout:g} s", **common)
            return
        if out.error or out.exit_code != 0 or parsed.error:
            why = out.error or parsed.error or f"agent exited {out.exit_code}"
            if parsed.rate_limited:
                why = f"rate-limited after {len(state.report.candidate(name).attempts)} attempt(s): {why}"
            phase("agent_failed", error=f"agent failed: {why}", **common)
            return
        if stat.files == 0:
            phase("no_changes", error="agent changed nothing", **common)
            return
        if plan.test_command is None:
            phase("ok", **common)
            return

        phase("queued", **common)
        test_log = logs_dir / f"{lane}.tests.log"
        async with limiter:
            phase("testing", logs={**state.report.candidate(name).logs, "tests": str(test_log)})
            res = await run_tests(
                plan.test_command,
                wt,
                log_path=test_log,
                junit_path=state.race_dir / "junit" / f"{lane}.xml",
                env=lane_env,
                timeout=plan.config.test_timeout,
            )
        summary = rpt.TestSummary(
            command=res.command,
            passed=res.passed,
            failed=res.failed,
            errors=res.errors,
            skipped=res.skipped,
            exit_code=res.exit_code,
            duration_s=round(res.duration_s, 3),
            timed_out=res.timed_out,
            ok=res.ok,
            junit=res.junit,
            error=res.error,
            log=str(test_log),
            outcomes={case.id: case.outcome for case in res.cases},
        )
        phase("ok", tests=summary)
        reporter.line(name, f"tests {'pass' if summary.ok else 'fail'}: {summary.detail()}")
    except RacerError as exc:
        phase("error", error=exc.message)
