"""`racer doctor`: is each selected agent ready for a headless race, and if not, what fixes it.

Checks: installed (and not a stub an offline npm install left), version, the headless flags racer
uses are accepted, credentials present, and agent-specific traps (codex's sandbox needs
bubblewrap; CODEX_HOME must not be under /tmp; copilot's bring-your-own-model settings).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
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
        stub = placeholder(path, said) if version is None else None
        if stub is not None:
            # Nothing else can work: the rest of the checks would only repeat the failure.
            fix = f"reinstall where its download can be reached: {agent.install_hint}"
            return [Check(name, "installed", False, stub, fix)]
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
    checks += _flags(agent, exe, lane_env)
    checks += _credentials(agent, lane_env, cfg.args if cfg else ())
    if name == "codex":
        checks += _codex_traps(lane_env)
    if name == "copilot":
        checks += _copilot_traps(lane_env, cfg)
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


# What the stubs say that npm packages leave where a postinstall (or a platform package) should
# have put the native binary: claude's and amp's "native binary not installed", copilot's "no
# platform package found", kilo's "package manager failed to install the right version".
_NOT_DOWNLOADED = re.compile(
    r"native binary|platform package|failed to install|binary (?:is )?not (?:installed|found)"
    r"|not downloaded",
    re.IGNORECASE,
)
_STUB_BYTES = 64 * 1024  # the wrappers and stubs are a few KB; a native binary is 100+ MB


def placeholder(path: str, said: str) -> str | None:
    """Why `path` is a stub an offline or script-less npm install left, or None when it is not
    one (`said`: the first line its failed `--version` printed)."""
    real = Path(os.path.realpath(path))
    try:
        size = real.stat().st_size
        with real.open("rb") as fh:
            script = fh.read(2) == b"#!"
    except OSError:
        return None
    if not (script and size < _STUB_BYTES and _NOT_DOWNLOADED.search(said)):
        return None
    return (
        f"the npm package's native binary was not downloaded: {real} ({size} bytes) is only a"
        f" launcher, which says {said!r}"
    )


def _flags(agent: Agent, exe: str, env: Mapping[str, str]) -> list[Check]:
    if not agent.headless_flags:
        return []
    _, text = run_capture((exe, *agent.help_args), timeout=30, env=env)
    missing = [flag for flag in agent.headless_flags if flag not in text]
    if missing:
        return [
            Check(
                agent.name,
                "flags",
                False,
                f"help does not list {', '.join(missing)}",
                f"this {agent.name} version is not one racer knows: install {agent.install_hint}",
            )
        ]
    return [
        Check(agent.name, "flags", True, f"{len(agent.headless_flags)} headless flags accepted")
    ]


def _credentials(agent: Agent, env: Mapping[str, str], args: Sequence[str]) -> list[Check]:
    """What `racer run`'s preflight sees too (racer.agents.credentials)."""
    creds = credentials(agent, agent.name, env, args)
    if creds is None:
        return []
    if creds.found:
        return [Check(agent.name, "credentials", True, f"found {creds.found}")]
    return [
        Check(
            agent.name, "credentials", False, "no API key variable or login file found", creds.fix
        )
    ]


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


def _copilot_traps(env: Mapping[str, str], cfg: AgentConfig | None) -> list[Check]:
    out = []
    if env.get("COPILOT_ALLOW_ALL") == "true":
        out.append(
            Check(
                "copilot",
                "allow-all",
                False,
                'COPILOT_ALLOW_ALL is exactly "true": copilot then also trusts the checkout\'s'
                " hooks, skills and MCP servers, which an agent of the race may have written",
                "unset it: racer passes --allow-all-tools, which only approves tools",
            )
        )
    byok = env.get("COPILOT_PROVIDER_BASE_URL")
    if env.get("COPILOT_OFFLINE", "").lower() == "true" and not byok:
        out.append(
            Check(
                "copilot",
                "offline",
                False,
                "COPILOT_OFFLINE=true without COPILOT_PROVIDER_BASE_URL: there is no model to use",
                "set COPILOT_PROVIDER_BASE_URL (and COPILOT_MODEL) or unset COPILOT_OFFLINE",
            )
        )
    if byok:
        model = env.get("COPILOT_MODEL") or env.get("COPILOT_PROVIDER_MODEL_ID")
        model = model or (cfg.model if cfg else None)
        detail = (
            f"your own model provider at {byok}, model {model}"
            if model
            else f"your own model provider at {byok} and no COPILOT_MODEL: every contestant must"
            " name its model (copilot@MODEL), or copilot exits 1 (BYOK requires a model)"
        )
        out.append(Check("copilot", "byok", True, detail))
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
