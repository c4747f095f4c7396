"""`racer doctor`: is each selected agent ready for a headless race, and if not, what fixes it.

Checks: installed, version, the headless flags racer uses are accepted, credentials present,
and agent-specific traps (codex's sandbox needs bubblewrap; CODEX_HOME must not be under /tmp).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from racer.agents import Agent, agent_version, build_registry, credentials, parse_contestants
from racer.agents.command import CommandAgent
from racer.config import AgentConfig, Config, load_config
from racer.errors import GitError
from racer.proc import run_capture
from racer.repo import open_repo


@dataclass(frozen=True)
class Check:
    agent: str
    name: str  # installed, version, flags, credentials, sandbox, ...
    ok: bool
    detail: str
    fix: str | None = None


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def check_agent(agent: Agent, cfg: AgentConfig | None, env: Mapping[str, str]) -> list[Check]:
    name = agent.name
    lane_env = {**env, **(dict(cfg.env) if cfg else {})}
    exe = agent.resolved_executable()
    path = shutil.which(exe) if exe else None
    if not path:
        return [
            Check(
                name,
                "installed",
                False,
                f"{exe!r} is not on PATH",
                f"install it: {agent.install_hint}",
            )
        ]
    checks = [Check(name, "installed", True, path)]
    if agent.version_argv():
        version, said = agent_version(agent, lane_env, timeout=30)
        checks.append(
            Check(
                name,
                "version",
                version is not None,
                said,
                None
                if version is not None
                else f"`{' '.join(agent.version_argv())}` failed: reinstall ({agent.install_hint})",
            )
        )
    if agent.headless_flags:
        _, text = run_capture((exe, *agent.help_args), timeout=30, env=lane_env)
        missing = [flag for flag in agent.headless_flags if flag not in text]
        if missing:
            checks.append(
                Check(
                    name,
                    "flags",
                    False,
                    f"help does not list {', '.join(missing)}",
                    f"this {name} version is not one racer knows: install {agent.install_hint}",
                )
            )
        else:
            checks.append(
                Check(name, "flags", True, f"{len(agent.headless_flags)} headless flags accepted")
            )
    creds = credentials(agent, name, lane_env)
    if creds is not None and creds.found:
        checks.append(Check(name, "credentials", True, f"found {creds.found}"))
    elif creds is not None:
        checks.append(
            Check(name, "credentials", False, "no API key variable or login file found", creds.fix)
        )
    if name == "codex":
        checks += _codex_traps(lane_env)
    if name == "claude" and os.geteuid() == 0:
        checks.append(
            Check(
                name,
                "root",
                True,
                "running as root: racer sets IS_SANDBOX=1 so bypass mode is allowed",
            )
        )
    return checks


def _codex_traps(env: Mapping[str, str]) -> list[Check]:
    out = []
    if shutil.which("bwrap"):
        out.append(
            Check(
                "codex",
                "sandbox",
                True,
                "bubblewrap found: codex runs with --sandbox workspace-write",
            )
        )
    else:
        out.append(
            Check(
                "codex",
                "sandbox",
                False,
                "bubblewrap (bwrap) missing: codex would run without its sandbox",
                "install it: apt-get install bubblewrap",
            )
        )
    given = env.get("CODEX_HOME")
    codex_home = given or str(_home(env) / ".codex")  # codex's default when unset
    if codex_home:
        home = Path(codex_home)
        if given and not home.is_dir():
            out.append(
                Check("codex", "CODEX_HOME", False, f"{home} does not exist", f"mkdir -p {home}")
            )
        elif Path(os.path.realpath(home)).is_relative_to(os.path.realpath(tempfile.gettempdir())):
            out.append(
                Check(
                    "codex",
                    "CODEX_HOME",
                    False,
                    f"{home} is under the temp dir: codex refuses to create its sandbox helpers there",
                    "point CODEX_HOME at a directory outside /tmp"
                    + ("" if given else " (it is ~/.codex by default: your HOME is under /tmp)"),
                )
            )
    return out


def run_doctor(
    agents: Mapping[str, Agent], configs: Mapping[str, AgentConfig], env: Mapping[str, str]
) -> list[Check]:
    checks: list[Check] = []
    for name, agent in agents.items():
        if isinstance(agent, CommandAgent):
            exe = agent.command[0]
            ok = shutil.which(exe) is not None or Path(exe).is_file()
            checks.append(
                Check(
                    name,
                    "installed",
                    ok,
                    exe if ok else f"{exe!r} not found",
                    None if ok else agent.install_hint,
                )
            )
            continue
        checks += check_agent(agent, configs.get(name), env)
    return checks


def cwd_config(cwd: Path, env: Mapping[str, str]) -> Config:
    """The config of the repository around `cwd`, or of `cwd` itself outside a repository."""
    try:
        return load_config(open_repo(cwd).root, env=env)
    except GitError:
        return load_config(cwd, env=env)


def select_agents(config: Config, wanted: str | None) -> dict[str, Agent]:
    """The agents `racer doctor` checks: those named (a contestant list), else the config's
    contestants, else every known agent but the fake one."""
    registry = build_registry(config.agent_configs)
    names = wanted.split(",") if wanted else list(config.agents)
    if names:
        picked = [c.agent for c in parse_contestants(names, registry)]
    else:
        picked = [n for n in registry if n != "fake"]
    return {n: registry[n] for n in dict.fromkeys(picked)}
