"""Test runs in a checkout: a candidate pristine (base tests back), as it left its own tests,
against the hidden acceptance tests; the baseline of the base commit; cross-candidate runs.

Blocking git calls go through threads; results are values (TestSummary, Acceptance, Cross).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import anyio

from racer import doctests, guard, runners, upper
from racer.checkout import seal, slug
from racer.context import LaneShared, background, sandbox_for
from racer.errors import DiskFull, RacerError
from racer.flags import FileChange, is_test_file, is_test_infra
from racer.git import git
from racer.outcome import Scores
from racer.plan import RacePlan
from racer.prepare import prepare_checkout
from racer.proc import child_env
from racer.report import Acceptance, Baseline, Candidate, Cross, TestSummary
from racer.sandbox import Sandbox
from racer.status import Status
from racer.store import BASELINE
from racer.testrun import parse_junit, run_tests
from racer.verdict import name_in_id


@dataclass(frozen=True)
class PristinePlan:
    restore: tuple[str, ...]  # pre-existing test files / test config put back to the base's
    remove: tuple[str, ...]  # test files and test infrastructure the candidate added
    own_tests: tuple[str, ...]  # test files it added or changed: where its new tests are
    # Base texts of product files whose doctest examples it removed or rewrote: the base's
    # examples run against its code all the same (when the test command runs doctests).
    base_doctests: tuple[tuple[str, str], ...] = ()

    @property
    def needed(self) -> bool:
        return bool(self.restore or self.remove)


def _testy(path: str, before: str | None, after: str | None, patterns: Sequence[str]) -> bool:
    return is_test_file(path, patterns) or is_test_infra(path, before, after)


def pristine_plan(changes: Sequence[FileChange], test_patterns: Sequence[str]) -> PristinePlan:
    restore: list[str] = []
    remove: list[str] = []
    own: list[str] = []
    for ch in changes:
        testy = _testy(ch.path, ch.before, ch.after, test_patterns)
        if ch.old_path is not None and ch.old_path != ch.path:
            # a rename: the old name goes back, the new one goes away
            if _testy(ch.old_path, ch.before, None, test_patterns):
                restore.append(ch.old_path)
            if testy:
                remove.append(ch.path)
        elif testy and ch.old_path is None:  # added
            remove.append(ch.path)
            if is_test_file(ch.path, test_patterns) and ch.after is not None:
                own.append(ch.path)
        elif testy:
            restore.append(ch.path)
            if is_test_file(ch.path, test_patterns) and ch.after is not None:
                own.append(ch.path)  # tests added to an existing file are new tests too
    lost = tuple(
        sorted(
            (ch.path, ch.before)
            for ch in changes
            if ch.before is not None
            and ch.after is not None
            and ch.path.endswith(".py")
            and not _testy(ch.path, ch.before, ch.after, test_patterns)
            and any(doctests.lost_examples(ch.before, ch.after))
        )
    )
    return PristinePlan(
        tuple(sorted(set(restore))), tuple(sorted(set(remove))), tuple(sorted(set(own))), lost
    )


_DOCTEST_CONFIG = ("pytest.ini", "setup.cfg", "tox.ini", "pyproject.toml", "conftest.py")


def runs_doctests(checkout: Path, test_command: str) -> bool:
    """Whether the test command (or the project's pytest configuration) runs doctests."""
    if "doctest" in test_command:
        return True
    for name in _DOCTEST_CONFIG:
        try:
            if "--doctest" in (checkout / name).read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def with_extra(summary: TestSummary, extra: TestSummary) -> TestSummary:
    """The pristine run plus racer's own extra tests (the base's doctest examples)."""
    if not extra.junit:
        return replace(summary, ok=False, error=summary.error or extra.detail())
    return replace(
        summary,
        passed=summary.passed + extra.passed,
        failed=summary.failed + extra.failed,
        errors=summary.errors + extra.errors,
        ok=summary.ok and extra.ok,
        outcomes={**summary.outcomes, **extra.outcomes},
    )


async def _base_doctests(
    tests: _Runner, plan: RacePlan, checkout: Path, pristine: PristinePlan, ran: TestSummary
) -> TestSummary | None:
    """The base's examples of the docstrings the candidate cut, in modules whose doctests the
    test command runs (the pristine run holds doctest items of that module)."""
    command = plan.test_command or ""
    narrowed = pytest_command_for(command, [doctests.GENERATED])
    if not pristine.base_doctests or narrowed == command:
        return None
    modules = doctests.modules_run(ran.outcomes)
    files = {p: t for p, t in pristine.base_doctests if doctests.module_name(p) in modules}
    if not files or not await anyio.to_thread.run_sync(runs_doctests, checkout, command):
        return None
    source = doctests.base_examples_test(files)
    if source is None:
        return None
    await anyio.to_thread.run_sync((checkout / doctests.GENERATED).write_text, source)
    return await tests(narrowed, "base-doctests")


def apply_pristine(checkout: Path, base: str, plan: PristinePlan) -> None:
    seal(checkout)  # the candidate's code just ran in there
    if plan.restore:
        git(["checkout", base, "--", *plan.restore], checkout, lane=True)
    for rel in plan.remove:
        (checkout / rel).unlink(missing_ok=True)


def reset_checkout(checkout: Path, commit: str) -> None:
    """Back to exactly the lane's commit (tracked files; untracked leftovers of test runs go too,
    ignored files such as copied .env or node_modules stay)."""
    seal(checkout)  # the candidate's code just ran in there
    if upper.is_overlay(checkout) and upper.reset(checkout, commit):
        return  # an overlay lane: only the paths its layer holds were looked at
    git(["reset", "--hard", "--quiet", commit], checkout, lane=True)
    git(["clean", "-fdq"], checkout, lane=True)


def inside(root: Path, rel: str) -> Path | None:
    """root/rel when no existing part of it is a symbolic link and it stays under root: racer
    never writes through a link a candidate planted in its checkout."""
    part = root
    for name in Path(rel).parts:
        part = part / name
        if part.is_symlink():
            return None
    target = root / rel
    return target if target.resolve().is_relative_to(root.resolve()) else None


def place_files(checkout: Path, files: Sequence[tuple[Path, str]]) -> list[str]:
    """Copy (source, dest) pairs in; returns the dest paths written."""
    return write_files(checkout, [(dest, src.read_bytes()) for src, dest in files])


def write_files(checkout: Path, files: Sequence[tuple[str, bytes]]) -> list[str]:
    """Write (dest, content) pairs in (none through a symbolic link); returns the dests written."""
    written = []
    for dest, content in files:
        target = inside(checkout, dest)
        if target is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(dest)
    return written


def _test_files_of(authors: Sequence[Candidate]) -> dict[str, list[tuple[str, bytes]]]:
    return {
        a.name: [(f, (Path(a.worktree) / f).read_bytes()) for f in a.new_tests] for a in authors
    }


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


def acceptance_command(test_command: str, files: Sequence[str], checkout: Path) -> str:
    """The test command narrowed to `files`: pytest's files, or the project's runner (through
    package.json scripts) with the files as its arguments; else the command as is."""
    narrowed = pytest_command_for(test_command, files)
    if narrowed != test_command:
        return narrowed
    return runners.narrow(test_command, checkout, list(files)) or test_command


def module_of(path: str) -> str:
    """pytest's JUnit classname prefix for a test file: tests/test_x.py -> tests.test_x."""
    return path[:-3].replace("/", ".") if path.endswith(".py") else path


def _owners(path: str) -> list[str]:
    """Ids that stand for the whole file: its module, and a Go file's package directory (a
    package that does not build fails as its directory)."""
    if path.endswith(".go"):
        return [module_of(path), path.rsplit("/", 1)[0] if "/" in path else "."]
    return [module_of(path)]


def outcomes_in(outcomes: Mapping[str, str], files: Sequence[str]) -> dict[str, str]:
    """The outcomes of tests defined in `files` (matched on pytest's JUnit classnames, and on
    the `FILE::TEST` ids of the other runners)."""
    mods = [m for f in files for m in _owners(f)]
    return {
        tid: out
        for tid, out in outcomes.items()
        if any(tid == m or tid.startswith(m + "::") or tid.startswith(m + ".") for m in mods)
    }


NOT_ALONE = (
    "the acceptance tests' result is unknown: `{command}` gives no per-test results and racer"
    " cannot run {files} alone with it — use a test command that runs pytest, jest, vitest,"
    " mocha, ava, node --test, go test or cargo test"
)


def acceptance_of(
    res: TestSummary,
    dests: list[str],
    messages: Mapping[str, str] | None = None,
    narrowed: bool = True,
) -> Acceptance:
    """`messages`: the first line of each failure by test id (a file that could not load
    is its own id). `narrowed`: the command ran only `dests`; a whole-suite run without
    per-test results says nothing about them (its exit code is every test's)."""
    if not res.junit and not narrowed:
        unknown = NOT_ALONE.format(command=res.command, files=", ".join(dests))
        return Acceptance(errors=1, log=res.log, error=unknown)
    outcomes = outcomes_in(res.outcomes, dests) if res.junit else dict(res.outcomes)
    error = res.error if res.error and not outcomes else None
    if not outcomes and error is None:
        error = "the acceptance tests did not run (no results for them)"
    # A file that could not load is named by its path (pytest names it by module, go by
    # package directory), with the first line of why.
    load_errors: dict[str, str] = {}
    for dest in dests:
        for owner in _owners(dest):
            if outcomes.get(owner) == "error":
                del outcomes[owner]
                outcomes[dest] = "error"
                load_errors[dest] = (messages or {}).get(owner) or "could not load"
    return Acceptance(
        passed=sum(1 for o in outcomes.values() if o == "passed"),
        failed=sum(1 for o in outcomes.values() if o == "failed"),
        errors=sum(1 for o in outcomes.values() if o == "error") + (1 if error else 0),
        outcomes=outcomes,
        log=res.log,
        error=error,
        load_errors=load_errors,
    )


@dataclass(frozen=True)
class _Runner:
    """Runs the test command in one checkout, logs and JUnit reports named for the lane."""

    plan: RacePlan
    checkout: Path
    lane: str
    env: Mapping[str, str]
    box: Sandbox | None
    read_report: bool = True  # where a non-pytest runner's JUnit report is (test_report)

    def junit(self, kind: str) -> Path:
        junit = self.plan.race_dir.junit(self.lane, kind)
        # In the sandbox, racer's record is out of reach: the report goes to the lane's tmp.
        return self.box.tmpdir / junit.name if self.box else junit

    def messages(self, kind: str) -> dict[str, str]:
        """The first line of each failed or errored test's message in the run of `kind`."""
        try:
            cases = parse_junit(self.junit(kind))[4]
        except ValueError:
            return {}
        # Paths inside the checkout without it: the same error reads the same in every lane.
        roots = sorted({f"{self.checkout}/", f"{self.checkout.resolve()}/"}, key=len, reverse=True)

        def local(text: str) -> str:
            for root in roots:
                text = text.replace(root, "")
            return text

        return {c.id: local(c.message) for c in cases if c.message}

    async def __call__(self, command: str, kind: str) -> TestSummary:
        race_dir = self.plan.race_dir
        return await run_tests(
            command,
            self.checkout,
            log_path=race_dir.log(self.lane, kind),
            junit_path=self.junit(kind),
            env=self.env,
            timeout=self.plan.config.test_timeout,
            test_report=self.plan.config.test_report if self.read_report else None,
            wrap=self.box.wrap if self.box else None,
        )


async def score(
    plan: RacePlan,
    lane: str,
    checkout: Path,
    tip: str,
    pristine: PristinePlan,
    env: Mapping[str, str],
) -> Scores:
    """Test runs for one candidate (the caller holds a test slot). The checkout ends at `tip`."""
    assert plan.test_command is not None
    # The candidate's code runs in its tests: under --sandbox they are sandboxed too.
    tests = _Runner(plan, checkout, lane, env, sandbox_for(plan, checkout, env))
    own: TestSummary | None = None
    extra: TestSummary | None = None
    acceptance: Acceptance | None = None
    try:
        if pristine.needed:
            # The suite as the agent left it: its own new tests and any edits to tests.
            own = await tests(plan.test_command, "own-tests")
            await anyio.to_thread.run_sync(apply_pristine, checkout, plan.base_commit, pristine)
        # A green run that tested the main checkout's code instead says nothing: the gate
        # fails. Where the packages come from is asked while the tests run.
        probe = background(guard.check_imports, checkout, plan.test_command, env)
        summary = replace(await tests(plan.test_command, "tests"), pristine=pristine.needed)
        # Deleting a doctest example cannot buy a pass: the base's examples run all the same.
        extra = await _base_doctests(tests, plan, checkout, pristine, summary)
        if extra is not None:
            summary = with_extra(summary, extra)
        wrong = await anyio.to_thread.run_sync(probe.result)
        if wrong:
            summary = replace(summary, ok=False, error=wrong)
        # The hidden tests run on the same pristine tree: a conftest the candidate added must
        # not get to deselect or rewrite them either.
        if plan.acceptance:
            placed = [(a.source, a.dest) for a in plan.acceptance]
            dests = await anyio.to_thread.run_sync(place_files, checkout, placed)
            command = acceptance_command(plan.test_command, dests, checkout)
            acc = await tests(command, "acceptance")
            narrowed = command != plan.test_command
            acceptance = acceptance_of(acc, dests, tests.messages("acceptance"), narrowed)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(reset_checkout, checkout, tip)
    logs = {"tests": summary.log or ""}
    if own is not None:
        logs["own-tests"] = own.log or ""
    if acceptance is not None:
        logs["acceptance"] = acceptance.log or ""
    if extra is not None:
        logs["base-doctests"] = extra.log or ""
    return Scores(summary, own, acceptance, logs)


def _flaky(runs: Sequence[TestSummary]) -> tuple[str, ...]:
    first = runs[0].outcomes if runs else {}
    return tuple(
        sorted(
            {
                t
                for r in runs[1:]
                for t in set(first) | set(r.outcomes)
                if r.outcomes.get(t) != first.get(t)
            }
        )
    )


async def run_baseline(
    plan: RacePlan, shared: LaneShared, previous: Baseline | None
) -> tuple[Baseline | None, bool]:
    """The test command on the base commit, in its own checkout, while the agents work;
    `baseline_runs` times, to find flaky tests. Returns (the baseline, whether its checkout
    is ready for cross-checks). A resumed race keeps a baseline that ran."""
    assert plan.test_command is not None
    await shared.lanes_checked_out.wait()
    env = child_env(os.environ, {"RACER_RACE_ID": plan.race_id, "RACER_LANE": BASELINE})
    where = plan.checkout(BASELINE)
    try:
        failed = await prepare_checkout(
            plan,
            where,
            plan.branch(BASELINE),
            copies=shared.copies,
            env=env,
            setup_log=plan.race_dir.log("baseline", "setup"),
        )
    except DiskFull:
        raise
    except RacerError as exc:
        failed = exc.message
    if failed:
        return Baseline(error=failed), False
    if previous is not None and previous.runs and previous.error is None:
        return previous, True
    tests = _Runner(plan, where, "baseline", env, None)
    runs: list[TestSummary] = []
    for i in range(1, plan.config.baseline_runs + 1):
        async with shared.test_slots:
            runs.append(await tests(plan.test_command, str(i)))
    first = runs[0].outcomes if runs else {}
    return Baseline(runs=tuple(runs), outcomes=first, flaky=_flaky(runs)), True


@dataclass(frozen=True)
class CrossChecks:
    """Per author, its valid new tests; per target, how it did on the others' valid tests."""

    valid: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cross: dict[str, Cross] = field(default_factory=dict)


_TEST_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(test\w*)\s*\(", re.M)


def new_test_ids(
    outcomes: Mapping[str, str],
    files: Sequence[str],
    base: Mapping[str, str],
    base_tests: Mapping[str, str],
) -> dict[str, str]:
    """The candidate's new tests, wherever they are: ids in `files` that the base did not run and
    whose test function the base's version of the file did not define (tests of a module that
    failed to collect on the base existed there all the same)."""
    out: dict[str, str] = {}
    for path in files:
        defined = set(_TEST_DEF.findall(base_tests.get(path, "")))
        for test, outcome in outcomes_in(outcomes, [path]).items():
            if test not in base and name_in_id(test) not in defined:
                out[test] = outcome
    return out


async def cross_check(
    plan: RacePlan,
    candidates: Sequence[Candidate],
    shared: LaneShared,
    baseline: Baseline | None,
) -> CrossChecks:
    """Each candidate's new tests (in new files or added to existing ones) that fail on base
    and pass on it, run in the author's version of their file against every other candidate."""
    assert plan.test_command is not None
    judged = [c for c in candidates if c.status == Status.OK and c.commit and c.tests]
    authors = [c for c in judged if c.new_tests and c.own_tests and c.own_tests.junit]
    if not authors:
        return CrossChecks()
    env = child_env(os.environ, {"RACER_RACE_ID": plan.race_id})
    base = plan.checkout(BASELINE)

    # The authors' test files as they left them, read before any checkout receives another's
    # version of the same path (tests added to an existing file share its name).
    snapshot = await anyio.to_thread.run_sync(_test_files_of, authors)

    async def run_files(where: Path, author: Candidate, tag: str) -> dict[str, str]:
        box = sandbox_for(plan, where, env)  # a candidate's tests are its code
        tests = _Runner(plan, where, f"cross.{slug(author.name)}.on", env, box, False)
        try:
            dests = await anyio.to_thread.run_sync(write_files, where, snapshot[author.name])
            async with shared.test_slots:
                res = await tests(acceptance_command(plan.test_command or "", dests, where), tag)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(reset_checkout, where, "HEAD")
        return outcomes_in(res.outcomes, dests) if res.junit else {}

    # Valid tests of an author: new ids that passed on the author and fail on the base commit.
    valid: dict[str, tuple[str, ...]] = {}
    for author in authors:
        assert author.own_tests is not None
        own = new_test_ids(
            author.own_tests.outcomes,
            author.new_tests,
            baseline.outcomes if baseline else {},
            shared.base_tests,
        )
        on_base = await run_files(base, author, BASELINE)
        valid[author.name] = tuple(
            sorted(t for t, o in own.items() if o == "passed" and on_base.get(t) != "passed")
        )
    cross: dict[str, Cross] = {}

    async def judge_one(target: Candidate) -> None:
        passed = total = 0
        by_author: dict[str, str] = {}
        for author in authors:
            tests = valid[author.name]
            if author.name == target.name or not tests:
                continue
            got = await run_files(Path(target.worktree), author, slug(target.name))
            ok = sum(1 for t in tests if got.get(t) == "passed")
            by_author[author.name] = f"{ok}/{len(tests)}"
            passed, total = passed + ok, total + len(tests)
        if total:
            cross[target.name] = Cross(passed=passed, total=total, by_author=by_author)

    async with anyio.create_task_group() as tg:
        for target in judged:
            tg.start_soon(judge_one, target)
    return CrossChecks(valid, cross)
