"""A LaneOutcome folds into the lane's record in one place: what it carries lands, the rest
of the record stays."""

from __future__ import annotations

from racer.outcome import AgentResult, LaneOutcome, Scores
from racer.report import Attempt, Candidate, DiffStat, TestSummary
from racer.status import Status

CAND = Candidate(
    name="fake",
    agent="fake",
    model=None,
    order=0,
    status=Status.AGENT,
    logs={"agent": "/l/fake.agent.log"},
    commit="c0",
    final_message="earlier",
)


def test_a_gate_failure_keeps_what_the_record_had() -> None:
    out = LaneOutcome("fake", Status.SETUP_FAILED, "setup command failed (exit 1)")
    got = out.apply(CAND)
    assert (got.status, got.error) == (Status.SETUP_FAILED, "setup command failed (exit 1)")
    assert (got.commit, got.final_message, got.logs) == ("c0", "earlier", CAND.logs)


def test_the_agent_result_attempts_and_scores_land_and_logs_merge() -> None:
    tests = TestSummary("pytest", passed=2, ok=True, junit=True, log="/l/fake.tests.log")
    out = LaneOutcome(
        "fake",
        Status.OK,
        agent=AgentResult(
            commit="c1",
            diff="/d/fake.diff",
            diffstat=DiffStat(1, 2, 0),
            final_message="done",
            agent_version="1.0",
        ),
        scores=Scores(tests, logs={"tests": "/l/fake.tests.log"}),
        attempts=(Attempt(1, None, 0, 1.5),),
    )
    got = out.apply(CAND)
    assert (got.status, got.commit, got.final_message, got.agent_version) == (
        Status.OK,
        "c1",
        "done",
        "1.0",
    )
    assert got.tests == tests and got.attempts == out.attempts
    assert got.logs == {"agent": "/l/fake.agent.log", "tests": "/l/fake.tests.log"}
    assert got.diffstat.lines == 2
