"""The files a race leaves for people: report.md and report.html, both rendered from the record."""

from __future__ import annotations

from pathlib import Path

from racer import html, markdown, store
from racer.report import RaceReport

MAX_INLINE_DIFF = 5 * 2**20  # bigger diffs are linked from report.html (config inline_diff_mb)


def _diffs(report: RaceReport, limit: int) -> tuple[dict[str, str], dict[str, tuple[str, int]]]:
    """Each candidate's saved diff by name (candidates without one are left out), and the ones
    over `limit` bytes, too big to inline: (their path relative to the race dir, size)."""
    diffs: dict[str, str] = {}
    big: dict[str, tuple[str, int]] = {}
    for c in report.candidates:
        path = Path(c.diff) if c.diff else None
        if path is None or not path.is_file():
            continue
        size = path.stat().st_size
        if size > limit:
            try:
                big[c.name] = (path.relative_to(report.race_dir).as_posix(), size)
            except ValueError:
                big[c.name] = (path.as_uri(), size)
            continue
        diffs[c.name] = path.read_text(encoding="utf-8", errors="replace")
    return diffs, big


def write_views(report: RaceReport, inline_limit: int = MAX_INLINE_DIFF) -> tuple[Path, Path]:
    """Write report.md and report.html into the race directory (atomically); return their paths.
    Diffs over `inline_limit` bytes are linked, not inlined."""
    race_dir = store.RaceDir(Path(report.race_dir))
    md, page = race_dir.report_md, race_dir.report_html
    diffs, big = _diffs(report, inline_limit)
    store.write_atomic(md, markdown.render_markdown(report, diffs))
    store.write_atomic(page, html.render_html(report, diffs, big))
    return md, page
