"""The race record: RaceReport dataclasses ⇄ versioned JSON (race.json), and the Markdown view.

Every view (terminal, Markdown, JSON) renders from this record, so past races show without rerunning.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from racer.errors import RaceNotFound

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TokenCount:
    input: int = 0
    output: int = 0
    cached: int = 0


@dataclass(frozen=True)
class TestSummary:
    command: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    exit_code: int | None = None
    duration_s: float = 0.0
    timed_out: bool = False
    ok: bool = False
    junit: bool = False
    error: str | None = None
    log: str | None = None
    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> passed/failed/error/skipped
    fixed: tuple[str, ...] = ()  # failed on the base commit, pass here
    broken: tuple[str, ...] = ()  # passed on the base commit, fail here
    pristine: bool = False  # scored with the base versions of the tests and test config

    def detail(self) -> str:
        if self.error:
            return self.error
        if self.timed_out:
            return f"timed out after {self.duration_s:.0f} s"
        if not self.junit:
            return f"exit code {self.exit_code}"
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.failed, "failed"),
                (self.errors, "errors"),
                (self.passed, "passed"),
                (self.skipped, "skipped"),
            )
            if n
        ]
        return ", ".join(parts) or "no tests"


@dataclass(frozen=True)
class Acceptance:
    """Hidden acceptance tests: copied in after the agent stopped."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    log: str | None = None
    error: str | None = None  # they could not run

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors


@dataclass(frozen=True)
class FlagRecord:
    kind: str
    file: str
    detail: str
    severity: str  # tamper | scope


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
    status: str = "pending"  # pending, running, testing, then the ranked status
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
    tokens: TokenCount | None = None
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
    flags: tuple[FlagRecord, ...] = ()
    cross: Cross | None = None
    cluster: int | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class Merge:
    candidate: str
    commit: str
    branch: str


@dataclass(frozen=True)
class RaceReport:
    id: str
    status: str  # running, finished, interrupted, failed
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
    schema: int = SCHEMA_VERSION

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
    return TestSummary(**d)


def _candidate(d: dict[str, Any]) -> Candidate:
    d = dict(d)
    d["reasons"] = tuple(d.get("reasons") or ())
    d["tests"] = _summary(d.get("tests"))
    d["own_tests"] = _summary(d.get("own_tests"))
    d["new_tests"] = tuple(d.get("new_tests") or ())
    d["valid_new_tests"] = tuple(d.get("valid_new_tests") or ())
    d["acceptance"] = Acceptance(**d["acceptance"]) if d.get("acceptance") else None
    d["flags"] = tuple(FlagRecord(**f) for f in d.get("flags") or ())
    d["cross"] = Cross(**d["cross"]) if d.get("cross") else None
    ds = dict(d.get("diffstat") or {})
    ds["paths"] = tuple(ds.get("paths") or ())
    d["diffstat"] = DiffStat(**ds)
    d["tokens"] = TokenCount(**d["tokens"]) if d.get("tokens") else None
    d["attempts"] = tuple(Attempt(**a) for a in d.get("attempts") or ())
    d["warnings"] = tuple(d.get("warnings") or ())
    return Candidate(**d)


def from_dict(data: dict[str, Any]) -> RaceReport:
    schema = data.get("schema")
    if schema != SCHEMA_VERSION:
        raise RaceNotFound(
            f"race.json has schema {schema!r}; this racer reads schema {SCHEMA_VERSION} — upgrade racer"
        )
    d = dict(data)
    d["candidates"] = tuple(_candidate(c) for c in d.get("candidates") or ())
    d["merged"] = Merge(**d["merged"]) if d.get("merged") else None
    if d.get("baseline"):
        b = dict(d["baseline"])
        b["runs"] = tuple(_summary(r) for r in b.get("runs") or ())
        b["flaky"] = tuple(b.get("flaky") or ())
        d["baseline"] = Baseline(**b)
    d["acceptance_files"] = tuple(d.get("acceptance_files") or ())
    d["warnings"] = tuple(d.get("warnings") or ())
    return RaceReport(**d)


def load(race_dir: Path) -> RaceReport:
    path = race_dir / "race.json"
    try:
        return from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise RaceNotFound(
            f"cannot read {path}: {exc} — the race record is damaged; `racer clean --force` removes it"
        ) from None


def ranked(report: RaceReport) -> list[Candidate]:
    return sorted(
        report.candidates, key=lambda c: (c.rank if c.rank is not None else 10_000, c.order)
    )


def money(c: Candidate) -> str:
    if c.cost_usd is None:
        return "—"
    return f"~${c.cost_usd:.4f} (est.)" if c.cost_estimated else f"${c.cost_usd:.4f}"


def _tokens(c: Candidate) -> str:
    if c.tokens is None:
        return "—"
    return f"{c.tokens.input}/{c.tokens.output}"


def render_markdown(report: RaceReport) -> str:
    lines = [
        f"# racer report: {report.spec.get('title', '')}",
        "",
        f"- race: `{report.id}` ({report.status})",
        f"- spec: `{report.spec.get('path')}`",
        f"- base: `{(report.base.get('commit') or '')[:12]}` on `{report.base.get('branch') or '(detached)'}`",
        f"- tests: `{report.test_command or 'none'}`",
        f"- winner: **{report.winner}**"
        if report.winner
        else "- winner: none — no candidate passed",
        "",
        "| # | candidate | status | tests | diff | time | tokens in/out | cost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in ranked(report):
        tests = c.tests.detail() if c.tests else "—"
        diff = f"{c.diffstat.files} files +{c.diffstat.added} -{c.diffstat.removed}"
        time = "—" if c.duration_s is None else f"{c.duration_s:.1f} s"
        lines.append(
            f"| {c.rank or '—'} | {c.name} | {c.status} | {tests} | {diff} | {time} | {_tokens(c)} | {money(c)} |"
        )
    lines.append("")
    for c in ranked(report):
        lines += [f"## {c.rank or '—'}. {c.name}", ""]
        lines += [f"- {r}" for r in c.reasons]
        if c.error:
            lines.append(f"- error: {c.error}")
        if c.agent_version:
            lines.append(f"- agent: {c.agent} {c.agent_version}, model {c.model or 'default'}")
        if len(c.attempts) > 1 or any(a.rate_limited for a in c.attempts):
            for a in c.attempts:
                what = "rate-limited" if a.rate_limited else (a.error or f"exit {a.exit_code}")
                lines.append(
                    f"- attempt {a.n} ({a.model or 'default model'}): {what}, {a.duration_s:.1f} s"
                )
        for w in c.warnings:
            lines.append(f"- warning: {w}")
        for f in c.flags:
            lines.append(f"- **{f.severity} flag** `{f.kind}` in `{f.file}`: {f.detail}")
        if c.tests and (c.tests.fixed or c.tests.broken):
            lines.append(
                f"- fixed: {', '.join(c.tests.fixed) or 'none'}; broken: {', '.join(c.tests.broken) or 'none'}"
            )
        if c.acceptance:
            lines.append(
                f"- acceptance: {c.acceptance.passed} passed, {c.acceptance.failed} failed, {c.acceptance.errors} errors"
            )
        if c.cross:
            lines.append(f"- other candidates' tests: {c.cross.passed}/{c.cross.total} passed")
        lines.append(f"- branch: `{c.branch}`")
        for kind, path in c.logs.items():
            lines.append(f"- {kind} log: `{path}`")
        if c.diff:
            lines.append(f"- diff: `{c.diff}` (`racer diff {report.id} {c.name}`)")
        if c.final_message:
            lines += ["", "> " + c.final_message.strip().replace("\n", "\n> ")]
        lines.append("")
    if report.winner and not report.merged:
        lines.append(f"Land the winner: `racer merge {report.winner} --race {report.id}`")
    elif report.merged:
        lines.append(
            f"Merged **{report.merged.candidate}** as `{report.merged.commit[:12]}` on `{report.merged.branch}`."
        )
    return "\n".join(lines) + "\n"


def write_views(report: RaceReport) -> tuple[Path, Path]:
    """report.md and report.html in the race directory, both rendered from the record."""
    from racer import html, store

    race_dir = Path(report.race_dir)
    md, page = race_dir / "report.md", race_dir / "report.html"
    store.write_atomic(md, render_markdown(report))
    diffs = {}
    for c in report.candidates:
        if c.diff and Path(c.diff).is_file():
            diffs[c.name] = Path(c.diff).read_text(encoding="utf-8", errors="replace")
    store.write_atomic(page, html.render_html(to_dict(report), diffs))
    return md, page
