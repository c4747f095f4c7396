"""Bad days and odd input (issue: hostile contestants and bad days): each case is one line and a
documented exit code, and nothing a contestant is owed gets lost."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
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


def _one_line(res, code: int = 1) -> str:
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0] and "Traceback" not in res.stderr
    return lines[0]


def test_a_worktree_root_that_is_a_file_is_one_line_before_anything_is_made(
    project: Project, racer, monkeypatch, tmp_path
) -> None:
    project.fake(monkeypatch, {"x": {"write": {"calc.py": CORRECT}}})
    afile = tmp_path / "not-a-dir"
    afile.write_text("x")
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(afile))
    line = _one_line(racer("run", "specs/double.md", "--agents", "fake@x"))
    assert "is a file, not a directory" in line and "RACER_WORKTREE_ROOT" in line
    assert not (project.root / ".git" / "racer" / "races").exists()
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(afile / "below"))
    assert "cannot be written" in _one_line(racer("run", "specs/double.md", "--agents", "fake@x"))


def test_a_race_store_that_is_not_a_directory_is_one_line(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, {"x": {"write": {"calc.py": CORRECT}}})
    store = project.root / ".git" / "racer"
    store.write_text("oops")
    line = _one_line(racer("run", "specs/double.md", "--agents", "fake@x"))
    assert "cannot be written" in line or "not a directory" in line
    store.unlink()
    assert racer("run", "specs/double.md", "--agents", "fake@x").exit_code == 0
    race_dir = Path(race_json(project.root)["race_dir"])
    lock = race_dir / "lock"
    lock.unlink()
    lock.mkdir()  # racer cannot take the race's lock: merge and clean say so in one line
    assert "cannot write" in _one_line(racer("merge", "fake@x"))
    assert "cannot write" in _one_line(racer("clean", "--force"))


@pytest.mark.parametrize(
    "record",
    ["[]", '"x"', "{}", '{"schema": 1, "id": 5}', "NAMED_BY_A_NUMBER"],
)
def test_a_damaged_record_of_any_shape_is_one_line(
    project: Project, racer, monkeypatch, record: str
) -> None:
    import json

    project.fake(monkeypatch, {"x": {"write": {"calc.py": CORRECT}}})
    assert racer("run", "specs/double.md", "--agents", "fake@x").exit_code == 0
    path = Path(race_json(project.root)["race_dir"]) / "race.json"
    if record == "NAMED_BY_A_NUMBER":
        data = json.loads(path.read_text())
        data["candidates"][0]["name"] = 5
        record = json.dumps(data)
    path.write_text(record)
    for args in (("show",), ("show", "--html"), ("diff", "fake@x"), ("merge", "fake@x")):
        assert "damaged" in _one_line(racer(*args)), args
    rows = json.loads(racer("ls", "--json").stdout)
    assert rows[0]["status"] == "damaged"


def test_a_lane_that_ignores_sigterm_is_timed_out_on_time(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, {"stubborn": {"hang": True, "ignore_term": True}})
    res = racer("run", "specs/double.md", "--agents", "fake@stubborn", "--timeout", "3")
    assert res.exit_code == 4
    cand = race_json(project.root)["candidates"][0]
    assert cand["status"] == "timed_out"
    # its time is when the timeout fired, not when the kill ladder (SIGTERM, 3 s, SIGKILL) and
    # the output drain were done with it (3 + 3 + up to 2 s)
    assert 3.0 <= cand["duration_s"] < 4.0, cand["duration_s"]


def test_a_secret_written_into_a_file_is_flagged_and_never_shown(
    project: Project, racer, monkeypatch
) -> None:
    key = "sk-ant-PLANTED-" + "z" * 32
    token = "tok-PLANTED-987654321"
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    (project.root / "racer.toml").write_text(
        f'[agents.fake]\nenv = {{ MY_SERVICE_TOKEN = "{token}" }}\n'
    )
    leak = f'KEY = "{key}"\nTOKEN = "{token}"\n'
    project.fake(
        monkeypatch,
        {
            "leaky": {"write": {"calc.py": CORRECT, "leaked.py": leak}},
            "honest": {"write": {"calc.py": CORRECT + "\n"}},
        },
    )
    assert racer("run", "specs/double.md", "--agents", "fake@leaky,fake@honest").exit_code == 0
    data = race_json(project.root)
    cands = {c["name"]: c for c in data["candidates"]}
    leaky = cands["fake@leaky"]
    assert [f["kind"] for f in leaky["flags"] if f["severity"] == "tamper"] == ["secret_in_diff"]
    assert leaky["status"] == "flagged" and data["winner"] == "fake@honest"
    race_dir = Path(data["race_dir"])
    for path in race_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert key not in text and token not in text, path
    shown = racer("diff", "fake@leaky")
    assert "leaked.py" in shown.stdout and key not in shown.stdout and token not in shown.stdout
    assert key in racer("diff", "fake@leaky", "--show-secrets").stdout
    refused = racer("merge", "fake@leaky")
    assert refused.exit_code == 1 and "secret_in_diff" in refused.stderr
    # A lane a resumed race keeps has its changes read again for the flags: redacted too.
    from dataclasses import replace

    from racer import report as rpt
    from racer import store
    from racer.flags import FileChange
    from racer.race import kept_changes
    from racer.status import Status

    record = rpt.load(store.RaceDir(race_dir))
    state = rpt.RaceState(
        record.with_candidate(replace(record.candidate("fake@leaky"), status=Status.OK))
    )
    kept: dict[str, Sequence[FileChange]] = {}
    kept_changes(state, kept, (key, token))
    texts = {ch.path: ch.after or "" for ch in kept["fake@leaky"]}
    assert "***" in texts["leaked.py"] and key not in str(texts) and token not in str(texts)


def test_thousands_of_similar_flags_are_one_line_with_a_count(
    project: Project, racer, monkeypatch
) -> None:
    many = {f"gen/file_{i:04d}.py": f"X = {i}\n" for i in range(400)}
    project.fake(
        monkeypatch,
        {
            "sprawl": {"write": {"calc.py": CORRECT, **many}},
            "tidy": {"write": {"calc.py": CORRECT}},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@sprawl,fake@tidy")
    assert res.exit_code == 0
    cands = {c["name"]: c for c in race_json(project.root)["candidates"]}
    flags = cands["fake@sprawl"]["flags"]
    unique = [f for f in flags if f["kind"] == "unique_file"]
    assert len(unique) == 4 and sum(f.get("count", 1) for f in unique) == 400, unique
    assert any("flags: 0 tamper, 400 scope" in r for r in cands["fake@sprawl"]["reasons"])
    assert len(res.stdout.splitlines()) < 80  # not one line per file
    assert race_json(project.root)["winner"] == "fake@tidy"


def test_a_huge_diff_is_linked_from_report_html_not_inlined(
    project: Project, racer, monkeypatch
) -> None:
    big = "".join(f"line {i} of a generated data file\n" for i in range(200_000))  # ~6.6 MB
    project.fake(monkeypatch, {"bulky": {"write": {"calc.py": CORRECT, "data.txt": big}}})
    assert racer("run", "specs/double.md", "--agents", "fake@bulky").exit_code == 0
    race_dir = Path(race_json(project.root)["race_dir"])
    page = (race_dir / "report.html").read_text()
    assert len(page) < 1_000_000
    assert 'href="diffs/fake@bulky.diff"' in page and "MB diff is not inlined" in page
    assert (race_dir / "diffs" / "fake@bulky.diff").stat().st_size > 5 * 2**20


def test_the_inline_diff_limit_is_a_config_key(project: Project, racer, monkeypatch) -> None:
    data = "".join(f"row {i} {'x' * 90}\n" for i in range(3_000))  # ~300 KB: inlined by default
    project.fake(monkeypatch, {"mid": {"write": {"calc.py": CORRECT, "data.txt": data}}})
    (project.root / "racer.toml").write_text("inline_diff_mb = 0.25\n")
    assert racer("run", "specs/double.md", "--agents", "fake@mid").exit_code == 0
    page = Path(race_json(project.root)["race_dir"]) / "report.html"
    assert 'href="diffs/fake@mid.diff"' in page.read_text()
    assert "row 2999 " not in page.read_text()
    (project.root / "racer.toml").write_text("inline_diff_mb = 1\n")
    assert racer("show", "--html").exit_code == 0  # the views again, by today's config
    assert "row 2999 " in page.read_text()
    (project.root / "racer.toml").write_text("inline_diff_mb = -2\n")
    res = racer("run", "specs/double.md", "--agents", "fake@mid")
    assert res.exit_code == 1 and "inline_diff_mb" in res.stderr, res.stderr


def test_output_cut_short_by_its_reader_is_not_an_error(project: Project) -> None:
    # `racer ls --json | head -1`: the reader quits; racer stops quietly, as git log would.
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-m", "racer", "agents", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=project.root,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader went away before racer wrote a byte
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(timeout=120) == 141, err
    assert "internal error" not in err and "Traceback" not in err and "Exception" not in err, err
