"""A lane's agent runs: launch the CLI (through proc, maybe in the sandbox), and on a rate limit
back off and retry, then move on to fallback models; --max-cost stops a run that overspends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import anyio

from racer import prices
from racer.agents import AgentOutput, LaunchContext
from racer.context import Lane
from racer.proc import ProcOutcome, ProcRequest, redact, run_process, secret_values
from racer.report import Attempt
from racer.sandbox import Sandbox
from racer.status import Status

PARSE_TAIL_BYTES = 4 * 1024 * 1024  # structured results sit at the end of an agent's output


@dataclass(frozen=True)
class AgentRun:
    """The last run of the agent, what racer read from it, and every attempt of the lane."""

    outcome: ProcOutcome
    output: AgentOutput
    model: str | None
    attempts: tuple[Attempt, ...]


def read_tail(path: Path) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            if size > PARSE_TAIL_BYTES:
                fh.seek(size - PARSE_TAIL_BYTES)
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


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


async def run_attempts(lane: Lane, box: Sandbox | None) -> AgentRun:
    """Run the agent; on a rate limit, back off and retry, then move on to fallback models.

    With max_cost, the CLI gets its own budget flag where it has one, and racer stops it once
    the spending it reports passes the limit (whichever comes first).
    """
    return await _Attempts(lane, box).run()


class _Attempts:
    """The state of one lane's attempts: models left, retries, deadline, budget."""

    def __init__(self, lane: Lane, box: Sandbox | None) -> None:
        cfg, config = lane.agent_cfg, lane.plan.config
        self.lane, self.box = lane, box
        self.first = lane.contestant.model or cfg.model
        self.models = [self.first, *(m for m in cfg.fallback if m != self.first)]
        self.retries = cfg.retries if cfg.retries is not None else config.retries
        self.deadline = anyio.current_time() + config.timeout
        self.cap = lane.shared.caps.get(lane.contestant.agent)
        # A resumed lane goes on numbering after the attempts of the interrupted run.
        self.attempts: list[Attempt] = list(lane.record.attempts)
        self.budget = (
            Budget(config.max_cost, lane.agent.spend_is_total) if config.max_cost else None
        )
        self.stop = anyio.CancelScope()  # the current run's: a budget overrun cancels it
        self.model: str | None = self.first

    async def run(self) -> AgentRun:
        result: AgentRun | None = None
        progress, config = self.lane.progress, self.lane.plan.config
        for model in self.models:
            for retry in range(self.retries + 1):
                if result is not None and self.deadline - anyio.current_time() <= 1:
                    return result
                if self.budget is not None:
                    self.budget.new_run()
                    if self.budget.left <= 0:
                        break
                result = await self._attempt(model)
                out, parsed = result.outcome, result.output
                if not parsed.rate_limited or out.timed_out or (self.budget and self.budget.over):
                    return result
                if retry < self.retries:
                    left = max(self.deadline - anyio.current_time() - 1, 0)
                    delay = min(config.backoff * 2**retry, left)
                    status = parsed.api_status or "busy"
                    progress.line(f"rate-limited ({status}); retry in {delay:.0f} s")
                    await anyio.sleep(delay)
            if model != self.models[-1]:
                shown = model or "the default model"
                progress.line(f"still rate-limited on {shown}; trying the next model")
        if result is None:  # a resumed lane whose budget was already spent
            why = "--max-cost already spent before the resume"
            log = self.lane.dir.log(self.lane.slug, "agent")
            out = ProcOutcome(None, 0.0, False, log, None, error=why)
            return AgentRun(out, AgentOutput(), self.first, tuple(self.attempts))
        return result

    def _request(self, model: str | None, log: Path) -> ProcRequest:
        lane = self.lane
        cap_args = lane.agent.budget_args(self.budget.left) if self.budget is not None else ()
        ctx = LaunchContext(
            prompt=lane.prompt_text,
            prompt_file=lane.prompt_path,
            model=model,
            worktree=lane.checkout,
            extra_args=(*lane.agent_cfg.args, *cap_args),
            extra_env=dict(lane.agent_cfg.env),
            env=dict(lane.env),
        )
        inv = lane.agent.invocation(ctx)
        env = {**lane.env, **inv.env}
        # API keys never reach a log: the agent's output is redacted as it is written.
        return ProcRequest(
            self.box.wrap(inv.argv) if self.box else inv.argv,
            lane.checkout,
            env,
            log,
            max(self.deadline - anyio.current_time(), 0.1),
            secrets=secret_values(env),
            idle_timeout=lane.plan.config.idle_timeout,
        )

    async def _attempt(self, model: str | None) -> AgentRun:
        n = len(self.attempts) + 1
        kind = "agent" if n == 1 else f"agent.{n}"
        log = self.lane.dir.log(self.lane.slug, kind)
        self.model, self.stop = model, anyio.CancelScope()
        request = self._request(model, log)
        began = anyio.current_time()
        try:
            out = await self._launch(request)
        except BaseException:
            # Ctrl-C or a race timeout: the cut-short run is part of the lane's history too.
            took = round(anyio.current_time() - began, 3)
            self._add(
                Attempt(
                    n,
                    model,
                    None,
                    took,
                    error="interrupted",
                    log=str(log),
                    command=shown_command(request),
                )
            )
            raise
        parsed = self.lane.agent.parse_output(read_tail(log), out.exit_code)
        if request.secrets:
            parsed = replace(
                parsed,
                final_message=redact(parsed.final_message or "", request.secrets) or None,
                error=redact(parsed.error, request.secrets) if parsed.error else None,
            )
        self._add(
            Attempt(
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
        self.lane.progress.log(kind, log)
        return AgentRun(out, parsed, model, tuple(self.attempts))

    def _add(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        self.lane.progress.attempts(tuple(self.attempts))

    async def _launch(self, request: ProcRequest) -> ProcOutcome:
        if self.cap is None:
            return await self._run_capped(request)
        if self.cap.available_tokens < 1:
            self.lane.progress.phase(Status.WAITING)
        async with self.cap:
            self.lane.progress.phase(Status.AGENT)
            return await self._run_capped(request)

    def _on_line(self, line: str) -> None:
        lane, budget = self.lane, self.budget
        text = lane.agent.progress(line)
        if text:
            lane.progress.line(text)
        if budget is None or budget.over:
            return
        usd, tokens = lane.agent.spend(line)
        if usd is None and tokens is not None:
            model = self.model or prices.DEFAULT_MODELS.get(lane.contestant.agent)
            usd = prices.estimate(tokens, model)
        if usd is not None and budget.add(usd):
            lane.progress.line(f"spent ${budget.spent:.4f}: over --max-cost; stopping")
            self.stop.cancel()

    async def _run_capped(self, request: ProcRequest) -> ProcOutcome:
        """run_process, except that `stop` (cancelled from on_line) ends it like a timeout
        would: the whole process group is killed and the outcome says why."""
        started = anyio.current_time()
        on_start: Callable[[int], None] = self.lane.progress.process
        with self.stop:
            return await run_process(request, self._on_line, on_start=on_start)
        budget = self.budget
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
