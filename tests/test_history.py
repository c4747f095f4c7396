"""The race history: a real SQLite file filled from hand-made records; re-recording, merges,
busy and killed databases, migrations, where the file lives, track records for the prior."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.records import make_report, query
from helpers.repos import git, make_repo

from racer import history
from racer.report import Merge

ROOT = Path(__file__).resolve().parent.parent


def default_db() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "racer" / "history.sqlite3"


def test_rerecording_a_race_replaces_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    db = tmp_path / "h.sqlite3"
    first = make_report(repo, "r1", [("fake", "a", 1, True, 1.0), ("fake", "b", 2, False, 2.0)])
    assert history.record_race(first, db) is None
    # `racer review` judged it again: b first now, and a third contestant's row gone from it.
    again = make_report(repo, "r1", [("fake", "b", 1, True, 2.0)])
    assert history.record_race(again, db) is None
    assert query(db, "SELECT count(*) FROM races") == [(1,)]
    assert query(db, "SELECT name, rank, passed FROM candidates") == [("fake@b", 1, 1)]
    assert query(db, "SELECT winner FROM races") == [("fake@b",)]


def test_only_finished_races_are_recorded(tmp_path: Path) -> None:
    from racer.status import RaceStatus

    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    db = tmp_path / "h.sqlite3"
    running = replace(
        make_report(repo, "r1", [("fake", "a", 1, True, 1.0)]), status=RaceStatus.RUNNING
    )
    assert history.record_race(running, db) is None
    assert not db.exists()


def test_record_merge_marks_the_pick(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    db = tmp_path / "h.sqlite3"
    race = make_report(repo, "r1", [("fake", "a", 1, True, 1.0), ("fake", "b", 2, True, 2.0)])
    assert history.record_race(race, db) is None
    assert history.record_merge(race, db) is None  # nothing merged yet: nothing marked
    merged = replace(race, merged=Merge(candidate="fake@b", commit="1" * 40, branch="main"))
    assert history.record_merge(merged, db) is None
    assert query(db, "SELECT merged FROM races") == [("fake@b",)]
    rows = history.candidate_rows(db=db).rows
    assert {r.name: r.merged for r in rows} == {"fake@a": False, "fake@b": True}
    # A merge of a race the history never saw records the race with it.
    other = replace(
        make_report(repo, "r2", [("fake", "a", 1, True, 1.0)]),
        merged=Merge(candidate="fake@a", commit="2" * 40, branch="main"),
    )
    assert history.record_merge(other, db) is None
    assert query(db, "SELECT id, merged FROM races ORDER BY id") == [
        ("r1", "fake@b"),
        ("r2", "fake@a"),
    ]


def test_a_locked_database_is_one_warning_after_the_busy_timeout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    db = tmp_path / "h.sqlite3"
    assert history.record_race(make_report(repo, "r1", [("fake", "a", 1, True, 1.0)]), db) is None
    with closing(sqlite3.connect(db, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")
        start = time.monotonic()
        warning = history.record_race(make_report(repo, "r2", [("fake", "a", 1, True, 1.0)]), db)
        waited = time.monotonic() - start
        holder.execute("ROLLBACK")
    assert warning is not None and "\n" not in warning
    assert warning.startswith(f"history not recorded: {db} is busy (database is locked)")
    assert "racer history import" in warning  # the race stays in race.json; how to add it later
    assert 1.5 <= waited < 15  # it waited for the lock (busy_timeout 2 s), then gave up
    assert history.record_race(make_report(repo, "r2", [("fake", "a", 1, True, 1.0)]), db) is None
    assert query(db, "SELECT id FROM races ORDER BY id") == [("r1",), ("r2",)]


CHILD = """
import sys, json
from dataclasses import replace
from pathlib import Path
from racer import history, report
race = report.from_dict(json.loads(Path(sys.argv[1]).read_text()))
db = Path(sys.argv[2])
i = 0
while True:
    i += 1
    warning = history.record_race(replace(race, id=f"race-{i:06d}"), db)
    assert warning is None, warning
"""


def test_a_racer_killed_mid_write_leaves_a_database_that_opens(tmp_path: Path) -> None:
    from racer import report as rpt

    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    db = tmp_path / "h.sqlite3"
    many = [("fake", f"m{i}", i + 1, i % 2 == 0, 0.01 * i) for i in range(300)]
    record = tmp_path / "race.json"
    record.write_text(json.dumps(rpt.to_dict(make_report(repo, "r", many))))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.05, 0.23, 0.41):  # three kills, at different points of the loop
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(record), str(db)], env=env, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while not (db.exists() and _races(db) >= 1) and child.poll() is None:
            assert time.monotonic() < deadline, "the child recorded nothing"
            time.sleep(0.02)
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        _, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err.decode()
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        # Each race is all there or not there at all: its transaction is one.
        counts = query(db, "SELECT count(*) FROM candidates GROUP BY race")
        assert counts and set(counts) == {(300,)}
        found = history.candidate_rows(db=db)
        assert found.trouble is None and len(found.rows) == 300 * len(counts)


def _races(db: Path) -> int:
    try:
        (count,) = query(db, "SELECT count(*) FROM races")[0]
    except sqlite3.Error:
        return 0  # not created yet
    return int(str(count))


def test_repo_id_is_the_root_commit_so_clones_share_a_history(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(repo), str(clone))
    git(clone, "commit", "--quiet", "--allow-empty", "-m", "later")
    root = git(repo, "rev-list", "--max-parents=0", "HEAD")
    assert history.repo_id(repo) == history.repo_id(clone) == root
    other = make_repo(tmp_path / "other", {"b.txt": "b\n"})
    assert history.repo_id(other) not in (None, root)
    # Two root commits (an unrelated history merged in): the smaller sha, from any clone.
    git(repo, "fetch", "--quiet", str(other), "main")
    git(repo, "merge", "--quiet", "--allow-unrelated-histories", "-m", "join", "FETCH_HEAD")
    assert history.repo_id(repo) == min(root, str(history.repo_id(other)))
    assert history.repo_id(tmp_path / "nowhere") is None
    assert history.repo_id(make_repo(tmp_path / "empty", {}, commit=False)) is None


def test_where_the_database_lives(tmp_path: Path, monkeypatch) -> None:
    assert history.db_path() == default_db()
    assert history.db_path({"XDG_DATA_HOME": "/x"}) == Path("/x/racer/history.sqlite3")
    assert history.db_path({"RACER_HISTORY_DB": "/y/h.db", "XDG_DATA_HOME": "/x"}) == Path(
        "/y/h.db"
    )
    monkeypatch.setenv("RACER_HISTORY_DB", str(tmp_path / "mine.sqlite3"))
    assert history.db_path() == tmp_path / "mine.sqlite3"
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    assert history.record_race(make_report(repo, "r1", [("fake", "a", 1, True, 1.0)])) is None
    assert (tmp_path / "mine.sqlite3").is_file() and not default_db().exists()


def test_schema_wal_busy_timeout_and_migrations(tmp_path: Path, monkeypatch) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    db = tmp_path / "h.sqlite3"
    assert history.record_race(make_report(repo, "r1", [("fake", "a", 1, True, 1.0)]), db) is None
    assert query(db, "PRAGMA user_version") == [(1,)]
    assert query(db, "PRAGMA journal_mode") == [("wal",)]
    with closing(history._connect(db)) as conn:
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (2000,)

    # v2 is one function appended to MIGRATIONS: an existing v1 file is migrated, data kept.
    def v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE races ADD COLUMN note TEXT DEFAULT 'v2'")

    monkeypatch.setattr(history, "MIGRATIONS", (*history.MIGRATIONS, v2))
    assert history.record_race(make_report(repo, "r2", [("fake", "a", 1, True, 1.0)]), db) is None
    assert query(db, "PRAGMA user_version") == [(2,)]
    assert query(db, "SELECT id, note FROM races ORDER BY id") == [("r1", "v2"), ("r2", "v2")]

    # A file from a newer racer is left alone, with one line saying so.
    monkeypatch.setattr(history, "MIGRATIONS", history.MIGRATIONS[:1])
    warning = history.record_race(make_report(repo, "r3", [("fake", "a", 1, True, 1.0)]), db)
    assert warning is not None and "written by a newer racer" in warning
    assert query(db, "SELECT count(*) FROM races") == [(2,)]


def test_a_failing_migration_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    db = tmp_path / "h.sqlite3"
    assert history.record_race(make_report(repo, "r1", [("fake", "a", 1, True, 1.0)]), db) is None

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE races ADD COLUMN half TEXT")
        conn.execute("THIS IS NOT SQL")

    monkeypatch.setattr(history, "MIGRATIONS", (*history.MIGRATIONS, broken))
    warning = history.record_race(make_report(repo, "r2", [("fake", "a", 1, True, 1.0)]), db)
    assert warning is not None and "\n" not in warning
    assert query(db, "PRAGMA user_version") == [(1,)]
    columns = [row[1] for row in query(db, "PRAGMA table_info(races)")]
    assert "half" not in columns  # the migration's transaction was rolled back whole


def test_track_records_decay_with_age_and_keep_the_last_races(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    other = make_repo(tmp_path / "other", {"b.txt": "b\n"})
    db = tmp_path / "h.sqlite3"
    now = datetime(2026, 6, 30, 12, tzinfo=UTC)

    def race(where: Path, n: int, age_days: float, passed: bool, db: Path = db) -> None:
        created = (now - timedelta(days=age_days)).isoformat(timespec="seconds")
        entries = [("claude", "opus", 1, passed, 1.0), ("codex", None, 2, not passed, 1.0)]
        report = make_report(where, f"r{n:03d}", entries, created=created)
        assert history.record_race(report, db) is None

    race(repo, 1, 30, False)  # a failure a half-life ago weighs 0.5
    race(repo, 2, 0, True)  # a pass today weighs 1
    race(other, 3, 0, False)  # another repository: not counted
    rid = str(history.repo_id(repo))
    keys = ["claude@opus", "codex", "gemini@pro"]
    got = history.track_records(rid, keys, now, db)
    assert got["claude@opus"] == history.TrackRecord(1, 2, pytest.approx(1 / 1.5))
    assert got["codex"] == history.TrackRecord(1, 2, pytest.approx(0.5 / 1.5))
    assert got["gemini@pro"] == history.TrackRecord(0, 0, 0.0)
    flat = history.track_records(rid, keys, now, db, half_life_days=1e9)
    assert flat["claude@opus"].score == pytest.approx(0.5)
    # Only the last `last` races count: an old pass, then twelve failures; ten of them weigh.
    db2 = tmp_path / "h2.sqlite3"
    race(repo, 1, 20, True, db2)
    for n in range(2, 14):
        race(repo, n, 14 - n, False, db2)
    got = history.track_records(rid, ["claude@opus"], now, db2, last=10)
    assert got["claude@opus"] == history.TrackRecord(0, 10, 0.0)
    got = history.track_records(rid, ["claude@opus"], now, db2, last=13)
    assert (got["claude@opus"].passed, got["claude@opus"].races) == (1, 13)
    assert history.contestant_key("codex", None) == "codex"
    assert history.contestant_key("claude", "opus") == "claude@opus"
