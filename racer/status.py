"""The one status type: what a candidate is doing or how it ended, and what a race is.

The values are the strings race.json has always held, so records of any racer still load.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A candidate's status: a running phase, then its lane's result, then the verdict."""

    # Running phases, in the order a lane goes through them.
    PENDING = "pending"
    CHECKOUT = "worktree"  # its checkout is being made (the JSON keeps the old word)
    SETUP = "setup"
    WAITING = "waiting"  # for a slot of its agent's max_parallel
    AGENT = "agent"
    QUEUED = "queued"  # waiting for a test slot
    TESTING = "testing"
    # A lane's result.
    OK = "ok"  # the agent finished and changed files; its tests ran (if any)
    SETUP_FAILED = "setup_failed"
    AGENT_FAILED = "agent_failed"
    TIMED_OUT = "timed_out"
    NO_CHANGES = "no_changes"
    ERROR = "error"
    SKIPPED = "skipped"  # a cascade's later tier: an earlier tier solved the task
    STOPPED = "stopped"  # --first-pass: another candidate passed first; its work is kept
    # The verdict on an OK lane.
    PASSED = "passed"
    FLAGGED = "flagged"
    ACCEPTANCE_FAILED = "acceptance_failed"
    TESTS_FAILED = "tests_failed"
    TESTS_INVALID = "tests_invalid"


RUNNING = frozenset(
    {
        Status.PENDING,
        Status.CHECKOUT,
        Status.SETUP,
        Status.WAITING,
        Status.AGENT,
        Status.QUEUED,
        Status.TESTING,
    }
)
GATE_FAILURES = frozenset(
    {
        Status.SETUP_FAILED,
        Status.AGENT_FAILED,
        Status.TIMED_OUT,
        Status.NO_CHANGES,
        Status.ERROR,
        Status.SKIPPED,
        Status.STOPPED,
    }
)
LANE_DONE = frozenset({Status.OK, *GATE_FAILURES})  # where run_lane ends


class ReviewStatus(StrEnum):
    """What became of the reviewer's (or the test writer's) run."""

    DONE = "done"  # it answered by the contract; its tests ran
    UNUSABLE = "unusable"  # it answered, but not by the contract (no JSON, bad paths, …)
    SKIPPED = "skipped"  # it did not answer: not installed, timed out, API error, over budget


class Verification(StrEnum):
    """What a reviewer's finding turned out to be once its test ran."""

    REPRODUCED = "reproduced"  # its test fails on the candidate it names
    NOT_REPRODUCED = "not reproduced"  # its test passes there
    BROKEN_TEST = "broken test"  # its test cannot run anywhere, the base included
    ADVISORY = "advisory"  # it came without a test
    NOT_RUN = "not run"  # its test could not run on that candidate


class RaceStatus(StrEnum):
    """What a race record says, and what `racer ls` derives from it and its lock."""

    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    MERGED = "merged"  # finished, and a candidate landed (`racer merge`)
    # Derived for display, never written to race.json:
    MERGING_INTERRUPTED = "interrupted (merge)"
    DAMAGED = "damaged"
    NEWER = "needs a newer racer"  # its race.json has a schema newer than this racer reads
    CLEANED = "cleaned"  # finished or interrupted, and its lanes removed without a merge


class BatchStatus(StrEnum):
    """A batch (batch.json `status`)."""

    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"


class StepStatus(StrEnum):
    """How an executor's step ended (and a batch entry's `state` once it did)."""

    OK = "ok"
    FAILED = "failed"  # the race could not run (its plan failed on the worker): the log says why
    CANCELLED = "cancelled"  # Ctrl-C: recorded by the driver, whatever the step returned
    INFRA_ERROR = "infra_error"  # the machine failed it (retries spent, a missing credential)


class SpecState(StrEnum):
    """Where one spec of a batch is (batch.json `specs[].state`)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # its race has a record (whatever its candidates did)
    CANCELLED = "cancelled"
    INFRA_ERROR = "infra_error"
    FAILED = "failed"
