"""A lane's result as a value: what its agent left (AgentResult), its test evidence (Scores),
and the LaneOutcome that folds both into the lane's record in one place (`apply`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from racer.flags import FileChange
from racer.prices import Tokens
from racer.report import Acceptance, Attempt, Candidate, DiffStat, TestSummary
from racer.status import Status


@dataclass(frozen=True)
class AgentResult:
    """What the agent's run left: its work committed, its diff, what racer read from the CLI."""

    commit: str
    diff: str  # path of the saved diff
    diffstat: DiffStat
    exit_code: int | None = None
    duration_s: float = 0.0  # all attempts
    timed_out: bool = False
    final_message: str | None = None
    tokens: Tokens | None = None
    cost_usd: float | None = None
    cost_estimated: bool = False
    turns: int | None = None
    model: str | None = None
    agent_version: str | None = None
    warnings: tuple[str, ...] = ()
    fingerprint: str | None = None  # of the product change, for agreement
    new_tests: tuple[str, ...] = ()  # its new test files
    secret_files: tuple[str, ...] = ()  # files it wrote a known secret value into


@dataclass(frozen=True)
class Scores:
    """A candidate's test evidence, as run in its checkout."""

    tests: TestSummary
    own_tests: TestSummary | None = None  # the suite as it left it (when it edited tests)
    acceptance: Acceptance | None = None
    logs: dict[str, str] = field(default_factory=dict)  # own-tests / tests / acceptance -> path


@dataclass(frozen=True)
class LaneOutcome:
    """How a lane ended (or where it stands, for an interim record before its tests run).

    `agent` is None when no agent ran this time (setup failed; a resumed lane rescored);
    `changes` feed the verdict's flags and clusters and are not part of the record.
    """

    name: str
    status: Status
    error: str | None = None
    agent: AgentResult | None = None
    scores: Scores | None = None
    attempts: tuple[Attempt, ...] | None = None  # None: as recorded
    logs: dict[str, str] = field(default_factory=dict)
    changes: tuple[FileChange, ...] | None = None
    where: tuple[str, int] | None = None  # (host, attempt) of a remote agent step

    def apply(self, cand: Candidate) -> Candidate:
        """The lane's record with this outcome in it: the one place a lane result lands."""
        out = replace(cand, status=self.status, error=self.error, logs={**cand.logs, **self.logs})
        if self.where is not None:
            out = replace(out, host=self.where[0], attempt=self.where[1])
        if self.attempts is not None:
            out = replace(out, attempts=self.attempts)
        if (a := self.agent) is not None:
            out = replace(
                out,
                commit=a.commit,
                diff=a.diff,
                diffstat=a.diffstat,
                exit_code=a.exit_code,
                duration_s=a.duration_s,
                timed_out=a.timed_out,
                final_message=a.final_message,
                tokens=a.tokens,
                cost_usd=a.cost_usd,
                cost_estimated=a.cost_estimated,
                turns=a.turns,
                model=a.model,
                agent_version=a.agent_version,
                warnings=a.warnings,
                fingerprint=a.fingerprint,
                new_tests=a.new_tests,
                secret_files=a.secret_files,
            )
        if (s := self.scores) is not None:
            out = replace(
                out,
                tests=s.tests,
                own_tests=s.own_tests,
                acceptance=s.acceptance,
                logs={**out.logs, **s.logs},
            )
        return out
