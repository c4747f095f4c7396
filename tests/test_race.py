"""The race's scheduling with a fake lane runner: no agent processes, just the task group, the
record and the verdict — results in the order given, test-slot limits, the race's wall limit."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from conftest import Project

from racer import plan as planning
from racer.context import Lane
from racer.lane import Start
from racer.outcome import AgentResult, LaneOutcome
from racer.race import run_race
from racer.report import DiffStat, RaceReport
from racer.status import RaceStatus, Status


def _plan(project: Project, agents: str, **flags: object) -> planning.RacePlan:
    the_plan = planning.prepare(
        project.root,
        Path("specs/double.md"),
        env=os.environ,
        flags={"agents": tuple(agents.split(",")), **flags},
    )
    return replace(the_plan, test_command=None)  # no baseline: nothing but the fake runner runs


class Recorded:
    """A reporter that keeps the phases it hears, in order."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, Status]] = []

    def started(self, report: RaceReport) -> None:
        pass

    def phase(self, lane: str, phase: Status) -> None:
        self.phases.append((lane, phase))

    def line(self, lane: str, text: str) -> None:
        pass

    def finished(self, report: RaceReport) -> None:
        pass


class FakeRunner:
    """Sleeps `delays[name]` seconds holding a test slot, then reports one changed line."""

    def __init__(self, delays: dict[str, float]) -> None:
        self.delays = delays
        self.inside = self.most_inside = 0
        self.cancelled: list[str] = []

    async def __call__(self, lane: Lane, start: Start) -> LaneOutcome:
        assert start is Start.CHECKOUT
        lane.progress.phase(Status.AGENT)
        try:
            async with lane.shared.test_slots:
                self.inside += 1
                self.most_inside = max(self.most_inside, self.inside)
                try:
                    await anyio.sleep(self.delays[lane.name])
                finally:
                    self.inside -= 1
        except anyio.get_cancelled_exc_class():
            self.cancelled.append(lane.name)
            raise
        result = AgentResult(
            commit=lane.plan.base_commit, diff="", diffstat=DiffStat(files=1, added=1)
        )
        return LaneOutcome(lane.name, Status.OK, agent=result, changes=())


def _race(plan: planning.RacePlan, runner: FakeRunner, reporter: Recorded) -> RaceReport:
    return anyio.run(run_race, plan, reporter, None, runner)


def test_results_keep_the_order_given_whatever_order_lanes_finish(project: Project) -> None:
    plan = _plan(project, "fake@a,fake@b,fake@c", jobs=3)
    reporter = Recorded()
    report = _race(plan, FakeRunner({"fake@a": 0.6, "fake@b": 0.3, "fake@c": 0.0}), reporter)
    finished = [lane for lane, phase in reporter.phases if phase is Status.OK]
    assert finished == ["fake@c", "fake@b", "fake@a"]
    # Same evidence everywhere: the order given decides, not the order of finishing.
    assert [(c.name, c.rank, c.order) for c in report.candidates] == [
        ("fake@a", 1, 0),
        ("fake@b", 2, 1),
        ("fake@c", 3, 2),
    ]
    assert report.status is RaceStatus.FINISHED
    assert report.winner == "fake@a"
    assert all(c.status is Status.PASSED for c in report.candidates)


@pytest.mark.parametrize("jobs", [1, 2])
def test_test_slots_cap_how_many_lanes_test_at_once(project: Project, jobs: int) -> None:
    runner = FakeRunner(dict.fromkeys(("fake@a", "fake@b", "fake@c", "fake@d"), 0.2))
    _race(_plan(project, "fake@a,fake@b,fake@c,fake@d", jobs=jobs), runner, Recorded())
    assert runner.most_inside == jobs


def test_race_timeout_cancels_lanes_still_running_and_records_why(project: Project) -> None:
    plan = _plan(project, "fake@quick,fake@stuck", jobs=2, race_timeout=0.5)
    runner = FakeRunner({"fake@quick": 0.0, "fake@stuck": 3600.0})
    reporter = Recorded()
    report = _race(plan, runner, reporter)
    assert runner.cancelled == ["fake@stuck"]
    stuck = report.candidate("fake@stuck")
    assert stuck.status is Status.TIMED_OUT
    assert stuck.error == "race timed out after 0.5 s"
    assert ("fake@stuck", Status.TIMED_OUT) in reporter.phases
    assert report.winner == "fake@quick"
