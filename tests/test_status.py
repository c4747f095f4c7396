"""The one status type keeps the strings race.json has always held."""

from __future__ import annotations

from racer.status import GATE_FAILURES, LANE_DONE, RUNNING, RaceStatus, Status


def test_the_json_strings_are_the_ones_records_hold() -> None:
    assert [s.value for s in Status] == [
        "pending", "worktree", "setup", "waiting", "agent", "queued", "testing",
        "ok", "setup_failed", "agent_failed", "timed_out", "no_changes", "error", "skipped", "stopped",
        "passed", "flagged", "acceptance_failed", "tests_failed", "tests_invalid",
    ]  # fmt: skip
    assert [s.value for s in RaceStatus][:3] == ["running", "finished", "interrupted"]


def test_running_and_done_do_not_overlap_and_a_lane_ends_in_one_of_its_results() -> None:
    assert not RUNNING & LANE_DONE
    assert LANE_DONE - {Status.OK} == GATE_FAILURES
    assert Status("ok") is Status.OK and Status.OK == "ok"
