"""One lane = one contestant: worktree, setup, the agent (with rate-limit retries), its work
committed, then its tests scored pristine, as left, and against the hidden acceptance tests.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from racer import cluster, guard, judge, orphans, pool, prices, provision, store, worktree
from racer import report as rpt
from racer.agents import STATE_FILES, AgentOutput, Contestant, LaunchContext, agent_version
from racer.config import AgentConfig
from racer.errors import RacerError
from racer.flags import DEFAULT_TEST_PATTERNS, FileChange, Flag, detect_flags, is_test_file
from racer.proc import (
    ProcOutcome,
    ProcRequest,
    child_env,
    redact,
    run_process,
    secret_values,
)
from racer.sandbox import Sandbox, home_paths
from racer.testrun import TestResult, run_tests

if TYPE_CHECKING:
    from racer.race import RacePlan, RaceState, Reporter

PARSE_TAIL_BYTES = 4 * 1024 * 1024  # structured results sit at the end of an agent's output
NO_AGENT_CFG = AgentConfig(name="")  # for agents without a config table
# Lane statuses while it is still working (the rest are final).
RUNNING_PHASES = frozenset(
    {"pending", "worktree", "setup", "waiting", "agent", "queued", "testing"}
)


def read_tail(path: Path) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            if size > PARSE_TAIL_BYTES:
                fh.seek(size - PARSE_TAIL_BYTES)
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def diffstat(diff: str) -> rpt.DiffStat:
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet

    if not diff.strip():
        return rpt.DiffStat()
    try:
        patch = PatchSet(diff)
    except UnidiffParseError:
        return rpt.DiffStat(files=diff.count("\ndiff --git ") + diff.startswith("diff --git "))
    paths = tuple(p.path for p in patch)
    return rpt.DiffStat(files=len(patch), added=patch.added, removed=patch.removed, paths=paths)


def summarize(res: TestResult, log: Path, *, pristine: bool = False) -> rpt.TestSummary:
    return rpt.TestSummary(
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
        log=str(log),
        outcomes=outcomes_of(res),
        pristine=pristine,
    )


SUITE_ID = "(test command)"  # the one "test" of a runner without per-test results


def outcomes_of(res: TestResult) -> dict[str, str]:
    if res.junit:
        return {case.id: case.outcome for case in res.cases}
    return {SUITE_ID: "passed" if res.ok else "failed"}


async def prepare_worktree(
    plan: RacePlan,
    state: RaceState,
    path: Path,
    branch: str,
    *,
    copies: list[str],
    env: dict[str, str],
    setup_log: Path,
    on_setup: Callable[[], None] | None = None,
) -> str | None:
    """Create a lane checkout (a spare from the pool when there is one), copy files in, run
    setup. Returns an error text, or None."""
    await anyio.to_thread.run_sync(
        pool.check_out,
        plan.repo.common_dir,
        plan.worktree_root,
        path,
        branch,
        plan.base_commit,
    )
    await anyio.to_thread.run_sync(worktree.copy_into, plan.repo.root, path, copies)
    for rel in plan.config.share:  # dependency dirs: a reflink, hardlinks or a copy, no install
        await anyio.to_thread.run_sync(provision.provide, plan.repo.root, path, rel)
    if not plan.config.setup:
        return None
    if on_setup is not None:
        on_setup()
    out = await run_process(
        ProcRequest(
            ("/bin/sh", "-c", plan.config.setup),
            path,
            env,
            setup_log,
            plan.config.timeout,
            secrets=secret_values(env),
        )
    )
    if out.ok:
        return None
    why = "timed out" if out.timed_out else (out.error or f"exit {out.exit_code}")
    return f"setup command failed ({why}); see {setup_log}"


def free_ports(names: list[str]) -> dict[str, int]:
    """One TCP port per lane, free on 127.0.0.1 right now and unique across the race."""
    socks = []
    try:
        for _ in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))  # held open until all are chosen: no duplicates
            socks.append(sock)
        return {name: sock.getsockname()[1] for name, sock in zip(names, socks, strict=True)}
    finally:
        for sock in socks:
            sock.close()


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
        # Base text of the test files, for spotting expected values copied into product code.
        self.base_tests: dict[str, str] = {}
        self.ports = free_ports([c.name for c in plan.contestants])
        # The baseline's checkout waits for the lanes' checkouts: they gate the agents' start,
        # while the baseline has the whole agent run as slack.
        self._to_check_out = {c.name for c in plan.contestants}
        self.lanes_checked_out = anyio.Event()
        if not self._to_check_out:
            self.lanes_checked_out.set()

    def checked_out(self, name: str) -> None:
        self._to_check_out.discard(name)
        if not self._to_check_out:
            self.lanes_checked_out.set()

    async def fetch_version(self, agent_name: str) -> None:
        event = self.version_ready.setdefault(agent_name, anyio.Event())
        agent = self.plan.registry[agent_name]
        version, _ = await anyio.to_thread.run_sync(agent_version, agent)
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
    box: Sandbox | None = None,
) -> tuple[ProcOutcome, AgentOutput, str | None]:
    """Run the agent; on a rate limit, back off and retry, then move on to fallback models.

    With max_cost, the CLI gets its own budget flag where it has one, and racer stops it once
    the spending it reports passes the limit (whichever comes first).
    """
    name = c.name
    agent = plan.registry[c.agent]
    first = c.model or agent_cfg.model
    models = [first, *(m for m in agent_cfg.fallback if m != first)]
    retries = agent_cfg.retries if agent_cfg.retries is not None else plan.config.retries
    deadline = anyio.current_time() + plan.config.timeout
    cap = extras.caps.get(c.agent)
    # A resumed lane goes on numbering after the attempts of the interrupted run.
    attempts: list[rpt.Attempt] = list(state.report.candidate(name).attempts)

    budget = Budget(plan.config.max_cost, agent.spend_is_total) if plan.config.max_cost else None
    stop = [anyio.CancelScope()]  # the current run's: a budget overrun cancels it
    current_model: list[str | None] = [first]

    def on_line(line: str) -> None:
        text = agent.progress(line)
        if text:
            reporter.line(name, text)
        if budget is not None and not budget.over:
            usd, tokens = agent.spend(line)
            if usd is None and tokens is not None:
                model = current_model[0] or prices.DEFAULT_MODELS.get(c.agent)
                usd = prices.estimate(tokens, model)
            if usd is not None and budget.add(usd):
                reporter.line(name, f"spent ${budget.spent:.4f}: over --max-cost; stopping")
                stop[0].cancel()

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
            current_model[0] = model
            stop[0] = anyio.CancelScope()
            cap_args: tuple[str, ...] = ()
            if budget is not None:
                budget.new_run()
                if budget.left <= 0:
                    break
                cap_args = agent.budget_args(budget.left)
            ctx = LaunchContext(
                prompt=plan.prompt,
                prompt_file=state.race_dir / "prompt.md",
                model=model,
                worktree=wt,
                extra_args=(*agent_cfg.args, *cap_args),
                extra_env=dict(agent_cfg.env),
                env=lane_env,
            )
            inv = agent.invocation(ctx)
            env = {**lane_env, **inv.env}
            # API keys never reach a log: the agent's output is redacted as it is written.
            request = ProcRequest(
                box.wrap(inv.argv) if box else inv.argv,
                wt,
                env,
                log,
                max(remaining, 0.1),
                secrets=secret_values(env),
                idle_timeout=plan.config.idle_timeout,
            )
            began = anyio.current_time()
            try:
                if cap is None:
                    out = await _run_capped(request, on_line, on_start, stop[0], budget)
                else:
                    if cap.available_tokens < 1:
                        state.update(name, status="waiting")
                        reporter.phase(name, "waiting")
                    async with cap:
                        state.update(name, status="agent")
                        reporter.phase(name, "agent")
                        out = await _run_capped(request, on_line, on_start, stop[0], budget)
            except BaseException:
                # Ctrl-C or a race timeout: the cut-short run is part of the lane's history too.
                attempts.append(
                    rpt.Attempt(
                        n=n,
                        model=model,
                        exit_code=None,
                        duration_s=round(anyio.current_time() - began, 3),
                        error="interrupted",
                        log=str(log),
                        command=shown_command(request),
                    )
                )
                state.update(name, attempts=tuple(attempts))
                raise
            parsed = agent.parse_output(read_tail(log), out.exit_code)
            if request.secrets:
                parsed = replace(
                    parsed,
                    final_message=redact(parsed.final_message or "", request.secrets) or None,
                    error=redact(parsed.error, request.secrets) if parsed.error else None,
                )
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
                    command=shown_command(request),
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
            if not parsed.rate_limited or out.timed_out or (budget and budget.over):
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
    if result is None:  # a resumed lane whose budget was already spent
        out = ProcOutcome(
            None, 0.0, False, agent_log, None, error="--max-cost already spent before the resume"
        )
        return out, AgentOutput(), first
    return result


def shown_command(request: ProcRequest, limit: int = 160) -> str:
    """The command line for the record: secrets redacted, a long argument (the prompt) cut."""
    # Redact before cutting: half a secret would no longer be recognised.
    args = (redact(a, request.secrets) for a in request.argv)
    cut = tuple(a if len(a) <= limit else f"{a[:limit]}…[{len(a)} chars]" for a in args)
    return replace(request, argv=cut, secrets=()).display()


class Budget:
    """A lane's spending against --max-cost, across its attempts."""

    def __init__(self, limit: float, totals: bool) -> None:
        self.limit = limit
        self.totals = totals  # the agent reports running totals per run, not increments
        self.before = 0.0  # spent by earlier runs
        self.run = 0.0  # spent by this run
        self.over = False

    @property
    def spent(self) -> float:
        return self.before + self.run

    @property
    def left(self) -> float:
        return self.limit - self.spent

    def new_run(self) -> None:
        self.before, self.run = self.spent, 0.0

    def add(self, usd: float) -> bool:
        """Count a report; True once the limit is passed."""
        self.run = max(self.run, usd) if self.totals else self.run + usd
        self.over = self.spent > self.limit
        return self.over


async def _run_capped(
    request: ProcRequest,
    on_line: Callable[[str], None],
    on_start: Callable[[int], None],
    stop: anyio.CancelScope,
    budget: Budget | None,
) -> ProcOutcome:
    """run_process, except that `stop` (cancelled from on_line) ends it like a timeout would:
    the whole process group is killed and the outcome says why."""
    started = anyio.current_time()
    with stop:
        return await run_process(request, on_line, on_start=on_start)
    assert budget is not None
    with open(request.log_path, "ab") as log:
        log.write(f"racer: stopped: spent ${budget.spent:.4f} > --max-cost\n".encode())
    return ProcOutcome(
        exit_code=None,
        duration_s=anyio.current_time() - started,
        timed_out=False,
        log_path=request.log_path,
        pid=None,
        error=(
            f"stopped by racer: it reported ${budget.spent:.4f} spent, "
            f"over --max-cost ${budget.limit:g}"
        ),
    )


class LaneWork:
    """What a lane leaves for the judging after all lanes: its changes, for flags and clusters."""

    def __init__(self) -> None:
        self.changes: dict[str, list[FileChange]] = {}


async def run_lane(
    plan: RacePlan,
    state: RaceState,
    c: Contestant,
    copies: list[str],
    limiter: anyio.CapacityLimiter,
    reporter: Reporter,
    extras: LaneShared,
    work: LaneWork,
    start: str = "worktree",
) -> None:
    """One lane from `start`: "worktree" (all of it), "agent" (a resumed lane whose agent was
    interrupted: its partial work is committed, then the agent runs again on top of it) or
    "tests" (a resumed lane whose agent had finished: only the scoring is redone)."""
    name = c.name
    cand = state.report.candidate(name)
    wt = Path(cand.worktree)
    logs_dir = state.race_dir / "logs"
    lane = worktree.slug(name)
    agent_cfg = plan.config.agent_configs.get(c.agent, NO_AGENT_CFG)

    def phase(p: str, **changes: object) -> None:
        state.update(name, status=p, **changes)
        reporter.phase(name, p)

    def logs(**more: str) -> dict[str, str]:
        return {**state.report.candidate(name).logs, **more}

    try:
        port = str(extras.ports[name])
        # A port of its own, so dev servers and integration tests of parallel lanes don't collide.
        lane_env = child_env(
            os.environ,
            {"RACER_RACE_ID": plan.race_id, "RACER_LANE": name, "RACER_PORT": port, "PORT": port},
        )
        if start != "worktree":
            extras.checked_out(name)
        if start == "tests":
            await _rescore(plan, state, name, wt, limiter, reporter, work, lane_env)
            return
        if start == "worktree":
            phase("worktree")
            setup_log = logs_dir / f"{lane}.setup.log"
            if plan.config.setup:
                state.update(name, logs=logs(setup=str(setup_log)))

            def on_setup() -> None:
                extras.checked_out(name)
                phase("setup")

            try:
                failed = await prepare_worktree(
                    plan,
                    state,
                    wt,
                    cand.branch,
                    copies=copies,
                    env=lane_env,
                    setup_log=setup_log,
                    on_setup=on_setup,
                )
            finally:
                extras.checked_out(name)
            if failed:
                phase("setup_failed", error=failed)
                return
        else:  # an interrupted agent's partial work is kept before it starts again
            await anyio.to_thread.run_sync(
                worktree.commit_all,
                wt,
                f"racer: partial work of {name} before race {plan.race_id} was interrupted",
                STATE_FILES,
                cand.branch,
            )

        agent_log = logs_dir / f"{lane}.agent.log"
        phase("agent", logs=logs(agent=str(agent_log)))
        # The agent's own dirs are where its env (with its [agents.NAME] env table) points.
        box = sandbox_for(plan, state, c.agent, wt, {**lane_env, **agent_cfg.env})
        escaped = 0
        try:
            out, parsed, model = await _run_attempts(
                plan, state, c, agent_cfg, wt, lane_env, agent_log, reporter, extras, box
            )
        finally:
            # Whatever happens (even Ctrl-C), the agent's work is committed on its branch.
            with anyio.CancelScope(shield=True):
                # Processes that left the agent's process group (setsid, daemons) go too.
                escaped = await anyio.to_thread.run_sync(
                    lambda: orphans.stop(orphans.find(plan.race_id, lane=name))
                )
                tip = await anyio.to_thread.run_sync(
                    worktree.commit_all,
                    wt,
                    f"racer: work of {name} ({c.agent}) in race {plan.race_id}",
                    STATE_FILES,
                    cand.branch,
                )
                state.update(name, commit=tip)  # recorded at once: a resumed race keeps it
        base = plan.base_commit
        diff = await anyio.to_thread.run_sync(worktree.diff_text, wt, base, tip)
        diff_path = state.race_dir / "diffs" / f"{lane}.diff"
        store.write_atomic(diff_path, diff)
        changes = await anyio.to_thread.run_sync(judge.changed_files, wt, base, tip)
        work.changes[name] = changes
        test_patterns = plan.config.test_paths or DEFAULT_TEST_PATTERNS
        pristine = judge.pristine_plan(changes, test_patterns)
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
            "diffstat": diffstat(diff),
            "diff": str(diff_path),
            "commit": tip,
            "tokens": tokens,
            "cost_usd": cost,
            "cost_estimated": estimated,
            "turns": parsed.turns,
            "model": parsed.model or model,
            "agent_version": await extras.version(c.agent),
            "warnings": parsed.warnings
            + (
                (f"stopped {escaped} process(es) the agent left running outside its group",)
                if escaped
                else ()
            ),
            "flags": flag_records(
                detect_flags(changes, test_patterns=test_patterns, base_tests=extras.base_tests)
            ),
            # Agreement is about the product change: everyone's new tests differ anyway.
            "fingerprint": _fingerprint(changes, test_patterns),
            "new_tests": pristine.own_tests,
        }
        if out.timed_out:
            why = (
                f"agent printed nothing for {plan.config.idle_timeout:g} s (idle timeout)"
                if out.idle and plan.config.idle_timeout
                else f"agent timed out after {plan.config.timeout:g} s"
            )
            phase("timed_out", error=why, **common)
            return
        if out.error or out.exit_code != 0 or parsed.error:
            why = out.error or parsed.error or f"agent exited {out.exit_code}"
            if parsed.rate_limited:
                why = f"rate-limited after {len(state.report.candidate(name).attempts)} attempt(s): {why}"
            phase("agent_failed", error=f"agent failed: {why}", **common)
            return
        if not changes:
            phase("no_changes", error="agent changed nothing", **common)
            return
        if plan.test_command is None:
            phase("ok", **common)
            return

        phase("queued", **common)
        await _score(plan, state, name, wt, tip, pristine, limiter, reporter, lane_env)
    except RacerError as exc:
        phase("error", error=exc.message)


async def _score(
    plan: RacePlan,
    state: RaceState,
    name: str,
    wt: Path,
    tip: str,
    pristine: judge.PristinePlan,
    limiter: anyio.CapacityLimiter,
    reporter: Reporter,
    env: dict[str, str],
) -> None:
    async with limiter:
        state.update(name, status="testing")
        reporter.phase(name, "testing")
        box = sandbox_for(plan, state, "", wt, env)  # the candidate's code runs in its tests
        results = await score_lane(plan, state, name, wt, tip, pristine, env, box)
    state.update(name, status="ok", **results)
    reporter.phase(name, "ok")
    tests = results["tests"]
    assert isinstance(tests, rpt.TestSummary)
    reporter.line(name, f"tests {'pass' if tests.ok else 'fail'}: {tests.detail()}")


async def _rescore(
    plan: RacePlan,
    state: RaceState,
    name: str,
    wt: Path,
    limiter: anyio.CapacityLimiter,
    reporter: Reporter,
    work: LaneWork,
    env: dict[str, str],
) -> None:
    """A resumed lane whose agent had finished: its tree back at its commit, then the tests."""
    tip = state.report.candidate(name).commit
    assert tip is not None
    # Only racer's own scoring edits (restored test files, placed hidden tests) can be there.
    await anyio.to_thread.run_sync(judge.reset_worktree, wt, tip)
    changes = await anyio.to_thread.run_sync(judge.changed_files, wt, plan.base_commit, tip)
    work.changes[name] = changes
    pristine = judge.pristine_plan(changes, plan.config.test_paths or DEFAULT_TEST_PATTERNS)
    if plan.test_command is None:
        state.update(name, status="ok")
        return
    await _score(plan, state, name, wt, tip, pristine, limiter, reporter, env)


def sandbox_for(
    plan: RacePlan, state: RaceState, agent_name: str, wt: Path, env: dict[str, str]
) -> Sandbox | None:
    """The lane's bubblewrap sandbox under --sandbox: its checkout and the agent CLI's own dirs
    writable; the other lanes and racer's records hidden."""
    if not plan.config.sandbox:
        return None
    agent = plan.registry.get(agent_name)
    return Sandbox(
        worktree=wt,
        hide=(plan.worktree_root, plan.repo.common_dir / "racer"),
        writable=home_paths(env, agent.home_dirs, agent.dir_env) if agent else (),
        readable=(state.race_dir / "prompt.md",),
    )


def _fingerprint(
    changes: list[FileChange], test_patterns: tuple[str, ...] | list[str]
) -> str | None:
    product = {ch.path: ch.after for ch in changes if not is_test_file(ch.path, test_patterns)}
    return cluster.fingerprint(product) if product else None


def flag_records(flags: Iterable[Flag]) -> tuple[rpt.FlagRecord, ...]:
    return tuple(
        rpt.FlagRecord(kind=f.kind, file=f.file, detail=f.detail, severity=f.severity)
        for f in flags
    )


async def score_lane(
    plan: RacePlan,
    state: RaceState,
    name: str,
    wt: Path,
    tip: str,
    pristine: judge.PristinePlan,
    env: dict[str, str],
    box: Sandbox | None = None,
) -> dict[str, object]:
    """Test runs for one candidate (the caller holds a test slot). The worktree ends at `tip`."""
    assert plan.test_command is not None
    logs_dir, junit_dir = state.race_dir / "logs", state.race_dir / "junit"
    lane = worktree.slug(name)

    async def tests(command: str, kind: str) -> tuple[TestResult, Path]:
        log = logs_dir / f"{lane}.{kind}.log"
        res = await run_tests(
            command,
            wt,
            log_path=log,
            # In the sandbox, racer's record is out of reach: the report goes to the lane's tmp.
            junit_path=(box.tmpdir if box else junit_dir) / f"{lane}.{kind}.xml",
            env=env,
            timeout=plan.config.test_timeout,
            test_report=plan.config.test_report,
            wrap=box.wrap if box else None,
        )
        return res, log

    out: dict[str, object] = {}
    logs = dict(state.report.candidate(name).logs)
    try:
        if pristine.needed:
            # The suite as the agent left it: its own new tests and any edits to tests.
            own, own_log = await tests(plan.test_command, "own-tests")
            out["own_tests"] = summarize(own, own_log)
            logs["own-tests"] = str(own_log)
            await anyio.to_thread.run_sync(judge.apply_pristine, wt, plan.base_commit, pristine)
        res, log = await tests(plan.test_command, "tests")
        summary = summarize(res, log, pristine=pristine.needed)
        # A green run that tested the main checkout's code instead says nothing: the gate fails.
        wrong = await anyio.to_thread.run_sync(guard.check_imports, wt, plan.test_command, env)
        out["tests"] = replace(summary, ok=False, error=wrong) if wrong else summary
        logs["tests"] = str(log)
        # The hidden tests run on the same pristine tree: a conftest the candidate added must
        # not get to deselect or rewrite them either.
        if plan.acceptance:
            placed = [(a.source, a.dest) for a in plan.acceptance]
            dests = await anyio.to_thread.run_sync(judge.place_files, wt, placed)
            acc, acc_log = await tests(
                judge.pytest_command_for(plan.test_command, dests), "acceptance"
            )
            logs["acceptance"] = str(acc_log)
            out["acceptance"] = acceptance_of(acc, acc_log, dests)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(judge.reset_worktree, wt, tip)
    out["logs"] = logs
    return out


def acceptance_of(res: TestResult, log: Path, dests: list[str]) -> rpt.Acceptance:
    outcomes = judge.outcomes_in(outcomes_of(res), dests) if res.junit else outcomes_of(res)
    error = res.error if res.error and not outcomes else None
    if not outcomes and error is None:
        error = "the acceptance tests did not run (no results for them)"
    return rpt.Acceptance(
        passed=sum(1 for o in outcomes.values() if o == "passed"),
        failed=sum(1 for o in outcomes.values() if o == "failed"),
        errors=sum(1 for o in outcomes.values() if o == "error") + (1 if error else 0),
        outcomes=outcomes,
        log=str(log),
        error=error,
    )
