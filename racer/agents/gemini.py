"""Gemini CLI (`gemini -p`): yolo approvals, trusted workspace, stream-json events.

On API errors the exit code is the HTTP status mod 256 and the error JSON goes to stderr.
"""

from __future__ import annotations

import json

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


class GeminiAgent(Agent):
    name = "gemini"
    instructions_file = "GEMINI.md"
    executable = "gemini"
    description = "Google Gemini CLI"
    install_hint = PINS["gemini"].install_hint
    help_args: tuple[str, ...] = ("--help",)
    headless_flags: tuple[str, ...] = (
        "--prompt",
        "--approval-mode",
        "--skip-trust",
        "--output-format",
        "--model",
    )
    credential_env: tuple[str, ...] = (
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_GENAI_USE_GCA",
    )
    credential_files: tuple[str, ...] = (".gemini/oauth_creds.json",)  # relative to $HOME
    home_dirs: tuple[str, ...] = (".gemini",)
    dir_env: tuple[str, ...] = ()

    def invocation(self, ctx: LaunchContext) -> Invocation:
        argv = [
            self.executable,
            "-p",
            ctx.prompt,
            "--approval-mode",
            "yolo",
            "--skip-trust",
            "--output-format",
            "stream-json",
        ]
        if ctx.model:
            argv += ["-m", ctx.model]
        # A worktree is a new folder to gemini: without trust it drops yolo and exits 55.
        env = {"GEMINI_CLI_TRUST_WORKSPACE": "true"}
        env.update(ctx.extra_env)
        return Invocation(tuple(argv) + ctx.extra_args, env)

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        parts: list[str] = []
        tokens = None
        error = None
        status: int | None = None
        for obj in json_lines(output):
            kind = obj.get("type")
            if kind == "message" and obj.get("role") == "assistant":
                parts.append(str(obj.get("content") or ""))
            elif kind == "result":
                stats = obj.get("stats") or {}
                tokens = Tokens(
                    input=as_int(stats.get("input_tokens")),
                    output=as_int(stats.get("output_tokens")),
                    cached=as_int(stats.get("cached")),
                )
                if obj.get("status") == "error":
                    error = str(
                        (obj.get("error") or {}).get("message") or "gemini reported an error"
                    )
            elif "error" in obj and isinstance(obj["error"], dict):
                error = str(obj["error"].get("message") or "error")
                code = obj["error"].get("code")
                status = code if isinstance(code, int) and 100 <= code < 600 else status_in(error)
        if exit_code not in (0, None) and status is None:
            # On an API error gemini exits with the HTTP status mod 256 (400 -> 144, 429 -> 173).
            status = next(
                (s for s in (400, 401, 403, 404, 429, 500, 503, 529) if s % 256 == exit_code), None
            )
        if error is None and exit_code not in (0, None):
            error = f"gemini exited {exit_code}" + (f" (HTTP {status})" if status else "")
        return AgentOutput(
            final_message="".join(parts) or None,
            error=error,
            tokens=tokens,
            rate_limited=error is not None and is_rate_limit(error, status),
            api_status=status if error else None,
        )

    def progress(self, line: str) -> str | None:
        try:
            obj = json.loads(line)
        except ValueError:
            return line.strip() or None
        if obj.get("type") == "tool_use":
            params = obj.get("parameters") or {}
            detail = params.get("file_path") or params.get("command") or ""
            return f"{obj.get('tool_name')} {detail}".strip()
        if obj.get("type") == "result":
            return str(obj.get("status"))
        return None
