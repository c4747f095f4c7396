"""The leaderboard of `racer stats`, from history rows: pass rates with Wilson intervals, costs,
and a Bradley-Terry rating fitted on each race's order with a bootstrap interval. Pure, no I/O.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from racer import fmt
from racer.history import CandidateRow

Z95 = 1.959963984540054  # the standard normal's 97.5 % point
SMALL_SAMPLE = 10  # fewer races than this: an entry's figures are marked as resting on little
RESAMPLES = 200
SEED = 20040101  # a fixed seed: the same history gives the same intervals every time
BASE_RATING = 1000.0  # the rating of the prior's reference contestant (Elo-like scale)
_MAX_ITERATIONS = 2000
_TOLERANCE = 1e-8  # in log strength: far below what a rating shows

Pairs = Mapping[tuple[str, str], int]  # (winner, loser) -> times the winner ranked above


@dataclass(frozen=True)
class Entry:
    """One agent@model on the leaderboard."""

    key: str  # agent@model, or agent on its default model
    agent: str
    model: str | None
    races: int  # its runs (a race with two of it counts twice)
    passed: int
    pass_rate: float
    pass_low: float  # 95 % Wilson interval of the pass rate
    pass_high: float
    wins: int  # ranked first and passed
    merged: int  # times a person merged it
    mean_cost: float | None  # over its runs with a cost
    median_cost: float | None
    cost_per_solved: float | None  # its total cost / races it passed; None when none passed
    cost_estimated: bool  # some of its costs are racer's estimates from token counts
    mean_time_s: float | None
    rating: float | None  # Bradley-Terry on the Elo scale; None: never ranked against another
    rating_low: float | None  # 95 % bootstrap interval
    rating_high: float | None
    rated_races: int  # the races the rating rests on
    small_sample: bool  # fewer than SMALL_SAMPLE races


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 1) without trials."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    return low, 1.0 if successes >= n else min(1.0, centre + half)


def race_pairs(order: Iterable[tuple[str, int | None]]) -> Counter[tuple[str, str]]:
    """(winner, loser) counts of one race: each contestant ranked above another beats it.
    Unranked contestants, ties and a contestant against itself compare nothing."""
    ranked = [(key, rank) for key, rank in order if rank is not None]
    return Counter((a, b) for a, ra in ranked for b, rb in ranked if ra < rb and a != b)


def bradley_terry(
    pairs: Pairs, players: Iterable[str] = (), start: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Bradley-Terry ratings by Hunter's (2004) MM algorithm, on the Elo scale.

    A weak prior keeps every rating finite (an unbeaten contestant's too): each one has one
    virtual win and one virtual loss against a reference of strength 1 (rating BASE_RATING).
    `start`: ratings to start from (the bootstrap starts from the full fit: fewer iterations)."""
    names = sorted({*players, *(p for pair in pairs for p in pair)})
    index = {p: i for i, p in enumerate(names)}
    wins = [1.0] * len(names)  # the virtual win
    games: list[Counter[int]] = [Counter() for _ in names]
    for (a, b), n in pairs.items():
        wins[index[a]] += n
        games[index[a]][index[b]] += n
        games[index[b]][index[a]] += n
    opponents = [list(g.items()) for g in games]
    strength = [10 ** (((start or {}).get(p, BASE_RATING) - BASE_RATING) / 400) for p in names]
    for _ in range(_MAX_ITERATIONS):
        new = [
            wins[i] / (2 / (s + 1) + sum(n / (s + strength[j]) for j, n in opponents[i]))
            for i, s in enumerate(strength)
        ]  # 2 / (s + 1): the two virtual games against the reference
        new = _rescaled(new)
        change = max(
            (abs(math.log(a / b)) for a, b in zip(new, strength, strict=True)), default=0.0
        )
        strength = new
        if change < _TOLERANCE:
            break
    return {p: BASE_RATING + 400 * math.log10(s) for p, s in zip(names, strength, strict=True)}


def _rescaled(strength: list[float]) -> list[float]:
    """The strengths times the factor the prior likes best. Real games say nothing about the
    common scale, only the prior's few virtual games do: left to MM alone, the scale would take
    thousands of iterations to settle. The best factor c makes the contestants' expected wins
    against the reference, sum of c*s / (c*s + 1), equal their virtual wins (half their games)."""
    logs = [math.log(s) for s in strength]
    t = 0.0  # log c, by Newton's method on a sum of logistic curves (increasing in t)
    for _ in range(50):
        sig = [1 / (1 + math.exp(-(t + x))) for x in logs]
        slope = sum(v * (1 - v) for v in sig)
        step = (sum(sig) - len(sig) / 2) / slope if slope > 0 else 0.0
        t -= max(-5.0, min(5.0, step))
        if abs(step) < 1e-12:
            break
    return [s * math.exp(t) for s in strength]


def _quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolated linearly."""
    at = q * (len(values) - 1)
    lo = math.floor(at)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (at - lo)


def _total(races: Iterable[Pairs]) -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for pairs in races:
        total.update(pairs)
    return total


def rating_intervals(
    races: Sequence[Pairs], resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, tuple[float, float]]:
    """95 % intervals of the ratings: the races resampled with replacement, the ratings refitted
    (seeded: the same races give the same intervals). A contestant absent from a resample has the
    prior's rating there: little data, wide interval."""
    names = sorted({p for pairs in races for pair in pairs for p in pair})
    if not races or not names:
        return {}
    rng = random.Random(seed)
    full = bradley_terry(_total(races))
    samples: dict[str, list[float]] = {p: [] for p in names}
    for _ in range(resamples):
        drawn = [races[rng.randrange(len(races))] for _ in races]
        fitted = bradley_terry(_total(drawn), start=full)
        for p in names:
            samples[p].append(fitted.get(p, BASE_RATING))
    spread = rating_spread(_total(races), full)
    out = {}
    for p, values in samples.items():
        values.sort()
        low, high = _quantile(values, 0.025), _quantile(values, 0.975)
        # A bootstrap of very few races barely varies (one race: not at all); the fit's own
        # curvature still knows how little they say, so the interval is never narrower than it.
        out[p] = (min(low, full[p] - Z95 * spread[p]), max(high, full[p] + Z95 * spread[p]))
    return out


def rating_spread(pairs: Pairs, ratings: Mapping[str, float]) -> dict[str, float]:
    """Each rating's standard error, on the rating scale, from the curvature of the fit: the
    inverse of the Fisher information in log strength (the prior's virtual games included)."""
    names = sorted(ratings)
    index = {p: i for i, p in enumerate(names)}
    theta = [math.log(10) * (ratings[p] - BASE_RATING) / 400 for p in names]
    info = [[0.0] * len(names) for _ in names]
    for i, t in enumerate(theta):
        info[i][i] += 2 * _bernoulli_var(t)  # the two virtual games against the reference
    for (a, b), n in pairs.items():
        i, j = index[a], index[b]
        w = n * _bernoulli_var(theta[i] - theta[j])
        info[i][i] += w
        info[j][j] += w
        info[i][j] -= w
        info[j][i] -= w
    cov = _inverse(info)
    # Of each rating against the field's mean: the data say nothing of the common level (only
    # the prior does, and it pins the field's mean, as the bootstrap's refits do).
    n = len(names)
    row_means = [sum(row) / n for row in cov]
    grand = sum(row_means) / n
    scale = 400 / math.log(10)
    return {
        p: scale * math.sqrt(max(cov[i][i] - 2 * row_means[i] + grand, 0.0))
        for p, i in index.items()
    }


def _bernoulli_var(logit: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return p * (1 - p)


def _inverse(matrix: list[list[float]]) -> list[list[float]]:
    """Gauss-Jordan with partial pivoting; the prior makes the information positive definite."""
    n = len(matrix)
    m = [[*row, *(1.0 if i == j else 0.0 for j in range(n))] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        lead = m[col][col]
        m[col] = [v / lead for v in m[col]]
        for r in range(n):
            if r != col and m[r][col]:
                f = m[r][col]
                m[r] = [v - f * w for v, w in zip(m[r], m[col], strict=True)]
    return [row[n:] for row in m]


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _entry(
    rows: Sequence[CandidateRow],
    rating: float | None,
    interval: tuple[float, float] | None,
    rated: int,
) -> Entry:
    first = rows[0]
    passed = sum(r.passed for r in rows)
    low, high = wilson(passed, len(rows))
    costs = [r.cost_usd for r in rows if r.cost_usd is not None]
    return Entry(
        key=first.key,
        agent=first.agent,
        model=first.model,
        races=len(rows),
        passed=passed,
        pass_rate=passed / len(rows),
        pass_low=low,
        pass_high=high,
        wins=sum(r.passed and r.rank == 1 for r in rows),
        merged=sum(r.merged for r in rows),
        mean_cost=_mean(costs),
        median_cost=statistics.median(costs) if costs else None,
        cost_per_solved=sum(costs) / passed if passed and costs else None,
        cost_estimated=any(r.cost_estimated for r in rows if r.cost_usd is not None),
        mean_time_s=_mean([r.duration_s for r in rows if r.duration_s is not None]),
        rating=rating,
        rating_low=interval[0] if interval else None,
        rating_high=interval[1] if interval else None,
        rated_races=rated,
        small_sample=len(rows) < SMALL_SAMPLE,
    )


def leaderboard(
    rows: Sequence[CandidateRow], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[Entry, ...]:
    """One entry per agent@model, the best rated first (then by pass rate, then by name)."""
    by_key: dict[str, list[CandidateRow]] = defaultdict(list)
    by_race: dict[str, list[CandidateRow]] = defaultdict(list)
    for r in rows:
        by_key[r.key].append(r)
        by_race[r.race].append(r)
    races = [race_pairs((r.key, r.rank) for r in race) for race in by_race.values()]
    races = [pairs for pairs in races if pairs]
    ratings = bradley_terry(_total(races))
    intervals = rating_intervals(races, resamples, seed)
    rated = Counter(p for pairs in races for p in {q for pair in pairs for q in pair})
    entries = [
        _entry(group, ratings.get(key), intervals.get(key), rated[key])
        for key, group in by_key.items()
    ]
    return tuple(
        sorted(entries, key=lambda e: (e.rating is None, -(e.rating or 0), -e.pass_rate, e.key))
    )


COLUMNS = (
    "agent@model", "races", "passed", "pass rate (95 %)", "wins", "merged", "mean $",
    "median $", "$/solved", "mean time", "rating (95 %)", "rated on",
)  # fmt: skip
# Columns of figures: right-aligned in the terminal, numeric cells in the page.
NUMERIC = frozenset(
    {"races", "passed", "wins", "merged", "mean $", "median $", "$/solved", "mean time", "rated on"}
)
SMALL_MARK = "*"
SMALL_NOTE = (
    f"{SMALL_MARK} fewer than {SMALL_SAMPLE} races: too few to compare on; mind the intervals"
)
ESTIMATED_NOTE = "~ some costs are racer's estimates from token counts"


def percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def usd(amount: float | None, estimated: bool = False) -> str:
    """`$0.25`, `$0.0123` below a dime, `~$0.25` when some of it is racer's estimate."""
    if amount is None:
        return fmt.NONE
    return ("~" if estimated else "") + (f"${amount:.2f}" if amount >= 0.1 else f"${amount:.4f}")


def cells(e: Entry) -> tuple[str, ...]:
    """An entry's row as every view shows it (text, in COLUMNS order; the views add bars)."""
    est = e.cost_estimated
    rating = fmt.NONE
    if e.rating is not None and e.rating_low is not None and e.rating_high is not None:
        rating = f"{e.rating:.0f} ({e.rating_low:.0f}-{e.rating_high:.0f})"
    return (
        e.key + (f" {SMALL_MARK}" if e.small_sample else ""),
        str(e.races),
        str(e.passed),
        f"{percent(e.pass_rate)} ({e.pass_low * 100:.0f}-{percent(e.pass_high)})",
        str(e.wins),
        str(e.merged),
        usd(e.mean_cost, est),
        usd(e.median_cost, est),
        usd(e.cost_per_solved, est),
        fmt.duration(e.mean_time_s),
        rating,
        str(e.rated_races),
    )
