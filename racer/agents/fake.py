"""The fake agent: a deterministic contestant for tests and the offline demo.

Its behaviour comes from RACER_FAKE (JSON, or a path to a JSON file): scenarios keyed by the
contestant's @model ("default" without one). The program itself is racer.agents.fake_cli.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from racer.agents.base import (
    Agent,
    AgentOutput,
    Invocation,
    LaunchContext,
    Tokens,
    is_rate_limit,
    json_lines,
    status_in,
)

SCENARIO_KEYS = frozenset(
    {
        "print",
        "run",
        "spend",
        "sleep",
        "write",
        "append",
        "delete",
        "patch",
        "hang",
        "ignore_term",
        "say",
        "exit",
        "tokens",
        "cost_usd",
        "spawn_sleeper",
        "error",
        "fail_times",
        "counter_file",
        "label_of",
    }
)


class FakeAgent(Agent):
    name = "fake"
    scripted = True
    executable = sys.executable
    description = "deterministic scripted agent for tests and the demo (RACER_FAKE)"
    install_hint = "ships with racer"

    def invocation(self, ctx: LaunchContext) -> Invocation:
        argv = [
            sys.executable,
            "-m",
            "racer.agents.fake_cli",
            "--prompt-file",
            str(ctx.prompt_file),
        ]
        if ctx.model:
            argv += ["--scenario", ctx.model]
        env = dict(ctx.extra_env)
        raw = env.get("RACER_FAKE", os.environ.get("RACER_FAKE", "")).strip()
        if raw and not raw.startswith("{") and not os.path.isabs(raw):
            # A file named relative to where you ran racer, not to the lane the fake runs in.
            env["RACER_FAKE"] = os.path.abspath(raw)
        return Invocation(tuple(argv) + ctx.extra_args, env)

    def spend(self, line: str) -> tuple[float | None, Tokens | None]:
        """{"type": "cost", "usd": X} lines: what the fake spent since its last report."""
        if '"cost"' not in line:
            return None, None
        try:
            obj = json.loads(line)
        except ValueError:
            return None, None
        if isinstance(obj, dict) and obj.get("type") == "cost":
            usd = obj.get("usd")
            return (float(usd) if isinstance(usd, int | float) else None), None
        return None, None

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        result: dict[str, Any] | None = None
        for obj in json_lines(output):
            if obj.get("type") == "result":
                result = obj
        if result is None:
            return super().parse_output(output, exit_code)
        usage = result.get("usage") or {}
        tokens = (
            Tokens(int(usage.get("input", 0)), int(usage.get("output", 0)), 0) if usage else None
        )
        cost = result.get("cost_usd")
        error = str(result["error"]) if result.get("error") else None
        return AgentOutput(
            final_message=str(result.get("result", "")),
            error=error,
            rate_limited=is_rate_limit(error),
            api_status=status_in(error),
            model=result.get("model"),
            tokens=tokens,
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            turns=1,
        )

    def progress(self, line: str) -> str | None:
        if line.startswith('{"type": "result"'):
            return "done"
        return super().progress(line)

    def version_argv(self) -> tuple[str, ...]:
        return (sys.executable, "-m", "racer.agents.fake_cli", "--version")
