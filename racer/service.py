"""Races run in the background of a long-lived racer process (`racer mcp`): start one and get its
id at once; its status, result, diffs, merge and cancellation, answered from the record as JSON.

Every input is checked as the CLI checks it (the same one-line RacerErrors); every path must lie
inside the repository the process serves; no answer carries a secret value of the environment.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import anyio
from anyio.abc import TaskGroup, TaskStatus

# pydantic (the MCP SDK's schemas) reads these TypedDicts; before Python 3.12 it needs
# typing_extensions' kind.
from typing_extensions import TypedDict

from racer import plan as planning
from racer import races, records, store
from racer import report as rpt
from racer.config import flags_from_cli
from racer.errors import (
    RaceNotFound,
    RefusedError,
    UserError,
    disk_full_in,
    racer_error_in,
)
from racer.proc import redact, secret_values
from racer.race import run_race
from racer.repo import RepoInfo, is_inside
from racer.status import RUNNING, RaceStatus, Status

DIFF_CAP = 200 * 1024  # bytes of one candidate's diff in an answer; `racer diff` prints it whole
MAX_DIFF_CAP = 5 * 2**20
MAX_WAIT = 3600.0  # seconds one race_result call may wait
LIST_CAP = 20  # test ids listed per kind (fixed, broken) in a result; a count says how many

Progress = Callable[[float, float | None, str | None], Awaitable[None]]


async def no_progress(done: float, total: float | None, message: str | None) -> None:
    """A Progress that tells no one."""


# ---- the answers (their keys are the tools' output schemas) ------------------------------------


class Started(TypedDict):
    race_id: str
    status: str
    candidates: list[str]
    spec: str
    title: str
    test_command: str | None
    base: dict[str, str | None]
    record: str


class Lanes(TypedDict):
    race_id: str
    status: str  # running, finished, interrupted, interrupted (merge), merged
    done: bool
    lanes_done: int
    lanes: list[dict[str, Any]]  # name, agent, model, phase, done, duration_s, error
    error: str | None  # why a race this server ran stopped with an error


class Result(TypedDict):
    race_id: str
    status: str
    done: bool
    title: str | None
    winner: str | None
    decided_by: str | None
    confidence: str | None
    cluster_summary: str | None
    ranking: list[str]
    candidates: list[dict[str, Any]]  # best first
    merged: dict[str, str] | None
    review: dict[str, Any] | None
    warnings: list[str]
    report: str
    error: str | None


class Diff(TypedDict):
    race_id: str
    candidate: str
    diff: str | None
    bytes: int
    truncated: bool
    note: str | None


class Merged(TypedDict):
    race_id: str
    candidate: str
    commit: str
    branch: str
    files: list[str]
    removed: list[str]
    kept: list[str]
    warnings: list[str]


class RaceList(TypedDict):
    races: list[dict[str, Any]]  # id, status, title, winner, candidates, left_running


@dataclass(frozen=True)
class StartRequest:
    """What a lead asks for in race_start: the spec (text or a file) and the settings it sets."""

    spec: str | None = None  # the Markdown text of the spec
    spec_path: str | None = None  # or a spec file in the repository
    contestants: Sequence[str] | None = None  # NAME[@MODEL][*N]; default: spec/config agents
    test: str | None = None
    acceptance: Sequence[str] = ()  # SRC[:DEST], files inside the repository
    review: str | None = None
    timeout: float | None = None
    test_timeout: float | None = None
    race_timeout: float | None = None


@dataclass
class Live:
    """A race this process runs: the scope that cancels it, and news of its lanes."""

    race_id: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    changed: anyio.Event = field(default_factory=anyio.Event)  # replaced after each change
    error: str | None = None  # why the race stopped with an error (it is interrupted then)

    def bump(self) -> None:
        """Wake whoever waits for news of this race."""
        self.changed.set()
        self.changed = anyio.Event()


class LiveReporter:
    """The Reporter of a background race: lane phase changes wake the callers waiting on it
    (race_result's progress notifications); the first event says the record exists."""

    def __init__(self, live: Live, task_status: TaskStatus[None]) -> None:
        self.live, self.task_status, self.began = live, task_status, False

    def started(self, report: rpt.RaceReport) -> None:
        self.began = True
        self.task_status.started()

    def phase(self, lane: str, phase: Status) -> None:
        self.live.bump()

    def line(self, lane: str, text: str) -> None:
        pass  # agents' output stays in their logs

    def finished(self, report: rpt.RaceReport) -> None:
        self.live.bump()


class Service:
    """The races of one repository as a long-lived process serves them."""

    def __init__(self, repo: RepoInfo, env: Mapping[str, str], group: TaskGroup) -> None:
        self.repo, self.env, self.group = repo, env, group
        self.root = repo.root.resolve()
        self.live: dict[str, Live] = {}
        self.secrets = secret_values(env)

    # ---- race_start ------------------------------------------------------------------------

    async def start(self, req: StartRequest) -> Started:
        """Check everything, then start the race in the background; returns once it is recorded."""
        spec_path = self._spec_file(req.spec, req.spec_path)
        acceptance = tuple(self._acceptance_item(a) for a in req.acceptance)
        flags = flags_from_cli(
            {
                "agents": None if req.contestants is None else ",".join(req.contestants),
                "test": req.test,
                "review": req.review,
                "timeout": req.timeout,
                "test_timeout": req.test_timeout,
                "race_timeout": req.race_timeout,
            }
        )
        prepare = functools.partial(
            planning.prepare, self.root, spec_path, env=self.env, flags=flags, acceptance=acceptance
        )
        plan = await anyio.to_thread.run_sync(prepare)
        for a in plan.acceptance:  # the spec's front matter may name some too
            self._inside(str(a.source), "acceptance test")
        live = Live(plan.race_id)
        self.live[plan.race_id] = live
        try:
            await self.group.start(self._run, plan, live)
        except BaseException:
            del self.live[plan.race_id]
            raise
        started: Started = {
            "race_id": plan.race_id,
            "status": RaceStatus.RUNNING.value,
            "candidates": [c.name for c in plan.contestants],
            "spec": str(plan.spec.path),
            "title": plan.spec.title,
            "test_command": plan.test_command,
            "base": {"commit": plan.base_commit, "branch": plan.base_branch},
            "record": str(plan.race_dir.record),
        }
        return cast(Started, self._scrub(started))

    async def _run(
        self, plan: planning.RacePlan, live: Live, *, task_status: TaskStatus[None]
    ) -> None:
        reporter = LiveReporter(live, task_status)
        try:
            with live.scope:  # race_cancel: lanes stopped, work kept, the race interrupted
                await run_race(plan, reporter)
        # One race failing must not take the server and the other races down with it: its
        # record says interrupted, and the error is the answer to whoever asks about it.
        except Exception as exc:
            if not reporter.began:
                raise  # before the race was recorded: race_start answers with the error
            live.error = error_message(exc)
        finally:
            live.done.set()
            live.bump()

    def _spec_file(self, text: str | None, path: str | None) -> Path:
        if (text is None) == (path is None):
            raise UserError(
                "race_start needs one spec: spec (its Markdown text) or spec_path (a spec file "
                "in the repository), not both"
            )
        if path is not None:
            return self._inside(path, "spec")
        if _names_a_file(self.root, text or ""):
            raise UserError(
                f"spec holds the spec's Markdown text, and {(text or '').strip()!r} is a file in "
                "the repository — pass it as spec_path"
            )
        # Kept with the race records, never in the working tree the agents' checkouts come from.
        dest = store.races_dir(self.repo.common_dir).parent / "mcp-specs" / f"{uuid.uuid4()}.md"
        store.write_atomic(dest, text or "")
        return dest

    def _inside(self, raw: str, what: str) -> Path:
        """`raw` (relative to the repository root) as an absolute path inside the repository."""
        path = Path(raw).expanduser()
        path = (path if path.is_absolute() else self.root / path).resolve()
        if not is_inside(path, self.root):
            raise UserError(
                f"{what} {raw} is outside the repository {self.root} — racer mcp only reads "
                "files inside the repository it serves"
            )
        return path

    def _acceptance_item(self, item: str) -> str:
        """SRC[:DEST] (as `--acceptance` takes it) with SRC made absolute, once it is known to
        lie inside the repository."""
        src, dest = item, ""
        if ":" in item and not (self.root / item).exists():
            src, _, dest = item.partition(":")
        path = self._inside(src, "acceptance test")
        return f"{path}:{dest}" if dest else str(path)

    # ---- race_status, race_result, race_diff, race_list ------------------------------------

    def _find(self, race: str | None) -> store.RaceDir:
        return store.find_race(self.repo.common_dir, race)

    def status(self, race: str | None) -> Lanes:
        race_dir = self._find(race)
        report = records.shown(race_dir)
        status = records.status_of(report, race_dir)
        lanes = [
            {
                "name": c.name,
                "agent": c.agent,
                "model": c.model,
                "phase": c.status.value,
                "done": c.status not in RUNNING,
                "duration_s": c.duration_s,
                "error": c.error,
            }
            for c in report.candidates
        ]
        answer: Lanes = {
            "race_id": report.id,
            "status": status,
            "done": status != RaceStatus.RUNNING,
            "lanes_done": sum(1 for c in report.candidates if c.status not in RUNNING),
            "lanes": lanes,
            "error": self._error(report.id),
        }
        return cast(Lanes, self._scrub(answer))

    async def result(
        self, race: str | None, wait: float, diff: bool, progress: Progress = no_progress
    ) -> Result:
        if not 0 <= wait <= MAX_WAIT:
            raise UserError(
                f"wait must be a number of seconds from 0 to {MAX_WAIT:g}, got {wait!r}"
            )
        race_dir = self._find(race)  # "latest" is fixed now, whatever starts while it waits
        if wait:
            await self._wait(race_dir, wait, progress)
        report = records.shown(race_dir)
        status = records.status_of(report, race_dir)
        order = rpt.ranked(report)
        review = report.review
        answer: Result = {
            "race_id": report.id,
            "status": status,
            "done": status != RaceStatus.RUNNING,
            "title": report.spec.get("title"),
            "winner": report.winner,
            "decided_by": report.decided_by,
            "confidence": report.confidence,
            "cluster_summary": report.cluster_summary,
            "ranking": [c.name for c in order if c.rank is not None],
            "candidates": [self._candidate(report.id, c, diff) for c in order],
            "merged": asdict(report.merged) if report.merged else None,
            "review": None
            if review is None
            else {
                "status": str(review.status),
                "agent": review.agent,
                "summary": review.summary,
                "findings": len(review.findings),
            },
            "warnings": list(report.warnings),
            "report": str(store.RaceDir(Path(report.race_dir)).report_md),
            "error": self._error(report.id),
        }
        return cast(Result, self._scrub(answer))

    async def _wait(self, race_dir: store.RaceDir, wait: float, progress: Progress) -> None:
        """Until the race is no longer running (at most `wait` seconds), reporting each change
        of its lanes' phases as progress: lanes done of all lanes."""
        seen: tuple[str, ...] = ()
        with anyio.move_on_after(wait):
            while True:
                now = self.status(race_dir.id)
                phases = tuple(f"{lane['name']}: {lane['phase']}" for lane in now["lanes"])
                if phases != seen:
                    seen = phases
                    await progress(now["lanes_done"], len(phases), ", ".join(phases))
                if now["done"]:
                    return
                live = self.live.get(race_dir.id)
                with anyio.move_on_after(1.0):  # a race another racer runs: poll its record
                    await (live.changed.wait() if live else anyio.sleep(1.0))

    def _candidate(self, race_id: str, c: rpt.Candidate, with_diff: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": c.name,
            "agent": c.agent,
            "model": c.model,
            "rank": c.rank,
            "status": c.status.value,
            "passed": c.passed,
            "reasons": list(c.reasons),
            "error": c.error,
            "tests": _tests(c.tests),
            "acceptance": None
            if c.acceptance is None
            else {
                "passed": c.acceptance.passed,
                "failed": c.acceptance.failed,
                "errors": c.acceptance.errors,
                "error": c.acceptance.error,
            },
            "flags": [asdict(f) for f in c.flags],
            "cost_usd": c.cost_usd,
            "cost_estimated": c.cost_estimated,
            "tokens": asdict(c.tokens) if c.tokens else None,
            "duration_s": c.duration_s,
            "diffstat": asdict(c.diffstat),
            "cluster": c.cluster,
            "branch": c.branch,
            "commit": c.commit,
            "final_message": (c.final_message or "")[:2000] or None,
            "warnings": list(c.warnings),
        }
        if with_diff:
            out["diff"] = _diff_of(race_id, c, DIFF_CAP)
        return out

    def diff(self, race: str | None, name: str, max_bytes: int = DIFF_CAP) -> Diff:
        if not 1 <= max_bytes <= MAX_DIFF_CAP:
            raise UserError(f"max_bytes must be from 1 to {MAX_DIFF_CAP}, got {max_bytes!r}")
        report = rpt.load(self._find(race))
        cand = report.candidate(name)
        if not cand.diff or not Path(cand.diff).is_file():
            raise RaceNotFound(f"{name} has no recorded diff (its lane did not get that far)")
        return cast(Diff, self._scrub(_diff_of(report.id, cand, max_bytes)))

    def list(self) -> RaceList:
        rows = [asdict(r) for r in races.race_rows(self.repo.common_dir)]
        return cast(RaceList, self._scrub({"races": rows}))

    # ---- race_merge, race_cancel -----------------------------------------------------------

    async def merge(self, race: str | None, name: str, keep: bool = False) -> Merged:
        """`racer merge NAME` without --force: what it refuses, this refuses in its words."""
        race_dir = self._find(race)
        live = self.live.get(race_dir.id)
        if live is not None and not live.done.is_set():
            raise RefusedError(
                f"race {race_dir.id} is still running — wait for it (race_result with wait), "
                "then merge"
            )
        merge = functools.partial(races.merge, self.repo, name, race_dir.id, keep=keep, force=False)
        try:
            done = await anyio.to_thread.run_sync(merge)
        except RefusedError as exc:
            if "--force" not in exc.message:
                raise
            # racer's words, and that the lead has no --force: a person decides that.
            raise RefusedError(
                f"{exc.message} (race_merge never forces: that is for a person, with "
                f"`racer merge {name} --force`)"
            ) from None
        answer: Merged = {
            "race_id": race_dir.id,
            "candidate": name,
            "commit": done.commit,
            "branch": done.branch,
            "files": list(done.files),
            "removed": list(done.removed),
            "kept": list(done.kept),
            "warnings": list(done.warnings),
        }
        return cast(Merged, self._scrub(answer))

    async def cancel(self, race: str | None) -> Lanes:
        """Stop a race this server runs, as Ctrl-C stops `racer run`: the lanes' process groups
        are killed, their work committed and kept, the race interrupted (`racer resume`)."""
        race_dir = self._find(race)
        live = self.live.get(race_dir.id)
        if live is None or live.done.is_set():
            status = records.status_of(rpt.load(race_dir), race_dir)
            raise RefusedError(
                f"race {race_dir.id} is not running in this server ({status}) — nothing to cancel"
            )
        live.scope.cancel()
        await live.done.wait()
        return self.status(race_dir.id)

    async def stop_all(self) -> None:
        """Stop every race this server runs and wait until each is recorded as interrupted."""
        for live in self.live.values():
            live.scope.cancel()
        for live in list(self.live.values()):
            await live.done.wait()

    # ---- helpers ---------------------------------------------------------------------------

    def _error(self, race_id: str) -> str | None:
        live = self.live.get(race_id)
        return live.error if live else None

    def _scrub(self, value: Any) -> Any:
        """Every text of an answer with the environment's secret values redacted."""
        if isinstance(value, str):
            return redact(value, self.secrets)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value


def _tests(summary: rpt.TestSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "passed": summary.passed,
        "failed": summary.failed,
        "errors": summary.errors,
        "skipped": summary.skipped,
        "ok": summary.ok,
        "timed_out": summary.timed_out,
        "error": summary.error,
        "fixed": list(summary.fixed[:LIST_CAP]),
        "fixed_count": len(summary.fixed),
        "broken": list(summary.broken[:LIST_CAP]),
        "broken_count": len(summary.broken),
    }


def _diff_of(race_id: str, c: rpt.Candidate, cap: int) -> Diff:
    """A candidate's saved diff (secrets were redacted when it was saved), cut at a line end
    within `cap` bytes."""
    path = Path(c.diff) if c.diff else None
    if path is None or not path.is_file():
        return Diff(
            race_id=race_id, candidate=c.name, diff=None, bytes=0, truncated=False, note=None
        )
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw = fh.read(cap)
    note = None
    if size > cap:
        raw = raw[: raw.rfind(b"\n") + 1] or raw
        note = (
            f"cut at {len(raw)} of {size} bytes — `racer diff {race_id} {c.name}` prints it whole"
        )
    return Diff(
        race_id=race_id,
        candidate=c.name,
        diff=raw.decode("utf-8", errors="replace"),
        bytes=size,
        truncated=size > cap,
        note=note,
    )


def error_message(exc: BaseException) -> str:
    """The one line for an error a background race stopped with."""
    known = racer_error_in(exc)
    if known is not None:
        return known.message
    if disk_full_in(exc):
        return "no space left on the disk — free some space, then `racer resume` finishes the race"
    return f"internal error: {type(exc).__name__}: {exc}"


def _names_a_file(root: Path, text: str) -> bool:
    """Whether an inline spec is really the path of a file in the repository (a lead's slip)."""
    line = text.strip()
    if not line or "\n" in line or len(line) > 1024:
        return False
    try:
        return (root / line).is_file()
    except OSError:  # a name too long for the file system, say: not a file either way
        return False
