"""aider (`aider --message`): one request, edits parsed from the reply text, no JSON output.

Tokens and cost are scraped from its "Tokens: … Cost: …" line; API errors still exit 0.
"""

from __future__ import annotations

import re

from racer.agents.base import (
    Agent,
    AgentOutput,
    Invocation,
    LaunchContext,
    Tokens,
    is_rate_limit,
    status_in,
)
from racer.agents.pins import PINS

_TOKENS = re.compile(
    r"Tokens:\s*([\d.]+)(k?)\s+sent(?:,\s*([\d.]+)(k?)\s+cache write)?(?:,\s*([\d.]+)(k?)\s+cache hit)?,"
    r"\s*([\d.]+)(k?)\s+received\.(?:\s*Cost:\s*\$([\d.]+)\s+message,\s*\$([\d.]+)\s+session\.)?"
)
_ERROR = re.compile(r"^(litellm\.\w+Error|.*APIError|.*AuthenticationError)[:\s].*", re.MULTILINE)


def _num(value: str | None, k: str | None) -> int:
    if not value:
        return 0
    return round(float(value) * (1000 if k else 1))


class AiderAgent(Agent):
    name = "aider"
    instructions_file = "CONVENTIONS.md"
    executable = "aider"
    description = "aider"
    install_hint = PINS["aider"].install_hint
    help_args: tuple[str, ...] = ("--help",)
    headless_flags: tuple[str, ...] = (
        "--message",
        "--yes-always",
        "--no-auto-commits",
        "--no-gitignore",
        "--no-check-update",
        "--no-show-release-notes",
        "--analytics-disable",
        "--no-pretty",
        "--no-stream",
        "--no-show-model-warnings",
        "--model",
    )
    credential_env: tuple[str, ...] = (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "DEEPSEEK_API_KEY",
        "OPENROUTER_API_KEY",
    )
    credential_files: tuple[str, ...] = ()  # relative to $HOME
    state_files: tuple[str, ...] = (".aider*",)  # chat/input history, tags cache

    def invocation(self, ctx: LaunchContext) -> Invocation:
        argv = [self.executable]
        if ctx.model:
            argv += ["--model", ctx.model]
        argv += [
            "--message", ctx.prompt,
            "--yes-always",
            "--no-auto-commits",  # racer commits the lane's work itself
            "--no-gitignore",
            "--no-check-update",
            "--no-show-release-notes",
            "--analytics-disable",
            "--no-pretty",
            "--no-stream",
            "--no-show-model-warnings",
            *ctx.extra_args,
        ]  # fmt: skip
        return Invocation(tuple(argv), dict(ctx.extra_env))

    spend_is_total = True  # "Cost: $X message, $Y session.": Y is the running total

    def spend(self, line: str) -> tuple[float | None, Tokens | None]:
        return self.parse_output(line, 0).cost_usd, None

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        tokens = None
        cost = None
        for match in _TOKENS.finditer(output):
            sent = _num(match[1], match[2])
            cached = _num(match[5], match[6])
            received = _num(match[7], match[8])
            tokens = Tokens(
                (tokens.input if tokens else 0) + sent,
                (tokens.output if tokens else 0) + received,
                (tokens.cached if tokens else 0) + cached,
            )
            if match[10]:
                cost = float(match[10])  # the session total so far
        err_lines = [m.group(0).strip() for m in _ERROR.finditer(output)]
        error = err_lines[-1][:500] if err_lines else None
        if error is None and exit_code not in (0, None):
            error = f"aider exited {exit_code}"
        lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("Tokens:")]
        status = status_in(error)
        return AgentOutput(
            final_message="\n".join(lines[-5:])[:2000] if lines else None,
            error=error,
            tokens=tokens,
            cost_usd=cost,
            rate_limited=error is not None and is_rate_limit(error, status),
            api_status=status if error else None,
        )
