"""`racer doctor` against the real agent CLIs installed by scripts/install-agents.sh."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers.repos import Project

AGENT_BIN = Path(__file__).resolve().parents[1] / ".agents" / "bin"


@pytest.fixture
def real_clis(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (AGENT_BIN / "claude").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("agent CLIs missing: .ci/run must run scripts/install-agents.sh")
        pytest.skip("agent CLIs not installed (bash scripts/install-agents.sh)")
    monkeypatch.setenv("PATH", f"{AGENT_BIN}{os.pathsep}{os.environ['PATH']}")


def test_ready_agent_passes(project: Project, racer, real_clis, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    res = racer("doctor", "--agents", "claude@opus*2")
    assert res.exit_code == 0, res.stdout
    assert "ready: claude" in res.stdout
    checks = {c["name"]: c for c in json.loads(racer("doctor", "-a", "claude", "--json").stdout)}
    assert checks["version"]["detail"].startswith("2.1.329")
    assert checks["flags"]["ok"] and checks["credentials"]["detail"] == "found ANTHROPIC_API_KEY"


def test_missing_credentials_say_how_to_fix(
    project: Project, racer, real_clis, monkeypatch
) -> None:
    res = racer("doctor", "--agents", "gemini")
    assert res.exit_code == 1
    assert "FIX gemini    credentials" in res.stdout and "GEMINI_API_KEY" in res.stdout
    # a key given in the agent's config env counts
    (project.root / "racer.toml").write_text('[agents.gemini]\nenv = { GEMINI_API_KEY = "k" }\n')
    assert racer("doctor", "--agents", "gemini").exit_code == 0


def test_codex_home_under_tmp_is_flagged(
    project: Project, racer, real_clis, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path))
    res = racer("doctor", "--agents", "codex")
    assert res.exit_code == 1
    assert "outside /tmp" in res.stdout


def test_missing_executable_and_user_agent(project: Project, racer, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    (project.root / "racer.toml").write_text(
        '[agents.mybot]\ncommand = ["no-such-bot", "{prompt}"]\n'
    )
    res = racer("doctor", "--agents", "claude,mybot")
    assert res.exit_code == 1
    assert "'claude' is not on PATH" in res.stdout and "npm install" in res.stdout
    assert "FIX mybot" in res.stdout
