"""A race's plan kept next to its record (plan.json), so `racer resume` runs the same race.

The config is stored resolved: editing racer.toml after a race started does not change it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from racer import store
from racer.agents import Contestant, build_registry
from racer.config import SETTINGS, AgentConfig, Config, _unjson, load_config
from racer.errors import RaceNotFound
from racer.plan import AcceptanceFile, RacePlan
from racer.proc import SECRET_NAME
from racer.repo import open_repo
from racer.spec import Spec

VERSION = 1


def save_plan(plan: RacePlan, race_dir: store.RaceDir) -> None:
    data: dict[str, Any] = {
        "version": VERSION,
        "race_id": plan.race_id,
        "repo": str(plan.repo.root),
        "spec": {"path": str(plan.spec.path), "title": plan.spec.title},
        "base_commit": plan.base_commit,
        "base_branch": plan.base_branch,
        "test_command": plan.test_command,
        "worktree_root": str(plan.worktree_root),
        "contestants": [
            {"name": c.name, "agent": c.agent, "model": c.model, "order": c.order}
            for c in plan.contestants
        ],
        "acceptance": [
            {"source": str(a.source), "dest": a.dest, "tracked": a.tracked} for a in plan.acceptance
        ],
        "config": config_to_dict(plan.config),
    }
    # Secrets in [agents.NAME] env stay in the config file: resume reads them from there again.
    for agent in data["config"]["agent_configs"].values():
        agent["env"] = {k: (None if SECRET_NAME.search(k) else v) for k, v in agent["env"].items()}
    store.write_json(race_dir.plan, data)


def load_plan(race_dir: store.RaceDir) -> RacePlan:
    """The plan of an existing race; RaceNotFound when racer has nothing to resume it from."""
    try:
        data = json.loads(race_dir.plan.read_text(encoding="utf-8"))
        prompt = race_dir.prompt.read_text(encoding="utf-8")
    except (OSError, ValueError):
        raise RaceNotFound(
            f"race {race_dir.id} has no readable plan.json/prompt.md (made by an older racer "
            "or damaged) — it cannot be resumed; `racer clean` removes it"
        ) from None
    if data.get("version") != VERSION:
        raise RaceNotFound(
            f"race {race_dir.id} was planned by another racer version — it cannot be resumed"
        )
    config = _with_secrets(config_from_dict(data["config"]), Path(data["repo"]), race_dir.id)
    acceptance = tuple(
        AcceptanceFile(source=Path(a["source"]), dest=a["dest"], tracked=a["tracked"])
        for a in data["acceptance"]
    )
    for a in acceptance:
        if not a.source.exists():
            raise RaceNotFound(
                f"acceptance test {a.source} of race {race_dir.id} is gone — put it back to resume"
            )
    return RacePlan(
        repo=open_repo(Path(data["repo"])),
        spec=Spec(path=Path(data["spec"]["path"]), title=data["spec"]["title"], body=""),
        prompt=prompt,
        config=config,
        contestants=tuple(Contestant(**c) for c in data["contestants"]),
        registry=build_registry(config.agent_configs),
        base_commit=data["base_commit"],
        base_branch=data["base_branch"],
        test_command=data["test_command"],
        worktree_root=Path(data["worktree_root"]),
        race_id=data["race_id"],
        acceptance=acceptance,
    )


def _with_secrets(config: Config, repo: Path, race_id: str) -> Config:
    """Put back the secret agent env values plan.json left out, from the config as it is now."""
    missing = [
        (name, key)
        for name, a in config.agent_configs.items()
        for key, v in a.env.items()
        if v is None
    ]
    if not missing:
        return config
    current = load_config(repo, env=os.environ).agent_configs
    agents = dict(config.agent_configs)
    for name, key in missing:
        value = current.get(name, AgentConfig(name=name)).env.get(key)
        if value is None:
            raise RaceNotFound(
                f"race {race_id} needs {key} in [agents.{name}] env, which the config no longer "
                "has — put it back to resume"
            )
        agent = agents[name]
        agents[name] = replace(agent, env={**agent.env, key: value})
    return replace(config, agent_configs=MappingProxyType(agents))


# ---- a resolved Config as JSON (kept with each race, so `racer resume` runs the same race) ------
# Each setting by name (a tuple as a list, a Path as a string or null), agent_configs, sources.


def config_to_dict(cfg: Config) -> dict[str, Any]:
    data: dict[str, Any] = {s.name: _json(getattr(cfg, s.name)) for s in SETTINGS}
    data["agent_configs"] = {  # each AgentConfig field but its name: tuples as lists
        name: {f: _json(getattr(agent, f)) for f in _AGENT_FIELDS}
        for name, agent in cfg.agent_configs.items()
    }
    data["sources"] = dict(cfg.sources)
    return data


_AGENT_FIELDS = tuple(f.name for f in dataclasses.fields(AgentConfig) if f.name != "name")


def _json(value: object) -> object:
    """A tuple as a list, a Path as a string, a mapping as a dict."""
    if isinstance(value, tuple | Path):
        return list(value) if isinstance(value, tuple) else str(value)
    return dict(value) if isinstance(value, Mapping) else value


def config_from_dict(data: Mapping[str, Any]) -> Config:
    """The Config config_to_dict wrote; a setting missing from older JSON gets its default."""
    values = {s.name: s.from_json(data[s.name]) for s in SETTINGS if s.name in data}
    agents = {  # a list back as a tuple; a key missing from older JSON gets its default
        name: AgentConfig(name, **{f: _unjson(v) for f, v in a.items() if f in _AGENT_FIELDS})
        for name, a in data.get("agent_configs", {}).items()
    }
    return Config(
        **cast(dict[str, Any], values),
        agent_configs=MappingProxyType(agents),
        sources=MappingProxyType(dict(data.get("sources", {}))),
    )
