"""The race record: RaceReport dataclasses ⇄ versioned JSON (race.json), and the live RaceState.

Every view (terminal, Markdown, HTML, JSON) renders from this record, so past races show again
without rerunning. The JSON layer is the only place that turns status strings into Status.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from racer.errors import NewerRecord, RaceNotFound
from racer.flagkinds import Flag
from racer.prices import Tokens
from racer.status import RaceStatus, ReviewStatus, Status, Verification
from racer.store import RaceDir, write_json
from racer.testsummary import TestSummary

__all__ = [
    "Acceptance",
    "Attempt",
    "Baseline",
    "Candidate",
    "Cross",
    "DiffStat",
    "Finding",
    "Flag",
    "Generated",
    "GeneratedTest",
    "Merge",
    "RaceReport",
    "RaceState",
    "Review",
    "ReviewTest",
    "TestSummary",
    "Tokens",
]

# The record's schema: 2 since `acceptance.load_errors` (files that could not load are not
# counted); 1 before it, read as having none. A key that only adds information needs no new
# number (readers leave keys they do not know out); a change an older racer would misread does.
SCHEMA_VERSION = 2
OLDEST_SCHEMA = 1


@dataclass(frozen=True)
class Acceptance:
    """Hidden acceptance tests: copied in after the agent stopped."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    log: str | None = None
    error: str | None = None  # they could not run
    # acceptance file -> the first line of why it could not load (import error, syntax error)
    load_errors: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors


@dataclass(frozen=True)
class Cross:
    """Other candidates' valid new tests run against this candidate."""

    passed: int = 0
    total: int = 0
    by_author: dict[str, str] = field(default_factory=dict)  # other candidate -> "2/3"


@dataclass(frozen=True)
class Baseline:
    """The test command on the base commit, run twice to find flaky tests."""

    runs: tuple[TestSummary, ...] = ()
    outcomes: dict[str, str] = field(default_factory=dict)  # first run
    flaky: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DiffStat:
    files: int = 0
    added: int = 0
    removed: int = 0
    paths: tuple[str, ...] = ()

    @property
    def lines(self) -> int:
        return self.added + self.removed


@dataclass(frozen=True)
class Attempt:
    """One launch of the agent CLI (rate-limited runs are retried, maybe on a fallback model)."""

    n: int
    model: str | None
    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    error: str | None = None
    rate_limited: bool = False
    api_status: int | None = None
    log: str = ""
    command: str = ""  # the command line as run (secrets redacted, long arguments shortened)


@dataclass(frozen=True)
class Candidate:
    name: str
    agent: str
    model: str | None
    order: int
    status: Status = Status.PENDING
    rank: int | None = None
    passed: bool = False
    reasons: tuple[str, ...] = ()
    exit_code: int | None = None
    duration_s: float | None = None
    timed_out: bool = False
    error: str | None = None
    final_message: str | None = None
    tests: TestSummary | None = None
    diffstat: DiffStat = field(default_factory=DiffStat)
    branch: str = ""
    worktree: str = ""
    commit: str | None = None
    logs: dict[str, str] = field(default_factory=dict)  # agent / setup / tests -> path
    diff: str | None = None  # path of the saved diff
    tokens: Tokens | None = None
    cost_usd: float | None = None
    cost_estimated: bool = False  # True: from racer's price table, not reported by the CLI
    turns: int | None = None
    pgid: int | None = None
    agent_version: str | None = None
    attempts: tuple[Attempt, ...] = ()
    warnings: tuple[str, ...] = ()
    own_tests: TestSummary | None = (
        None  # the suite as the candidate left it (when it edited tests)
    )
    new_tests: tuple[str, ...] = ()  # its new test files
    valid_new_tests: tuple[str, ...] = ()  # its new tests that fail on base and pass on it
    acceptance: Acceptance | None = None
    flags: tuple[Flag, ...] = ()
    cross: Cross | None = None
    cluster: int | None = None
    fingerprint: str | None = None
    secret_files: tuple[str, ...] = ()  # files holding a known secret value (redacted in views)
    tier: int | None = None  # its cascade tier (0-based); None outside a cascade
    track: Track | None = None  # its record here (None: --no-history, or none readable)
    scripted: bool = False  # its agent's tokens and cost are scripted (the fake agent), not spent
    host: str | None = None  # where its agent ran, when on a cluster node (racer batch on Ray)
    attempt: int | None = None  # that step's attempt: 2 when a lost node had it run again


@dataclass(frozen=True)
class ReviewTest:
    """A test file a reviewer or a test writer wrote."""

    path: str
    content: str


@dataclass(frozen=True)
class Finding:
    """One reviewer finding and what its test did (racer.findings.verify_finding)."""

    label: str  # the blind label the reviewer saw (A, B, …)
    candidate: str
    file: str
    line: int | None
    severity: str  # high | medium | low
    claim: str
    test: ReviewTest | None = None
    outcome: str = Verification.ADVISORY
    results: dict[str, str] = field(
        default_factory=dict
    )  # candidate -> passed/failed/wrong/missing
    base: str | None = None  # the test file's result on the base commit
    separates: bool = False  # reproduced, and passes on some other candidate: ranking evidence


@dataclass(frozen=True)
class Review:
    """The cross-family reviewer's run, its findings and their verification."""

    status: str = ReviewStatus.SKIPPED
    reason: str | None = None  # why it was skipped or unusable
    agent: str | None = None
    model: str | None = None
    family: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # label -> candidate
    same_family: tuple[str, ...] = ()  # reviewed candidates of the reviewer's own family
    attempts: tuple[Attempt, ...] = ()
    cost_usd: float | None = None
    cost_estimated: bool = False
    duration_s: float = 0.0
    findings: tuple[Finding, ...] = ()
    summary: str | None = None
    log: str | None = None
    logs: dict[str, str] = field(default_factory=dict)  # tree -> log of its findings' tests


@dataclass(frozen=True)
class GeneratedTest:
    """One test file of the test writer, as it ran on the base and on the candidates."""

    path: str
    content: str
    counted: tuple[str, ...] = ()  # ids that fail on the base and pass on some candidate
    discounted: tuple[str, ...] = ()  # ids that fail on the base and on every candidate
    passes_on_base: tuple[str, ...] = ()  # ids that test nothing new: not counted
    passed: dict[str, int] = field(default_factory=dict)  # candidate -> counted ids it passes


@dataclass(frozen=True)
class Generated:
    """The test writer's run (spec and base only) and its acceptance tests."""

    status: str = ReviewStatus.SKIPPED
    reason: str | None = None
    agent: str | None = None
    model: str | None = None
    family: str | None = None
    attempts: tuple[Attempt, ...] = ()
    cost_usd: float | None = None
    cost_estimated: bool = False
    duration_s: float = 0.0
    tests: tuple[GeneratedTest, ...] = ()
    log: str | None = None
    logs: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(t.counted) for t in self.tests)


@dataclass(frozen=True)
class Merge:
    candidate: str
    commit: str
    branch: str


@dataclass(frozen=True)
class Track:
    """A contestant's track record in this repository when the race started (racer.history)."""

    passed: int
    races: int  # its last races here (at most 10)
    score: float  # the pass rate, recent races weighing more (half-life 30 days)

    @property
    def prior(self) -> float:
        """The score pulled toward 1/2 by one pass and one failure: 0.5 with no races."""
        return round((self.score * self.races + 1) / (self.races + 2), 2)

    def said(self) -> str:
        return f"passed {self.passed} of its last {self.races} race{'' if self.races == 1 else 's'} here"


@dataclass(frozen=True)
class Cascade:
    """A cascade's course: its tiers, which one solved the task, what each cost."""

    tiers: tuple[tuple[str, ...], ...]  # candidate names, cheapest tier first
    auto: bool = False  # ordered by the history's $ per solved race (--cascade auto)
    solved_by: int | None = None  # 1-based tier whose candidate ended the race
    reason: str | None = None  # "fake@cheap passed (confidence high)"
    spent: tuple[float | None, ...] = ()  # per tier that ran
    skipped_cost: float | None = None  # the skipped tiers at their mean cost here, if known


@dataclass(frozen=True)
class RaceReport:
    id: str
    status: RaceStatus
    spec: dict[str, str]  # path, title
    base: dict[str, str | None]  # commit, branch
    created: str
    repo: str
    race_dir: str
    prompt: str  # path of the exact prompt every contestant got
    test_command: str | None
    candidates: tuple[Candidate, ...]
    finished: str | None = None
    winner: str | None = None
    merged: Merge | None = None
    cleaned: bool = False
    baseline: Baseline | None = None
    acceptance_files: tuple[dict[str, str | bool], ...] = ()  # source, dest, tracked
    decided_by: str | None = None
    confidence: str | None = None  # high | medium | low
    cluster_summary: str | None = None
    warnings: tuple[str, ...] = ()
    resumed: int = 0  # times `racer resume` picked this race up again
    interruption: str | None = None  # why an interrupted race stopped ("disk full"), if known
    cascade: Cascade | None = None
    review: Review | None = None
    generated_tests: Generated | None = None
    schema: int = SCHEMA_VERSION

    @property
    def wall_s(self) -> float | None:
        """The race's own wall time, created to finished (a resumed race's includes the pause);
        None while it runs."""
        try:
            took = datetime.fromisoformat(self.finished or "") - datetime.fromisoformat(
                self.created
            )
        except ValueError:
            return None
        return took.total_seconds()

    def candidate(self, name: str) -> Candidate:
        for c in self.candidates:
            if c.name == name:
                return c
        names = ", ".join(c.name for c in self.candidates)
        raise RaceNotFound(f"race {self.id} has no candidate {name!r} — candidates: {names}")

    def with_candidate(self, cand: Candidate) -> RaceReport:
        return replace(
            self, candidates=tuple(cand if c.name == cand.name else c for c in self.candidates)
        )


def to_dict(report: RaceReport) -> dict[str, Any]:
    data = asdict(report)
    return {"schema": data.pop("schema"), **data}


def _summary(d: dict[str, Any] | None) -> TestSummary | None:
    if not d:
        return None
    d = dict(d)
    d["fixed"] = tuple(d.get("fixed") or ())
    d["broken"] = tuple(d.get("broken") or ())
    return _known(TestSummary, d)


def _candidate(d: dict[str, Any]) -> Candidate:
    d = dict(d)
    d["reasons"] = tuple(d.get("reasons") or ())
    d["tests"] = _summary(d.get("tests"))
    d["own_tests"] = _summary(d.get("own_tests"))
    d["new_tests"] = tuple(d.get("new_tests") or ())
    d["valid_new_tests"] = tuple(d.get("valid_new_tests") or ())
    d["acceptance"] = _acceptance(d["acceptance"]) if d.get("acceptance") else None
    d["track"] = _known(Track, d["track"]) if d.get("track") else None
    d["status"] = Status(d.get("status") or Status.PENDING)
    d["flags"] = tuple(_known(Flag, f) for f in d.get("flags") or ())
    d["cross"] = _known(Cross, d["cross"]) if d.get("cross") else None
    ds = dict(d.get("diffstat") or {})
    ds["paths"] = tuple(ds.get("paths") or ())
    d["diffstat"] = _known(DiffStat, ds)
    d["tokens"] = _known(Tokens, d["tokens"]) if d.get("tokens") else None
    d["attempts"] = tuple(_known(Attempt, a) for a in d.get("attempts") or ())
    d["warnings"] = tuple(d.get("warnings") or ())
    d["secret_files"] = tuple(d.get("secret_files") or ())
    return _known(Candidate, d)


def candidate_from_dict(d: dict[str, Any]) -> Candidate:
    """A candidate as `to_dict` wrote it (a remote lane step's result)."""
    return _candidate(d)


def _finding(d: dict[str, Any]) -> Finding:
    d = dict(d)
    d["test"] = _known(ReviewTest, d["test"]) if d.get("test") else None
    d["outcome"] = Verification(d.get("outcome") or Verification.ADVISORY)
    return _known(Finding, d)


def _review(d: dict[str, Any] | None) -> Review | None:
    if not d:
        return None
    d = dict(d)
    d["status"] = ReviewStatus(d.get("status") or ReviewStatus.SKIPPED)
    d["same_family"] = tuple(d.get("same_family") or ())
    d["attempts"] = tuple(_known(Attempt, a) for a in d.get("attempts") or ())
    d["findings"] = tuple(_finding(f) for f in d.get("findings") or ())
    return _known(Review, d)


def _generated(d: dict[str, Any] | None) -> Generated | None:
    if not d:
        return None
    d = dict(d)
    d["status"] = ReviewStatus(d.get("status") or ReviewStatus.SKIPPED)
    d["attempts"] = tuple(_known(Attempt, a) for a in d.get("attempts") or ())
    d["tests"] = tuple(
        _known(
            GeneratedTest,
            {
                **t,
                **{k: tuple(t.get(k) or ()) for k in ("counted", "discounted", "passes_on_base")},
            },
        )
        for t in d.get("tests") or ()
    )
    return _known(Generated, d)


_D = TypeVar("_D")


_NAMES: dict[type, frozenset[str]] = {}  # each record dataclass's field names


def _names(cls: type) -> frozenset[str]:
    if cls not in _NAMES:
        _NAMES[cls] = frozenset(f.name for f in fields(cls))
    return _NAMES[cls]


def _known(cls: type[_D], d: Mapping[str, Any]) -> _D:
    """cls from a record's mapping, the keys this racer does not know left out: a newer racer's
    record (an added key) reads as this racer knows it."""
    if not isinstance(d, Mapping):
        raise ValueError(f"a {type(d).__name__} where the record needs an object")
    return cls(**{k: v for k, v in d.items() if k in _names(cls)})


def _acceptance(d: Mapping[str, Any]) -> Acceptance:
    """The hidden tests' results; `load_errors` (schema 2) must map file names to text."""
    errors = d.get("load_errors") or {}
    if not isinstance(errors, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in errors.items()
    ):
        raise ValueError("acceptance.load_errors is not a map of file to text")
    return _known(Acceptance, {**d, "load_errors": dict(errors)})


def from_dict(data: dict[str, Any]) -> RaceReport:
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < OLDEST_SCHEMA:
        raise ValueError(f"no schema number (got {schema!r})")
    if schema > SCHEMA_VERSION:
        raise NewerRecord(
            f"it has schema {schema}, written by a newer racer; this racer reads schemas "
            f"{OLDEST_SCHEMA} to {SCHEMA_VERSION} — upgrade racer (pip install -U racer) to read it"
        )
    d = dict(data)
    d["status"] = RaceStatus(d["status"])
    d["candidates"] = tuple(_candidate(c) for c in d.get("candidates") or ())
    d["merged"] = _known(Merge, d["merged"]) if d.get("merged") else None
    if d.get("baseline"):
        b = dict(d["baseline"])
        b["runs"] = tuple(_summary(r) for r in b.get("runs") or ())
        b["flaky"] = tuple(b.get("flaky") or ())
        d["baseline"] = _known(Baseline, b)
    d["acceptance_files"] = tuple(d.get("acceptance_files") or ())
    d["warnings"] = tuple(d.get("warnings") or ())
    d["review"] = _review(d.get("review"))
    d["generated_tests"] = _generated(d.get("generated_tests"))
    if d.get("cascade"):
        c = dict(d["cascade"])
        c["tiers"] = tuple(tuple(t) for t in c.get("tiers") or ())
        c["spent"] = tuple(c.get("spent") or ())
        d["cascade"] = _known(Cascade, c)
    return _known(RaceReport, d)


def load(race_dir: RaceDir) -> RaceReport:
    path = race_dir.record
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        return _checked(from_dict(data))
    except NewerRecord as exc:
        raise NewerRecord(f"cannot read {path}: {exc.message}") from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        why = " ".join(str(exc).split())[:200]
        raise RaceNotFound(
            f"cannot read {path}: {why} — the race record is damaged; remove its directory "
            f"{race_dir.path} if you no longer need it"
        ) from None


def _checked(report: RaceReport) -> RaceReport:
    """A record whose text fields are text: every view can render it."""
    texts = [report.id, report.repo, report.race_dir, report.created]
    for c in report.candidates:
        texts += [c.name, c.agent, c.branch, c.worktree]
        if not isinstance(c.order, int):
            raise ValueError(f"candidate {c.name!r} has order {c.order!r}, not a number")
    for value in texts:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} where the record needs text")
    if len({c.name for c in report.candidates}) != len(report.candidates):
        raise ValueError("two candidates have the same name")
    return report


def ranked(report: RaceReport) -> list[Candidate]:
    return sorted(
        report.candidates, key=lambda c: (c.rank if c.rank is not None else 10_000, c.order)
    )


class RaceState:
    """The live record of a race being run; every change is written to race.json atomically.

    Inside `written_behind()`, a thread of its own writes the record: a change returns at once,
    and changes that come while a write is under way go out together in the next one (the
    latest record, never an older one after a newer). Outside it, each change is written before
    `save` returns."""

    def __init__(self, report: RaceReport) -> None:
        self.report = report
        self.dir = RaceDir(Path(report.race_dir))
        self._cond = threading.Condition()
        self._writer: threading.Thread | None = None
        self._dirty = self._closing = False
        self._failed: BaseException | None = None  # the writer's error, raised by the next save

    def save(self) -> None:
        if self._writer is None:
            write_json(self.dir.record, to_dict(self.report))
            return
        with self._cond:
            if self._failed is not None:
                failed, self._failed = self._failed, None
                raise failed
            self._dirty = True
            self._cond.notify_all()

    @contextlib.contextmanager
    def written_behind(self) -> Iterator[RaceState]:
        """Saves written by a thread of their own while inside (the event loop never waits on
        the disk); on the way out the record is written once more, here, if it changed since
        (or a write failed: its error is then this write's)."""
        self._writer = threading.Thread(target=self._write_behind, name="racer-record", daemon=True)
        self._writer.start()
        try:
            yield self
        finally:
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            self._writer.join()
            with self._cond:
                again = self._dirty or self._failed is not None
                self._writer, self._dirty, self._closing, self._failed = None, False, False, None
            if again:
                self.save()

    def _write_behind(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._closing:
                    self._cond.wait()
                if not self._dirty or self._failed is not None:
                    return  # closing, and all written
                self._dirty = False
            try:
                write_json(self.dir.record, to_dict(self.report))
            except BaseException as exc:  # a full disk, say: the race's next save raises it
                with self._cond:
                    self._failed, self._dirty = exc, True
                return

    def set(self, report: RaceReport) -> None:
        self.report = report
        self.save()

    def put(self, cand: Candidate) -> None:
        self.set(self.report.with_candidate(cand))

    def candidate(self, name: str) -> Candidate:
        return self.report.candidate(name)

    def warn(self, *warnings: str) -> None:
        if warnings:
            self.set(replace(self.report, warnings=(*self.report.warnings, *warnings)))
