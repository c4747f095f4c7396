"""What a race will do: a spec, the config layers and flags turned into a validated RacePlan.

Everything that can be wrong with the input is found here, before anything is created on disk.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from racer import cascade, costs, history, instructions, prices, runners, sandbox, store, testglobs
from racer import repo as repos
from racer.agents import (
    Agent,
    Contestant,
    build_registry,
    check_installed,
    credentials,
    parse_contestants,
)
from racer.config import Config, Flags, load_config
from racer.errors import AgentError, ConfigError, GitError, SpecError
from racer.git import git, tree_size
from racer.prices import Tokens
from racer.repo import RepoInfo
from racer.spec import Spec, build_prompt, load_spec
from racer.testfiles import is_test_file
from racer.testrun import detect_test_command


@dataclass(frozen=True)
class AcceptanceFile:
    source: Path  # where the user keeps it (never inside a checkout while agents run)
    dest: str  # where it goes in each checkout, relative to the root
    tracked: bool  # True: it is in the base commit, so agents could read it


@dataclass(frozen=True)
class RacePlan:
    """Everything validated before anything is created on disk."""

    repo: RepoInfo
    spec: Spec
    prompt: str
    config: Config
    contestants: tuple[Contestant, ...]
    registry: Mapping[str, Agent]
    base_commit: str
    base_branch: str | None
    test_command: str | None
    worktree_root: Path
    race_id: str
    acceptance: tuple[AcceptanceFile, ...] = ()
    overlay: bool = False  # lanes are overlays (racer.overlay), chosen when the race starts

    @functools.cached_property
    def test_patterns(self) -> tuple[str, ...]:
        """Globs of the test files: `test_paths`, else the project's runners' own globs from
        their config, then racer's conventions for every ecosystem."""
        return self.config.test_paths or testglobs.project_test_patterns(self.repo.root)

    @property
    def race_dir(self) -> store.RaceDir:
        return store.RaceDir.of(self.repo.common_dir, self.race_id)

    def checkout(self, lane: str) -> Path:
        return store.lane_checkout(self.worktree_root, self.race_id, lane)

    def branch(self, lane: str) -> str:
        return store.lane_branch(self.race_id, lane)


def resolve_base(repo: RepoInfo, spec: Spec, base_ref: str | None) -> tuple[str, str | None]:
    """(base commit, base branch): `--base`, else the spec's `base:`, else HEAD; the branch is
    the ref when it names one, else the checkout's branch (the merge target)."""
    from_spec = base_ref is None and spec.base is not None
    base_ref = spec.base if base_ref is None else base_ref
    if base_ref is None:
        return repo.head, repo.branch
    try:
        commit = repos.resolve_commit(repo.root, base_ref)
    except GitError as exc:
        if not from_spec:
            raise
        raise SpecError(f"base: in front matter of {spec.path}: {exc}") from None
    is_branch = repos.branch_tip(repo.root, base_ref) is not None
    return commit, base_ref if is_branch else repo.branch


def prepare(
    cwd: Path,
    spec_path: Path,
    *,
    env: Mapping[str, str],
    flags: Flags,
    base_ref: str | None = None,
    acceptance: tuple[str, ...] = (),
    hidden_tests: bool = True,
) -> RacePlan:
    """The race's plan; without `hidden_tests`, none of the acceptance tests (a remote lane
    step plans its lane without them: they never leave the machine that scores)."""
    repo = repos.open_repo(cwd)
    spec = load_spec(spec_path if spec_path.is_absolute() else cwd / spec_path)
    config = load_config(
        repo.root, env=env, spec_overrides=spec.overrides(), flags=flags, spec_path=spec.path
    )
    registry = build_registry(config.agent_configs)
    contestants = _contestants(config, registry, repo.root)
    check_installed(contestants, registry)
    if config.preflight:
        _check_credentials(contestants, registry, config, env)
    for c in contestants:
        table = config.agent_configs.get(c.agent)
        if table is not None and table.instructions is not None:
            instructions.check(repo.root, table.instructions, f"agents.{c.agent}.instructions")
    base_commit, base_branch = resolve_base(repo, spec, base_ref)
    if config.sandbox:
        sandbox.check()  # bubblewrap missing or unable to run: one clear line, nothing created
    for rel in config.share:
        tracked = git(["ls-tree", "--name-only", base_commit, "--", rel], repo.root)
        if tracked.stdout.strip():
            raise ConfigError(
                f"share entry {rel!r} is tracked by git — share is for ignored dependency dirs "
                "(node_modules, .venv, target); tracked files reach every worktree anyway"
            )
    test_command = config.test or detect_test_command(repo.root)
    wt_root = config.worktree_root or repos.default_worktree_root(repo)
    if repos.is_inside(wt_root, repo.root):
        where = config.sources.get("worktree_root", "config")
        raise ConfigError(
            f"worktree_root {wt_root} (from {where}) is inside the repository's working tree — "
            "choose a directory outside it"
        )
    where = config.sources.get("worktree_root", "default")
    writable_dir(wt_root, f"worktree_root {wt_root} (from {where})")
    writable_dir(store.races_dir(repo.common_dir), "the race records directory")
    check_disk(repo.root, base_commit, wt_root, len(contestants) + 1)
    hidden = (acceptance or spec.acceptance) if hidden_tests else ()
    accept = resolve_acceptance(repo.root, hidden, cwd if acceptance else spec.path.parent)
    if accept and test_command is None:
        raise ConfigError(
            "acceptance tests need a test command — pass --test CMD or set test in racer.toml"
        )
    if accept and test_command is not None:
        check_acceptance_runs(repo.root, test_command, accept)
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


TYPICAL_RUN = Tokens(input=300_000, output=20_000)  # list-price guess for an unknown contestant


def _contestants(config: Config, registry: Mapping[str, Agent], root: Path) -> list[Contestant]:
    """The contestants: from --agents, or a cascade's tiers (`a,b;c`), or --agents ordered
    cheapest first into one tier each (`--cascade auto`)."""
    if config.cascade is None:
        return parse_contestants(list(config.agents), registry)
    if config.cascade != "auto":
        if config.sources.get("agents") in ("flag", "spec"):
            raise ConfigError(
                "--cascade names its contestants (tiers 'a,b;c') — drop --agents, or use "
                "--cascade auto to order the --agents contestants"
            )
        items, tiers = cascade.split_tiers(config.cascade)
        return parse_contestants(items, registry, tiers)
    given = parse_contestants(list(config.agents), registry)
    if len(given) < 2:
        raise ConfigError("--cascade auto orders two or more contestants — give them in --agents")
    keys = [history.contestant_key(c.agent, c.model) for c in given]
    known = costs.cost_per_solve(root, keys) if config.history else {}
    guess: dict[str, float | None] = {}
    for c, k in zip(given, keys, strict=True):
        table = config.agent_configs.get(c.agent)
        model = c.model or (table.model if table else None)
        guess[k] = known.get(k) or prices.estimate(
            TYPICAL_RUN, model or prices.DEFAULT_MODELS.get(c.agent)
        )
    order = cascade.auto_order(keys, guess)
    return [replace(given[i], order=pos, tier=pos) for pos, i in enumerate(order)]


def _check_credentials(
    contestants: Sequence[Contestant],
    registry: Mapping[str, Agent],
    config: Config,
    env: Mapping[str, str],
) -> None:
    """Refuse, before anything is created, a contestant whose CLI would find no key or login
    (as `racer doctor` sees it): it would only fail after its checkout and start."""
    for name in dict.fromkeys(c.agent for c in contestants):
        table = config.agent_configs.get(name)
        lane_env = {**env, **(dict(table.env) if table else {})}
        creds = credentials(registry[name], name, lane_env, table.args if table else ())
        if creds is not None and creds.found is None:
            raise AgentError(
                f"{name}: no API key variable or login file found — {creds.fix} "
                "(`racer doctor` checks every agent; --no-preflight starts it anyway)"
            )


def writable_dir(path: Path, what: str) -> None:
    """A directory racer can create files in (or create): else one ConfigError, before
    anything is created."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} is a file, not a directory — point it at a directory")
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{what} cannot be written ({probe} is not writable for you) — "
            "fix its permissions or choose another directory"
        )


def check_disk(root: Path, commit: str, where: Path, checkouts: int) -> None:
    """Refuse to start when the worktrees would not fit: tracked size x checkouts, plus slack."""
    tracked = tree_size(root, commit).data
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


def resolve_acceptance(root: Path, paths: Sequence[str], cwd: Path) -> list[AcceptanceFile]:
    """Where each hidden test comes from and where it goes in a worktree (SRC or SRC:DEST):
    DEST, else the same path when SRC is inside the repository, else `tests/<name>` (a Go test
    file: the directory of the package it declares)."""
    out: list[AcceptanceFile] = []
    for item in paths:
        src_s, _, dest = (
            item.partition(":") if ":" in item and not Path(item).exists() else (item, "", "")
        )
        src = Path(src_s).expanduser()
        src = src if src.is_absolute() else (cwd / src)
        if not src.is_file():
            raise SpecError(
                f"acceptance test not found: {src} — pass the path of a test file you keep outside the agents' view"
            )
        src = src.resolve()
        if not dest:
            try:
                dest = src.relative_to(root).as_posix()
            except ValueError:
                dest = _go_dest(root, src) if src.name.endswith("_test.go") else f"tests/{src.name}"
        tracked = (
            git(
                ["ls-files", "--error-unmatch", "--", dest], root, check=False, lane=True
            ).returncode
            == 0
        )
        out.append(AcceptanceFile(src, dest, tracked))
    return out


def _go_dest(root: Path, src: Path) -> str:
    """A Go test file goes into its package's directory: the one directory whose Go files
    declare the package the test file declares (`x_test` is package x's external test)."""
    m = re.search(r"^package\s+(\w+)", src.read_text(encoding="utf-8", errors="replace"), re.M)
    package = m.group(1).removesuffix("_test") if m else None
    files = git(["ls-files", "-z", "--", "*.go"], root, lane=True).stdout.split("\0")
    dirs: set[str] = set()
    for rel in files:
        if not rel or rel.endswith("_test.go"):
            continue
        try:
            head = (root / rel).read_text(encoding="utf-8", errors="replace")[:4000]
        except OSError:
            continue
        if package and re.search(rf"^package\s+{package}\b", head, re.M):
            dirs.add(rel.rsplit("/", 1)[0] if "/" in rel else "")
    if len(dirs) != 1:
        where = "no directory" if not dirs else f"{len(dirs)} directories"
        raise SpecError(
            f"acceptance test {src.name}: package {package} is in {where} of the repository — "
            f"say where it goes with SRC:DEST (e.g. {src}:pkg/{src.name})"
        )
    folder = dirs.pop()
    return f"{folder}/{src.name}" if folder else src.name


def check_acceptance_runs(root: Path, test_command: str, accept: Sequence[AcceptanceFile]) -> None:
    """jest and vitest run only files their globs match, even when named: a hidden test they
    would skip is refused before the race, not found out as "did not run" after it."""
    runner = runners.runner_of(test_command, root)
    if runner not in ("jest", "vitest"):
        return
    globs = testglobs.runner_globs(root, runner)
    for a in accept:
        if not is_test_file(a.dest, globs):
            raise SpecError(
                f"acceptance test {a.dest} would not run: {runner} runs only files matching "
                f"{' '.join(globs[:4])}{' …' if len(globs) > 4 else ''} — "
                "name it like name.test.js or give SRC:DEST"
            )
