"""The HTML view of `racer stats`: one self-contained page (inline CSS and SVG, no network), the
leaderboard table and a scatter of cost per solved race against pass rate. Every string escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

from racer import store
from racer.stats import COLUMNS, ESTIMATED_NOTE, NUMERIC, SMALL_NOTE, Entry, cells, percent

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 .3em; } .muted { color: #59636e; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 1em 0; }
th, td { border: 1px solid #d1d9e0; padding: 4px 8px; text-align: left; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.small td { color: #59636e; }
.bar { display: inline-block; width: 80px; height: 10px; background: #eaeef2;
  vertical-align: middle; margin-right: 6px; border-radius: 2px; }
.bar span { display: block; height: 100%; background: #1a7f37; border-radius: 2px; }
svg { border: 1px solid #d1d9e0; border-radius: 6px; background: #fff; }
svg text { font: 12px system-ui, sans-serif; fill: #1f2328; }
svg .axis { stroke: #59636e; } svg .grid { stroke: #eaeef2; }
svg .err { stroke: #59636e; stroke-width: 1.5; }
svg circle.point { fill: #0969da; stroke: #0969da; stroke-width: 2; }
svg circle.point.small { fill: #fff; }
svg .nocost { fill: #f6f8fa; }
"""

WIDTH, HEIGHT = 760, 440
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 30, 20, 60
_NOCOST = 60  # a band left of the cost axis for entries without a cost per solved race


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def stats_page(common_dir: Path) -> Path:
    """Where `racer stats --html` writes its page: <git common dir>/racer/stats.html."""
    return common_dir / "racer" / "stats.html"


def _table(entries: Sequence[Entry]) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
    rows = []
    for e in entries:
        tds = []
        for col, text in zip(COLUMNS, cells(e), strict=True):
            if col.startswith("pass rate"):
                bar = (
                    f'<span class="bar"><span style="width:{e.pass_rate * 100:.1f}%"></span></span>'
                )
                tds.append(f"<td>{bar}{_e(text)}</td>")
            else:
                tds.append(f"<td{' class=num' if col in NUMERIC else ''}>{_e(text)}</td>")
        css = ' class="small"' if e.small_sample else ""
        rows.append(f"<tr{css}>{''.join(tds)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _x_scale(entries: Sequence[Entry]) -> float:
    """The right end of the cost axis: 1, 2 or 5 times a power of ten, at or above the dearest
    cost per solved race."""
    top = max((e.cost_per_solved for e in entries if e.cost_per_solved is not None), default=0.0)
    if top <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(top))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= top)


def _axes(xmax: float) -> list[str]:
    x0, x1, y0, y1 = _LEFT + _NOCOST, WIDTH - _RIGHT, HEIGHT - _BOTTOM, _TOP
    band = _NOCOST - 8
    out = [
        f'<rect class="nocost" x="{_LEFT}" y="{y1}" width="{band}" height="{y0 - y1}"/>',
        f'<text x="{_LEFT + band / 2:g}" y="{y0 + 16}" text-anchor="middle">no cost</text>',
    ]
    for i in range(5):
        y = y0 - (y0 - y1) * i / 4
        out.append(f'<line class="grid" x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}"/>')
        out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{25 * i}%</text>')
        x = x0 + (x1 - x0) * i / 4
        out.append(f'<text x="{x:.1f}" y="{y0 + 16}" text-anchor="middle">${xmax * i / 4:g}</text>')
    out += [
        f'<line class="axis" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}"/>',
        f'<line class="axis" x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}"/>',
        f'<text x="{(x0 + x1) / 2:.1f}" y="{HEIGHT - 18}" text-anchor="middle">'
        "cost per solved race (USD)</text>",
        f'<text x="16" y="{(y0 + y1) / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {(y0 + y1) / 2:.1f})">pass rate (95 % interval)</text>',
    ]
    return out


def _point(e: Entry, xmax: float, nth: int) -> str:
    x0, x1, y0, y1 = _LEFT + _NOCOST, WIDTH - _RIGHT, HEIGHT - _BOTTOM, _TOP

    def y(rate: float) -> float:
        return y0 - (y0 - y1) * rate

    if e.cost_per_solved is None:  # spread along the band so that labels do not pile up
        x = _LEFT + 10.0 + (nth % 4) * 10
    else:
        x = x0 + (x1 - x0) * e.cost_per_solved / xmax
    lo, hi, mid = y(e.pass_low), y(e.pass_high), y(e.pass_rate)
    cost = (
        "no cost per solved race"
        if e.cost_per_solved is None
        else (f"${e.cost_per_solved:.4f} per solved race")
    )
    rate = f"{percent(e.pass_rate)} ({percent(e.pass_low)}-{percent(e.pass_high)})"
    tip = f"{e.key}: pass rate {rate} over {e.races} races, {cost}"
    small = " small" if e.small_sample else ""
    return (
        f'<g class="entry" data-key="{_e(e.key)}"><title>{_e(tip)}</title>'
        f'<line class="err" x1="{x:.1f}" y1="{lo:.1f}" x2="{x:.1f}" y2="{hi:.1f}"/>'
        f'<line class="err" x1="{x - 4:.1f}" y1="{lo:.1f}" x2="{x + 4:.1f}" y2="{lo:.1f}"/>'
        f'<line class="err" x1="{x - 4:.1f}" y1="{hi:.1f}" x2="{x + 4:.1f}" y2="{hi:.1f}"/>'
        f'<circle class="point{small}" cx="{x:.1f}" cy="{mid:.1f}" r="5"/>'
        f'<text x="{x + 8:.1f}" y="{mid - 6:.1f}">{_e(cells(e)[0])}</text></g>'
    )


def scatter(entries: Sequence[Entry]) -> str:
    """An inline SVG: one labelled point per entry, with its pass rate's interval as error bar."""
    xmax = _x_scale(entries)
    parts = [*_axes(xmax), *(_point(e, xmax, i) for i, e in enumerate(entries))]
    return (
        f'<svg width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="cost per solved race against '
        f'pass rate">{"".join(parts)}</svg>'
    )


def render_stats(entries: Sequence[Entry], scope: str, when: str) -> str:
    """The whole page: `scope` says which races it covers, `when` when it was made."""
    notes = [SMALL_NOTE] * any(e.small_sample for e in entries)
    notes += [ESTIMATED_NOTE] * any(e.cost_estimated for e in entries)
    note = "".join(f'<p class="muted">{_e(n)}</p>' for n in notes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>racer stats: {_e(scope)}</title><style>{_CSS}</style></head><body>"
        f"<h1>racer stats</h1><p class=muted>{_e(scope)} — made {_e(when)}</p>"
        f"{_table(entries)}{note}{scatter(entries)}</body></html>\n"
    )


def write_stats(path: Path, entries: Sequence[Entry], scope: str, when: str) -> Path:
    store.write_atomic(path, render_stats(entries, scope, when))
    return path
