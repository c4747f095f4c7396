"""Settings for a race: one frozen Config layered from defaults, config file, env, spec and flags.

Highest first: flags > spec front matter > RACER_* env > racer.toml or [tool.racer] > defaults.
Each setting is declared once, as a `setting(...)` field of Config; SETTINGS reads them back, and
the checks, RACER_* env, spec keys, plan JSON, sources and `racer run` options derive from it.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, NoneType, UnionType
from typing import Any, TypedDict, TypeVar, cast, get_args, get_origin, get_type_hints

from racer import checks
from racer.errors import ConfigError

__all__ = [
    "AGENT_KEYS",
    "CONFIG_FILE",
    "ENV_VARS",
    "KEYS",
    "RUN_SETTINGS",
    "SETTINGS",
    "AgentConfig",
    "Config",
    "Flags",
    "Setting",
    "default_jobs",
    "flags_from_cli",
    "load_config",
]

AGENT_KEYS = (
    "command", "args", "extra_args", "env", "model", "fallback", "max_parallel", "retries",
    "agent", "instructions",
)  # fmt: skip
CONFIG_FILE = "racer.toml"
DEFAULT_TIMEOUT = 1800.0

# Agent definitions live in [agents.NAME] tables. TOML cannot hold both `agents = [...]` and
# [agents.NAME] in one file, so [agent.NAME] is accepted too and works next to a contestant list.
_AGENT_TABLES = ("agents", "agent")
_AGENT_NAME = re.compile(r"[A-Za-z0-9_.-]+")

_T = TypeVar("_T")


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
    # A setup: a built-in agent run under this table's name (`agent = "claude"`), with its own
    # instructions file put in place of the repository's for its lanes (repo-relative path).
    agent: str | None = None
    instructions: str | None = None


# ---- the settings: Config's fields, one Setting each -----------------------------------------


@dataclass(frozen=True)
class Flag:
    """A setting's `racer run` option as plain data (racer.cli makes the typer option of it)."""

    name: str  # "--test-timeout"
    help: str
    short: str | None = None  # "-j"
    repeatable: bool = False  # --copy A --copy B
    negative: bool = False  # an off switch for a setting that is on by default (--no-history)


@dataclass(frozen=True)
class Setting:
    """One setting: its Config field, and what each layer needs to know about it."""

    check: Callable[[object], object]
    expected: str  # the words of its error: "{where} must be {expected}, got {value}"
    spec: bool = False  # spec front matter may set it
    flag: Flag | None = None  # a `racer run` option
    name: str = ""  # from here on read from the Config field; the key in every layer
    type: Any = None  # like `float | None`
    default: Any = None
    default_factory: Callable[[], Any] | None = None  # makes the default for each Config

    @property
    def env_var(self) -> str:
        return f"RACER_{self.name.upper()}"

    @property
    def is_tuple(self) -> bool:
        return get_origin(_without_none(self.type)) is tuple

    @property
    def value_type(self) -> Any:
        """The type without None; a tuple's item type (`tuple[str, ...]` → str)."""
        plain = _without_none(self.type)
        return get_args(plain)[0] if self.is_tuple else plain

    def checked(self, value: object, where: str) -> object:
        return _checked(self.check, self.expected, value, where)

    def from_env(self, raw: str) -> object:
        """A RACER_* string parsed by value_type (a bool from a word), then checked."""
        try:
            return self.check(_FROM_STRING.get(self.value_type, str)(raw))
        except ValueError:
            raise ConfigError(
                f"{self.env_var} must be {self.expected}, got {_show(raw)} — fix or unset the variable"
            ) from None

    def from_cli(self, raw: object) -> object:
        """A parsed `racer run` option value → its flag for load_config (None: not given).

        A bool is an on-only switch (off: None, so the lower layers decide); a Path is made
        absolute from the current directory; a tuple is repeatable or one comma-separated string.
        """
        if raw is None or (self.value_type is bool and not raw):
            return None
        if self.flag is not None and self.flag.negative:
            return False  # given: off
        if isinstance(raw, list):  # repeatable
            return tuple(raw) or None
        if self.is_tuple:  # comma-separated; the check strips the items
            return tuple(item for item in str(raw).split(",") if item.strip())
        return Path(str(raw)).resolve() if self.value_type is Path else raw

    def from_json(self, value: object) -> object:
        return Path(cast(str, value)) if value and self.value_type is Path else _unjson(value)


def _without_none(tp: Any) -> Any:
    return next(t for t in get_args(tp) if t is not NoneType) if isinstance(tp, UnionType) else tp


def setting(
    default: _T | Callable[[], _T],
    check: Callable[[object], _T],
    expected: str,
    *,
    spec: bool = False,
    flag: Flag | None = None,
) -> _T:
    """A Config field that is a setting; mypy holds default and check to the field's type."""
    entry = {"setting": Setting(check, expected, spec=spec, flag=flag)}
    if callable(default):  # made for each Config, like default_factory
        return field(default_factory=default, metadata=entry)
    return field(default=default, metadata=entry)


@dataclass(frozen=True)
class Config:
    """Everything a race needs to know, plus where each value came from (`sources`)."""

    # fmt: off
    agents: tuple[str, ...] = setting((), checks.check_list,
        "a non-empty list of contestants or a comma-separated string like 'claude,fake*2'",
        spec=True, flag=Flag("--agents", "Contestants: NAME\\[@MODEL]\\[*N], comma-separated.", "-a"))
    test: str | None = setting(None, checks.check_command, "a non-empty shell command string",
        spec=True, flag=Flag("--test", "Test command run in every worktree."))
    setup: str | None = setting(None, checks.check_command, "a non-empty shell command string",
        spec=True, flag=Flag("--setup", "Command run in each worktree before its agent."))
    copy: tuple[str, ...] = setting((), checks.check_copy, "a list of paths or globs relative to the repo root",
        flag=Flag("--copy", "Ignored file/glob to copy into each worktree (repeatable).", repeatable=True))
    timeout: float = setting(DEFAULT_TIMEOUT, checks.check_seconds, "a positive number of seconds",
        spec=True, flag=Flag("--timeout", "Per-lane agent timeout, seconds."))
    test_timeout: float = setting(DEFAULT_TIMEOUT, checks.check_seconds, "a positive number of seconds",
        flag=Flag("--test-timeout", "Per test run timeout, seconds."))
    jobs: int = setting(default_jobs, checks.check_jobs, "an integer ≥ 1",
        flag=Flag("--jobs", "Concurrent test runs (default: CPU count).", "-j"))
    worktree_root: Path | None = setting(  # noqa: RUF009 (a field specifier, like field())
        None, checks.check_path, "a non-empty path string",
        flag=Flag("--worktree-root", "Where worktrees go (outside the repo)."))
    # retries of a rate-limited agent run, per model; the first waits `backoff`, then doubling
    retries: int = setting(2, checks.check_count, "an integer ≥ 0")
    backoff: float = setting(10.0, checks.check_delay, "a number of seconds ≥ 0")
    # globs of test files (default: racer.flags.DEFAULT_TEST_PATTERNS)
    test_paths: tuple[str, ...] = setting((), checks.check_copy, "a list of globs relative to the repo root")
    # JUnit XML a non-pytest test command writes (worktree-relative)
    test_report: str | None = setting(None, checks.check_command, "a path relative to the worktree")
    # runs of the test command on the base commit (2 finds flaky tests)
    baseline_runs: int = setting(2, checks.check_count, "an integer ≥ 0")
    idle_timeout: float | None = setting(None, checks.check_seconds, "a positive number of seconds",
        flag=Flag("--idle-timeout", "Stop an agent that prints nothing for this long, seconds."))
    race_timeout: float | None = setting(None, checks.check_seconds, "a positive number of seconds",
        flag=Flag("--race-timeout", "Wall limit for the whole race, seconds."))  # running lanes stop
    max_cost: float | None = setting(  # the CLI's budget flag, else stopped when passed
        None, checks.check_seconds, "a positive number of US dollars",
        flag=Flag("--max-cost", "USD per lane: the CLI's own budget flag where it has one, else "
                  "stopped once its reported cost passes this."))
    sandbox: bool = setting(  # see racer.sandbox
        False, checks.check_bool, "true or false",
        flag=Flag("--sandbox", "Run each agent and its tests under bubblewrap: it may write only "
                  "its worktree, its /tmp and its own config dirs."))
    share: tuple[str, ...] = setting(  # see racer.provision
        (), checks.check_copy, "a list of ignored directories relative to the repo root, like node_modules",
        flag=Flag("--share", "Ignored dependency dir (node_modules, .venv) to provide to each "
                  "worktree as a reflink, hardlinks or a copy (repeatable).", repeatable=True))
    # spare lane checkouts kept for the next race (racer.pool); no `racer run` flag
    pool: int = setting(4, checks.check_count, "an integer ≥ 0 (spare checkouts to keep; 0 keeps none)")
    # lanes as overlays on one base checkout where Linux allows, else checkouts (racer.overlay)
    lanes: str = setting("auto", checks.check_lanes, "auto, overlay or checkout")
    # the first race of a commit stands its overlay lanes on a checkout in memory (racer.overlay)
    base_in_memory: bool = setting(True, checks.check_bool, "true or false")
    review: str | None = setting(  # see racer.reviewing
        None, checks.check_agent, "an agent like 'codex', 'claude@opus' or 'auto'",
        spec=True, flag=Flag("--review", "Reviewer of the top candidates (any contestant syntax, "
                             "or auto: an installed agent of another model family); its "
                             "findings' tests are run and can change the ranking."))
    # candidates the reviewer sees (the best that passed)
    review_top: int = setting(3, checks.check_jobs, "an integer ≥ 1")
    write_tests: str | None = setting(
        None, checks.check_agent, "an agent like 'codex' or 'claude@opus'",
        spec=True, flag=Flag("--write-tests", "Agent that writes acceptance tests from the spec "
                             "and the base alone while the contestants work."))
    # diffs bigger than this are linked from report.html rather than inlined
    inline_diff_mb: float = setting(5.0, checks.check_seconds, "a positive number of megabytes")
    cascade: str | None = setting(  # see racer.cascade
        None, checks.check_cascade, "tiers like 'fake@cheap,fake@mid;claude@opus' or 'auto'",
        spec=True, flag=Flag("--cascade", "Tiers run in order, cheapest first ('a,b;c': ';' "
                             "between tiers); a tier whose candidate passes (confidence high "
                             "or medium, no tamper flag) ends the race. auto: one tier per "
                             "--agents contestant, by $ per solved race in this repository."))
    # a later tier's prompt says which tests the earlier tiers failed and why (never a diff)
    cascade_feedback: bool = setting(True, checks.check_bool, "true or false")
    first_pass: bool = setting(
        False, checks.check_bool, "true or false",
        flag=Flag("--first-pass", "Stop the lanes still running once a candidate passes with "
                  "high confidence (their work is kept; they are marked stopped)."))
    history: bool = setting(  # see racer.history
        True, checks.check_bool, "true or false",
        flag=Flag("--no-history", "Neither read nor record the race history: no track "
                  "record tie-break, nothing written to the database.", negative=True))
    preflight: bool = setting(
        True, checks.check_bool, "true or false",
        flag=Flag("--no-preflight", "Start the agents even when racer sees no credentials "
                  "for them (a gateway or login racer cannot see).", negative=True))
    # fmt: on
    agent_configs: Mapping[str, AgentConfig] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def inline_diff_bytes(self) -> int:
        return int(self.inline_diff_mb * 2**20)


_FROM_STRING: dict[Any, Callable[[str], object]] = {
    float: float,
    int: int,
    bool: checks.bool_from_string,
}


def _read_settings(cls: Any) -> tuple[Setting, ...]:
    """The Setting of each `setting(...)` field of a dataclass (Config), completed from the field."""
    hints, table = get_type_hints(cls), []
    for f in dataclasses.fields(cls):
        if "setting" in f.metadata:
            made = None if f.default_factory is dataclasses.MISSING else f.default_factory
            entry = dataclasses.replace(f.metadata["setting"], name=f.name, type=hints[f.name])
            default = None if made else f.default
            table.append(dataclasses.replace(entry, default=default, default_factory=made))
    return tuple(table)


SETTINGS = _read_settings(Config)
KEYS = tuple(s.name for s in SETTINGS)
ENV_VARS = {s.name: s.env_var for s in SETTINGS}
SPEC_KEYS = tuple(s.name for s in SETTINGS if s.spec)
RUN_SETTINGS = tuple(s for s in SETTINGS if s.flag is not None)
_BY_NAME = {s.name: s for s in SETTINGS}
_FILE_KEYS = tuple(sorted({*KEYS, *_AGENT_TABLES}))

# load_config's flags: mypy rejects a misspelt key wherever a Flags is built. One key per setting
# (tests/test_config.py holds it to KEYS); None means not given; values are checked at run time.
# fmt: off
Flags = TypedDict("Flags", {  # noqa: UP013 (keys grouped on lines, not one per line)
    "agents": object, "test": object, "setup": object, "copy": object, "timeout": object,
    "test_timeout": object, "jobs": object, "worktree_root": object, "retries": object,
    "backoff": object, "test_paths": object, "test_report": object, "baseline_runs": object,
    "idle_timeout": object, "race_timeout": object, "max_cost": object, "sandbox": object,
    "share": object, "pool": object, "lanes": object, "base_in_memory": object, "review": object, "review_top": object, "write_tests": object,
    "inline_diff_mb": object, "cascade": object, "cascade_feedback": object, "first_pass": object,
    "history": object, "preflight": object,
}, total=False)
# fmt: on


def flags_from_cli(values: Mapping[str, object]) -> Flags:
    """`racer run`'s parsed option values by setting name → load_config's flags (None: not given)."""
    known = [s.name for s in RUN_SETTINGS]
    if unknown := [key for key in values if key not in known]:
        raise ValueError(f"{unknown[0]!r} is not a `racer run` setting ({', '.join(known)})")
    return cast(Flags, {s.name: s.from_cli(values.get(s.name)) for s in RUN_SETTINGS})


def load_config(
    repo_root: Path,
    *,
    env: Mapping[str, str],
    spec_overrides: Mapping[str, object] | None = None,
    # Flags where a caller builds them (mypy checks the keys), any Mapping where one passes them
    # through (racer.plan.prepare); an unknown key is a ValueError either way.
    flags: Flags | None = None,
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

    for s in SETTINGS:
        raw = env.get(s.env_var, "").strip()
        if raw:
            values[s.name], sources[s.name] = s.from_env(raw), f"env {s.env_var}"

    spec_label = f"spec {spec_path}" if spec_path is not None else "spec"
    for key, value in (spec_overrides or {}).items():
        if key not in SPEC_KEYS:
            raise ValueError(f"spec override {key!r} is not one of {SPEC_KEYS}")
        if value is not None:
            where = f"{key} in front matter of {spec_path or 'the spec'}"
            values[key], sources[key] = _BY_NAME[key].checked(value, where), spec_label

    for key, value in (flags or {}).items():
        if key not in KEYS:
            raise ValueError(f"flag {key!r} is not a config key ({', '.join(KEYS)})")
        if value is not None:
            s = _BY_NAME[key]
            where = s.flag.name if s.flag else "--" + key.replace("_", "-")
            values[key], sources[key] = s.checked(value, where), "flag"

    for s in SETTINGS:  # a relative path is relative to the repository root
        if s.value_type is Path and values.get(s.name) is not None:
            path = cast(Path, values[s.name]).expanduser()
            values[s.name] = (path if path.is_absolute() else root / path).resolve()
    return Config(
        **cast(dict[str, Any], values),  # each value was checked against its key above
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
            values[key] = _BY_NAME[key].checked(value, f"{label}: {key}")
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
        extra = table.get("extra_args", [])
        base = table.get("agent")
        instructions = table.get("instructions")
        for key, value in (("agent", base), ("instructions", instructions)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise _wrong(f"{where}.{key}", "a non-empty string", value)
        if base is not None and command is not None:
            raise ConfigError(
                f"{where} has both command and agent — a table runs a command of yours or a "
                'built-in agent (agent = "claude"), not both'
            )
        agent_env = table.get("env", {})
        model = table.get("model")
        command_items = _str_tuple(command)
        if command is not None and (not command_items or not all(i.strip() for i in command_items)):
            raise _wrong(f"{where}.command", "a non-empty list of non-empty strings", command)
        args_items = _str_tuple(args)
        if args_items is None:
            raise _wrong(f"{where}.args", "a list of strings", args)
        extra_items = _str_tuple(extra)
        if extra_items is None:
            raise _wrong(f"{where}.extra_args", "a list of strings", extra)
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
            _checked(checks.check_jobs, "an integer ≥ 1", max_parallel, f"{where}.max_parallel")
        agent_retries = table.get("retries")
        if agent_retries is not None:
            _checked(checks.check_count, "an integer ≥ 0", agent_retries, f"{where}.retries")
        agents[name] = AgentConfig(
            name=name,
            command=command_items,
            args=(*args_items, *extra_items),  # extra_args is another name for args
            env=MappingProxyType(dict(agent_env)),
            model=model.strip() if model is not None else None,
            fallback=tuple(m.strip() for m in fallback_items),
            max_parallel=cast(int | None, max_parallel),
            retries=cast(int | None, agent_retries),
            source=label,
            agent=base.strip() if base is not None else None,
            instructions=instructions.strip() if instructions is not None else None,
        )
    return agents


def _str_tuple(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _checked(check: Callable[[object], object], expected: str, value: object, where: str) -> object:
    try:
        return check(value)
    except ValueError:
        raise _wrong(where, expected, value) from None


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


def _unjson(value: Any) -> Any:
    """A JSON list back as a tuple (racer.planfile keeps configs as JSON)."""
    return tuple(value) if isinstance(value, list) else value
