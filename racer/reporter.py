"""What the outside hears while a race runs: the Reporter (the live board; racer.ui implements
it) and a lane's Progress (its phases and the facts a resume needs, written to the record).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from racer.outcome import LaneOutcome
from racer.report import Attempt, RaceReport
from racer.status import Status


class Reporter(Protocol):
    """The race as the user watches it (racer.ui.Board implements it; tests may record it)."""

    def started(self, report: RaceReport) -> None: ...
    def phase(self, lane: str, phase: Status) -> None: ...
    def line(self, lane: str, text: str) -> None: ...
    def finished(self, report: RaceReport) -> None: ...


class NullReporter:
    def started(self, report: RaceReport) -> None:
        pass

    def phase(self, lane: str, phase: Status) -> None:
        pass

    def line(self, lane: str, text: str) -> None:
        pass

    def finished(self, report: RaceReport) -> None:
        pass


class Progress(Protocol):
    """One lane's progress while it runs. Its result is the LaneOutcome run_lane returns; these
    are the facts that must be on disk before that, so a killed racer can be resumed."""

    def phase(self, status: Status) -> None: ...
    def line(self, text: str) -> None: ...
    def process(self, pgid: int) -> None: ...  # the agent's process group, for leftovers
    def attempts(self, attempts: tuple[Attempt, ...]) -> None: ...  # numbering goes on
    def log(self, kind: str, path: Path) -> None: ...
    def committed(self, sha: str) -> None: ...  # the agent's work is safe on its branch
    def interim(self, outcome: LaneOutcome) -> None: ...  # the agent's result, before tests
