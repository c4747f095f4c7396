"""The reviewer and the test writer, run like contestants (adapter, proc, retries, fallbacks,
--max-cost, --sandbox, timeouts) in a checkout of the base commit whose changes are discarded;
then their tests run on the base and on every candidate's pristine tree.

Fail open: whatever goes wrong (not installed, timed out, over budget, an API error, garbage) is
a Review/Generated record that says "skipped" or "unusable" and why, never an exception.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import anyio

from racer import checkout, fmt, orphans, pool, prices
from racer import findings as contract
from racer.agents import BUILTIN_AGENTS, Agent, Contestant, check_installed, parse_contestants
from racer.agents.command import CommandAgent
from racer.attempts import AgentRun, read_tail, run_attempts
from racer.context import Lane, LaneShared, sandbox_for
from racer.errors import AgentError, DiskFull, RacerError
from racer.families import UNKNOWN, family_of, same_family
from racer.outcome import LaneOutcome
from racer.plan import RacePlan
from racer.prepare import prepare_checkout
from racer.proc import child_env
from racer.report import Attempt, Candidate, Generated, Review, ReviewTest
from racer.reporter import Reporter
from racer.scoring import (
    PristinePlan,
    acceptance_command,
    apply_pristine,
    module_of,
    outcomes_in,
    reset_checkout,
    write_files,
)
from racer.status import ReviewStatus, Status
from racer.store import write_atomic
from racer.testrun import parse_junit, run_tests

REVIEW, WRITER = "_review", "_writer"  # their lane names: logs, checkouts, RACER_LANE
BASE = "_baseline"  # the base commit's tree among the candidates' (no contestant has the name)
# A failure that says the test itself cannot run (pytest's JUnit message starts with the error).
_WRONG_TEST = re.compile(
    r"^(?:[\w.]+\.)?(?:NameError|SyntaxError|IndentationError|ImportError|ModuleNotFoundError)\b"
)


AUTO = "auto"


def pick_helper(
    value: str,
    registry: Mapping[str, Agent],
    against: Sequence[tuple[str, str | None]],
    installed: bool = True,
) -> Contestant | str:
    """The reviewer (or test writer) `value` names, or why there is none.

    `auto`: an installed built-in agent whose family differs from the most of `against`
    ((agent, model) of the candidates it will read); ties go to the registry's order.
    """
    if value == AUTO:
        families = [family_of(a, m) for a, m in against]
        best: tuple[int, int, str] | None = None
        for i, name in enumerate(BUILTIN_AGENTS):
            family = family_of(name, None)
            if family == UNKNOWN or (installed and not _installed(name, registry)):
                continue
            shared = sum(1 for f in families if same_family(f, family))
            if best is None or (shared, i) < best[:2]:
                best = (shared, i, name)
        if best is None:
            return "--review auto found no installed agent of a known model family"
        return Contestant(best[2], best[2], None, -1)
    try:
        who = parse_contestants([value], registry)[0]
        if installed:
            check_installed([who], registry)
    except AgentError as exc:
        return exc.message
    return Contestant(who.name.split("*")[0], who.agent, who.model, -1)


def _installed(name: str, registry: Mapping[str, Agent]) -> bool:
    try:
        check_installed([Contestant(name, name, None, -1)], registry)
    except AgentError:
        return False
    return True


class _Progress:
    """A helper agent's Progress: its attempts and logs kept here, its lines on the board."""

    def __init__(self, reporter: Reporter, lane: str) -> None:
        self.reporter, self.lane = reporter, lane
        self.attempts_made: tuple[Attempt, ...] = ()

    def phase(self, status: Status) -> None:
        pass

    def line(self, text: str) -> None:
        self.reporter.line(self.lane, text)

    def process(self, pgid: int) -> None:
        pass

    def attempts(self, attempts: tuple[Attempt, ...]) -> None:
        self.attempts_made = attempts

    def log(self, kind: str, path: Path) -> None:
        pass

    def committed(self, sha: str) -> None:
        pass

    def interim(self, outcome: LaneOutcome) -> None:
        pass


@dataclass(frozen=True)
class HelperRun:
    """What one helper agent did: its answer, or why there is none."""

    who: Contestant
    family: str
    model: str | None
    text: str = ""
    failure: str | None = None
    attempts: tuple[Attempt, ...] = ()
    cost_usd: float | None = None
    cost_estimated: bool = False
    duration_s: float = 0.0
    log: str | None = None
    output: str = ""  # everything it printed (a command agent's answer spans many lines)


def helper_env(plan: RacePlan, lane: str) -> dict[str, str]:
    return child_env(os.environ, {"RACER_RACE_ID": plan.race_id, "RACER_LANE": lane})


async def run_helper(
    plan: RacePlan,
    shared: LaneShared,
    who: Contestant,
    lane_name: str,
    prompt: str,
    reporter: Reporter,
    files: Mapping[str, str] | None = None,
) -> HelperRun:
    """Run `who` on `prompt` in a fresh checkout of the base commit (with `files` written into
    it), then throw the checkout away. Any failure is in the result."""
    cfg = plan.config.agent_configs.get(who.agent)
    model = who.model or (cfg.model if cfg else None)
    family = family_of(who.agent, model)
    path, env = plan.checkout(lane_name), helper_env(plan, lane_name)
    prompt_file = plan.race_dir.path / f"{lane_name.strip('_')}-prompt.md"
    write_atomic(prompt_file, prompt)
    progress = _Progress(reporter, "review" if lane_name == REVIEW else "write-tests")
    try:
        # What a killed racer may have left there (a resumed race, a second `racer review`).
        await anyio.to_thread.run_sync(pool.release, plan.repo.root, path, 0)
        failed = await prepare_checkout(
            plan,
            path,
            plan.branch(lane_name),
            copies=shared.copies,
            env=env,
            setup_log=plan.race_dir.log(lane_name, "setup"),
        )
        if failed:
            return HelperRun(who, family, model, failure=failed)
        write_files(path, [(rel, text.encode()) for rel, text in (files or {}).items()])
        record = Candidate(
            name=who.name, agent=who.agent, model=model, order=-1, worktree=str(path)
        )
        lane = Lane(
            plan=plan,
            contestant=replace(who, name=lane_name),
            record=record,
            shared=shared,
            progress=progress,
            env=env,
            prompt=prompt,
            prompt_file=prompt_file,
        )
        box = sandbox_for(
            plan, path, {**env, **lane.agent_cfg.env}, lane.agent, readable=(prompt_file,)
        )
        try:
            run = await run_attempts(lane, box)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(
                    lambda: orphans.stop(orphans.find(plan.race_id, lane=lane_name))
                )
    except DiskFull:
        raise
    except RacerError as exc:
        return HelperRun(who, family, model, failure=exc.message, attempts=progress.attempts_made)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(pool.release, plan.repo.root, path, 0)
    return _helper_result(who, family, run)


def _helper_result(who: Contestant, family: str, run: AgentRun) -> HelperRun:
    out, parsed = run.outcome, run.output
    log = str(out.log_path)
    model = parsed.model or run.model or prices.DEFAULT_MODELS.get(who.agent)
    cost, estimated = prices.cost_of(parsed.cost_usd, parsed.tokens, model)
    failure = None
    if out.timed_out:
        failure = f"{who.name} timed out after {out.duration_s:.0f} s"
    elif out.error or out.exit_code != 0 or parsed.error:
        failure = out.error or parsed.error or f"{who.name} exited {out.exit_code}"
        if parsed.rate_limited:
            failure = f"rate-limited after {fmt.plural(len(run.attempts), 'attempt')}: {failure}"
    output = read_tail(out.log_path) if failure is None else ""
    text = parsed.final_message or output
    return HelperRun(
        who=who,
        family=family,
        model=parsed.model or run.model,
        text=text,
        failure=" ".join(failure.split())[:300] if failure else None,
        attempts=run.attempts,
        cost_usd=cost,
        cost_estimated=estimated,
        duration_s=round(sum(a.duration_s for a in run.attempts), 3),
        log=log,
        output=output,
    )


# --- running tests on trees ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    """A checkout to run tests in: the base, or a candidate (made pristine first)."""

    name: str  # candidate name, or BASE
    path: Path
    tip: str | None  # the candidate's commit to reset to; None: HEAD
    pristine: PristinePlan | None = None


def file_results(cases: Sequence[tuple[str, str, str]], paths: Sequence[str]) -> dict[str, str]:
    """Per test file: passed / failed / wrong (the test itself cannot run) / missing."""
    out: dict[str, str] = {}
    for path in paths:
        mod = module_of(path)
        mine = [
            (i, o, m)
            for i, o, m in cases
            if i == mod or i.startswith(mod + "::") or i.startswith(mod + ".")
        ]
        ran = [(i, o, m) for i, o, m in mine if o != "skipped"]
        if not ran:
            out[path] = contract.MISSING
        elif any(
            "::" not in i or o == "error" or _WRONG_TEST.match(m.strip())
            for i, o, m in ran
            if o != "passed"
        ):
            out[path] = contract.WRONG
        elif any(o != "passed" for _, o, _ in ran):
            out[path] = contract.FAILED
        else:
            out[path] = contract.PASSED
    return out


async def run_files(
    plan: RacePlan, tree: Tree, files: Sequence[ReviewTest], kind: str, slots: anyio.CapacityLimiter
) -> tuple[dict[str, str], dict[str, str], str | None]:
    """Write `files` into the tree (pristine first), run them, put the tree back.
    Returns (per file: its result; per test id: its outcome; the log)."""
    assert plan.test_command is not None
    env = helper_env(plan, tree.name)
    box = sandbox_for(plan, tree.path, env)  # a candidate's code runs in these tests
    lane = f"{kind}.{checkout.slug(tree.name)}"
    junit = plan.race_dir.junit(lane, "tests")
    junit_path = box.tmpdir / junit.name if box else junit
    paths = [f.path for f in files]
    try:
        async with slots:
            if tree.pristine is not None:
                await anyio.to_thread.run_sync(
                    apply_pristine, tree.path, plan.base_commit, tree.pristine
                )
            # never through a symlink the candidate planted: such a file's result is missing
            write_files(tree.path, [(f.path, f.content.encode()) for f in files])
            res = await run_tests(
                acceptance_command(plan.test_command, paths, tree.path),
                tree.path,
                log_path=plan.race_dir.log(lane, "tests"),
                junit_path=junit_path,
                env=env,
                timeout=plan.config.test_timeout,
                wrap=box.wrap if box else None,
            )
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(reset_checkout, tree.path, tree.tip or "HEAD")
    cases: list[tuple[str, str, str]] = []
    if res.junit:
        try:
            cases = [(c.id, c.outcome, c.message) for c in parse_junit(junit_path)[4]]
        except ValueError:
            cases = []
    return file_results(cases, paths), dict(res.outcomes) if res.junit else {}, res.log


async def run_on_trees(
    plan: RacePlan,
    trees: Sequence[Tree],
    files: Sequence[ReviewTest],
    kind: str,
    slots: anyio.CapacityLimiter,
) -> dict[str, tuple[dict[str, str], dict[str, str], str | None]]:
    """run_files on every tree, in parallel (each tree is its own checkout)."""
    out: dict[str, tuple[dict[str, str], dict[str, str], str | None]] = {}

    async def one(tree: Tree) -> None:
        out[tree.name] = await run_files(plan, tree, files, kind, slots)

    async with anyio.create_task_group() as tg:
        for tree in trees:
            tg.start_soon(one, tree)
    return out


# --- the review ------------------------------------------------------------------------------------


def _skipped(why: str, run: HelperRun | None = None, status: str = ReviewStatus.SKIPPED) -> Review:
    if run is None:
        return Review(status=status, reason=why)
    return Review(
        status=status,
        reason=why,
        agent=run.who.agent,
        model=run.model,
        family=run.family,
        attempts=run.attempts,
        cost_usd=run.cost_usd,
        cost_estimated=run.cost_estimated,
        duration_s=run.duration_s,
        log=run.log,
    )


async def review(
    plan: RacePlan,
    shared: LaneShared,
    who: Contestant,
    reviewed: Sequence[Candidate],
    diffs: Mapping[str, str],
    trees: Sequence[Tree],
    spec: tuple[str, str],
    reporter: Reporter,
) -> Review:
    """Run the reviewer on the top candidates' diffs, then every finding's test on every tree."""
    labels = contract.labels_for(plan.race_id, [c.name for c in reviewed])
    by_label = {label: diffs.get(name, "") for label, name in labels.items()}
    prompt = contract.review_prompt(spec[0], spec[1], by_label)
    files = {f"{contract.REVIEW_DIR}/{label}.diff": d for label, d in by_label.items()}
    run = await run_helper(plan, shared, who, REVIEW, prompt, reporter, files)
    if run.failure:
        return _skipped(run.failure, run)
    patterns = plan.test_patterns
    try:
        found, summary = _answer(
            plan, run, lambda text: contract.parse_review(text, labels, patterns)
        )
    except contract.ContractError as exc:
        return _skipped(str(exc), run, ReviewStatus.UNUSABLE)
    fams = {c.name: family_of(c.agent, c.model) for c in reviewed}
    done = replace(
        _skipped("", run, ReviewStatus.DONE),
        reason=None,
        labels=labels,
        same_family=tuple(n for n, f in fams.items() if same_family(f, run.family)),
        summary=summary,
    )
    tests = [f.test for f in found if f.test is not None]
    if not tests or plan.test_command is None:
        return replace(done, findings=found)
    ran = await run_on_trees(plan, trees, tests, "review", shared.test_slots)
    base = ran.get(BASE, ({}, {}, None))
    verified = []
    for f in found:
        if f.test is None:
            verified.append(f)
            continue
        results = {n: r[0].get(f.test.path, contract.MISSING) for n, r in ran.items() if n != BASE}
        verified.append(
            contract.verify_finding(f, results, base[0].get(f.test.path, contract.MISSING))
        )
    logs = {n: r[2] for n, r in ran.items() if r[2]}
    return replace(done, findings=tuple(verified), logs=logs)


_A = TypeVar("_A")


def _answer(plan: RacePlan, run: HelperRun, parse: Callable[[str], _A]) -> _A:
    """The contract read from the final message; for a command agent, whose final message is
    its last output line, from everything it printed when that line alone is not the answer."""
    try:
        return parse(run.text)
    except contract.ContractError:
        if not isinstance(plan.registry.get(run.who.agent), CommandAgent) or not run.output:
            raise
    return parse(run.output)


async def write_tests(
    plan: RacePlan,
    shared: LaneShared,
    who: Contestant,
    spec: tuple[str, str],
    reporter: Reporter,
) -> tuple[HelperRun, tuple[ReviewTest, ...] | None, str | None]:
    """The test writer's run and its test files (None with the reason when unusable)."""
    run = await run_helper(plan, shared, who, WRITER, contract.writer_prompt(*spec), reporter)
    if run.failure:
        return run, None, run.failure
    patterns = plan.test_patterns
    try:
        return run, _answer(plan, run, lambda text: contract.parse_tests(text, patterns)), None
    except contract.ContractError as exc:
        return run, None, str(exc)


async def check_generated(
    plan: RacePlan,
    shared: LaneShared,
    written: tuple[HelperRun, tuple[ReviewTest, ...] | None, str | None],
    trees: Sequence[Tree],
) -> Generated:
    """The writer's tests on the base (they must fail there) and on every candidate."""
    run, tests, why = written
    base = Generated(
        status=ReviewStatus.DONE,
        agent=run.who.agent,
        model=run.model,
        family=run.family,
        attempts=run.attempts,
        cost_usd=run.cost_usd,
        cost_estimated=run.cost_estimated,
        duration_s=run.duration_s,
        log=run.log,
    )
    if tests is None:
        status = ReviewStatus.SKIPPED if run.failure else ReviewStatus.UNUSABLE
        return replace(base, status=status, reason=why)
    if plan.test_command is None:
        return replace(base, status=ReviewStatus.SKIPPED, reason="no test command")
    ran = await run_on_trees(plan, trees, tests, "generated", shared.test_slots)
    base_ids = ran.get(BASE, ({}, {}, None))[1]
    out = []
    for t in tests:
        on_base = outcomes_in(base_ids, [t.path])
        runs = {n: outcomes_in(r[1], [t.path]) for n, r in ran.items() if n != BASE}
        out.append(contract.generated_results(t, on_base, runs))
    logs = {n: r[2] for n, r in ran.items() if r[2]}
    return replace(base, tests=tuple(out), logs=logs)
