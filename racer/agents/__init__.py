"""The agent registry and contestant parsing (`claude,codex@gpt-5.5,fake*2`).

Built-in adapters live in one literal dict; user-defined command agents from config join it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from racer.agents.aider import AiderAgent
from racer.agents.base import Agent, AgentOutput, Invocation, LaunchContext, Tokens
from racer.agents.claude import ClaudeAgent
from racer.agents.codex import CodexAgent
from racer.agents.command import CommandAgent
from racer.agents.copilot import CopilotAgent
from racer.agents.fake import FakeAgent
from racer.agents.gemini import GeminiAgent
from racer.agents.kilo import KiloAgent
from racer.agents.opencode import OpencodeAgent
from racer.agents.qwen import QwenAgent
from racer.config import AgentConfig
from racer.errors import AgentError
from racer.proc import run_capture
from racer.store import slug

__all__ = [
    "BUILTIN_AGENTS",
    "STATE_FILES",
    "Agent",
    "AgentOutput",
    "Contestant",
    "Invocation",
    "LaunchContext",
    "Tokens",
    "agent_inventory",
    "agent_version",
    "build_registry",
    "check_installed",
    "get_agent",
    "parse_contestants",
]

BUILTIN_AGENTS: dict[str, type[Agent]] = {
    "claude": ClaudeAgent,
    "codex": CodexAgent,
    "gemini": GeminiAgent,
    "qwen": QwenAgent,
    "opencode": OpencodeAgent,
    "aider": AiderAgent,
    "copilot": CopilotAgent,
    "kilo": KiloAgent,
    "fake": FakeAgent,
}

# State files agent tools leave in a worktree: excluded from lane commits and dirty checks.
STATE_FILES: tuple[str, ...] = tuple(
    dict.fromkeys(p for cls in BUILTIN_AGENTS.values() for p in cls.state_files)
)

_TOKEN = re.compile(r"^(?P<agent>[A-Za-z0-9_.-]+)(?:@(?P<model>[^*\s,]+))?(?:\*(?P<count>\d+))?$")


@dataclass(frozen=True)
class Contestant:
    """One lane of the race: a unique name, the agent it runs and the model it asks for."""

    name: str
    agent: str
    model: str | None
    order: int  # position in --agents, 0-based; the final tie-break
    tier: int = 0  # a cascade's tier (0-based): tiers run one after another, cheapest first


def build_registry(agent_configs: Mapping[str, AgentConfig]) -> dict[str, Agent]:
    registry: dict[str, Agent] = {name: cls() for name, cls in BUILTIN_AGENTS.items()}
    for name, cfg in agent_configs.items():
        if cfg.command:
            registry[name] = CommandAgent(name, cfg.command, cfg.source)
        elif cfg.agent is not None:  # a setup of a built-in agent under a name of its own
            if cfg.agent not in BUILTIN_AGENTS:
                raise AgentError(
                    f"agents.{name}.agent in {cfg.source or 'config'} is {cfg.agent!r}, not a "
                    f"built-in agent — one of: {', '.join(sorted(BUILTIN_AGENTS))}"
                )
            registry[name] = BUILTIN_AGENTS[cfg.agent]()
        elif name not in registry:
            raise AgentError(
                f"agents.{name} in {cfg.source or 'config'} has no command and is not a built-in agent"
                f" — add command = [...] (known agents: {', '.join(sorted(registry))})"
            )
    return registry


def get_agent(registry: Mapping[str, Agent], name: str) -> Agent:
    try:
        return registry[name]
    except KeyError:
        raise AgentError(
            f"unknown agent {name!r} — known agents: {', '.join(sorted(registry))}"
            " (define others as [agents.NAME] command = [...] in racer.toml)"
        ) from None


def parse_contestants(
    tokens: tuple[str, ...] | list[str],
    registry: Mapping[str, Agent],
    tiers: Sequence[int] = (),
) -> list[Contestant]:
    """Turn `claude`, `codex@gpt-5.5`, `claude@opus*2` into uniquely named contestants.

    `tiers` (a cascade) gives each comma-separated item its tier; names are unique across all."""
    items = [t.strip() for token in tokens for t in token.split(",") if t.strip()]
    tier_of = list(tiers) if tiers else [0] * len(items)
    if not items:
        raise AgentError(
            "no agents given — pass --agents claude,codex (or set agents in racer.toml)"
        )
    parsed: list[tuple[str, str | None, int, int]] = []
    for item, tier in zip(items, tier_of, strict=True):
        match = _TOKEN.match(item)
        if not match:
            raise AgentError(
                f"cannot read contestant {item!r} — write NAME, NAME@MODEL or NAME@MODEL*N"
            )
        get_agent(registry, match["agent"])
        count = int(match["count"] or 1)
        if count < 1 or count > 64:
            raise AgentError(f"contestant {item!r}: *N must be between 1 and 64")
        parsed.append((match["agent"], match["model"] or None, count, tier))
    # A name as written is kept; a repeat is numbered past every name (and every lane directory,
    # branch and log name: its slug) already taken or written elsewhere in the list.
    written = {_slug(agent if model is None else f"{agent}@{model}") for agent, model, *_ in parsed}
    taken: set[str] = {"_baseline", "_review", "_writer"}  # racer's own lanes
    contestants: list[Contestant] = []
    for agent, model, count, tier in parsed:
        base = agent if model is None else f"{agent}@{model}"
        for _ in range(count):
            name, n = base, 1
            while _slug(name) in taken or (n > 1 and _slug(name) in written):
                n += 1
                name = f"{base}-{n}"
            taken.add(_slug(name))
            contestants.append(Contestant(name, agent, model, len(contestants), tier))
    return contestants


def _slug(name: str) -> str:
    return slug(name).lower()  # lane dirs, branches and logs are named by the slug


def check_installed(contestants: list[Contestant], registry: Mapping[str, Agent]) -> None:
    """Fail before anything is created when an agent's executable is not on PATH."""
    for agent_name in dict.fromkeys(c.agent for c in contestants):
        agent = registry[agent_name]
        exe = agent.resolved_executable()
        if exe and not shutil.which(exe):
            raise AgentError(
                f"agent {agent_name!r} needs {exe!r}, which is not on PATH — install it: {agent.install_hint}"
            )


def agent_version(
    agent: Agent, env: Mapping[str, str] | None = None, timeout: float = 20
) -> tuple[str | None, str]:
    """(the version line, or None when asking failed; what the CLI printed or why it failed)."""
    argv = agent.version_argv()
    if not argv:
        return None, "no version flag"
    code, text = run_capture(argv, timeout=timeout, env=env)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # The line with a version number: a CLI may print a warning first (codex does).
    first = next((ln for ln in lines if _VERSION.search(ln)), lines[0] if lines else "")[:80]
    return (first or None) if code == 0 else None, first or f"exit {code}"


_VERSION = re.compile(r"\d+\.\d+")


@dataclass(frozen=True)
class Credentials:
    """Where an agent's CLI would find its key or login; `found` None: nowhere."""

    found: str | None
    fix: str = ""


def credentials(
    agent: Agent, name: str, env: Mapping[str, str], args: Sequence[str] = ()
) -> Credentials | None:
    """The credentials `agent` (contestant name `name`) would find in `env` (the lane's
    environment, its agent table's `env` included) or its provider config (`args`: the table's);
    None when it needs none racer knows of."""
    if not (agent.credential_env or agent.credential_files):
        return None
    found = [var for var in agent.credential_env if env.get(var)]
    if (key := agent.provider_key(env, args)) is not None:
        found.append(key)
    home = Path(env.get("HOME") or Path.home())
    found += [f"~/{rel}" for rel in agent.credential_files if (home / rel).exists()]
    if found:
        return Credentials(found[0])
    want = " or ".join(agent.credential_env[:2]) or "a login"
    files = ", ".join(f"~/{f}" for f in agent.credential_files)
    return Credentials(
        None,
        f"set {want}"
        + (f" (or log in: {files})" if files else "")
        + f", or put it in [agents.{name}].env",
    )


def agent_inventory(registry: Mapping[str, Agent]) -> list[dict[str, str | bool | None]]:
    """Each known agent: executable, installed?, version (asked with a short timeout)."""
    rows: list[dict[str, str | bool | None]] = []
    for name in sorted(registry):
        agent = registry[name]
        exe = agent.resolved_executable()
        path = shutil.which(exe) if exe else None
        version = agent_version(agent, timeout=15)[0] if path else None
        rows.append(
            {
                "name": name,
                "description": agent.description,
                "executable": exe,
                "installed": path is not None,
                "path": path,
                "version": version,
                "install": None if path else agent.install_hint,
            }
        )
    return rows
