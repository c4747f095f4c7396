"""plan.json: agent secrets stay out of it and come back from the config file."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.repos import CORRECT, Project, race_json

from racer.store import RaceDir


def test_plan_json_keeps_agent_secrets_out(project: Project, racer, monkeypatch) -> None:
    (project.root / "racer.toml").write_text(
        '[agent.fake]\nenv = { FAKE_API_KEY = "sk-planted-0123456789", MODE = "x" }\n'
    )
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    assert racer("run", "specs/double.md", "--agents", "fake").exit_code == 0
    race_dir = RaceDir(Path(race_json(project.root)["race_dir"]))
    text = race_dir.plan.read_text()
    assert "sk-planted-0123456789" not in text and '"MODE": "x"' in text
    from racer.planfile import load_plan

    plan = load_plan(race_dir)  # the secret comes back from the config file
    assert plan.config.agent_configs["fake"].env["FAKE_API_KEY"] == "sk-planted-0123456789"
    (project.root / "racer.toml").write_text("")
    from racer.errors import RaceNotFound

    with pytest.raises(RaceNotFound, match="FAKE_API_KEY"):
        load_plan(race_dir)
