"""Preflight (issue: first minutes): `racer run` refuses, before anything is created, an agent
whose CLI would find no key or login, the way `racer doctor` sees it; a provider config of
yours that names a key counts; `--no-preflight` starts it anyway."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.agent_env import AGENT_BIN
from helpers.repos import Project

from racer import plan as planning
from racer.agents import CodexAgent, credentials
from racer.agents.opencode import OpencodeAgent


def _bare_env(home: Path) -> dict[str, str]:
    """No key variable of any agent, a HOME without logins."""
    keep = {k: v for k, v in os.environ.items() if "KEY" not in k and "TOKEN" not in k}
    return {**keep, "HOME": str(home), "PATH": f"{AGENT_BIN}{os.pathsep}{os.environ['PATH']}"}


def test_no_credentials_refuses_before_anything_is_created(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    if not (AGENT_BIN / "claude").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("claude is not installed (bash scripts/install-agents.sh)")
        pytest.skip("claude is not installed (bash scripts/install-agents.sh)")
    for key, value in _bare_env(tmp_path / "home").items():
        monkeypatch.setenv(key, value)
    for key in [k for k in os.environ if "KEY" in k or "TOKEN" in k]:
        monkeypatch.delenv(key)
    res = racer("run", "specs/double.md", "--agents", "claude,fake")
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("racer: claude: no API key variable or login file found — set")
    assert "--no-preflight" in lines[0]
    assert not (project.root / ".git" / "racer" / "races").exists()
    assert not project.worktrees.exists()
    # --no-preflight (here through the config layers' flag) plans the race all the same.
    plan = planning.prepare(
        project.root,
        project.root / "specs" / "double.md",
        env=dict(os.environ),
        flags={"agents": ("claude", "fake"), "preflight": False},
    )
    assert [c.agent for c in plan.contestants] == ["claude", "fake"]


def test_a_provider_config_naming_a_set_key_counts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home)}
    assert credentials(CodexAgent(), "codex", env).found is None  # type: ignore[union-attr]
    args = [
        "-c",
        'model_providers.gw={name="gw",base_url="http://127.0.0.1:9/v1",env_key="GW_KEY"}',
    ]
    assert credentials(CodexAgent(), "codex", env, args).found is None  # type: ignore[union-attr]
    found = credentials(CodexAgent(), "codex", {**env, "GW_KEY": "k" * 12}, args)
    assert found is not None and found.found == "GW_KEY (from your provider config)"
    config = home / ".config" / "opencode" / "opencode.json"
    config.parent.mkdir(parents=True)
    config.write_text('{"provider": {"anthropic": {"options": {"apiKey": "sk-x"}}}}')
    found = credentials(OpencodeAgent(), "opencode", env)
    assert (
        found is not None
        and found.found == "provider anthropic's apiKey (from your provider config)"
    )
