"""The files a race leaves for people: report.md and report.html, both rendered from the record."""

from __future__ import annotations

from pathlib import Path

from racer import html, markdown, store
from racer.report import RaceReport


def _diffs(report: RaceReport) -> dict[str, str]:
    """Each candidate's saved diff, by candidate name (candidates without one are left out)."""
    diffs: dict[str, str] = {}
    for c in report.candidates:
        if c.diff and Path(c.diff).is_file():
            diffs[c.name] = Path(c.diff).read_text(encoding="utf-8", errors="replace")
    return diffs


def write_views(report: RaceReport) -> tuple[Path, Path]:
    """Write report.md and report.html into the race directory (atomically); return their paths."""
    race_dir = store.RaceDir(Path(report.race_dir))
    md, page = race_dir.report_md, race_dir.report_html
    diffs = _diffs(report)
    store.write_atomic(md, markdown.render_markdown(report, diffs))
    store.write_atomic(page, html.render_html(report, diffs))
    return md, page
