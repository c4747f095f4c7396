"""Codex CLI (`codex exec --json`): headless, no approvals, JSONL events on stdout.

The final text is the last agent_message; a failed turn ends with turn.failed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

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

_ENV_KEY = re.compile(r"env_key\s*=\s*[\"']([A-Za-z_][A-Za-z0-9_]*)[\"']")


class CodexAgent(Agent):
    name = "codex"
    executable = "codex"
    description = "OpenAI Codex CLI"
    install_hint = PINS["codex"].install_hint
    help_args: tuple[str, ...] = ("exec", "--help")
    headless_flags: tuple[str, ...] = (
        "--json",
        "--skip-git-repo-check",
        "--ephemeral",
        "--sandbox",
        "--dangerously-bypass-approvals-and-sandbox",
        "--disable",
        "--model",
    )
    credential_env: tuple[str, ...] = ("OPENAI_API_KEY", "CODEX_API_KEY")
    credential_files: tuple[str, ...] = (".codex/auth.json",)  # relative to $HOME
    home_dirs: tuple[str, ...] = (".codex",)
    dir_env: tuple[str, ...] = ("CODEX_HOME",)

    def provider_key(self, env: Mapping[str, str], args: Sequence[str]) -> str | None:
        """The `env_key` of a custom provider (`-c model_providers.X={…env_key="VAR"…}` in the
        table's args, or in $CODEX_HOME/config.toml), when that variable is set."""
        home = Path(env.get("CODEX_HOME") or Path(env.get("HOME") or Path.home()) / ".codex")
        try:
            config = (home / "config.toml").read_text(encoding="utf-8", errors="replace")
        except OSError:
            config = ""
        for var in _ENV_KEY.findall("\n".join([*args, config])):
            if env.get(var):
                return f"{var} (from your provider config)"
        return None

    def invocation(self, ctx: LaunchContext) -> Invocation:
        argv = [self.executable, "exec", "--json", "--skip-git-repo-check", "--ephemeral"]
        # workspace-write sandboxes commands with bubblewrap; without bwrap every command fails
        # while codex still exits 0, so fall back to no sandbox (the worktree is disposable).
        if shutil.which("bwrap"):
            argv += ["--sandbox", "workspace-write"]
        else:
            argv += ["--dangerously-bypass-approvals-and-sandbox"]
        # Without this an unreachable API makes codex retry forever.
        argv += ["--disable", "unbounded_connection_retries"]
        if ctx.model:
            argv += ["-m", ctx.model]
        argv += [*ctx.extra_args, ctx.prompt]
        return Invocation(tuple(argv), dict(ctx.extra_env))

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        final = None
        error = None
        tokens = None
        turns = 0
        warnings: list[str] = []
        for obj in json_lines(output):
            kind = obj.get("type")
            item = obj.get("item") or {}
            if kind == "item.completed" and item.get("type") == "agent_message":
                final = str(item.get("text") or "")
            elif kind == "item.completed" and item.get("type") == "error":
                # e.g. "Model metadata for `x` not found": codex runs on with a reduced tool set.
                warnings.append(str(item.get("message") or "")[:300])
            elif kind == "turn.completed":
                turns += 1
                usage = obj.get("usage") or {}
                tokens = Tokens(
                    input=as_int(usage.get("input_tokens")),
                    output=as_int(usage.get("output_tokens")),
                    cached=as_int(usage.get("cached_input_tokens")),
                )
            elif kind == "turn.failed":
                error = str((obj.get("error") or {}).get("message") or "turn failed")
            elif kind == "error" and error is None:
                error = str(obj.get("message") or "error")
        if error is None and "Refusing to create helper binaries under temporary dir" in output:
            # codex then runs every sandboxed command into a failure and still exits 0.
            error = "CODEX_HOME is under the temp dir, so codex's sandbox cannot run — set CODEX_HOME outside /tmp"
        if error is None and exit_code not in (0, None):
            error = f"codex exited {exit_code}"
        status = status_in(error)
        return AgentOutput(
            final_message=final,
            error=error,
            tokens=tokens,
            turns=turns or None,
            rate_limited=error is not None and is_rate_limit(error, status),
            api_status=status if error else None,
            warnings=tuple(warnings),
        )

    def progress(self, line: str) -> str | None:
        try:
            obj = json.loads(line)
        except ValueError:
            return line.strip() or None
        item = obj.get("item") or {}
        if obj.get("type") == "item.started":
            if item.get("type") == "command_execution":
                return f"Bash {item.get('command', '')}"
            if item.get("type") == "file_change":
                paths = ", ".join(str(c.get("path", "")) for c in item.get("changes") or [])
                return f"Edit {paths}"
        if obj.get("type") == "item.completed" and item.get("type") == "agent_message":
            return str(item.get("text") or "").splitlines()[0][:120] if item.get("text") else None
        if obj.get("type") in {"turn.failed", "error"}:
            return "error"
        return None
