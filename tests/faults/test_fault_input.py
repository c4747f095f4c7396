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


HOSTILE_OUTPUT = [
    "\x1b]0;pwned title\x07",  # retitle the terminal window
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # write the clipboard
    "\x1b[2J\x1b[H",  # clear the screen
    "ok \x1b[31mred\x1b[0m \x9b2J and \x07 bell",
]


def test_agent_output_never_reaches_the_terminal_raw(project: Project, monkeypatch) -> None:
    import io
    import os

    import anyio
    from rich.console import Console

    from racer import plan as planning
    from racer import ui
    from racer.race import run_race

    evil_name = "calc\x1b]0;t\x07.py"
    project.fake(
        monkeypatch,
        {
            "evil": {
                "print": HOSTILE_OUTPUT,
                "sleep": 1.5,  # the live board redraws (4 times a second) with them on it
                "write": {"calc.py": CORRECT, evil_name: "x = 1\n"},
                "say": "\x1b]52;c;ZXZpbA==\x07done",
                "error": None,
            }
        },
    )
    buf = io.StringIO()
    out = Console(file=buf, force_terminal=True, width=160)
    the_plan = planning.prepare(
        project.root, Path("specs/double.md"), env=os.environ, flags={"agents": ("fake@evil",)}
    )
    report = anyio.run(run_race, the_plan, ui.Board(out, live=True))
    ui.show_report(out, report)
    shown = buf.getvalue()
    assert "fake@evil" in shown and "pwned title" not in shown
    assert "\x1b]" not in shown  # no OSC sequence at all (title, clipboard, hyperlinks)
    assert "\x1b[2J" not in shown and "\x9b" not in shown and "\x07" not in shown
    assert "ok red" in shown and "bell" in shown  # the board showed that line, made printable


def test_report_md_renders_no_html_an_agent_wrote(project: Project, racer, monkeypatch) -> None:
    import re

    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))"
    project.fake(
        monkeypatch,
        {"evil": {"write": {"calc.py": CORRECT, "<b>evil.py": "x = 1\n"}, "say": payload}},
    )
    assert racer("run", "specs/double.md", "--agents", "fake@evil,fake").exit_code in (0, 4)
    md = (Path(race_json(project.root)["race_dir"]) / "report.md").read_text()
    assert "&lt;script&gt;" in md  # the final message is there, as text
    outside = re.sub(r"(?<!\\)`[^`]*(?<!\\)`", "", md)  # code spans render nothing as HTML
    assert "<script" not in outside and "<img" not in outside and "<b>" not in outside
    assert "[x](javascript:" not in outside


def test_merging_a_candidate_that_did_not_pass_asks_for_force(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, {"wrong": {"write": {"calc.py": WRONG}}})
    assert racer("run", "specs/double.md", "--agents", "fake@wrong").exit_code == 4
    before = git(project.root, "rev-parse", "main")
    res = racer("merge", "fake@wrong")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "racer: fake@wrong failed its tests: 1 failed, 1 passed — pass --force to merge it anyway"
    )
    assert git(project.root, "rev-parse", "main") == before  # nothing changed
    assert racer("merge", "fake@wrong", "--force").exit_code == 0
    assert (project.root / "calc.py").read_text() == WRONG
