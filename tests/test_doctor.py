"""`racer doctor` against the real agent CLIs installed by scripts/install-agents.sh."""

from __future__ import annotations

import json
import os
import shutil
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


def _checks(racer, agents: str) -> tuple[int, dict[tuple[str, str], dict[str, object]]]:
    res = racer("doctor", "--agents", agents, "--json")
    return res.exit_code, {(c["agent"], c["name"]): c for c in json.loads(res.stdout)}


def test_copilot_and_kilo_ready_with_a_provider_of_your_own(
    project: Project, racer, real_clis, monkeypatch
) -> None:
    if not (AGENT_BIN / "copilot").exists() or not (AGENT_BIN / "kilo").exists():
        pytest.skip("copilot or kilo not installed (bash scripts/install-agents.sh)")
    monkeypatch.setenv("COPILOT_PROVIDER_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COPILOT_MODEL", "gpt-4.1")
    monkeypatch.setenv("KILO_API_KEY", "k")
    code, checks = _checks(racer, "copilot,kilo")
    assert code == 0, checks
    assert checks["copilot", "version"]["detail"] == "GitHub Copilot CLI 1.0.102."
    assert checks["kilo", "version"]["detail"] == "7.7.7"
    assert checks["copilot", "flags"]["ok"] and checks["kilo", "flags"]["ok"]
    assert checks["copilot", "credentials"]["detail"] == "found COPILOT_PROVIDER_BASE_URL"
    assert checks["kilo", "credentials"]["detail"] == "found KILO_API_KEY"
    assert "model gpt-4.1" in str(checks["copilot", "byok"]["detail"])


def test_copilot_logins_and_traps(
    project: Project, racer, real_clis, monkeypatch, tmp_path: Path
) -> None:
    if not (AGENT_BIN / "copilot").exists():
        pytest.skip("copilot not installed (bash scripts/install-agents.sh)")
    code, checks = _checks(racer, "copilot")
    assert code == 1 and not checks["copilot", "credentials"]["ok"]
    assert "COPILOT_GITHUB_TOKEN" in str(checks["copilot", "credentials"]["fix"])
    # a `copilot login` kept in plain text (the file starts with comment lines)
    config = tmp_path / "copilot-home" / "config.json"
    config.parent.mkdir()
    config.write_text(
        '// managed automatically\n{"logged_in_users": [{"host": "https://github.com", "login": "me"}]}\n'
    )
    monkeypatch.setenv("COPILOT_HOME", str(config.parent))
    code, checks = _checks(racer, "copilot")
    assert code == 0 and "a copilot login in" in str(checks["copilot", "credentials"]["detail"])
    # exactly "true" also trusts the checkout's hooks and MCP servers; offline needs a provider
    monkeypatch.setenv("COPILOT_ALLOW_ALL", "true")
    monkeypatch.setenv("COPILOT_OFFLINE", "true")
    code, checks = _checks(racer, "copilot")
    assert code == 1
    assert not checks["copilot", "allow-all"]["ok"] and not checks["copilot", "offline"]["ok"]


def _copy(src: Path, dst: Path) -> None:
    shutil.copytree(
        src,
        dst,
        ignore=shutil.ignore_patterns(".kilo", "bwrap", "console", "licenses", "tree-sitter"),
    )


def test_stubs_left_by_a_failed_postinstall_are_spotted(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    """An npm install whose native binary never came (offline, --ignore-scripts, an optional
    platform package missing) leaves a wrapper or stub that only prints why."""
    modules = tmp_path / "node_modules"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # claude's own stub (what @anthropic-ai/claude-code ships before its install.cjs runs)
    stub = bin_dir / "claude"
    stub.write_text(
        "#!/bin/sh\necho 'Error: claude native binary not installed.' >&2\n"
        "echo 'Either postinstall did not run (--ignore-scripts, some pnpm configs)' >&2\nexit 1\n"
    )
    stub.chmod(0o755)
    # the real copilot and kilo wrappers, without their platform packages
    installed = AGENT_BIN.parent / "node_modules"
    wrappers = {"copilot": "@github/copilot/npm-loader.js", "kilo": "@kilocode/cli/bin/kilo"}
    if all((installed / w).exists() for w in wrappers.values()):
        for package in ("@github/copilot", "detect-libc", "@kilocode/cli"):
            _copy(installed / package, modules / package)
        for name, wrapper in wrappers.items():
            (bin_dir / name).symlink_to(modules / wrapper)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    names = ["claude"] + [n for n in wrappers if (bin_dir / n).exists()]
    code, checks = _checks(racer, ",".join(names))
    assert code == 1
    for name in names:
        check = checks[name, "installed"]
        assert not check["ok"], check
        assert str(check["detail"]).startswith("the npm package's native binary was not downloaded")
        assert "reinstall" in str(check["fix"])
        assert (name, "version") not in checks  # nothing else is checked of a stub
    if "copilot" in names:
        assert "no platform package found" in str(checks["copilot", "installed"]["detail"])
