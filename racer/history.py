"""Every finished race in one SQLite file (stdlib sqlite3): what ran, how it ended, what it cost.

Keyed by the repository's root commit, so clones of one project share a history. Database trouble
(damaged, busy, unwritable) is never an error: each function returns one line saying so instead
(the caller prints it as every racer message: `racer: history not recorded: …`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from racer import store
from racer.errors import RacerError
from racer.families import family_of
from racer.git import git
from racer.report import Candidate, RaceReport, load
from racer.status import RaceStatus, Status

BUSY_TIMEOUT_MS = 2000
NOT_RECORDED = "history not recorded"
NOT_READ = "history not read"


def db_path(env: Mapping[str, str] | None = None) -> Path:
    """RACER_HISTORY_DB, else $XDG_DATA_HOME/racer/history.sqlite3 (~/.local/share by default)."""
    env = os.environ if env is None else env
    if env.get("RACER_HISTORY_DB"):
        return Path(env["RACER_HISTORY_DB"]).expanduser()
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "racer" / "history.sqlite3"


def repo_id(root: Path) -> str | None:
    """The repository's stable id: the sha of its root commit (the smallest, if several)."""
    try:
        out = git(["rev-list", "--max-parents=0", "HEAD"], root, check=False, timeout=60)
    except (RacerError, OSError):
        return None
    roots = sorted(out.stdout.split()) if out.returncode == 0 else []
    return roots[0] if roots else None


def contestant_key(agent: str, model: str | None) -> str:
    """How history names a contestant: `agent@model`, or `agent` on its default model."""
    return f"{agent}@{model}" if model else agent


# --- the schema: user_version counts the migrations applied; v2 is one more function here ---


def _v1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE races (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL, repo_id TEXT NOT NULL, repo_path TEXT NOT NULL,
            spec_hash TEXT NOT NULL, spec_title TEXT, base_commit TEXT, test_command TEXT,
            created TEXT NOT NULL, finished TEXT, winner TEXT, decided_by TEXT, confidence TEXT,
            merged TEXT, cascade TEXT,
            UNIQUE (repo_id, id))"""
    )
    db.execute("CREATE INDEX races_by_repo ON races (repo_id, created)")
    db.execute(
        """CREATE TABLE candidates (
            race INTEGER NOT NULL REFERENCES races (pk) ON DELETE CASCADE,
            name TEXT NOT NULL, agent TEXT NOT NULL, model TEXT, agent_version TEXT,
            family TEXT NOT NULL, setup TEXT, tier INTEGER,
            status TEXT NOT NULL, rank INTEGER, passed INTEGER NOT NULL, flags TEXT NOT NULL,
            tests_fixed INTEGER, tests_broken INTEGER,
            cost_usd REAL, cost_estimated INTEGER NOT NULL,
            tokens_in INTEGER, tokens_out INTEGER, duration_s REAL,
            PRIMARY KEY (race, name))"""
    )
    db.execute("CREATE INDEX candidates_by_agent ON candidates (agent, model)")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1,)


class _NewerSchema(Exception):
    """The file was written by a racer that knows more migrations than this one."""


def _migrate(db: sqlite3.Connection) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise _NewerSchema(f"schema {version}; this racer knows {len(MIGRATIONS)}")
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with _transaction(db):
            # Another racer may have migrated it while this one waited for the lock.
            if int(db.execute("PRAGMA user_version").fetchone()[0]) >= number:
                continue
            step(db)
            db.execute(f"PRAGMA user_version = {number}")


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception: all of it is written or none."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    """The database at path, created if missing, in WAL mode and migrated to this racer's schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level None: no implicit transactions; _transaction says where each one is.
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def _trouble(path: Path, exc: BaseException, doing: str) -> str:
    """The one line for a database that cannot be used, saying what to do about it."""
    why = " ".join(str(exc).split())[:200] or type(exc).__name__
    later = " (race.json keeps the race: `racer history import` adds it later)"
    after = later if doing == NOT_RECORDED else ""
    if isinstance(exc, _NewerSchema):
        return f"{doing}: {path} was written by a newer racer ({why}) — upgrade racer"
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in why:
        return f"{doing}: cannot open {path} ({why}) — make it a file you can write{after}"
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in why or "busy" in why):
        return f"{doing}: {path} is busy ({why}) — another process holds it; try again{after}"
    if isinstance(exc, sqlite3.DatabaseError):
        return f"{doing}: {path} is damaged ({why}) — move it away to start a new one{after}"
    return f"{doing}: cannot open {path} ({why}) — make its directory writable for you{after}"


_PROBLEMS = (sqlite3.Error, OSError, _NewerSchema)


# --- writing ---


def _spec_hash(report: RaceReport) -> str:
    try:
        text = Path(report.prompt).read_text(encoding="utf-8")
    except (OSError, ValueError):
        text = report.spec.get("title") or ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _candidate_row(race: int, c: Candidate) -> tuple[object, ...]:
    tests = c.tests
    return (
        race, c.name, c.agent, c.model, c.agent_version, family_of(c.agent, c.model),
        c.agent, c.tier, str(c.status), c.rank, int(c.passed),
        json.dumps([f.kind for f in c.flags]),
        len(tests.fixed) if tests else None, len(tests.broken) if tests else None,
        c.cost_usd, int(c.cost_estimated),
        c.tokens.input if c.tokens else None, c.tokens.output if c.tokens else None,
        c.duration_s,
    )  # fmt: skip


def _write_race(db: sqlite3.Connection, report: RaceReport, rid: str) -> None:
    """Replace the race (a re-judged race replaces what was recorded of it) with its candidates."""
    db.execute("DELETE FROM races WHERE repo_id = ? AND id = ?", (rid, report.id))
    cur = db.execute(
        "INSERT INTO races (id, repo_id, repo_path, spec_hash, spec_title, base_commit,"
        " test_command, created, finished, winner, decided_by, confidence, merged, cascade)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            report.id, rid, report.repo, _spec_hash(report), report.spec.get("title"),
            report.base.get("commit"), report.test_command, report.created, report.finished,
            report.winner, report.decided_by, report.confidence,
            report.merged.candidate if report.merged else None,
            json.dumps(asdict(report.cascade)) if report.cascade else None,
        ),
    )  # fmt: skip
    race = cur.lastrowid
    assert race is not None  # an INSERT always sets it
    db.executemany(
        f"INSERT INTO candidates VALUES ({', '.join('?' * 19)})",
        # A cascade's skipped candidates never ran: they are no evidence about their agent.
        [_candidate_row(race, c) for c in report.candidates if c.status != Status.SKIPPED],
    )


def record_race(report: RaceReport, db: Path | None = None) -> str | None:
    """Record a finished race (again: a re-judged race replaces its old record), in one
    transaction. Returns None, or one line saying why it was not recorded."""
    if report.status not in (RaceStatus.FINISHED, RaceStatus.MERGED):
        return None
    path = db or db_path()
    rid = repo_id(Path(report.repo))
    if rid is None:
        return f"{NOT_RECORDED}: {report.repo} is no git repository with commits any more"
    try:
        with closing(_connect(path)) as conn, _transaction(conn):
            _write_race(conn, report, rid)
    except _PROBLEMS as exc:
        return _trouble(path, exc, NOT_RECORDED)
    return None


def record_merge(report: RaceReport, db: Path | None = None) -> str | None:
    """Mark the candidate a person merged (the user's pick: ground truth for the ranking).
    A race missing from the history is recorded whole. None, or one line saying why not."""
    if report.merged is None:
        return None
    return record_race(report, db)


@dataclass(frozen=True)
class Imported:
    imported: int
    skipped: int  # damaged records
    warnings: tuple[str, ...]  # one per damaged record
    trouble: str | None = None  # the database could not be written: nothing was imported


def import_races(common_dir: Path, db: Path | None = None) -> Imported:
    """Every finished race under <common_dir>/racer/races into the history, in one transaction."""
    path = db or db_path()
    reports: list[RaceReport] = []
    warnings: list[str] = []
    for race_id in store.race_ids(common_dir):
        try:
            report = load(store.RaceDir.of(common_dir, race_id))
        except RacerError as exc:
            warnings.append(f"skipped race {race_id}: {exc.message}")
            continue
        if report.status in (RaceStatus.FINISHED, RaceStatus.MERGED):
            reports.append(report)
    skipped = len(warnings)
    rid = repo_id(common_dir)
    ids = {r.repo: rid or repo_id(Path(r.repo)) for r in reports}
    kept = [r for r in reports if ids[r.repo] is not None]
    if len(kept) < len(reports):
        left = len(reports) - len(kept)
        warnings.append(f"{left} race{'' if left == 1 else 's'} left out: no repository id")
    if not kept:
        return Imported(0, skipped, tuple(warnings))
    try:
        with closing(_connect(path)) as conn, _transaction(conn):
            for report in kept:
                _write_race(conn, report, str(ids[report.repo]))
    except _PROBLEMS as exc:
        return Imported(0, skipped, tuple(warnings), _trouble(path, exc, NOT_RECORDED))
    return Imported(len(kept), skipped, tuple(warnings))


def import_records(common_dir: Path, db: Path | None = None) -> tuple[int, int, list[str]]:
    """(imported, skipped, warnings) of `import_races`; database trouble is the last warning."""
    done = import_races(common_dir, db)
    return done.imported, done.skipped, [*done.warnings, *filter(None, [done.trouble])]


# --- reading ---


@dataclass(frozen=True)
class CandidateRow:
    """One contestant in one recorded race, as stats and the prior read it."""

    race: str  # "<repo id>/<race id>": unique across repositories
    created: str  # the race's start, ISO 8601 (UTC)
    name: str
    agent: str
    model: str | None
    status: str
    rank: int | None
    passed: bool
    cost_usd: float | None
    cost_estimated: bool
    duration_s: float | None
    merged: bool  # the person merged this candidate

    @property
    def key(self) -> str:
        return contestant_key(self.agent, self.model)


@dataclass(frozen=True)
class Rows:
    rows: tuple[CandidateRow, ...] = ()
    trouble: str | None = None  # the database could not be read


_SELECT = (
    "SELECT r.repo_id || '/' || r.id, r.created, c.name, c.agent, c.model, c.status, c.rank,"
    " c.passed, c.cost_usd, c.cost_estimated, c.duration_s, coalesce(r.merged = c.name, 0)"
    " FROM candidates c JOIN races r ON r.pk = c.race"
)


def _row(values: Sequence[object]) -> CandidateRow:
    race, created, name, agent, model, status, rank, passed, cost, est, secs, merged = values
    return CandidateRow(
        race=str(race), created=str(created), name=str(name), agent=str(agent),
        model=None if model is None else str(model), status=str(status),
        rank=rank if isinstance(rank, int) else None, passed=bool(passed),
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
        cost_estimated=bool(est),
        duration_s=float(secs) if isinstance(secs, int | float) else None, merged=bool(merged),
    )  # fmt: skip


def _query(path: Path, sql: str, args: Sequence[object]) -> list[CandidateRow]:
    with closing(_connect(path)) as conn:
        return [_row(v) for v in conn.execute(sql, args).fetchall()]


def candidate_rows(
    repo: str | None = None, since: date | None = None, db: Path | None = None
) -> Rows:
    """Every recorded candidate, oldest race first; of one repository id (None: all of them),
    of races started on or after `since` (a UTC date). A missing database is an empty one."""
    path = db or db_path()
    if not path.exists():
        return Rows()
    where, args = (" WHERE r.repo_id = ?", [repo]) if repo is not None else ("", [])
    try:
        rows = _query(path, f"{_SELECT}{where} ORDER BY r.created, r.id, c.name", args)
    except _PROBLEMS as exc:
        return Rows(trouble=_trouble(path, exc, NOT_READ))
    if since is not None:
        rows = [r for r in rows if _started(r.created) >= since]
    return Rows(tuple(rows))


def _started(created: str) -> date:
    try:
        return datetime.fromisoformat(created).date()
    except ValueError:
        return date.min


@dataclass(frozen=True)
class TrackRecord:
    passed: int
    races: int
    score: float  # the age-decayed pass rate; 0.0 without races


def track_records(
    repo_id: str,
    keys: Sequence[str],
    now: datetime,
    db: Path | None = None,
    half_life_days: float = 30.0,
    last: int = 10,
) -> dict[str, TrackRecord]:
    """Each key's record over its `last` races in the repository: passes, races, and its pass
    rate with each race weighted 0.5 ** (age in days / half_life_days). Every key gets an entry
    (races 0 when it never ran there); database trouble gives an empty dict (no prior)."""
    found = candidate_rows(repo_id, db=db)
    if found.trouble is not None:
        return {}
    records: dict[str, TrackRecord] = {}
    for key in keys:
        rows = [r for r in found.rows if r.key == key][-last:] if last > 0 else []
        weights = [0.5 ** (_age_days(r.created, now) / half_life_days) for r in rows]
        total = sum(weights)
        won = sum(w for w, r in zip(weights, rows, strict=True) if r.passed)
        score = won / total if total > 0 else 0.0
        records[key] = TrackRecord(sum(r.passed for r in rows), len(rows), score)
    return records


def _age_days(created: str, now: datetime) -> float:
    """Days from `created` to `now` (a time without a zone is UTC); 0 for an unreadable one."""
    try:
        then = datetime.fromisoformat(created)
    except ValueError:
        return 0.0
    then, now = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (then, now))
    return max((now - then).total_seconds(), 0.0) / 86400
