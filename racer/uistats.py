"""The terminal view of `racer stats` (rich): the leaderboard with a bar for each pass rate.

Names come from config and records: each one is made printable and shown as text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from racer import fmt
from racer.stats import COLUMNS, ESTIMATED_NOTE, NUMERIC, SMALL_NOTE, Entry, cells

BAR_WIDTH = 8


def bar(rate: float, width: int = BAR_WIDTH) -> str:
    """A pass rate as a bar of `width` cells: `███████░░░` for 70 %."""
    full = round(max(0.0, min(1.0, rate)) * width)
    return "█" * full + "░" * (width - full)


def stats_table(entries: Sequence[Entry], title: str) -> Table:
    table = Table(title=fmt.printable(title), title_justify="left", box=box.SIMPLE_HEAD)
    table.collapse_padding, table.pad_edge = True, False  # room for every column in 120
    for col in COLUMNS:
        # On a narrow terminal only the pass rate and the rating wrap, at their intervals.
        if col in NUMERIC:
            table.add_column(col, justify="right", no_wrap=True)
        elif col == COLUMNS[0]:
            table.add_column(col, no_wrap=True)
        else:
            table.add_column(col, min_width=BAR_WIDTH + 5)
    for e in entries:
        row = [Text(fmt.printable(text)) for text in cells(e)]
        row[3] = Text.assemble((bar(e.pass_rate), "green"), " ", row[3])
        if e.small_sample:
            row[0].stylize("dim")
        table.add_row(*row)
    return table


def show_stats(out: Console, entries: Sequence[Entry], title: str) -> None:
    out.print(stats_table(entries, title))
    if any(e.small_sample for e in entries):
        out.print(Text(SMALL_NOTE, style="yellow"))
    if any(e.cost_estimated for e in entries):
        out.print(Text(ESTIMATED_NOTE))
