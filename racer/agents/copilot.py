"""GitHub Copilot CLI (`copilot -p`): every tool allowed, no questions, JSONL events on stdout.

Its token counts are only in the `--usage-output-file` it writes at exit (by renaming a temp file
over the path, so never a /dev/ path): racer runs it through `sh`, which prints that file as one
`racer.copilot_usage` line after copilot exits and passes copilot's exit code on.
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

USAGE_EVENT = "racer.copilot_usage"
# $0 is copilot, "$@" its arguments. The usage file sits in the lane's temp dir (TMPDIR is the
# lane's own under --sandbox) and is gone once printed, or once a timeout stopped the run.
_RUN_AND_REPORT = (
    'f=$(mktemp "${TMPDIR:-/tmp}/racer-copilot-usage.XXXXXX") || exit 1; '
    "trap 'rm -f \"$f\"; exit 143' HUP INT TERM; "
    '"$0" "$@" --usage-output-file "$f"; rc=$?; '
    'if [ -s "$f" ]; then printf \'{"type":"%s","data":%s}\\n\' '
    f'{USAGE_EVENT} "$(tr -d \'\\n\' < "$f")"; fi; '
    'rm -f "$f"; exit $rc'
)
# github/copilot-cli#3189: in some environments `-p` exits 1 having printed nothing at all.
NO_OUTPUT = (
    "copilot exited {code} without printing anything"
    " (a known Copilot CLI bug: github/copilot-cli#3189)"
)


class CopilotAgent(Agent):
    name = "copilot"
    executable = "copilot"
    description = "GitHub Copilot CLI"
    install_hint = PINS["copilot"].install_hint
    # Copilot reads .github/copilot-instructions.md, AGENTS.md, CLAUDE.md and GEMINI.md together
    # (`copilot instruction list`); AGENTS.md is the one racer can always put in a checkout.
    instructions_file = "AGENTS.md"
    help_args: tuple[str, ...] = ("--help",)
    headless_flags: tuple[str, ...] = (
        "--prompt",
        "--allow-all-tools",
        "--no-ask-user",
        "--no-auto-update",
        "--output-format",
        "--usage-output-file",
        "--model",
    )
    # A GitHub token, or a model provider of your own (BYOK); `copilot login` keeps its token in
    # the system keychain or ~/.copilot/config.json, and a `gh` login works too (racer doctor).
    credential_env: tuple[str, ...] = (
        "COPILOT_GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "COPILOT_PROVIDER_BASE_URL",
    )
    credential_files: tuple[str, ...] = (".config/gh/hosts.yml",)  # relative to $HOME
    # Its sessions and logs, and the ~235 MB package it unpacks into its cache on first run.
    home_dirs: tuple[str, ...] = (".copilot", ".cache/copilot")
    dir_env: tuple[str, ...] = ("COPILOT_HOME", "COPILOT_CACHE_HOME", "XDG_CACHE_HOME/copilot")

    def provider_key(self, env: Mapping[str, str], args: Sequence[str]) -> str | None:
        """A `copilot login` kept in plain text: config.json's `logged_in_users` (a login in
        the system keychain cannot be seen from here)."""
        home = Path(env.get("HOME") or Path.home())
        config = Path(env.get("COPILOT_HOME") or home / ".copilot") / "config.json"
        try:
            # The file opens with `//` comment lines.
            lines = config.read_text(encoding="utf-8").splitlines()
            data = json.loads("\n".join(ln for ln in lines if not ln.lstrip().startswith("//")))
        except (OSError, ValueError):
            return None
        users = data.get("logged_in_users") if isinstance(data, dict) else None
        return f"a copilot login in {config}" if users else None

    def invocation(self, ctx: LaunchContext) -> Invocation:
        # --allow-all-tools is what a headless run needs; COPILOT_ALLOW_ALL=true would also trust
        # the checkout's hooks and MCP servers, so racer never sets it.
        argv = [
            "sh",
            "-c",
            _RUN_AND_REPORT,
            self.executable,
            "-p",
            ctx.prompt,
            "--allow-all-tools",
            "--no-ask-user",
            "--no-auto-update",
            "--output-format",
            "json",
        ]
        if ctx.model:
            argv += ["--model", ctx.model]
        return Invocation((*argv, *ctx.extra_args), dict(ctx.extra_env))

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        texts: list[str] = []
        result: dict[str, Any] | None = None
        usage: dict[str, Any] = {}
        error: str | None = None
        status: int | None = None
        kind_of_error = ""
        for obj in json_lines(output):
            kind, data = obj.get("type"), _data(obj)
            if kind == "assistant.message" and data.get("content"):
                texts.append(str(data["content"]))
            elif kind == "session.error":
                error = str(data.get("message") or data.get("errorType") or "copilot error")
                kind_of_error = str(data.get("errorType") or "")
                code = data.get("statusCode")
                status = code if isinstance(code, int) else status_in(error)
            elif kind == "result":
                result = obj
            elif kind == USAGE_EVENT:
                usage = data
        if error is None:
            error = _exit_error(output, exit_code, result)
        tokens, model = _usage(usage)
        return AgentOutput(
            final_message=texts[-1] if texts else None,
            error=error,
            tokens=tokens,
            rate_limited=error is not None
            and (kind_of_error == "rate_limit" or is_rate_limit(error, status)),
            api_status=status if error else None,
            model=model,
            warnings=_premium(usage),
        )

    def spend(self, line: str) -> tuple[float | None, Tokens | None]:
        # Copilot reports no money; its tokens arrive once, at exit.
        if USAGE_EVENT not in line:
            return None, None
        return None, self.parse_output(line, 0).tokens

    def progress(self, line: str) -> str | None:
        try:
            obj = json.loads(line)
        except ValueError:
            return line.strip() or None
        if not isinstance(obj, dict):
            return None
        kind, data = obj.get("type"), _data(obj)
        if kind == "tool.execution_start":
            args = data.get("arguments") or {}
            detail = args.get("command") or args.get("path") or ""
            return f"{data.get('toolName')} {str(detail).splitlines()[0] if detail else ''}".strip()
        if kind == "assistant.message" and data.get("content"):
            return str(data["content"]).splitlines()[0][:120]
        if kind == "assistant.turn_retry":
            return f"copilot retries ({data.get('reason')})"
        if kind in ("session.error", "result"):
            return "error" if kind == "session.error" or obj.get("exitCode") else "done"
        return None


def _data(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    return data if isinstance(data, dict) else {}


def _exit_error(output: str, exit_code: int | None, result: dict[str, Any] | None) -> str | None:
    """Why a run without a session.error event failed, or None when it did not."""
    if result is None:
        # Copilot stopped before its session ("BYOK providers require an explicit model"), or
        # printed nothing at all: no result event is no success, whatever the exit code.
        lines = [ln.strip() for ln in output.splitlines() if ln.strip() and USAGE_EVENT not in ln]
        if not lines:
            return NO_OUTPUT.format(code=exit_code)
        return lines[-1][:500]
    code = exit_code if exit_code not in (0, None) else result.get("exitCode")
    return f"copilot exited {code}" if code not in (0, None) else None


def _usage(usage: dict[str, Any]) -> tuple[Tokens | None, str | None]:
    """Tokens summed over the models of --usage-output-file's modelMetrics, and the model."""
    metrics = usage.get("modelMetrics") or {}
    if not isinstance(metrics, dict) or not metrics:
        return None, None
    tin = tout = cached = 0
    for entry in metrics.values():
        counts = (entry or {}).get("usage") or {}
        tin += as_int(counts.get("inputTokens"))
        tout += as_int(counts.get("outputTokens"))
        cached += as_int(counts.get("cacheReadTokens"))
    model = usage.get("currentModel")
    return Tokens(tin, tout, cached), str(model) if model else next(iter(metrics))


def _premium(usage: dict[str, Any]) -> tuple[str, ...]:
    """GitHub bills Copilot by premium requests, not dollars: said, when there were any."""
    cost = usage.get("totalPremiumRequestCost")
    if isinstance(cost, int | float) and cost > 0:
        return (f"used {cost:g} GitHub Copilot premium request(s); racer's cost is an estimate",)
    return ()
