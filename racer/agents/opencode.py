"""opencode (`opencode run --format json`): JSONL events with per-step tokens and cost.

racer allows edits and shell commands through OPENCODE_CONFIG_CONTENT, merged with the user's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
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

# Unattended: allow what an agent needs in its own worktree, deny fetching from the web.
RACER_OPENCODE_CONFIG: dict[str, Any] = {
    "permission": {"edit": "allow", "bash": "allow", "webfetch": "deny"},
    "autoupdate": False,
    "share": "disabled",
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class OpencodeAgent(Agent):
    name = "opencode"
    executable = "opencode"
    description = "opencode"
    install_hint = PINS["opencode"].install_hint
    help_args: tuple[str, ...] = ("run", "--help")
    headless_flags: tuple[str, ...] = ("--format", "--auto", "--model")
    credential_env: tuple[str, ...] = (
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "OPENCODE_CONFIG_CONTENT",
    )
    credential_files: tuple[str, ...] = (".local/share/opencode/auth.json",)  # relative to $HOME
    home_dirs: tuple[str, ...] = (
        ".config/opencode",
        ".local/share/opencode",
        ".local/state/opencode",
        ".cache/opencode",
    )
    dir_env: tuple[str, ...] = (
        "XDG_CONFIG_HOME/opencode",
        "XDG_DATA_HOME/opencode",
        "XDG_STATE_HOME/opencode",
        "XDG_CACHE_HOME/opencode",
    )
    # Where the config racer merges into goes, and the auto-update switch (kilo, a fork, renames
    # both).
    config_env = "OPENCODE_CONFIG_CONTENT"
    autoupdate_env = "OPENCODE_DISABLE_AUTOUPDATE"

    def provider_key(self, env: Mapping[str, str], args: Sequence[str]) -> str | None:
        """A provider with an `apiKey` in opencode's config (OPENCODE_CONFIG_CONTENT, or
        opencode.json in its XDG config dir)."""
        home = Path(env.get("HOME") or Path.home())
        config_dir = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "opencode"
        texts = [env.get("OPENCODE_CONFIG_CONTENT") or ""]
        for name in ("opencode.json", "opencode.jsonc"):
            try:
                texts.append((config_dir / name).read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
        for text in texts:
            try:
                providers = json.loads(text).get("provider") or {}
            except (ValueError, AttributeError):
                continue
            for pid, spec in providers.items() if isinstance(providers, dict) else ():
                options = spec.get("options") if isinstance(spec, dict) else None
                if isinstance(options, dict) and options.get("apiKey"):
                    return f"provider {pid}'s apiKey (from your provider config)"
        return None

    def invocation(self, ctx: LaunchContext) -> Invocation:
        # --auto approves what the config does not deny: without it a headless run stops at the
        # first permission prompt.
        argv = [self.executable, "run", "--format", "json", "--auto"]
        if ctx.model:
            argv += ["-m", ctx.model]  # provider/model, e.g. anthropic/claude-sonnet-4-5
        argv += [*ctx.extra_args, ctx.prompt]
        env = dict(ctx.extra_env)
        user_raw = env.get(self.config_env) or ctx.env.get(self.config_env) or "{}"
        try:
            user = json.loads(user_raw)
        except ValueError:
            user = {}
        # The user's settings win; racer only fills in what unattended runs need.
        env[self.config_env] = json.dumps(
            _merge(RACER_OPENCODE_CONFIG, user if isinstance(user, dict) else {})
        )
        env.setdefault(self.autoupdate_env, "1")
        return Invocation(tuple(argv), env)

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        texts: list[str] = []
        tin = tout = tcached = 0
        cost = 0.0
        seen_cost = False
        error = None
        status = None
        for obj in json_lines(output):
            kind = obj.get("type")
            part = obj.get("part") or {}
            if kind == "text" and part.get("text"):
                texts.append(str(part["text"]))
            elif kind == "step_finish":
                tokens = part.get("tokens") or {}
                tin += as_int(tokens.get("input"))
                tout += as_int(tokens.get("output"))
                tcached += as_int((tokens.get("cache") or {}).get("read"))
                if isinstance(part.get("cost"), int | float):
                    cost += float(part["cost"])
                    seen_cost = True
            elif kind == "error":
                err = obj.get("error") or {}
                data = err.get("data") or {}
                error = str(data.get("message") or err.get("name") or "opencode error")
                code = data.get("statusCode")
                status = code if isinstance(code, int) else status_in(error)
        if error is None and exit_code not in (0, None):
            error = f"{self.name} exited {exit_code}"
        return AgentOutput(
            final_message=texts[-1] if texts else None,
            error=error,
            tokens=Tokens(tin, tout, tcached),
            cost_usd=round(cost, 6) if seen_cost else None,
            rate_limited=error is not None and is_rate_limit(error, status),
            api_status=status if error else None,
        )

    def progress(self, line: str) -> str | None:
        try:
            obj = json.loads(line)
        except ValueError:
            return line.strip() or None
        part = obj.get("part") or {}
        if obj.get("type") == "tool_use":
            inp = (part.get("state") or {}).get("input") or {}
            detail = inp.get("filePath") or inp.get("command") or ""
            return f"{part.get('tool')} {detail}".strip()
        if obj.get("type") == "error":
            return "error"
        return None
