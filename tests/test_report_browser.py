"""report.html as a person sees it: loaded in headless Chromium (Debian's chromium package)."""

from __future__ import annotations

import html as html_lib
import re
import subprocess
from pathlib import Path

from helpers.browser import FLAGS, chromium
from helpers.repos import CORRECT, WRONG, Project


def test_html_report_shows_ranking_evidence_and_diffs(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    exe = chromium()
    deleted = "def test_zero():\n    assert True\n"
    project.fake(
        monkeypatch,
        {
            "good": {"write": {"calc.py": CORRECT}, "say": "Doubled it <b>safely</b>."},
            "wrong": {"write": {"calc.py": WRONG}},
            "cheat": {"write": {"tests/test_calc.py": deleted}},
        },
    )
    assert (
        racer("run", "specs/double.md", "--agents", "fake@cheat,fake@wrong,fake@good").exit_code
        == 0
    )
    res = racer("show", "--html")
    assert res.exit_code == 0
    page = Path(res.stdout.strip())
    assert page.name == "report.html" and page.is_file()
    html = page.read_text()
    assert "http://" not in html and "https://" not in html.replace('"https://opencode.ai', "")
    dom = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={tmp_path / 'chrome'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    # What a person sees: the ranking in order, the evidence, the flags, the diff lines.
    body = dom.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", body)).split())
    assert text.index("fake@good") < text.index("fake@wrong") < text.index("fake@cheat")
    assert "Doubled it <b>safely</b>." in text  # the agent's words shown as text, not markup
    assert "test_deleted" in dom and "tamper" in dom
    assert "return 2 * x" in text and "return x * x" in text
    assert "decided by" in text.lower()
    shot = tmp_path / "report.png"
    subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={tmp_path / 'chrome2'}", "--window-size=1280,1600",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_html_report_shows_findings_next_to_the_lines_they_name(
    tmp_path: Path, racer, monkeypatch
) -> None:
    from helpers.repos import make_repo, race_json
    from test_review import SAFE_DIV, SCENARIOS, finding, reviewer

    exe = chromium()
    root = make_repo(tmp_path / "repo", SAFE_DIV)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    advice = {k: v for k, v in finding(label="@C@", severity="low", line=3).items() if k != "test"}
    advice["claim"] = "b == 0 is not checked <img src=x onerror=alert(1)>"
    scenarios = {**SCENARIOS, "rev": reviewer([finding(), advice])}
    (tmp_path / "s.json").write_text(__import__("json").dumps(scenarios))
    monkeypatch.setenv("RACER_FAKE", str(tmp_path / "s.json"))
    res = racer(
        "run", "spec.md", "--agents", "fake@p,fake@c", "--test", "python -m pytest -q",
        "--review", "fake@rev",
    )  # fmt: skip
    assert res.exit_code == 0
    page = Path(race_json(root)["race_dir"]) / "report.html"
    dom = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={tmp_path / 'chrome'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "<img" not in dom.split("<body", 1)[1]  # the reviewer's words are text, not markup
    unified = "".join(re.findall(r'<table class="diff unified.*?</table>', dom, flags=re.S))
    rows = [
        (kind, html_lib.unescape(re.sub(r"<[^>]+>", "", cells)))
        for kind, cells in re.findall(r'<tr class="(\w+)">(.*?)</tr>', unified, flags=re.S)
    ]
    # P's finding sits right under P's line 2 (`return a // b`); C's advice under its line 3.
    placed = [
        (cells.strip(), rows[i - 1][1]) for i, (kind, cells) in enumerate(rows) if kind == "finding"
    ]
    assert len(placed) == 2, rows
    assert any(c.startswith("reproduced") and "return a // b" in up for c, up in placed), placed
    assert any(c.startswith("advisory") and "return a / b" in up for c, up in placed), placed
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", dom)).split())
    assert "review by fake" in text and "1 reproduced" in text
    assert (
        "reviewer's test tests/test_review_safe_div.py: passes on fake@c, fails on fake@p" in text
    )
    assert "advisory" in text and "b == 0 is not checked <img src=x onerror=alert(1)>" in text
