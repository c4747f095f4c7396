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
