"""Gathering evidence in a lane's worktree: the candidate's file changes, pristine test scoring,
hidden acceptance tests and other candidates' new tests. Blocking git calls; run via a thread.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from racer.flags import FileChange, is_test_file, is_test_infra
from racer.worktree import LANE_SAFE, git

MAX_TEXT_BYTES = 1_000_000  # larger files are compared by name only


@dataclass(frozen=True)
class AcceptanceFile:
    source: Path  # where the user keeps it (never inside a worktree while agents run)
    dest: str  # where it goes in each worktree, relative to the root
    tracked: bool  # True: it is in the base commit, so agents could read it


def _blob(root: Path, rev: str, path: str) -> str | None:
    proc = git([*LANE_SAFE, "cat-file", "-s", f"{rev}:{path}"], root, check=False)
    if proc.returncode != 0 or int(proc.stdout.strip() or 0) > MAX_TEXT_BYTES:
        return None
    data = git([*LANE_SAFE, "show", f"{rev}:{path}"], root, check=False)
    if data.returncode != 0 or "\0" in data.stdout:
        return None
    return data.stdout


def changed_files(root: Path, base: str, tip: str) -> list[FileChange]:
    """Every file the candidate changed, with its text before and after (None if absent/binary)."""
    out = git(
        [*LANE_SAFE, "diff", "--name-status", "-z", "-M", "--no-ext-diff", base, tip], root
    ).stdout
    fields = [f for f in out.split("\0") if f]
    changes: list[FileChange] = []
    i = 0
    while i < len(fields):
        status = fields[i]
        if status.startswith(("R", "C")):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old = new = fields[i + 1]
            i += 2
        kind = status[0]
        before = None if kind == "A" else _blob(root, base, old)
        after = None if kind == "D" else _blob(root, tip, new)
        changes.append(
            FileChange(path=new, old_path=None if kind == "A" else old, before=before, after=after)
        )
    return changes


def test_files_at(root: Path, rev: str, test_patterns: Sequence[str]) -> dict[str, str]:
    """Text of every test file in `rev` (up to 500 files, each up to MAX_TEXT_BYTES)."""
    names = git([*LANE_SAFE, "ls-tree", "-r", "--name-only", "-z", rev], root).stdout.split("\0")
    out: dict[str, str] = {}
    for name in names:
        if name and is_test_file(name, test_patterns) and len(out) < 500:
            text = _blob(root, rev, name)
            if text is not None:
                out[name] = text
    return out


@dataclass(frozen=True)
class PristinePlan:
    restore: tuple[
        str, ...
    ]  # pre-existing test files / test config to put back to their base version
    remove: tuple[str, ...]  # test files and test infrastructure the candidate added
    own_tests: tuple[str, ...]  # the candidate's new test files (run separately)

    @property
    def needed(self) -> bool:
        return bool(self.restore or self.remove)


def pristine_plan(changes: Sequence[FileChange], test_patterns: Sequence[str]) -> PristinePlan:
    restore: list[str] = []
    remove: list[str] = []
    own: list[str] = []
    for ch in changes:
        added = ch.old_path is None
        testy = is_test_file(ch.path, test_patterns) or is_test_infra(ch.path, ch.before, ch.after)
        if ch.old_path is not None and ch.old_path != ch.path:
            # a rename: the old name goes back, the new one goes away
            old_testy = is_test_file(ch.old_path, test_patterns) or is_test_infra(
                ch.old_path, ch.before, None
            )
            if old_testy:
                restore.append(ch.old_path)
            if testy:
                remove.append(ch.path)
            continue
        if not testy:
            continue
        if added:
            remove.append(ch.path)
            if is_test_file(ch.path, test_patterns) and ch.after is not None:
                own.append(ch.path)
        else:
            restore.append(ch.path)
    return PristinePlan(
        tuple(sorted(set(restore))), tuple(sorted(set(remove))), tuple(sorted(set(own)))
    )


def apply_pristine(worktree: Path, base: str, plan: PristinePlan) -> None:
    if plan.restore:
        git([*LANE_SAFE, "checkout", base, "--", *plan.restore], worktree)
    for rel in plan.remove:
        (worktree / rel).unlink(missing_ok=True)


def reset_worktree(worktree: Path, commit: str) -> None:
    """Back to exactly the lane's commit (tracked files; untracked leftovers of test runs go too,
    ignored files such as copied .env or node_modules stay)."""
    git([*LANE_SAFE, "reset", "--hard", "--quiet", commit], worktree)
    git([*LANE_SAFE, "clean", "-fdq"], worktree)


def place_files(worktree: Path, files: Sequence[tuple[Path, str]]) -> list[str]:
    """Copy (source, dest) pairs in; returns the dest paths written."""
    written = []
    for src, dest in files:
        target = worktree / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        written.append(dest)
    return written


def resolve_acceptance(root: Path, paths: Sequence[str], cwd: Path) -> list[AcceptanceFile]:
    """Where each hidden test comes from and where it goes in a worktree (SRC or SRC:DEST)."""
    from racer.errors import SpecError

    tests_dir = "tests/" if (root / "tests").is_dir() else ""
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
                dest = f"{tests_dir}{src.name}"
        tracked = (
            git(
                [*LANE_SAFE, "ls-files", "--error-unmatch", "--", dest], root, check=False
            ).returncode
            == 0
        )
        out.append(AcceptanceFile(src, dest, tracked))
    return out


def pytest_command_for(test_command: str, files: Sequence[str]) -> str:
    """The test command narrowed to `files` when it runs pytest; otherwise the command as is."""
    try:
        argv = shlex.split(test_command)
    except ValueError:
        return test_command
    for i, token in enumerate(argv):
        if "pytest" in Path(token).name or token == "pytest":
            return shlex.join([*argv[: i + 1], *files])
    return test_command


def module_of(path: str) -> str:
    """pytest's JUnit classname prefix for a test file: tests/test_x.py -> tests.test_x."""
    return path[:-3].replace("/", ".") if path.endswith(".py") else path


def outcomes_in(outcomes: dict[str, str], files: Sequence[str]) -> dict[str, str]:
    """The outcomes of tests defined in `files` (matched on pytest's JUnit classnames)."""
    mods = [module_of(f) for f in files]
    return {
        tid: out
        for tid, out in outcomes.items()
        if any(tid == m or tid.startswith(m + "::") or tid.startswith(m + ".") for m in mods)
    }
