"""Turning a spec, the config layers and flags into a validated RacePlan.

Everything that can be wrong with the input is found here, before anything is created on disk.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from racer import judge, store, worktree
from racer.agents import build_registry, check_installed, parse_contestants
from racer.config import load_config
from racer.errors import ConfigError
from racer.race import RacePlan
from racer.spec import build_prompt, load_spec
from racer.testrun import detect_test_command


def prepare(
    cwd: Path,
    spec_path: Path,
    *,
    env: Mapping[str, str],
    flags: Mapping[str, object],
    base_ref: str | None = None,
    acceptance: tuple[str, ...] = (),
) -> RacePlan:
    repo = worktree.open_repo(cwd)
    spec = load_spec(spec_path if spec_path.is_absolute() else cwd / spec_path)
    config = load_config(
        repo.root, env=env, spec_overrides=spec.overrides(), flags=flags, spec_path=spec.path
    )
    registry = build_registry(config.agent_configs)
    contestants = parse_contestants(list(config.agents), registry)
    check_installed(contestants, registry)
    if base_ref is None:
        base_commit, base_branch = repo.head, repo.branch
    else:
        base_commit = worktree.resolve_commit(repo.root, base_ref)
        is_branch = worktree.branch_tip(repo.root, base_ref) is not None
        base_branch = base_ref if is_branch else repo.branch
    if config.sandbox:
        from racer.sandbox import check

        check()  # bubblewrap missing or unable to run: one clear line, nothing created
    for rel in config.share:
        tracked = worktree.git(["ls-tree", "--name-only", base_commit, "--", rel], repo.root)
        if tracked.stdout.strip():
            raise ConfigError(
                f"share entry {rel!r} is tracked by git — share is for ignored dependency dirs "
                "(node_modules, .venv, target); tracked files reach every worktree anyway"
            )
    test_command = config.test or detect_test_command(repo.root)
    wt_root = config.worktree_root or worktree.default_worktree_root(repo)
    if worktree.is_inside(wt_root, repo.root):
        where = config.sources.get("worktree_root", "config")
        raise ConfigError(
            f"worktree_root {wt_root} (from {where}) is inside the repository's working tree — "
            "choose a directory outside it"
        )
    check_disk(repo.root, base_commit, wt_root, len(contestants) + 1)
    hidden = acceptance or spec.acceptance
    accept = judge.resolve_acceptance(repo.root, hidden, cwd if acceptance else spec.path.parent)
    if accept and test_command is None:
        raise ConfigError(
            "acceptance tests need a test command — pass --test CMD or set test in racer.toml"
        )
    return RacePlan(
        repo=repo,
        spec=spec,
        prompt=build_prompt(spec, test_command=test_command),
        config=config,
        contestants=tuple(contestants),
        registry=registry,
        base_commit=base_commit,
        base_branch=base_branch,
        test_command=test_command,
        worktree_root=wt_root.resolve(),
        race_id=store.new_race_id(),
        acceptance=tuple(accept),
    )


def check_disk(root: Path, commit: str, where: Path, checkouts: int) -> None:
    """Refuse to start when the worktrees would not fit: tracked size x checkouts, plus slack."""
    sizes = worktree.git(["ls-tree", "-r", "-l", "-z", commit], root).stdout.split("\0")
    tracked = sum(int(f.split()[3]) for f in sizes if f and f.split()[3].isdigit())
    need = int(tracked * checkouts * 1.2) + 50 * 1024 * 1024
    probe = where
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need:
        raise ConfigError(
            f"not enough disk for {checkouts} checkouts under {where}: need about {need // 2**20} MB, "
            f"{free // 2**20} MB free — free some space or set worktree_root to another disk"
        )
