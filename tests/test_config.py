"""Config layering: defaults < racer.toml/[tool.racer] < RACER_* env < spec front matter < flags."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from racer import checks, cli
from racer import config as cfgmod
from racer import spec as specmod
from racer.config import (
    ENV_VARS,
    KEYS,
    RUN_SETTINGS,
    SETTINGS,
    AgentConfig,
    Config,
    Flag,
    Flags,
    Setting,
    flags_from_cli,
    load_config,
    setting,
)
from racer.errors import ConfigError, UserError
from racer.planfile import config_from_dict, config_to_dict
from racer.spec import load_spec

NO_ENV: Mapping[str, str] = {}


def racer_toml(root: Path, text: str) -> Path:
    path = root / "racer.toml"
    path.write_text(text, encoding="utf-8")
    return path


def pyproject(root: Path, text: str) -> Path:
    path = root / "pyproject.toml"
    path.write_text('[project]\nname = "demo"\nversion = "0"\n\n' + text, encoding="utf-8")
    return path


def config_error(
    root: Path,
    *,
    env: Mapping[str, str] = NO_ENV,
    spec_overrides: Mapping[str, object] | None = None,
    flags: Mapping[str, object] | None = None,
) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(root, env=env, spec_overrides=spec_overrides, flags=flags)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, UserError)
    assert info.value.exit_code == 1
    return message


# ---- defaults and files ---------------------------------------------------------------------


def test_defaults_without_any_source(tmp_path: Path) -> None:
    config = load_config(tmp_path, env=NO_ENV)
    assert config == Config(sources=dict.fromkeys(KEYS, "default"))
    assert config.agents == ()
    assert config.test is None
    assert config.setup is None
    assert config.copy == ()
    assert config.timeout == 1800.0
    assert config.test_timeout == 1800.0
    assert config.jobs == (os.cpu_count() or 1)
    assert config.worktree_root is None
    assert config.agent_configs == {}
    assert dict(config.sources) == dict.fromkeys(KEYS, "default")


def test_racer_toml_beats_defaults_with_every_key(tmp_path: Path) -> None:
    path = racer_toml(
        tmp_path,
        """
agents = ["claude", "fake*2"]
test = "pytest -q"
setup = "pip install -e ."
copy = [".env", "data/*.csv"]
timeout = 600
test_timeout = 90.5
jobs = 4
worktree_root = "../wt"
retries = 0
backoff = 0.5
test_paths = ["spec/**"]
test_report = "build/junit.xml"
baseline_runs = 1
idle_timeout = 60
race_timeout = 3600
max_cost = 2.5
sandbox = true
share = ["node_modules"]
pool = 9
lanes = "checkout"
base_in_memory = false
review = "codex@gpt-5.5"
review_top = 2
write_tests = "claude"
inline_diff_mb = 0.5
cascade = "fake@cheap;claude"
cascade_feedback = false
first_pass = true
history = false
preflight = false
""",
    )
    config = load_config(tmp_path, env=NO_ENV)
    assert config.agents == ("claude", "fake*2")
    assert config.test == "pytest -q"
    assert config.setup == "pip install -e ."
    assert config.copy == (".env", "data/*.csv")
    assert config.timeout == 600.0
    assert isinstance(config.timeout, float)
    assert config.test_timeout == 90.5
    assert config.jobs == 4
    assert config.worktree_root == (tmp_path / ".." / "wt").resolve()
    assert (config.retries, config.backoff) == (0, 0.5)
    assert (config.max_cost, config.sandbox, config.share) == (2.5, True, ("node_modules",))
    assert (config.pool, config.lanes, config.base_in_memory) == (9, "checkout", False)
    assert (config.review, config.review_top, config.write_tests) == ("codex@gpt-5.5", 2, "claude")
    assert config.inline_diff_bytes == 2**19
    assert (config.cascade, config.cascade_feedback) == ("fake@cheap;claude", False)
    assert (config.first_pass, config.history, config.preflight) == (True, False, False)
    assert dict(config.sources) == dict.fromkeys(KEYS, str(path))


def test_comma_separated_agents_in_file(tmp_path: Path) -> None:
    racer_toml(tmp_path, 'agents = "claude, codex@gpt-5.5,fake*2"\n')
    assert load_config(tmp_path, env=NO_ENV).agents == ("claude", "codex@gpt-5.5", "fake*2")


def test_pyproject_tool_racer_is_used_without_racer_toml(tmp_path: Path) -> None:
    path = pyproject(tmp_path, '[tool.racer]\ntest = "make test"\njobs = 2\n')
    config = load_config(tmp_path, env=NO_ENV)
    assert (config.test, config.jobs) == ("make test", 2)
    assert config.sources["test"] == f"{path} [tool.racer]"
    assert config.sources["timeout"] == "default"


def test_racer_toml_wins_over_pyproject(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.racer]\ntest = "from pyproject"\njobs = 2\n')
    path = racer_toml(tmp_path, 'test = "from racer.toml"\n')
    config = load_config(tmp_path, env=NO_ENV)
    assert config.test == "from racer.toml"
    assert config.jobs == (os.cpu_count() or 1)  # pyproject is not read at all
    assert config.sources["test"] == str(path)


def test_pyproject_without_tool_racer_means_defaults(tmp_path: Path) -> None:
    pyproject(tmp_path, "[tool.ruff]\nline-length = 100\n")
    assert load_config(tmp_path, env=NO_ENV).sources == dict.fromkeys(KEYS, "default")


def test_worktree_root_expands_home_and_keeps_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    racer_toml(tmp_path, 'worktree_root = "~/worktrees"\n')
    assert load_config(tmp_path, env=NO_ENV).worktree_root == (home / "worktrees").resolve()
    absolute = tmp_path / "abs"
    config = load_config(tmp_path, env=NO_ENV, flags={"worktree_root": absolute})
    assert config.worktree_root == absolute.resolve()


# ---- agent tables ---------------------------------------------------------------------------


def test_agent_tables_in_racer_toml(tmp_path: Path) -> None:
    path = racer_toml(
        tmp_path,
        """
[agents.mybot]
command = ["mybot", "--prompt-file", "{prompt_file}", "--model", "{model}"]
model = "small"
env = { MYBOT_QUIET = "1" }

[agents.claude]
args = ["--verbose"]
""",
    )
    configs = load_config(tmp_path, env=NO_ENV).agent_configs
    assert configs == {
        "mybot": AgentConfig(
            name="mybot",
            command=("mybot", "--prompt-file", "{prompt_file}", "--model", "{model}"),
            env={"MYBOT_QUIET": "1"},
            model="small",
            source=str(path),
        ),
        "claude": AgentConfig(name="claude", args=("--verbose",), source=str(path)),
    }


def test_agent_singular_tables_sit_next_to_a_contestant_list(tmp_path: Path) -> None:
    # TOML forbids `agents = [...]` together with [agents.NAME]; [agent.NAME] is the way out.
    racer_toml(tmp_path, 'agents = ["mybot*2"]\n\n[agent.mybot]\ncommand = ["mybot", "{prompt}"]\n')
    config = load_config(tmp_path, env=NO_ENV)
    assert config.agents == ("mybot*2",)
    assert config.agent_configs["mybot"].command == ("mybot", "{prompt}")


def test_agent_tables_in_pyproject(tmp_path: Path) -> None:
    path = pyproject(
        tmp_path,
        '[tool.racer]\nagents = "helper"\n\n'
        '[tool.racer.agent.helper]\ncommand = ["./helper.sh", "{worktree}"]\n\n'
        '[tool.racer.agent."codex.fast"]\nmodel = "gpt-5.5"\n',
    )
    config = load_config(tmp_path, env=NO_ENV)
    assert config.agents == ("helper",)
    assert config.agent_configs["helper"].command == ("./helper.sh", "{worktree}")
    assert config.agent_configs["helper"].source == f"{path} [tool.racer]"
    assert config.agent_configs["codex.fast"].model == "gpt-5.5"
    assert config.agent_configs["codex.fast"].command is None

    (tmp_path / "pyproject.toml").unlink()
    pyproject(tmp_path, '[tool.racer.agents.helper]\ncommand = ["./helper.sh"]\n')
    assert load_config(tmp_path, env=NO_ENV).agent_configs["helper"].command == ("./helper.sh",)


# ---- environment ----------------------------------------------------------------------------


def test_env_beats_file(tmp_path: Path) -> None:
    racer_toml(tmp_path, 'test = "from file"\ntimeout = 10\nagents = ["claude"]\n')
    env = {
        "RACER_TEST": "from env",
        "RACER_TIMEOUT": "20.5",
        "RACER_AGENTS": "codex, fake*2",
        "RACER_COPY": ".env,secrets/*.json",
        "RACER_JOBS": "3",
        "RACER_TEST_TIMEOUT": "45",
        "RACER_SETUP": "make deps",
        "RACER_WORKTREE_ROOT": "wt",
    }
    config = load_config(tmp_path, env=env)
    assert config.test == "from env"
    assert config.timeout == 20.5
    assert config.agents == ("codex", "fake*2")
    assert config.copy == (".env", "secrets/*.json")
    assert config.jobs == 3
    assert config.test_timeout == 45.0
    assert config.setup == "make deps"
    assert config.worktree_root == (tmp_path / "wt").resolve()
    assert config.sources["test"] == "env RACER_TEST"
    assert config.sources["timeout"] == "env RACER_TIMEOUT"
    assert config.sources["worktree_root"] == "env RACER_WORKTREE_ROOT"


def test_empty_env_means_unset_and_other_racer_vars_are_ignored(tmp_path: Path) -> None:
    path = racer_toml(tmp_path, 'test = "from file"\n')
    env = {"RACER_TEST": "", "RACER_JOBS": "  ", "RACER_FAKE_MODE": "pass", "RACER_NOPE": "x"}
    config = load_config(tmp_path, env=env)
    assert config.test == "from file"
    assert config.sources["test"] == str(path)
    assert config.sources["jobs"] == "default"


# ---- spec and flags -------------------------------------------------------------------------


def test_spec_beats_env(tmp_path: Path) -> None:
    spec_path = tmp_path / "task.md"
    spec_path.write_text("---\ntest: from spec\ntimeout: 30\n---\nGo.\n", encoding="utf-8")
    spec = load_spec(spec_path)
    env = {"RACER_TEST": "from env", "RACER_TIMEOUT": "20", "RACER_JOBS": "2"}
    config = load_config(tmp_path, env=env, spec_overrides=spec.overrides(), spec_path=spec.path)
    assert config.test == "from spec"
    assert config.timeout == 30.0
    assert config.jobs == 2
    assert config.sources["test"] == f"spec {spec.path}"
    assert config.sources["jobs"] == "env RACER_JOBS"


def test_flags_beat_spec(tmp_path: Path) -> None:
    overrides = {"test": "from spec", "agents": ("claude",), "timeout": 30.0}
    flags: Flags = {"test": "from flag", "agents": ["fake", "fake"], "timeout": None}
    config = load_config(tmp_path, env=NO_ENV, spec_overrides=overrides, flags=flags)
    assert config.test == "from flag"
    assert config.agents == ("fake", "fake")
    assert config.timeout == 30.0  # None means the flag was not given
    assert config.sources["test"] == "flag"
    assert config.sources["timeout"] == "spec"


def test_every_flag(tmp_path: Path) -> None:
    flags: Flags = {
        "agents": "claude,codex",
        "test": "pytest",
        "setup": "true",
        "copy": [".env"],
        "timeout": 5,
        "test_timeout": 7.5,
        "jobs": 1,
        "worktree_root": "wt",
        "retries": 3,
        "backoff": 0,
        "test_paths": ["t/**"],
        "test_report": "out.xml",
        "baseline_runs": 0,
        "idle_timeout": 30,
        "race_timeout": 600,
        "max_cost": 1,
        "sandbox": True,
        "share": [".venv"],
        "review": "codex",
        "review_top": 2,
        "write_tests": "claude@opus",
        "cascade": "fake;claude",
        "first_pass": True,
        "history": False,
        "preflight": False,
    }
    config = load_config(tmp_path, env={"RACER_JOBS": "8"}, flags=flags)
    assert config.agents == ("claude", "codex")
    assert (config.timeout, config.test_timeout, config.jobs) == (5.0, 7.5, 1)
    assert config.worktree_root == (tmp_path / "wt").resolve()
    # `pool` is about removing lanes (merge, clean), `lanes` and `base_in_memory` about the
    # machine, `inline_diff_mb`
    # about the views, not about one race: no `racer run` flag
    expected = {
        **dict.fromkeys(KEYS, "flag"),
        **dict.fromkeys(
            ("pool", "lanes", "base_in_memory", "inline_diff_mb", "cascade_feedback"), "default"
        ),
    }
    assert dict(config.sources) == expected
    assert (config.review, config.review_top, config.write_tests) == ("codex", 2, "claude@opus")


def test_unknown_flag_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="verbose"):
        load_config(tmp_path, env=NO_ENV, flags={"verbose": True})


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(tmp_path, env=NO_ENV)
    with pytest.raises(AttributeError):
        config.jobs = 2  # type: ignore[misc]  # proving the dataclass is frozen
    with pytest.raises(TypeError):
        config.sources["jobs"] = "flag"  # type: ignore[index]  # proving the mapping is read-only


# ---- errors ---------------------------------------------------------------------------------


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = racer_toml(tmp_path, "timout = 5\n")
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: unknown key 'timout' (did you mean 'timeout'?)")
    assert (
        "known keys: agent, agents, backoff, base_in_memory, baseline_runs, cascade, cascade_feedback, copy, first_pass, history, idle_timeout, inline_diff_mb, jobs, lanes, max_cost, pool, preflight, race_timeout, retries, review, review_top, sandbox, setup, share, test, test_paths, test_report, test_timeout, timeout, worktree_root, write_tests"
        in message
    )


def test_unknown_key_in_pyproject_names_the_table(tmp_path: Path) -> None:
    path = pyproject(tmp_path, '[tool.racer]\ntests = "pytest"\n')
    assert config_error(tmp_path).startswith(f"{path} [tool.racer]: unknown key 'tests'")


def test_unknown_agent_table_key(tmp_path: Path) -> None:
    path = racer_toml(tmp_path, '[agents.mybot]\ncomand = ["x"]\n')
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: unknown key 'agents.mybot.comand'")
    assert (
        "known keys in [agents.mybot]: agent, args, command, env, extra_args, fallback, instructions, max_parallel, model, retries"
        in message
    )


@pytest.mark.parametrize(
    ("toml", "key", "got"),
    [
        ('timeout = "soon"', "timeout", "'soon'"),
        ("timeout = 0", "timeout", "0"),
        ("test_timeout = -1.5", "test_timeout", "-1.5"),
        ("timeout = true", "timeout", "True"),
        ("jobs = 2.5", "jobs", "2.5"),
        ("jobs = 0", "jobs", "0"),
        ("agents = 3", "agents", "3"),
        ("agents = []", "agents", "[]"),
        ('agents = ["claude", 1]', "agents", "['claude', 1]"),
        ('test = ""', "test", "''"),
        ("setup = ['make']", "setup", "['make']"),
        ('copy = ["/etc/passwd"]', "copy", "['/etc/passwd']"),
        ('worktree_root = ""', "worktree_root", "''"),
        ("[agents.bot]\ncommand = []", "agents.bot.command", "[]"),
        ('[agents.bot]\ncommand = "bot {prompt}"', "agents.bot.command", "'bot {prompt}'"),
        ('[agents.bot]\ncommand = ["bot", ""]', "agents.bot.command", "['bot', '']"),
        ("[agents.bot]\nargs = [1]", "agents.bot.args", "[1]"),
        ('[agents.bot]\nenv = "X=1"', "agents.bot.env", "'X=1'"),
        ("[agents.bot]\nenv = { X = 1 }", "agents.bot.env.X", "1"),
        ("[agent.bot]\nmodel = 5", "agent.bot.model", "5"),
        ("[agents]\nbot = 5", "agents.bot", "5"),
        ("agent = 5", "agent", "5"),
        ("pool = -1", "pool", "-1"),
        ('pool = "many"', "pool", "'many'"),
    ],
)
def test_wrong_types_in_file(tmp_path: Path, toml: str, key: str, got: str) -> None:
    path = racer_toml(tmp_path, toml + "\n")
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: {key} must be ")
    assert f", got {got}" in message


def test_same_agent_in_both_table_spellings(tmp_path: Path) -> None:
    path = racer_toml(tmp_path, '[agents.bot]\nmodel = "a"\n[agent.bot]\nmodel = "b"\n')
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: agent 'bot' is defined in both")


@pytest.mark.parametrize("name", ["my bot", "bot!", "émoji"])
def test_bad_agent_name(tmp_path: Path, name: str) -> None:
    path = racer_toml(tmp_path, f'[agents."{name}"]\ncommand = ["x"]\n')
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: agent name {name!r} in [agents.NAME] is invalid")
    assert "letters, digits" in message


@pytest.mark.parametrize("maker", [racer_toml, pyproject])
def test_bad_toml(tmp_path: Path, maker: Callable[[Path, str], Path]) -> None:
    path = maker(tmp_path, "[tool.racer]\ntest = \n")
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: invalid TOML: ")
    assert "(at line " in message  # the parser's own position


def test_contestant_list_next_to_agents_tables_gets_a_hint(tmp_path: Path) -> None:
    path = racer_toml(tmp_path, 'agents = ["bot"]\n\n[agents.bot]\ncommand = ["bot"]\n')
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: invalid TOML: ")
    assert message.endswith("write [agent.NAME]")


def test_tool_racer_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool]\nracer = "yes"\n', encoding="utf-8")
    assert config_error(tmp_path).startswith(f"{path} [tool.racer] must be a table")


def test_config_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "racer.toml"
    path.write_bytes('test = "caf\u00e9"\n'.encode("latin-1"))
    message = config_error(tmp_path)
    assert str(path) in message
    assert "UTF-8" in message


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("RACER_TIMEOUT", "soon", "a positive number of seconds"),
        ("RACER_TIMEOUT", "-5", "a positive number of seconds"),
        ("RACER_TIMEOUT", "nan", "a positive number of seconds"),
        ("RACER_TEST_TIMEOUT", "0", "a positive number of seconds"),
        ("RACER_JOBS", "0", "an integer ≥ 1"),
        ("RACER_JOBS", "2.5", "an integer ≥ 1"),
        ("RACER_JOBS", "many", "an integer ≥ 1"),
        ("RACER_AGENTS", ",", "a non-empty list of contestants"),
        ("RACER_COPY", "/abs/.env", "a list of paths or globs relative to the repo root"),
        ("RACER_POOL", "-2", "an integer ≥ 0"),
    ],
)
def test_bad_env_values(tmp_path: Path, var: str, value: str, expected: str) -> None:
    message = config_error(tmp_path, env={var: value})
    assert message.startswith(f"{var} must be {expected}")
    assert f"got {value!r}" in message


def test_env_timeout_message_matches_the_documented_form(tmp_path: Path) -> None:
    message = config_error(tmp_path, env={"RACER_TIMEOUT": "soon"})
    assert message.startswith("RACER_TIMEOUT must be a positive number of seconds, got 'soon'")


@pytest.mark.parametrize(
    ("flags", "start"),
    [
        ({"jobs": 0}, "--jobs must be an integer ≥ 1, got 0"),
        ({"jobs": True}, "--jobs must be an integer ≥ 1, got True"),
        ({"timeout": -1}, "--timeout must be a positive number of seconds, got -1"),
        ({"test_timeout": "x"}, "--test-timeout must be a positive number of seconds"),
        ({"agents": ()}, "--agents must be a non-empty list of contestants"),
        ({"worktree_root": ""}, "--worktree-root must be a non-empty path string"),
    ],
)
def test_bad_flags(tmp_path: Path, flags: dict[str, object], start: str) -> None:
    assert config_error(tmp_path, flags=flags).startswith(start)


def test_bad_spec_override_names_the_spec(tmp_path: Path) -> None:
    spec_path = tmp_path / "task.md"
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env=NO_ENV, spec_overrides={"timeout": 0}, spec_path=spec_path)
    assert str(info.value).startswith(f"timeout in front matter of {spec_path} must be ")


def test_agent_rate_limit_keys(tmp_path: Path) -> None:
    racer_toml(
        tmp_path,
        '[agents.claude]\nfallback = ["sonnet", "haiku"]\nmax_parallel = 2\nretries = 1\n',
    )
    cfg = load_config(tmp_path, env=NO_ENV).agent_configs["claude"]
    assert (cfg.fallback, cfg.max_parallel, cfg.retries) == (("sonnet", "haiku"), 2, 1)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('fallback = "sonnet"', "agents.claude.fallback"),
        ("max_parallel = 0", "agents.claude.max_parallel"),
        ("retries = -1", "agents.claude.retries"),
    ],
)
def test_agent_rate_limit_keys_are_checked(tmp_path: Path, body: str, key: str) -> None:
    racer_toml(tmp_path, f"[agents.claude]\n{body}\n")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(tmp_path, env=NO_ENV)


def test_retries_and_backoff_from_env(tmp_path: Path) -> None:
    config = load_config(tmp_path, env={"RACER_RETRIES": "0", "RACER_BACKOFF": "1.5"})
    assert (config.retries, config.backoff) == (0, 1.5)
    with pytest.raises(ConfigError, match="RACER_RETRIES"):
        load_config(tmp_path, env={"RACER_RETRIES": "many"})


# ---- the settings table and what derives from it ----------------------------------------------


# A RACER_* string every check accepts, by the setting's value type.
_ENV_SAMPLE = {float: "7", int: "3", bool: "true", str: "a,b", Path: "wt"}
_ENV_SAMPLE_OF = {
    "review": "codex",
    "write_tests": "claude@opus",
    "review_top": "5",
    "cascade": "fake;claude",
    "cascade_feedback": "false",
    "history": "false",
    "preflight": "false",
    "lanes": "checkout",
    "base_in_memory": "false",
}


def test_one_setting_per_config_field_in_field_order() -> None:
    names = [f.name for f in dataclasses.fields(Config)]
    assert tuple(names[: names.index("agent_configs")]) == KEYS
    assert names[len(KEYS) :] == ["agent_configs", "sources"]
    assert [s.name for s in SETTINGS] == list(KEYS)


def test_flags_typeddict_has_one_key_per_setting() -> None:
    # Flags is spelt out for mypy; this keeps it to the table.
    assert Flags.__optional_keys__ == frozenset(KEYS)
    assert Flags.__required_keys__ == frozenset()


def test_spec_keys_are_the_spec_modules_override_keys() -> None:
    assert cfgmod.SPEC_KEYS == specmod.OVERRIDE_KEYS
    assert specmod.OVERRIDE_KEYS == (
        "agents", "test", "setup", "timeout", "review", "write_tests", "cascade",
    )  # fmt: skip


def test_defaults_come_from_the_table() -> None:
    config = Config()
    for s in SETTINGS:
        expected = s.default_factory() if s.default_factory else s.default
        assert getattr(config, s.name) == expected, s.name
    assert config.jobs == (os.cpu_count() or 1)
    assert {s.name: f"RACER_{s.name.upper()}" for s in SETTINGS} == ENV_VARS


@pytest.mark.parametrize("entry", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_read_from_its_env_var_and_round_trips(
    tmp_path: Path, entry: Setting
) -> None:
    # Any setting added to the table is parsed from RACER_<NAME> and lands in the plan's JSON.
    sample = _ENV_SAMPLE_OF.get(entry.name, _ENV_SAMPLE[entry.value_type])
    config = load_config(tmp_path, env={entry.env_var: sample})
    assert config.sources[entry.name] == f"env {entry.env_var}"
    assert getattr(config, entry.name) != getattr(Config(), entry.name)
    data = json.loads(json.dumps(config_to_dict(config)))
    assert entry.name in data
    assert config_from_dict(data) == config


def test_round_trip_with_every_key_and_agent_tables(tmp_path: Path) -> None:
    racer_toml(
        tmp_path,
        'agents = ["mybot*2", "claude"]\ncopy = [".env"]\nshare = ["node_modules"]\n'
        'worktree_root = "../wt"\nsandbox = true\nmax_cost = 1.5\nidle_timeout = 9\n\n'
        '[agent.mybot]\ncommand = ["mybot", "{prompt}"]\nenv = { K = "v" }\nfallback = ["m2"]\n'
        'max_parallel = 2\n\n[agent.claude]\nargs = ["--verbose"]\nmodel = "sonnet"\n',
    )
    config = load_config(tmp_path, env={"RACER_TEST": "pytest"}, flags={"jobs": 3})
    data = json.loads(json.dumps(config_to_dict(config)))
    assert config_from_dict(data) == config


def test_json_shape_is_what_plan_json_of_existing_races_holds() -> None:
    config = Config(
        agents=("claude", "fake*2"),
        copy=(".env",),
        jobs=2,
        worktree_root=Path("/wt"),
        agent_configs={"bot": AgentConfig(name="bot", command=("bot",), source="racer.toml")},
        sources={"agents": "flag"},
    )
    data = config_to_dict(config)
    assert list(data) == [*KEYS, "agent_configs", "sources"]
    assert data["agents"] == ["claude", "fake*2"]
    assert data["copy"] == [".env"] and data["share"] == [] and data["test_paths"] == []
    assert data["worktree_root"] == "/wt"
    assert data["timeout"] == 1800.0 and data["test"] is None and data["sandbox"] is False
    assert data["agent_configs"] == {
        "bot": {
            "command": ["bot"],
            "args": [],
            "env": {},
            "model": None,
            "fallback": [],
            "max_parallel": None,
            "retries": None,
            "source": "racer.toml",
            "agent": None,
            "instructions": None,
        }
    }
    assert data["sources"] == {"agents": "flag"}
    assert config_to_dict(Config(jobs=2))["worktree_root"] is None


def test_older_plan_json_without_newer_keys_loads_with_defaults() -> None:
    old: dict[str, object] = {
        "agents": ["claude"],
        "test": "pytest",
        "setup": None,
        "copy": [],
        "timeout": 60.0,
        "test_timeout": 60.0,
        "jobs": 2,
        "worktree_root": None,
        "agent_configs": {"bot": {"command": ["bot"], "args": [], "env": {}, "model": None}},
        "sources": {"test": "flag"},
    }
    config = config_from_dict(old)
    assert (config.agents, config.test, config.jobs) == (("claude",), "pytest", 2)
    assert (config.timeout, config.pool, config.retries, config.share) == (60.0, 4, 2, ())
    assert config.agent_configs["bot"] == AgentConfig(name="bot", command=("bot",))


def test_a_new_setting_derives_its_env_parser_cli_value_and_json() -> None:
    @dataclass(frozen=True)
    class Toy:
        limit: float | None = setting(
            None, checks.check_seconds, "a positive number of seconds", flag=Flag("--limit", "L.")
        )
        dirs: tuple[str, ...] = setting(
            (), checks.check_copy, "a list of dirs", flag=Flag("--dir", "D.", repeatable=True)
        )
        names: tuple[str, ...] = setting(lambda: ("x",), checks.check_list, "names", spec=True)

    limit, dirs, names = cfgmod._read_settings(Toy)
    assert (limit.name, limit.env_var, limit.value_type, limit.is_tuple) == (
        "limit",
        "RACER_LIMIT",
        float,
        False,
    )
    assert limit.from_env(" 2.5") == 2.5
    with pytest.raises(ConfigError, match=r"^RACER_LIMIT must be a positive number of seconds"):
        limit.from_env("0")
    assert (limit.from_cli(None), limit.from_cli(3.0)) == (None, 3.0)
    assert (dirs.from_cli([]), dirs.from_cli(["a", "b"])) == (None, ("a", "b"))
    assert dirs.from_json(["a"]) == ("a",)
    assert (names.spec, names.default, names.default_factory and names.default_factory()) == (
        True,
        None,
        ("x",),
    )
    assert Toy() == Toy(limit=None, dirs=(), names=("x",))


# ---- racer run's options: made from the table -------------------------------------------------


def _run_options() -> dict[str, tuple[list[str], str | None]]:
    command = get_command(cli.app).commands["run"]  # type: ignore[attr-defined]
    return {p.name: (p.opts, p.help) for p in command.params if p.param_type_name == "option"}


def test_every_run_setting_has_exactly_one_option_with_the_tables_name_and_help() -> None:
    options = _run_options()
    not_settings = {"base", "acceptance", "as_json", "help"}
    assert set(options) - not_settings == {s.name for s in RUN_SETTINGS}
    for s in RUN_SETTINGS:
        assert s.flag is not None
        spellings = [s.flag.name, s.flag.short] if s.flag.short else [s.flag.name]
        assert options[s.name] == (spellings, s.flag.help)
    assert {s.name for s in RUN_SETTINGS} == set(KEYS) - {
        "retries",
        "backoff",
        "test_paths",
        "test_report",
        "baseline_runs",
        "pool",
        "lanes",
        "base_in_memory",
        "review_top",
        "inline_diff_mb",
        "cascade_feedback",
    }
    assert options["jobs"][0] == ["--jobs", "-j"] and options["agents"][0] == ["--agents", "-a"]


def test_run_options_reach_prepare_as_flags_from_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def prepare(cwd: Path, spec: Path, **kwargs: object) -> None:
        seen.update(kwargs)
        raise KeyboardInterrupt  # stop here: exit 130, nothing else runs

    monkeypatch.setattr("racer.plan.prepare", prepare)
    monkeypatch.chdir(tmp_path)
    args = ["run", "task.md", "-a", "claude, fake*2,", "-j", "2", "--sandbox", "--copy", ".env"]
    args += ["--copy", "d/*", "--worktree-root", "wt", "--timeout", "5", "--base", "main"]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 130, result.output
    assert seen["base_ref"] == "main" and seen["acceptance"] == ()
    assert seen["flags"] == {
        "agents": ("claude", " fake*2"),  # split on commas; the check strips the items
        "test": None,
        "setup": None,
        "copy": (".env", "d/*"),
        "timeout": 5.0,
        "test_timeout": None,
        "jobs": 2,
        "worktree_root": (tmp_path / "wt").resolve(),
        "idle_timeout": None,
        "race_timeout": None,
        "max_cost": None,
        "sandbox": True,
        "share": None,
        "review": None,
        "write_tests": None,
        "cascade": None,
        "first_pass": None,
        "history": None,
        "preflight": None,
    }
    CliRunner().invoke(cli.app, ["run", "task.md"])
    flags = seen["flags"]
    assert isinstance(flags, dict)
    assert set(flags.values()) == {None}  # nothing given, --sandbox off too: lower layers decide


def test_flags_from_cli_rejects_an_option_that_is_no_setting() -> None:
    with pytest.raises(ValueError, match="'verbose' is not a `racer run` setting"):
        flags_from_cli({"verbose": True})
    with pytest.raises(ValueError, match="'pool' is not a `racer run` setting"):
        flags_from_cli({"pool": 2})  # a setting, but not a racer run option
    assert flags_from_cli({"agents": ""})["agents"] == ()  # given but empty: the check reports it
