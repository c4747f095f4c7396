"""The leaderboard's arithmetic on hand-made inputs with known answers (Wilson, Bradley-Terry,
costs), and its views: the terminal table and stats.html as headless Chromium shows it."""

from __future__ import annotations

import html as html_lib
import math
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from helpers.browser import FLAGS, chromium
from helpers.records import make_report
from helpers.repos import Project

from racer import history, htmlstats, stats
from racer.history import CandidateRow


def row(
    race: int,
    agent: str,
    model: str | None,
    rank: int | None,
    passed: bool,
    cost: float | None = None,
    merged: bool = False,
    secs: float | None = 10.0,
) -> CandidateRow:
    return CandidateRow(
        race=f"repo/r{race}",
        created=f"2026-06-{1 + race % 28:02d}T00:00:00+00:00",
        name=f"{agent}@{model}",
        agent=agent,
        model=model,
        status="passed" if passed else "x",
        rank=rank,
        passed=passed,
        cost_usd=cost,
        cost_estimated=False,
        duration_s=secs,
        merged=merged,
    )


def test_wilson_interval_known_values() -> None:
    # Reference values (Wilson 1927; e.g. Newcombe 1998, table I): 0/10, 5/10, 10/10, 81/263.
    assert stats.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert stats.wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert stats.wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert stats.wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert stats.wilson(0, 0) == (0.0, 1.0)


def test_race_pairs_follow_the_order() -> None:
    order = [("a", 1), ("b", 2), ("c", 3), ("d", None)]
    assert stats.race_pairs(order) == Counter({("a", "b"): 1, ("a", "c"): 1, ("b", "c"): 1})
    assert stats.race_pairs([("a", 1), ("b", 1)]) == Counter()  # a tie compares nothing
    assert stats.race_pairs([("a", 1), ("a", 2)]) == Counter()  # nor does one against itself


def _expected_wins(pairs: Counter[tuple[str, str]], ratings: dict[str, float], p: str) -> float:
    """What the fit expects p to win, the prior's two virtual games against the reference in."""

    def strength(q: str) -> float:
        return 10 ** ((ratings[q] - stats.BASE_RATING) / 400)

    s = strength(p)
    total = 2 * s / (s + 1)
    for (a, b), n in pairs.items():
        if p in (a, b):
            other = b if a == p else a
            total += n * s / (s + strength(other))
    return total


def test_bradley_terry_three_of_four() -> None:
    races = [Counter({("A", "B"): 1})] * 3 + [Counter({("B", "A"): 1})]
    pairs = sum(races, Counter())
    ratings = stats.bradley_terry(pairs)
    assert ratings["A"] > stats.BASE_RATING > ratings["B"]
    assert ratings["A"] + ratings["B"] == pytest.approx(2 * stats.BASE_RATING)
    # The fit is where each contestant's expected wins equal its wins (3 + 1 virtual for A).
    assert _expected_wins(pairs, ratings, "A") == pytest.approx(4, abs=1e-6)
    assert _expected_wins(pairs, ratings, "B") == pytest.approx(2, abs=1e-6)
    # By symmetry, A's strength s solves 4 = 2s/(s+1) + 4s/(s+1/s) = 2s/(s+1) + 4s^2/(s^2+1).
    s = 10 ** ((ratings["A"] - stats.BASE_RATING) / 400)
    assert 2 * s / (s + 1) + 4 * s * s / (s * s + 1) == pytest.approx(4, abs=1e-6)


def test_bradley_terry_stays_finite_for_an_unbeaten_contestant() -> None:
    ratings = stats.bradley_terry(Counter({("A", "B"): 50}))
    assert all(math.isfinite(r) for r in ratings.values())
    assert ratings["A"] > ratings["B"]


def test_the_interval_of_one_race_is_wider_than_that_of_twenty() -> None:
    x_y = [Counter({("X", "Y"): 1})] * 15 + [Counter({("Y", "X"): 1})] * 5
    races = [*x_y, Counter({("Z", "X"): 1})]  # Z ran once
    intervals = stats.rating_intervals(races)
    width = {k: hi - lo for k, (lo, hi) in intervals.items()}
    assert width["Z"] > width["X"] and width["Z"] > width["Y"]
    assert stats.rating_intervals(races) == intervals  # seeded: the same every time
    ratings = stats.bradley_terry(sum(races, Counter()))
    for key, (lo, hi) in intervals.items():
        assert lo < ratings[key] < hi
    # One race alone: the bootstrap cannot vary, the interval still says how little it knows.
    lo, hi = stats.rating_intervals([Counter({("A", "B"): 1})])["A"]
    assert hi - lo > 200


def test_more_races_narrow_the_interval() -> None:
    few = [Counter({("A", "B"): 1})] * 3 + [Counter({("B", "A"): 1})]
    many = few * 25
    (lo_few, hi_few), (lo_many, hi_many) = (stats.rating_intervals(r)["A"] for r in (few, many))
    assert hi_many - lo_many < (hi_few - lo_few) / 2


def test_leaderboard_figures() -> None:
    rows = [
        row(1, "claude", "opus", 1, True, cost=1.0, merged=True),
        row(1, "codex", None, 2, False, cost=0.5),
        row(2, "claude", "opus", 2, True, cost=3.0),
        row(2, "codex", None, 1, True, cost=0.5),
        row(3, "claude", "opus", 1, False, cost=None, secs=None),
        row(3, "codex", None, 2, False, cost=0.2),
    ]
    board = {e.key: e for e in stats.leaderboard(rows)}
    opus, codex = board["claude@opus"], board["codex"]
    assert (opus.races, opus.passed, opus.wins, opus.merged) == (3, 2, 1, 1)
    assert (codex.races, codex.passed, codex.wins, codex.merged) == (3, 1, 1, 0)
    assert opus.mean_cost == pytest.approx(2.0) and opus.median_cost == pytest.approx(2.0)
    assert opus.cost_per_solved == pytest.approx(4.0 / 2)  # the costs it has, over its passes
    assert codex.median_cost == pytest.approx(0.5) and codex.cost_per_solved == pytest.approx(1.2)
    assert opus.mean_time_s == pytest.approx(10.0)
    assert opus.rated_races == codex.rated_races == 3
    assert opus.rating is not None and codex.rating is not None and opus.rating > codex.rating
    assert [e.key for e in stats.leaderboard(rows)] == ["claude@opus", "codex"]
    assert opus.small_sample


def test_no_pass_no_cost_per_solved_and_the_small_sample_mark() -> None:
    rows = [row(i, "a", "m", 1, False, cost=1.0) for i in range(9)]
    rows += [row(i, "b", "m", 2, i % 2 == 0, cost=1.0) for i in range(10)]
    board = {e.key: e for e in stats.leaderboard(rows)}
    assert board["a@m"].cost_per_solved is None and board["a@m"].pass_rate == 0
    assert board["a@m"].small_sample and not board["b@m"].small_sample
    assert board["b@m"].rated_races == 9  # race 9 had b alone: nothing to compare
    assert stats.cells(board["a@m"])[0] == "a@m *" and stats.cells(board["b@m"])[0] == "b@m"
    alone = stats.leaderboard([row(1, "solo", None, 1, True)])[0]
    assert alone.rating is None and alone.rated_races == 0


def _record(
    project: Project, entries: list[tuple[str, str | None, int, bool, float | None]], n: int
) -> None:
    for i in range(n):
        report = make_report(project.root, f"r{i:03d}", entries)
        assert history.record_race(report) is None


def test_terminal_table_marks_small_samples_and_shows_names_as_text(
    project: Project, racer
) -> None:
    _record(project, [("claude", "[red]x[/red]", 1, True, 0.5), ("codex", None, 2, False, 0.25)], 3)
    res = racer("stats")
    assert res.exit_code == 0, res.stderr
    assert "claude@[red]x[/red] *" in res.stdout  # rich markup in a name stays text
    assert "codex *" in res.stdout and "████████ 100%" in res.stdout
    assert "░░░░░░░░ 0%" in res.stdout
    assert "fewer than 10 races" in res.stdout
    assert "$0.50" in res.stdout  # claude's $ per solved race: 3 x $0.50 / 3 passes


def test_stats_html_in_headless_chromium(
    project: Project, racer, tmp_path: Path, monkeypatch
) -> None:
    exe = chromium()
    entries = [
        ("x<script>", "alert(1)</script>", 1, True, 0.4),
        ("claude", "opus", 2, True, 1.0),
        ("codex", None, 3, False, None),
    ]
    _record(project, entries, 12)
    res = racer("stats", "--html")
    assert res.exit_code == 0, res.stderr
    page = Path(res.stdout.strip())
    assert page == project.root / ".git" / "racer" / "stats.html" and page.is_file()
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<link" not in text
    assert "<script" not in text.lower()  # the page has no script, and names are escaped
    dom = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={tmp_path / 'chrome'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "<script" not in dom.lower()  # what Chromium built: no script element anywhere
    body = dom.split("<body", 1)[1]
    rows = re.findall(r"<tr[ >].*?</tr>", body.split("<tbody>", 1)[1], flags=re.S)
    seen = [html_lib.unescape(re.sub(r"<[^>]+>", "", r)) for r in rows]
    assert len(seen) == 3
    assert seen[0].startswith("x<script>@alert(1)</script>")  # the name as text, first
    assert "12" in seen[0] and "100% (76-100%)" in seen[0]
    assert seen[2].startswith("codex") and "0% (0-24%)" in seen[2]
    svg = re.search(r"<svg\b.*?</svg>", body, flags=re.S)
    assert svg is not None
    assert len(re.findall(r'<circle class="point', svg.group(0))) == 3
    labels = [html_lib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg.group(0))]
    assert "x<script>@alert(1)</script>" in labels and "claude@opus" in labels and "codex" in labels
    assert "fewer than 10 races" not in html_lib.unescape(body)  # twelve races each
    shot = tmp_path / "stats.png"
    subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={tmp_path / 'chrome2'}", "--window-size=1280,900",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_scatter_places_points_by_cost_and_pass_rate() -> None:
    rows = [row(i, "cheap", None, 1, True, cost=0.5) for i in range(10)]
    rows += [row(i, "dear", None, 2, i < 5, cost=1.0) for i in range(10)]
    svg = htmlstats.scatter(stats.leaderboard(rows))
    points = re.findall(r'<circle class="point" cx="([\d.]+)" cy="([\d.]+)"', svg)
    (cheap_x, cheap_y), (dear_x, dear_y) = ((float(x), float(y)) for x, y in points)
    assert cheap_x < dear_x  # $0.50 per solved race against $2.00
    assert cheap_y < dear_y  # 100 % is higher up the page than 50 %
