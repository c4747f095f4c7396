"""Claude Code (`claude -p`): headless, bypassing permission prompts, streaming JSON events.

Success is `is_error` in the final result event (its `subtype` says "success" even on API errors).
"""

from __future__ import annotations

import json
import os
from typing import Any

from racer.agents.base import (
    Agent,
    AgentOutput,
    Invocation,
    LaunchContext,
    Tokens,
    as_int,
    is_rate_limit,
    json_lines,
    status_in,
)
from racer.agents.pins import PINS


class ClaudeAgent(Agent):
    name = "claude"
    instructions_file = "CLAUDE.md"
    executable = "claude"
    description = "Claude Code"
    install_hint = PINS["claude"].install_hint
    help_args: tuple[str, ...] = ("--help",)
    headless_flags: tuple[str, ...] = (
        "-p",
        "--output-format",
        "--verbose",
        "--permission-mode",
        "--no-session-persistence",
        "--model",
        "--max-budget-usd",  # for --max-cost
    )
    credential_env: tuple[str, ...] = (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
    )
    credential_files: tuple[str, ...] = (".claude/.credentials.json",)  # relative to $HOME
    home_dirs: tuple[str, ...] = (".claude", ".claude.json")
    dir_env: tuple[str, ...] = ("CLAUDE_CONFIG_DIR",)

    def budget_args(self, max_cost: float) -> tuple[str, ...]:
        return ("--max-budget-usd", f"{max_cost:.4f}")

    def invocation(self, ctx: LaunchContext) -> Invocation:
        argv = [
            self.executable,
            "-p",
            ctx.prompt,
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "bypassPermissions",
            "--no-session-persistence",
        ]
        if ctx.model:
            argv += ["--model", ctx.model]
        env = {
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        if os.geteuid() == 0:
            # As root, Claude Code refuses bypass mode unless told it runs in a sandbox; racer's
            # lanes are throwaway worktrees, which is what that switch is for.
            env["IS_SANDBOX"] = "1"
        env.update(ctx.extra_env)
        return Invocation(tuple(argv) + ctx.extra_args, env)

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        result: dict[str, Any] | None = None
        for obj in json_lines(output):
            if obj.get("type") == "result":
                result = obj
        if result is None:
            base = super().parse_output(output, exit_code)
            return AgentOutput(
                final_message=base.final_message, error=base.final_message if exit_code else None
            )
        usage = result.get("usage") or {}
        tokens = Tokens(
            input=as_int(usage.get("input_tokens"))
            + as_int(usage.get("cache_creation_input_tokens")),
            output=as_int(usage.get("output_tokens")),
            cached=as_int(usage.get("cache_read_input_tokens")),
        )
        text = str(result.get("result") or "")
        cost = result.get("total_cost_usd")
        # `subtype` says "success" even after an API error: `is_error` is what counts.
        error = (text or "claude reported an error") if result.get("is_error") else None
        status = result.get("api_error_status")
        status = status if isinstance(status, int) else status_in(error)
        models = list((result.get("modelUsage") or {}).keys())
        return AgentOutput(
            final_message=text,
            error=error,
            tokens=tokens,
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            turns=as_int(result.get("num_turns")) or None,
            rate_limited=error is not None and is_rate_limit(error, status),
            api_status=status if error else None,
            model=models[0] if models else None,
        )

    def progress(self, line: str) -> str | None:
        return claude_style_progress(line)


def claude_style_progress(line: str) -> str | None:
    """A board line from a Claude-style stream event (claude and qwen both emit these)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return line.strip() or None
    if not isinstance(obj, dict):
        return None
    if obj.get("type") == "assistant":
        for block in (obj.get("message") or {}).get("content") or []:
            if block.get("type") == "tool_use":
                inp = block.get("input") or {}
                detail = inp.get("file_path") or inp.get("command") or ""
                return f"{block.get('name')} {detail}".strip()
            if block.get("type") == "text" and block.get("text"):
                return str(block["text"]).splitlines()[0][:120]
    if obj.get("type") == "result":
        return "error" if obj.get("is_error") else "done"
    return None
