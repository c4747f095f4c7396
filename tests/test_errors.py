"""Bad input: one line saying what is wrong and what to do, the documented exit code, nothing created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.repos import Project, git, make_repo


def _assert_clean_failure(res, project_root: Path | None, code: int = 1) -> None:  # type: ignore[no-untyped-def]
    assert res.exit_code == code, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("racer: "), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    if project_root is not None:
        assert not (project_root / ".git" / "racer").exists()
        assert git(project_root, "branch", "--list", "racer/*") == ""


def test_not_a_git_repo(tmp_path: Path, racer, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.md").write_text("do it\n")
    res = racer("run", "spec.md", "--agents", "fake")
    _assert_clean_failure(res, None)
    assert "not a git repository" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.md"]


def test_unborn_head(tmp_path: Path, racer, monkeypatch) -> None:
    root = make_repo(tmp_path / "r", {"spec.md": "do it\n"}, commit=False)
    monkeypatch.chdir(root)
    res = racer("run", "spec.md", "--agents", "fake")
    _assert_clean_failure(res, None)
    assert "no commits yet" in res.stderr
    assert not (root / ".git" / "racer").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["run", "specs/double.md", "--agents", "fake", "--base", "nope"],
            "unknown base ref 'nope'",
        ),
        (["run", "specs/missing.md", "--agents", "fake"], "not found"),
        (["run", "specs/empty.md", "--agents", "fake"], "empty"),
        (["run", "specs/double.md", "--agents", "fake,gpt9"], "unknown agent 'gpt9'"),
        (
            ["run", "specs/double.md", "--agents", "nobot"],
            "known agents: aider, claude, codex, copilot, fake, gemini, ghost, kilo, opencode, qwen",
        ),
        (["run", "specs/double.md", "--agents", "ghost"], "not on PATH"),
        (["run", "specs/double.md", "--agents", "fake", "--jobs", "0"], "jobs"),
        (
            ["run", "specs/double.md", "--agents", "fake", "--worktree-root", "inside"],
            "inside the repository",
        ),
        (["show"], "no races"),
        (["merge", "fake"], "no races"),
    ],
)
def test_bad_input(project: Project, racer, args: list[str], needle: str) -> None:
    (project.root / "specs" / "empty.md").write_text("---\ntitle: x\n---\n\n")
    (project.root / "racer.toml").write_text(
        '[agents.ghost]\ncommand = ["definitely-not-installed-xyz", "{prompt}"]\n'
    )
    res = racer(*args)
    _assert_clean_failure(res, project.root)
    assert needle in res.stderr
    assert not project.worktrees.exists()


def test_bad_config_names_key_and_file(project: Project, racer) -> None:
    (project.root / "racer.toml").write_text("timout = 5\n")
    res = racer("run", "specs/double.md", "--agents", "fake")
    _assert_clean_failure(res, project.root)
    assert "timout" in res.stderr and "racer.toml" in res.stderr


def test_bad_env_value(project: Project, racer, monkeypatch) -> None:
    monkeypatch.setenv("RACER_TIMEOUT", "soon")
    res = racer("run", "specs/double.md", "--agents", "fake")
    _assert_clean_failure(res, project.root)
    assert "RACER_TIMEOUT" in res.stderr


def test_internal_error_exits_3_with_traceback_log(project: Project, racer, monkeypatch) -> None:
    import importlib

    plan_mod = importlib.import_module("racer.plan")

    def boom(*a: object, **k: object) -> None:
        raise ZeroDivisionError("kaboom")

    monkeypatch.setattr(plan_mod, "prepare", boom)
    res = racer("run", "specs/double.md", "--agents", "fake")
    assert res.exit_code == 3
    assert "internal error" in res.stderr and "kaboom" in res.stderr
    log = Path(res.stderr.strip().rsplit(" ", 1)[-1])
    assert "ZeroDivisionError" in log.read_text()
    os.unlink(log)


def test_usage_error_is_exit_2(project: Project, racer) -> None:
    res = racer("run", "--no-such-flag")
    assert res.exit_code == 2


def test_not_enough_disk_is_refused_before_anything_is_created(
    project: Project, racer, monkeypatch
) -> None:
    import importlib
    from collections import namedtuple

    plan_mod = importlib.import_module("racer.plan")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(plan_mod.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 1024))
    res = racer("run", "specs/double.md", "--agents", "fake*2")
    _assert_clean_failure(res, project.root)
    assert "not enough disk for 3 checkouts" in res.stderr
    assert not project.worktrees.exists()
