"""Every path of a race comes from RaceDir; finding races by id or prefix; the race lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from racer import store
from racer.errors import RaceNotFound, RefusedError
from racer.store import RaceDir


def test_race_dir_names_every_file_of_a_race(tmp_path: Path) -> None:
    d = RaceDir.of(tmp_path / ".git", "20261202-120000-abcd")
    assert d.path == tmp_path / ".git" / "racer" / "races" / "20261202-120000-abcd"
    assert d.id == "20261202-120000-abcd"
    names = [d.record, d.prompt, d.plan, d.merge_intent, d.lock, d.report_md, d.report_html]
    assert [p.name for p in names] == [
        "race.json",
        "prompt.md",
        "plan.json",
        "merge.json",
        "lock",
        "report.md",
        "report.html",
    ]
    assert d.log("fake-2", "agent.2") == d.path / "logs" / "fake-2.agent.2.log"
    assert d.junit("baseline", "1") == d.path / "junit" / "baseline.1.xml"
    assert d.diff("fake") == d.path / "diffs" / "fake.diff"
    assert store.lane_checkout(tmp_path, "r", store.BASELINE) == tmp_path / "r" / "_baseline"


def test_find_race_by_prefix_latest_and_ambiguity(tmp_path: Path) -> None:
    common = tmp_path / ".git"
    with pytest.raises(RaceNotFound, match="no races in this repository yet"):
        store.find_race(common, None)
    for race_id in ("20261201-000000-aaaa", "20261202-000000-bbbb", "20261202-000000-bbcc"):
        store.write_json(RaceDir.of(common, race_id).record, {})
    assert store.find_race(common, None).id == "20261202-000000-bbcc"
    assert store.find_race(common, "20261201").id == "20261201-000000-aaaa"
    with pytest.raises(RaceNotFound, match="more than one race"):
        store.find_race(common, "20261202-000000-bb")


def test_the_race_lock_tells_running_from_interrupted(tmp_path: Path) -> None:
    race = RaceDir(tmp_path)
    assert not store.is_live(race)
    with store.RaceLock(race):
        assert store.is_live(race)
        # a second racer (another process) is refused
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from racer import store; "
                f"store.RaceLock(store.RaceDir(Path({str(tmp_path)!r}))).acquire()",
            ],
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0 and "in use by another racer" in other.stderr
        with pytest.raises(RefusedError):
            store.RaceLock(race).acquire()
    assert not store.is_live(race)


def test_a_lock_held_by_a_killed_process_is_free(tmp_path: Path) -> None:
    race = RaceDir(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from racer import store; "
            f"store.RaceLock(store.RaceDir(Path({str(tmp_path)!r}))).acquire(); print('held', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert store.is_live(race)
    holder.kill()
    holder.wait()
    holder.stdout.close()
    assert not store.is_live(race)


def test_race_ids_sort_in_start_order_within_one_second(tmp_path: Path) -> None:
    """`racer show` with no id shows the latest race: two races started in the same second
    (fast races on a warm pool do) must still sort in the order they started."""
    from datetime import datetime

    starts = [datetime(2026, 12, 7, 4, 5, 6, ms * 1000) for ms in (0, 1, 2, 499, 998, 999)]
    for _ in range(50):
        ids = [store.new_race_id(at) for at in starts]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert all(i.startswith("20261207-040506-") and len(i) == 20 for i in ids)
    git = tmp_path / ".git"
    for i in ids:
        RaceDir.of(git, i).path.mkdir(parents=True)
        RaceDir.of(git, i).record.write_text("{}")
    assert store.find_race(git, None).id == ids[-1]
