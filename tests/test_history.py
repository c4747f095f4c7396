"""The race history: a real SQLite file filled from real races (fake agents) and hand-made records;
damaged, busy and killed databases; `racer history import` and `racer stats` through the CLI."""

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
from helpers.records import make_report, query, write_record
from helpers.repos import CORRECT, WRONG, Project, git, make_repo

from racer import history
from racer.report import Merge

ROOT = Path(__file__).resolve().parent.parent


def default_db() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "racer" / "history.sqlite3"


def scenarios(good: str, bad: str) -> dict[str, object]:
    return {
        "good": {"write": {"calc.py": good}, "cost_usd": 0.25},
        "bad": {"write": {"calc.py": bad}, "cost_usd": 0.5},
    }


def test_real_races_imported_then_stats_json_has_the_figures(
    project: Project, racer, monkeypatch
) -> None:
    # Two races fake@good wins, one fake@bad wins: every figure below is worked out by hand.
    for good, bad in ((CORRECT, WRONG), (CORRECT, WRONG), (WRONG, CORRECT)):
        project.fake(monkeypatch, scenarios(good, bad))
        res = racer("run", "specs/double.md", "--agents", "fake@good,fake@bad")
        assert res.exit_code == 0, res.stderr
    res = racer("history", "import")
    assert res.exit_code == 0, res.stderr
    assert "recorded 3 finished races" in res.stdout
    assert default_db().is_file()

    res = racer("stats", "--json")
    assert res.exit_code == 0, res.stderr
    board = {e["key"]: e for e in json.loads(res.stdout)}
    assert sorted(board) == ["fake@bad", "fake@good"]
    good, bad = board["fake@good"], board["fake@bad"]
    assert (good["races"], good["passed"], good["wins"], good["merged"]) == (3, 2, 2, 0)
    assert (bad["races"], bad["passed"], bad["wins"], bad["merged"]) == (3, 1, 1, 0)
    assert good["pass_rate"] == pytest.approx(2 / 3)
    # Wilson 95 %: 2 of 3 -> 0.2077..0.9385, 1 of 3 -> 0.0615..0.7923 (worked out by hand).
    assert (good["pass_low"], good["pass_high"]) == pytest.approx((0.2077, 0.9385), abs=1e-4)
    assert (bad["pass_low"], bad["pass_high"]) == pytest.approx((0.0615, 0.7923), abs=1e-4)
    assert good["cost_per_solved"] == pytest.approx(0.75 / 2)  # $0.25 x 3 races / 2 passed
    assert bad["cost_per_solved"] == pytest.approx(1.5 / 1)
    assert (good["mean_cost"], good["median_cost"]) == pytest.approx((0.25, 0.25))
    assert good["cost_estimated"] is False
    # fake@good ranked above fake@bad in 2 of 3 races: rated higher, the prior keeps it finite.
    assert good["rating"] > bad["rating"]
    assert good["rating"] + bad["rating"] == pytest.approx(2000)
    assert good["rated_races"] == bad["rated_races"] == 3
    assert good["small_sample"] and bad["small_sample"]
    assert [e["key"] for e in json.loads(res.stdout)] == ["fake@good", "fake@bad"]

    # What the record holds for one candidate, column by column.
    rows = query(
        default_db(),
        "SELECT c.agent, c.model, c.agent_version, c.family, c.setup, c.tier, c.status,"
        " c.flags, c.tests_fixed, c.tests_broken, c.cost_usd, c.cost_estimated, r.spec_title,"
        " r.test_command, r.repo_id, r.cascade FROM candidates c JOIN races r ON r.pk = c.race"
        " WHERE c.name = 'fake@good' ORDER BY r.created",
    )
    root = git(project.root, "rev-list", "--max-parents=0", "HEAD")
    assert rows[0] == (
        "fake", "good", "racer-fake 1", "unknown", "fake", None, "passed", "[]", 1, 0, 0.25, 0,
        "Fix double", "python -m pytest", root, None,
    )  # fmt: skip
    assert rows[2][6] == "tests_failed"
    hashes = query(default_db(), "SELECT DISTINCT spec_hash FROM races")
    assert len(hashes) == 1 and len(str(hashes[0][0])) == 64  # one spec, three races

    shown = racer("stats")
    assert shown.exit_code == 0
    assert "fake@good *" in shown.stdout and "█" in shown.stdout
    assert "fewer than 10 races" in shown.stdout


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


def test_a_damaged_database_is_one_warning_and_left_as_it_is(
    project: Project, racer, tmp_path: Path
) -> None:
    db = default_db()
    db.parent.mkdir(parents=True)
    garbage = os.urandom(64) * 100
    db.write_bytes(garbage)
    report = make_report(project.root, "r1", [("fake", "a", 1, True, 1.0)])
    warning = history.record_race(report, db)
    assert warning is not None and "\n" not in warning
    assert warning.startswith(f"history not recorded: {db} is damaged (file is not a database)")
    assert "move it away to start a new one" in warning
    assert db.read_bytes() == garbage  # racer never overwrites what it cannot read
    assert history.candidate_rows(db=db).trouble is not None
    assert history.track_records("x", ["fake@a"], datetime.now(UTC), db) == {}
    res = racer("stats")
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "is damaged" in res.stderr
    assert "Traceback" not in res.stderr
    write_record(report)
    res = racer("history", "import")
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "is damaged" in res.stderr


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


def test_import_skips_damaged_records_and_unfinished_races(project: Project, racer) -> None:
    from racer.status import RaceStatus

    root = project.root
    write_record(make_report(root, "20260101-000000-aaaa", [("fake", "a", 1, True, 1.0)]))
    unfinished = make_report(root, "20260101-000001-bbbb", [("fake", "a", 1, True, 1.0)])
    write_record(replace(unfinished, status=RaceStatus.INTERRUPTED))
    damaged = write_record(make_report(root, "20260101-000002-cccc", []))
    damaged.write_text("{ not json")
    imported, skipped, warnings = history.import_records(root / ".git")
    assert (imported, skipped) == (1, 1)
    assert len(warnings) == 1 and "skipped race 20260101-000002-cccc" in warnings[0]
    res = racer("history", "import")
    assert res.exit_code == 0
    assert "recorded 1 finished race " in res.stdout and "skipped 1 damaged" in res.stdout
    assert res.stderr.count("\n") == 1 and "skipped race 20260101-000002-cccc" in res.stderr
    assert query(default_db(), "SELECT id FROM races") == [("20260101-000000-aaaa",)]
    before = query(default_db(), "SELECT * FROM candidates")
    assert racer("history", "import").exit_code == 0  # twice: nothing changes
    assert query(default_db(), "SELECT id FROM races") == [("20260101-000000-aaaa",)]
    assert query(default_db(), "SELECT * FROM candidates") == before


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


def test_since_all_and_repo_filters(project: Project, racer, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other", {"b.txt": "b\n"})
    early, late = "2026-01-10T23:30:00+00:00", "2026-07-01T00:10:00+00:00"
    for report in (
        make_report(project.root, "a1", [("fake", "early", 1, True, 1.0)], created=early),
        make_report(project.root, "a2", [("fake", "late", 1, True, 1.0)], created=late),
        make_report(other, "b1", [("fake", "elsewhere", 1, True, 1.0)], created=late),
    ):
        assert history.record_race(report) is None

    def keys(*args: str) -> list[str]:
        res = racer("stats", "--json", *args)
        assert res.exit_code == 0, res.stderr
        return sorted(e["key"] for e in json.loads(res.stdout))

    assert keys() == ["fake@early", "fake@late"]  # this repository only
    assert keys("--all") == ["fake@early", "fake@elsewhere", "fake@late"]
    assert keys("--repo", str(other)) == ["fake@elsewhere"]
    assert keys("--since", "2026-07-01") == ["fake@late"]
    assert keys("--since", "2026-01-10") == ["fake@early", "fake@late"]  # the day itself counts
    assert keys("--all", "--since", "2026-07-01") == ["fake@elsewhere", "fake@late"]
    res = racer("stats", "--since", "2027-01-01")
    assert res.exit_code == 0 and "no races recorded yet" in res.stdout
    assert "since 2027-01-01" in res.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--since", "yesterday"], "--since takes a date like 2026-12-01"),
        (["--since", "2026-13-45"], "--since takes a date like 2026-12-01"),
        (["--repo", "/"], "not a git repository: /"),
        (["--repo", ".", "--all"], "--repo and --all go one at a time"),
        (["--json", "--html"], "--json and --html go one at a time"),
    ],
)
def test_bad_input_is_one_line(project: Project, racer, args: list[str], words: str) -> None:
    res = racer("stats", *args)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in res.stderr, lines


def test_stats_outside_a_repository_is_one_line(racer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = racer("stats")
    assert res.exit_code == 1 and res.stderr.count("\n") == 1
    assert "not a git repository" in res.stderr
    res = racer("stats", "--all")  # every repository: no need to be in one
    assert res.exit_code == 0 and "no races recorded yet" in res.stdout


def test_empty_history_says_how_to_get_some(project: Project, racer) -> None:
    res = racer("stats")
    assert res.exit_code == 0, res.stderr
    assert "no races recorded yet" in res.stdout and "racer history import" in res.stdout
    res = racer("stats", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == []
    assert "no races recorded yet" in res.stderr
    assert not default_db().exists()  # reading an empty history creates nothing
