"""A race's tiers and its history: each contestant's track record when the race starts, a
cascade's later-tier prompts (what the earlier tiers' tests said), its skipped lanes, and what
its tiers cost. Called by racer.race, which runs the lanes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import anyio

from racer import cascade, checkout, costs, history
from racer.plan import RacePlan
from racer.report import Candidate, RaceReport, RaceState, Track
from racer.reporter import Reporter
from racer.status import RUNNING, Status
from racer.store import write_atomic
from racer.testrun import parse_junit
from racer.testsummary import TestCase


def with_tracks(plan: RacePlan, report: RaceReport) -> RaceReport:
    """Each contestant's track record in this repository, from the history (a late tie-break:
    it never outweighs test evidence). No database or no record: no change."""
    rid = history.repo_id(plan.repo.root)
    if rid is None:
        return report
    keys = {c.name: history.contestant_key(c.agent, c.model) for c in report.candidates}
    found = history.track_records(rid, list(keys.values()), datetime.now(UTC))
    cands = tuple(
        replace(c, track=Track(t.passed, t.races, round(t.score, 4)))
        if (t := found.get(keys[c.name])) is not None and t.races
        else c
        for c in report.candidates
    )
    return replace(report, candidates=cands)


def cascade_costs(plan: RacePlan, state: RaceState) -> None:
    """What each tier that ran cost, and what the skipped ones would have at their mean cost
    in this repository's history (None when the history knows none of them)."""
    info = state.report.cascade
    assert info is not None
    cands = state.report.candidates
    ran = [t for t in info.tiers if any(state.candidate(n).status != Status.SKIPPED for n in t)]
    skipped = [state.candidate(n) for t in info.tiers[len(ran) :] for n in t]
    means = costs.mean_costs(
        plan.repo.root, [history.contestant_key(c.agent, c.model) for c in skipped]
    )
    known = [v for v in means.values() if v is not None]
    state.set(
        replace(
            state.report,
            cascade=replace(
                info,
                spent=cascade.spent(cands, len(ran)),
                skipped_cost=round(sum(known), 6) if known else None,
            ),
        )
    )


async def tier_prompt(
    plan: RacePlan,
    state: RaceState,
    tier: int,
    tiers: Sequence[int],
    base_done: anyio.Event,
    so_far: Callable[[int], RaceReport],
) -> tuple[str, Path] | None:
    """A later tier's prompt: the race's, plus what the earlier tiers' tests said (config
    cascade_feedback); kept as prompt-tier<N>.md, so a resumed race gives the same one."""
    if tier == tiers[0] or not plan.config.cascade_feedback:
        return None
    path = plan.race_dir.path / f"prompt-tier{tiers.index(tier) + 1}.md"
    if path.is_file():
        return path.read_text(encoding="utf-8"), path
    await base_done.wait()
    judged = so_far(tier - 1)
    earlier = [c for c in judged.candidates if c.tier is not None and c.tier < tier]
    cases = {c.name: failed_cases(plan, c) for c in earlier}
    text = f"{plan.prompt.rstrip()}\n\n{cascade.feedback(earlier, cases)}\n"
    write_atomic(path, text)
    return text, path


def failed_cases(plan: RacePlan, cand: Candidate) -> tuple[TestCase, ...]:
    """The project's tests as they ran on a candidate (JUnit), for the next tier's feedback;
    the hidden acceptance tests are never among them."""
    path = plan.race_dir.junit(checkout.slug(cand.name), "tests")
    try:
        return parse_junit(path)[4] if path.is_file() else ()
    except (OSError, ValueError):
        return ()


def skip(state: RaceState, reporter: Reporter, names: Sequence[str], why: str) -> None:
    for name in names:
        cand = state.candidate(name)
        if cand.status in RUNNING:
            state.put(replace(cand, status=Status.SKIPPED, error=why))
            reporter.phase(name, Status.SKIPPED)


def cascade_note(state: RaceState, tier: int, reason: str) -> None:
    if state.report.cascade is not None:
        info = replace(state.report.cascade, solved_by=tier, reason=reason)
        state.set(replace(state.report, cascade=info))
