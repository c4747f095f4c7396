"""What every agent adapter provides: argv/env for a headless run and a parser for its output.

Adapters describe; racer.proc spawns. Nothing here starts a process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from racer.prices import Tokens as Tokens  # the adapters read token counts into it


@dataclass(frozen=True)
class Invocation:
    """How to launch one contestant: argv plus environment additions."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentOutput:
    """What racer could read from a finished run (all optional: CLIs differ)."""

    final_message: str | None = None
    error: str | None = None  # the run failed even if the exit code says otherwise
    tokens: Tokens | None = None
    cost_usd: float | None = None
    turns: int | None = None
    rate_limited: bool = (
        False  # a 429 / overloaded answer: worth retrying later or on another model
    )
    api_status: int | None = None  # the HTTP status of the API error, when the CLI says it
    model: str | None = None  # the model the CLI reports it used
    warnings: tuple[str, ...] = ()  # e.g. "model metadata not found" from codex


@dataclass(frozen=True)
class LaunchContext:
    """Everything an adapter may use to build its command line."""

    prompt: str
    prompt_file: Path
    model: str | None
    worktree: Path
    extra_args: tuple[str, ...] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)  # the lane's environment, to inspect


class Agent:
    """Base adapter. Subclasses set the class attributes and override what differs."""

    name: str = ""
    executable: str = ""
    description: str = ""
    install_hint: str = ""
    # For `racer doctor`: how to ask for help text, the flags racer relies on (each must appear
    # in that help), and where credentials may come from (any one is enough).
    help_args: tuple[str, ...] = ()
    headless_flags: tuple[str, ...] = ()
    credential_env: tuple[str, ...] = ()
    credential_files: tuple[str, ...] = ()
    # The tool's own state files it leaves in the worktree (globs): never part of the candidate.
    state_files: tuple[str, ...] = ()
    # Where the CLI keeps its config, sessions and caches (HOME-relative, and "VAR" or "VAR/sub"
    # for dirs named by env variables): the only places outside its worktree it may write
    # under --sandbox.
    home_dirs: tuple[str, ...] = ()
    dir_env: tuple[str, ...] = ()
    # Whether `spend` reports a running total (aider's "session" cost) rather than increments.
    spend_is_total: bool = False
    # The repository instructions file the CLI reads (a setup's `instructions` replaces it).
    instructions_file: str = "AGENTS.md"
    # Its tokens and costs are scripted, not spent (the shipped fake agent): views say so.
    scripted: bool = False

    def invocation(self, ctx: LaunchContext) -> Invocation:
        raise NotImplementedError

    def provider_key(self, env: Mapping[str, str], args: Sequence[str]) -> str | None:
        """Credentials beyond the key variables and login files, in words: a key variable set in
        `env` that the CLI's own provider config names (a gateway of yours), or a login the CLI
        keeps in its config; None when there is none racer can see."""
        return None

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        """Default: the last non-empty line is the final message."""
        lines = [line for line in output.splitlines() if line.strip()]
        return AgentOutput(final_message=lines[-1][:2000] if lines else None)

    def budget_args(self, max_cost: float) -> tuple[str, ...]:
        """The CLI's own spending cap, for --max-cost; () when it has none (racer then stops the
        agent itself once the cost it reports passes the limit)."""
        return ()

    def spend(self, line: str) -> tuple[float | None, Tokens | None]:
        """USD and tokens one output line reports (usage events), read while the agent runs."""
        if not line.lstrip().startswith("{"):
            return None, None
        out = self.parse_output(line, 0)
        return out.cost_usd, out.tokens

    def progress(self, line: str) -> str | None:
        """A short human line for the live board, or None to skip this output line."""
        text = line.strip()
        return text or None

    def version_argv(self) -> tuple[str, ...]:
        return (self.executable, "--version")

    def resolved_executable(self) -> str:
        return self.executable


def json_lines(output: str) -> Iterator[dict[str, Any]]:
    """Every line of output that parses as a JSON object (others are skipped)."""
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj


_RATE_LIMIT = re.compile(
    r"\b(429|529)\b|rate[ _-]?limit|too many requests|overloaded|resource[ _]exhausted|quota",
    re.IGNORECASE,
)
_STATUS = re.compile(r"\b(?:status|error|code)[:= ]+\(?([1-5]\d\d)\b|\b([45]\d\d)\b", re.IGNORECASE)


def is_rate_limit(text: str | None, status: int | None = None) -> bool:
    """True for answers that mean "slow down / try later": HTTP 429, 529, overloaded, quota."""
    if status in (429, 529, 503):
        return True
    return bool(text and _RATE_LIMIT.search(text))


def status_in(text: str | None) -> int | None:
    """The first plausible HTTP error status mentioned in an error text."""
    if not text:
        return None
    match = _STATUS.search(text)
    if not match:
        return None
    return int(match.group(1) or match.group(2))


def as_int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
