"""What the race history says contestants cost in one repository: their mean cost per run
(for a cascade's skipped tiers) and their $ per solved race (for `--cascade auto`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from racer import history


def _rows_by_key(root: Path, keys: Sequence[str]) -> dict[str, list[history.CandidateRow]]:
    rid = history.repo_id(root)
    found = history.candidate_rows(rid) if rid is not None else history.Rows()
    by_key: dict[str, list[history.CandidateRow]] = {k: [] for k in keys}
    for row in found.rows:
        if row.key in by_key:
            by_key[row.key].append(row)
    return by_key


def mean_costs(root: Path, keys: Sequence[str]) -> dict[str, float | None]:
    """Each key's mean cost per run here (None: no run with a known cost)."""
    out: dict[str, float | None] = {}
    for key, rows in _rows_by_key(root, keys).items():
        costs = [r.cost_usd for r in rows if r.cost_usd is not None]
        out[key] = sum(costs) / len(costs) if costs else None
    return out


def cost_per_solve(root: Path, keys: Sequence[str]) -> dict[str, float | None]:
    """Each key's total cost over its races here divided by the races it passed (None: it
    never passed here, or no cost is known)."""
    out: dict[str, float | None] = {}
    for key, rows in _rows_by_key(root, keys).items():
        solved = sum(1 for r in rows if r.passed)
        costs = [r.cost_usd for r in rows if r.cost_usd is not None]
        out[key] = sum(costs) / solved if solved and costs else None
    return out
