"""Qwen Code (`qwen -p`): yolo approvals, Claude-style JSON events (stream-json lines).

It exits 0 on API errors, so errors are read from the result text and the per-model API stats.
"""

from __future__ import annotations

import json
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
from racer.agents.claude import claude_style_progress
from racer.agents.pins import PINS


class QwenAgent(Agent):
    name = "qwen"
    instructions_file = "QWEN.md"
    executable = "qwen"
    description = "Qwen Code"
    install_hint = PINS["qwen"].install_hint
    help_args: tuple[str, ...] = ("--help",)
    headless_flags: tuple[str, ...] = (
        "--prompt",
        "--yolo",
        "--output-format",
        "--auth-type",
        "--model",
    )
    credential_env: tuple[str, ...] = ("OPENAI_API_KEY", "DASHSCOPE_API_KEY")
    credential_files: tuple[str, ...] = (".qwen/oauth_creds.json",)  # relative to $HOME
    home_dirs: tuple[str, ...] = (".qwen",)
    dir_env: tuple[str, ...] = ()

    def invocation(self, ctx: LaunchContext) -> Invocation:
        argv = [self.executable, "-p", ctx.prompt, "--yolo", "--output-format", "stream-json"]
        env = {**ctx.env, **ctx.extra_env}
        # With an OpenAI-compatible key and no explicit choice, pick that auth type: otherwise a
        # headless run stops at the interactive auth selection.
        if env.get("OPENAI_API_KEY") and "--auth-type" not in ctx.extra_args:
            argv += ["--auth-type", "openai"]
        if ctx.model:
            argv += ["-m", ctx.model]
        return Invocation(tuple(argv) + ctx.extra_args, dict(ctx.extra_env))

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        events = list(json_lines(output)) or _events(output)
        result = next((e for e in reversed(events) if e.get("type") == "result"), None)
        if result is None:
            tail = [line for line in output.splitlines() if line.strip()]
            error = (tail[-1][:500] if tail else f"qwen exited {exit_code}") if exit_code else None
            return AgentOutput(final_message=tail[-1][:2000] if tail else None, error=error)
        text = str(result.get("result") or "")
        usage = result.get("usage") or {}
        api_errors = 0
        models = ((result.get("stats") or {}).get("models")) or {}
        for stats in models.values():
            api_errors += as_int((stats.get("api") or {}).get("totalErrors"))
        error = None
        if result.get("is_error") or text.startswith("[API Error") or (api_errors and not text):
            error = text or "qwen reported API errors"
        elif exit_code not in (0, None):
            error = f"qwen exited {exit_code}"
        status = status_in(error)
        return AgentOutput(
            final_message=text,
            error=error,
            tokens=Tokens(as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens")), 0),
            turns=as_int(result.get("num_turns")) or None,
            rate_limited=error is not None and is_rate_limit(error, status),
            api_status=status if error else None,
            model=next(iter(models), None),
        )

    def progress(self, line: str) -> str | None:
        return claude_style_progress(line)  # qwen's stream-json events are Claude-shaped


def _events(output: str) -> list[dict[str, Any]]:
    start = output.find("[")
    while start != -1:
        try:
            data = json.loads(output[start:])
        except ValueError:
            start = output.find("\n[", start + 1)
            start = start + 1 if start != -1 else -1
            continue
        if isinstance(data, list):
            return [e for e in data if isinstance(e, dict)]
        break
    return []
