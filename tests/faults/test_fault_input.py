"""Bad days and odd input (issue: hostile contestants and bad days): each case is one line and a
documented exit code, and nothing a contestant is owed gets lost."""

from __future__ import annotations

from pathlib import Path

from helpers.repos import CORRECT, WRONG, Project, git, race_json


def test_duplicate_names_get_lanes_of_their_own(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "x": {"write": {"calc.py": CORRECT}, "say": "x"},
            "x-2": {"write": {"calc.py": WRONG}, "say": "x-2"},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@x,fake@x,fake@x-2")
    assert res.exit_code == 0, res.stderr
    cands = {c["name"]: c for c in race_json(project.root)["candidates"]}
    assert sorted(cands) == ["fake@x", "fake@x-2", "fake@x-3"]
    assert (cands["fake@x-2"]["model"], cands["fake@x-3"]["model"]) == ("x-2", "x")
    for field in ("branch", "worktree", "diff"):
        assert len({c[field] for c in cands.values()}) == 3, field
    assert len({c["logs"]["agent"] for c in cands.values()}) == 3
    for name, c in cands.items():
        text = git(project.root, "show", f"{c['branch']}:calc.py") + "\n"
        assert text == (WRONG if c["model"] == "x-2" else CORRECT), name
        assert Path(c["diff"]).read_text().count("calc.py") >= 1


def _refused(project: Project, racer, spec: str, words: str) -> None:
    res = racer("run", spec, "--agents", "fake")
    assert res.exit_code == 1, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in res.stderr, lines
    assert not (project.root / ".git" / "racer" / "races").exists()  # nothing created


def test_specs_must_be_regular_files_of_a_sane_size(project: Project, racer, tmp_path) -> None:
    import os
    import time

    started = time.monotonic()
    _refused(project, racer, "/dev/zero", "is a character device, not a regular file")
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)
    _refused(project, racer, str(fifo), "is a FIFO, not a regular file")
    _refused(project, racer, str(tmp_path), "is a directory")
    big = tmp_path / "big.md"
    big.write_text("# Big\n" + "x" * (2**20 + 10))
    _refused(project, racer, str(big), "over 1 MB")
    assert time.monotonic() - started < 30  # none of them blocks or reads without end
