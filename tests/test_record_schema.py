"""Records written by another racer: keys this racer does not know are left out by every view,
a schema newer than it reads is one line (exit 1) saying to upgrade, and schema 1 (before
`acceptance.load_errors`) still reads. On a real race's race.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.repos import CORRECT, WRONG, Project, race_json

from racer import report as rpt

NO_LOAD = "import no_such_module_anywhere\n\n\ndef test_never_runs():\n    assert True\n"


def _race(project: Project, racer, monkeypatch, tmp_path: Path) -> Path:
    """A finished race whose hidden test cannot load on either candidate: load_errors set."""
    project.fake(
        monkeypatch, {"good": {"write": {"calc.py": CORRECT}}, "bad": {"write": {"calc.py": WRONG}}}
    )
    hidden = tmp_path / "hidden" / "test_unloadable.py"
    hidden.parent.mkdir()
    hidden.write_text(NO_LOAD)
    res = racer(
        "run", "specs/double.md", "--agents", "fake@good,fake@bad", "--acceptance", str(hidden)
    )
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return Path(race_json(project.root)["race_dir"]) / "race.json"


def _one_line(res, code: int = 1) -> str:
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0]


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _from_the_future(data: dict[str, Any]) -> None:
    data["shiny_new_key"] = {"anything": [1, 2]}
    data["baseline"]["new_baseline_key"] = 1
    for c in data["candidates"]:
        c["new_candidate_key"] = "x"
        c["acceptance"]["new_acceptance_key"] = True
        c["tests"]["new_tests_key"] = []
        c["diffstat"]["new_diffstat_key"] = 0
        for f in c["flags"]:
            f["new_flag_key"] = 1


def test_a_record_with_keys_this_racer_does_not_know_shows_in_every_view(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    path = _race(project, racer, monkeypatch, tmp_path)
    data = json.loads(path.read_text())
    assert data["schema"] == rpt.SCHEMA_VERSION == 2
    errors = {c["name"]: c["acceptance"]["load_errors"] for c in data["candidates"]}
    assert all("tests/test_unloadable.py" in e for e in errors.values()), errors
    before = racer("show")
    assert before.exit_code == 0
    _edit(path, _from_the_future)
    for args in (("show",), ("show", "--json"), ("show", "--html"), ("diff", "fake@good")):
        res = racer(*args)
        assert res.exit_code == 0, (args, res.stdout, res.stderr)
    assert racer("show").stdout == before.stdout  # the unknown keys are simply not shown
    shown = json.loads(racer("show", "--json").stdout)
    assert "shiny_new_key" not in shown
    assert shown["candidates"][0]["acceptance"]["load_errors"]  # a known key, kept
    rows = json.loads(racer("ls", "--json").stdout)
    assert rows[0]["status"] == "finished" and rows[0]["winner"] == "fake@good"
    res = racer("merge", "fake@good")
    assert res.exit_code == 0, (res.stdout, res.stderr)
    assert json.loads(path.read_text())["merged"]["candidate"] == "fake@good"


def test_a_record_of_a_newer_schema_is_one_line_saying_to_upgrade(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    path = _race(project, racer, monkeypatch, tmp_path)

    def newer(data: dict[str, Any]) -> None:
        data["schema"] = rpt.SCHEMA_VERSION + 1
        data["candidates"][0]["status"] = "a_status_from_the_future"

    _edit(path, newer)
    for args in (("show",), ("show", "--html"), ("diff", "fake@good"), ("merge", "fake@good")):
        line = _one_line(racer(*args))
        assert "written by a newer racer" in line and "upgrade racer" in line, (args, line)
        assert str(path) in line and "damaged" not in line, line
    res = racer("ls")
    assert res.exit_code == 0 and "needs a newer racer" in res.stdout, res.stdout
    rows = json.loads(racer("ls", "--json").stdout)
    assert rows[0]["status"] == "needs a newer racer"


def test_schema_1_reads_as_having_no_load_errors_and_bad_ones_are_damage(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    path = _race(project, racer, monkeypatch, tmp_path)

    def old(data: dict[str, Any]) -> None:
        data["schema"] = 1
        for c in data["candidates"]:
            del c["acceptance"]["load_errors"]

    _edit(path, old)
    res = racer("show", "--json")
    assert res.exit_code == 0, res.stderr
    assert all(c["acceptance"]["load_errors"] == {} for c in json.loads(res.stdout)["candidates"])

    def bad(data: dict[str, Any]) -> None:
        data["candidates"][0]["acceptance"]["load_errors"] = ["tests/x.py"]

    _edit(path, bad)
    assert "damaged" in _one_line(racer("show"))
    _edit(path, lambda d: d.update(schema=0))
    assert "damaged" in _one_line(racer("show"))
