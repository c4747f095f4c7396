"""Settings for a race: one frozen Config layered from defaults, config file, env, spec and flags.

Highest first: flags > spec front matter > RACER_* env > racer.toml or [tool.racer] > defaults.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from racer.errors import ConfigError

__all__ = [
    "AGENT_KEYS",
    "CONFIG_FILE",
    "ENV_VARS",
    "KEYS",
    "AgentConfig",
    "Config",
    "default_jobs",
    "load_config",
]

KEYS = (
    "agents",
    "test",
    "setup",
    "copy",
    "timeout",
    "test_timeout",
    "jobs",
    "worktree_root",
    "retries",
    "backoff",
    "test_paths",
    "test_report",
    "baseline_runs",
    "idle_timeout",
    "race_timeout",
    "max_cost",
    "sandbox",
    "share",
    "pool",
)
AGENT_KEYS = ("command", "args", "env", "model", "fallback", "max_parallel", "retries")
CONFIG_FILE = "racer.toml"
ENV_VARS = {key: f"RACER_{key.upper()}" for key in KEYS}
DEFAULT_TIMEOUT = 1800.0

# Agent definitions live in [agents.NAME] tables. TOML cannot hold both `agents = [...]` and
# [agents.NAME] in one file, so [agent.NAME] is accepted too and works next to a contestant list.
_AGENT_TABLES = ("agents", "agent")
_FILE_KEYS = tuple(sorted({*KEYS, *_AGENT_TABLES}))
_SPEC_KEYS = ("agents", "test", "setup", "timeout")
_AGENT_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def default_jobs() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class AgentConfig:
    """One [agents.NAME] table: a user command agent, or extras for a built-in one."""

    name: str
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None
    fallback: tuple[str, ...] = ()  # models to try, in order, when the agent stays rate-limited
    max_parallel: int | None = None  # at most this many lanes of this agent run at once
    retries: int | None = None  # rate-limit retries per model (default: Config.retries)
    source: str = ""


@dataclass(frozen=True)
class Config:
    """Everything a race needs to know, plus where each value came from (`sources`)."""

    agents: tuple[str, ...] = ()
    test: str | None = None
    setup: str | None = None
    copy: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    test_timeout: float = DEFAULT_TIMEOUT
    jobs: int = field(default_factory=default_jobs)
    worktree_root: Path | None = None
    retries: int = 2  # retries of a rate-limited agent run, per model
    backoff: float = 10.0  # seconds before the first retry; doubles each time
    test_paths: tuple[
        str, ...
    ] = ()  # globs of test files (default: racer.flags.DEFAULT_TEST_PATTERNS)
    test_report: str | None = None  # JUnit XML a non-pytest test command writes (worktree-relative)
    baseline_runs: int = 2  # runs of the test command on the base commit (2 finds flaky tests)
    idle_timeout: float | None = None  # kill an agent that prints nothing for this long
    race_timeout: float | None = None  # wall limit for the whole race (lanes still running stop)
    max_cost: float | None = None  # USD per lane: the CLI's budget flag, else stopped when passed
    sandbox: bool = False  # run each agent under bubblewrap (see racer.sandbox)
    share: tuple[str, ...] = ()  # ignored dependency dirs provided to each lane (racer.provision)
    pool: int = 4  # spare lane checkouts kept for the next race (racer.pool)
    agent_configs: Mapping[str, AgentConfig] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)


def load_config(
    repo_root: Path,
    *,
    env: Mapping[str, str],
    spec_overrides: Mapping[str, object] | None = None,
    flags: Mapping[str, object] | None = None,
    spec_path: Path | None = None,
) -> Config:
    """Layer defaults < config file < RACER_* env < spec front matter < flags.

    `spec_path` only labels the spec layer in `sources` and in error messages.
    """
    root = repo_root.resolve()
    values: dict[str, object] = {}
    sources = dict.fromkeys(KEYS, "default")
    agent_configs: dict[str, AgentConfig] = {}

    found = _read_config_file(root)
    if found is not None:
        label, table = found
        file_values, agent_configs = _parse_file(table, label)
        for key, value in file_values.items():
            values[key], sources[key] = value, label

    for key, var in ENV_VARS.items():
        raw = env.get(var, "").strip()
        if raw:
            values[key], sources[key] = _from_env(key, var, raw), f"env {var}"

    spec_label = f"spec {spec_path}" if spec_path is not None else "spec"
    for key, value in (spec_overrides or {}).items():
        if key not in _SPEC_KEYS:
            raise ValueError(f"spec override {key!r} is not one of {_SPEC_KEYS}")
        if value is not None:
            where = f"{key} in front matter of {spec_path or 'the spec'}"
            values[key], sources[key] = _check(key, value, where), spec_label

    for key, value in (flags or {}).items():
        if key not in KEYS:
            raise ValueError(f"flag {key!r} is not a config key ({', '.join(KEYS)})")
        if value is not None:
            values[key], sources[key] = _check(key, value, _flag(key)), "flag"

    if "worktree_root" in values:
        values["worktree_root"] = _resolve(cast(Path, values["worktree_root"]), root)
    # Every value was checked against its key above, so the kwargs match Config's fields.
    kwargs = cast(dict[str, Any], values)
    return Config(
        **kwargs,
        agent_configs=MappingProxyType(agent_configs),
        sources=MappingProxyType(sources),
    )


# ---- reading files ---------------------------------------------------------------------------


def _read_config_file(root: Path) -> tuple[str, Mapping[str, object]] | None:
    """racer.toml if it exists, else [tool.racer] in pyproject.toml, else nothing."""
    racer_toml = root / CONFIG_FILE
    if racer_toml.exists():
        return str(racer_toml), _read_toml(racer_toml)
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return None
    tool = _read_toml(pyproject).get("tool")
    racer = tool.get("racer") if isinstance(tool, dict) else None
    if racer is None:
        return None
    label = f"{pyproject} [tool.racer]"
    if not isinstance(racer, dict):
        raise ConfigError(f"{label} must be a table, got {_show(racer)} — write it as [tool.racer]")
    return label, racer


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        fix = "fix the syntax"
        if "('agents'" in str(exc):  # tomllib's wording for `agents = [...]` plus [agents.NAME]
            fix = "a file cannot hold both agents = [...] and [agents.NAME]; write [agent.NAME]"
        raise ConfigError(_one_line(f"{path}: invalid TOML: {exc} — {fix}")) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text — save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc.strerror}) — check that it is a readable file"
        ) from None


def _parse_file(
    table: Mapping[str, object], label: str
) -> tuple[dict[str, object], dict[str, AgentConfig]]:
    values: dict[str, object] = {}
    agent_configs: dict[str, AgentConfig] = {}
    for key, value in table.items():
        if key not in _FILE_KEYS:
            raise ConfigError(
                f"{label}: unknown key {key!r}{_did_you_mean(key, _FILE_KEYS)}"
                f" — known keys: {', '.join(_FILE_KEYS)}"
            )
        if key in _AGENT_TABLES and isinstance(value, dict):
            for name, agent in _parse_agents(key, value, label).items():
                if name in agent_configs:
                    raise ConfigError(
                        f"{label}: agent {name!r} is defined in both [agents.{name}] and"
                        f" [agent.{name}] — keep one of them"
                    )
                agent_configs[name] = agent
        elif key == "agent":
            raise ConfigError(
                f"{label}: agent must be a table of [agent.NAME] tables, got {_show(value)}"
                " — write [agent.NAME] with command = [...]"
            )
        else:
            values[key] = _check(key, value, f"{label}: {key}")
    return values, agent_configs


def _parse_agents(
    table_key: str, tables: Mapping[str, object], label: str
) -> dict[str, AgentConfig]:
    agents: dict[str, AgentConfig] = {}
    for name, table in tables.items():
        where = f"{label}: {table_key}.{name}"
        if not _AGENT_NAME.fullmatch(name):
            raise ConfigError(
                f"{label}: agent name {name!r} in [{table_key}.NAME] is invalid"
                " — use only letters, digits, '_', '.' and '-'"
            )
        if not isinstance(table, dict):
            raise ConfigError(
                f"{where} must be a table, got {_show(table)}"
                f" — write [{table_key}.{name}] with command = [...]"
            )
        for key in table:
            if key not in AGENT_KEYS:
                raise ConfigError(
                    f"{label}: unknown key '{table_key}.{name}.{key}'"
                    f"{_did_you_mean(key, AGENT_KEYS)}"
                    f" — known keys in [{table_key}.{name}]: {', '.join(sorted(AGENT_KEYS))}"
                )
        command = table.get("command")
        args = table.get("args", [])
        agent_env = table.get("env", {})
        model = table.get("model")
        command_items = _str_tuple(command)
        if command is not None and (not command_items or not all(i.strip() for i in command_items)):
            raise _wrong(f"{where}.command", "a non-empty list of non-empty strings", command)
        args_items = _str_tuple(args)
        if args_items is None:
            raise _wrong(f"{where}.args", "a list of strings", args)
        if not isinstance(agent_env, dict):
            raise _wrong(f"{where}.env", "a table of strings", agent_env)
        for var, value in agent_env.items():
            if not isinstance(value, str):
                raise _wrong(f"{where}.env.{var}", "a string", value)
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise _wrong(f"{where}.model", "a non-empty string", model)
        fallback = table.get("fallback", [])
        fallback_items = _str_tuple(fallback)
        if fallback_items is None or not all(m.strip() for m in fallback_items):
            raise _wrong(f"{where}.fallback", "a list of model names", fallback)
        max_parallel = table.get("max_parallel")
        if max_parallel is not None:
            try:
                _check_jobs(max_parallel)
            except ValueError:
                raise _wrong(f"{where}.max_parallel", "an integer ≥ 1", max_parallel) from None
        agent_retries = table.get("retries")
        if agent_retries is not None:
            try:
                _check_count(agent_retries)
            except ValueError:
                raise _wrong(f"{where}.retries", "an integer ≥ 0", agent_retries) from None
        agents[name] = AgentConfig(
            name=name,
            command=command_items,
            args=args_items,
            env=MappingProxyType(dict(agent_env)),
            model=model.strip() if model is not None else None,
            fallback=tuple(m.strip() for m in fallback_items),
            max_parallel=cast(int | None, max_parallel),
            retries=cast(int | None, agent_retries),
            source=label,
        )
    return agents


def _str_tuple(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


# ---- checking values -------------------------------------------------------------------------


# What each key must be, for messages. The checks below raise ValueError; the caller adds where.
_EXPECTED = {
    "agents": "a non-empty list of contestants or a comma-separated string like 'claude,fake*2'",
    "test": "a non-empty shell command string",
    "setup": "a non-empty shell command string",
    "copy": "a list of paths or globs relative to the repo root",
    "timeout": "a positive number of seconds",
    "test_timeout": "a positive number of seconds",
    "jobs": "an integer ≥ 1",
    "worktree_root": "a non-empty path string",
    "retries": "an integer ≥ 0",
    "backoff": "a number of seconds ≥ 0",
    "test_paths": "a list of globs relative to the repo root",
    "test_report": "a path relative to the worktree",
    "baseline_runs": "an integer ≥ 0",
    "idle_timeout": "a positive number of seconds",
    "race_timeout": "a positive number of seconds",
    "max_cost": "a positive number of US dollars",
    "sandbox": "true or false",
    "share": "a list of ignored directories relative to the repo root, like node_modules",
    "pool": "an integer ≥ 0 (spare checkouts to keep; 0 keeps none)",
}


def _string_list(value: object, *, allow_empty: bool) -> tuple[str, ...]:
    """A list/tuple of non-empty strings, or one comma-separated string."""
    if isinstance(value, str):
        items = tuple(part.strip() for part in value.split(",") if part.strip())
    elif isinstance(value, list | tuple) and all(isinstance(i, str) and i.strip() for i in value):
        items = tuple(item.strip() for item in value)
    else:
        raise ValueError(value)
    if not items and not allow_empty:
        raise ValueError(value)
    return items


def _check_agents(value: object) -> tuple[str, ...]:
    return _string_list(value, allow_empty=False)


def _check_copy(value: object) -> tuple[str, ...]:
    items = _string_list(value, allow_empty=True)
    if any(Path(item).is_absolute() for item in items):
        raise ValueError(value)
    return items


def _check_command(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    return value.strip()


def _check_seconds(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(value)
    return float(value)


def _check_jobs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(value)
    return value


def _check_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def _check_delay(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(value)
    if value < 0:
        raise ValueError(value)
    return float(value)


def _check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(value)
    return value


def _bool_from_string(raw: str) -> object:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    return raw  # not a bool: the check reports it


def _check_path(value: object) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    return Path(value.strip())


_CHECKS: dict[str, Callable[[object], object]] = {
    "agents": _check_agents,
    "test": _check_command,
    "setup": _check_command,
    "copy": _check_copy,
    "timeout": _check_seconds,
    "test_timeout": _check_seconds,
    "jobs": _check_jobs,
    "worktree_root": _check_path,
    "retries": _check_count,
    "backoff": _check_delay,
    "test_paths": _check_copy,
    "test_report": _check_command,
    "baseline_runs": _check_count,
    "idle_timeout": _check_seconds,
    "race_timeout": _check_seconds,
    "max_cost": _check_seconds,
    "sandbox": _check_bool,
    "share": _check_copy,
    "pool": _check_count,
}

# Environment values are strings: these turn them into the Python value the check expects.
_FROM_STRING: dict[str, Callable[[str], object]] = {
    "timeout": float,
    "test_timeout": float,
    "jobs": int,
    "retries": int,
    "backoff": float,
    "baseline_runs": int,
    "idle_timeout": float,
    "race_timeout": float,
    "max_cost": float,
    "sandbox": _bool_from_string,
    "pool": int,
}


def _check(key: str, value: object, where: str) -> object:
    try:
        return _CHECKS[key](value)
    except ValueError:
        raise _wrong(where, _EXPECTED[key], value) from None


def _from_env(key: str, var: str, raw: str) -> object:
    try:
        return _CHECKS[key](_FROM_STRING.get(key, str)(raw))
    except ValueError:
        raise ConfigError(
            f"{var} must be {_EXPECTED[key]}, got {_show(raw)} — fix or unset the variable"
        ) from None


def _resolve(path: Path, root: Path) -> Path:
    path = path.expanduser()
    return (path if path.is_absolute() else root / path).resolve()


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _wrong(where: str, expected: str, value: object) -> ConfigError:
    return ConfigError(f"{where} must be {expected}, got {_show(value)}")


def _did_you_mean(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _one_line(message: str) -> str:
    return " ".join(message.split())


# ---- a resolved Config as JSON (kept with each race, so `racer resume` runs the same race) ------

_TUPLE_KEYS = ("agents", "copy", "test_paths", "share")


def config_to_dict(cfg: Config) -> dict[str, Any]:
    data: dict[str, Any] = {key: getattr(cfg, key) for key in KEYS}
    for key in _TUPLE_KEYS:
        data[key] = list(data[key])
    data["worktree_root"] = str(cfg.worktree_root) if cfg.worktree_root else None
    data["agent_configs"] = {
        name: {
            "command": list(a.command) if a.command else None,
            "args": list(a.args),
            "env": dict(a.env),
            "model": a.model,
            "fallback": list(a.fallback),
            "max_parallel": a.max_parallel,
            "retries": a.retries,
            "source": a.source,
        }
        for name, a in cfg.agent_configs.items()
    }
    data["sources"] = dict(cfg.sources)
    return data


def config_from_dict(data: Mapping[str, Any]) -> Config:
    values = {key: data[key] for key in KEYS if key in data}
    for key in _TUPLE_KEYS:
        if key in values:
            values[key] = tuple(values[key])
    if values.get("worktree_root"):
        values["worktree_root"] = Path(values["worktree_root"])
    agents = {
        name: AgentConfig(
            name=name,
            command=tuple(a["command"]) if a.get("command") else None,
            args=tuple(a.get("args", ())),
            env=dict(a.get("env", {})),
            model=a.get("model"),
            fallback=tuple(a.get("fallback", ())),
            max_parallel=a.get("max_parallel"),
            retries=a.get("retries"),
            source=a.get("source", ""),
        )
        for name, a in data.get("agent_configs", {}).items()
    }
    return Config(
        **values,
        agent_configs=MappingProxyType(agents),
        sources=MappingProxyType(dict(data.get("sources", {}))),
    )
