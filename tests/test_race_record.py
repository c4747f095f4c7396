"""The live record written behind (RaceState.written_behind) and your checkout's snapshot taken
while the lanes start (repo.checkout_snapshot with since_ns): what a race writes and warns
about is what it was when both happened before the lanes."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.repos import make_repo

from racer import store
from racer.errors import DiskFull
from racer.repo import CHANGED_SINCE, checkout_snapshot, snapshot_changes
from racer.report import Candidate, RaceReport, RaceState, to_dict
from racer.status import RaceStatus, Status


def _report(tmp_path: Path, lanes: int = 3) -> RaceReport:
    race_dir = tmp_path / "race"
    race_dir.mkdir()
    return RaceReport(
        id="r1",
        status=RaceStatus.RUNNING,
        spec={"path": "spec.md", "title": "t"},
        base={"commit": "0" * 40, "branch": "main"},
        created="2026-12-07T00:00:00",
        repo=str(tmp_path),
        race_dir=str(race_dir),
        prompt=str(race_dir / "prompt.md"),
        test_command=None,
        candidates=tuple(
            Candidate(
                name=f"c{i}",
                agent="fake",
                model=None,
                order=i,
                branch=f"b{i}",
                worktree=str(tmp_path / f"c{i}"),
            )
            for i in range(lanes)
        ),
    )


def _on_disk(state: RaceState) -> object:
    return json.loads(state.dir.record.read_text(encoding="utf-8"))


def _now(state: RaceState) -> object:
    return json.loads(json.dumps(to_dict(state.report)))


def test_written_behind_ends_with_the_latest_record_on_disk(tmp_path: Path) -> None:
    state = RaceState(_report(tmp_path))
    with state.written_behind():
        for n in range(200):
            for i in range(3):
                cand = state.candidate(f"c{i}")
                state.put(replace(cand, status=Status.AGENT, pgid=n * 10 + i))
        state.warn("one warning")
    assert _on_disk(state) == _now(state)
    assert state.candidate("c2").pgid == 1992
    # Outside it, a change is on disk when save returns.
    state.put(replace(state.candidate("c0"), status=Status.OK))
    assert _on_disk(state) == _now(state)


def test_written_behind_writes_while_inside(tmp_path: Path) -> None:
    state = RaceState(_report(tmp_path))
    with state.written_behind():
        state.put(replace(state.candidate("c1"), commit="a" * 40))
        deadline = time.monotonic() + 10
        while not state.dir.record.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _on_disk(state) == _now(state)  # nobody left the block yet


def test_a_write_that_fails_behind_is_raised_by_the_next_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = RaceState(_report(tmp_path))
    failing = {"on": True}
    real = store.write_json

    def write_json(path: Path, data: object) -> None:
        if failing["on"]:
            raise DiskFull("no space left on the disk")
        real(path, data)

    monkeypatch.setattr("racer.report.write_json", write_json)
    with pytest.raises(DiskFull), state.written_behind():
        state.put(replace(state.candidate("c0"), status=Status.AGENT))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the writer fails; a later save says so
            state.put(replace(state.candidate("c1"), status=Status.AGENT))
            time.sleep(0.01)
    failing["on"] = False
    with state.written_behind():  # the disk has room again: the record is written whole
        pass
    state.save()
    assert _on_disk(state) == _now(state)


def test_snapshot_since_counts_what_changed_after_it_as_changed(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "d/b.txt": "b\n", "d/c.txt": "c\n"})
    (root / "a.txt").write_text("yours, from before the race\n", encoding="utf-8")
    (root / "d" / "c.txt").unlink()  # yours too
    old = time.time_ns() - 10_000_000_000
    os.utime(root / "a.txt", ns=(old, old))
    os.utime(root / "d", ns=(old, old))
    since = time.time_ns() - 5_000_000_000
    plain = checkout_snapshot(root)
    assert checkout_snapshot(root, since) == plain  # nothing changed after `since`
    assert snapshot_changes(plain, checkout_snapshot(root)) == []
    # An agent writes into your checkout before the snapshot (taken while lanes start) reads it.
    (root / "d" / "b.txt").unlink()
    (root / "new.txt").write_text("agent\n", encoding="utf-8")
    during = checkout_snapshot(root, since)
    assert during["d/b.txt"] == during["new.txt"] == CHANGED_SINCE
    assert during["a.txt"] == plain["a.txt"]
    # The directory d changed after `since`: its deletion of c.txt is counted too (a warning
    # lists one path more; a change is never missed).
    after = checkout_snapshot(root)
    assert {"d/b.txt", "new.txt"} <= set(snapshot_changes(during, after))
    assert "a.txt" not in snapshot_changes(during, after)
    # Without since, the agent's early writes would look like yours.
    assert snapshot_changes(checkout_snapshot(root), after) == []
