"""Commands on a recorded race: resume, merge and clean refuse a finished or a live race."""

from __future__ import annotations

from pathlib import Path

from helpers.repos import CORRECT, Project, race_json

from racer import store
from racer.store import RaceDir


def test_resume_refuses_a_finished_race_and_a_live_one(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    assert racer("run", "specs/double.md", "--agents", "fake").exit_code == 0
    res = racer("resume")
    assert res.exit_code == 1 and "nothing to resume" in res.stderr
    race_dir = RaceDir(Path(race_json(project.root)["race_dir"]))
    with store.RaceLock(race_dir):
        assert "still running" in racer("resume").stderr
        assert racer("merge", "fake").exit_code == 1
        assert racer("clean", "--force").exit_code == 1
