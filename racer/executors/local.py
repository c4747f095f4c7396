"""The local executor: today's path. Each step is an ordinary race in the user's repository,
in this process (anyio), its lanes here too; a limiter bounds how many races run at once.
`race` takes another lane runner (the Ray executor's). Never imports Ray."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

from racer import report as rpt
from racer import steps, store
from racer.executor import BlobRef, StepResult, StepSpec
from racer.lane import run_lane
from racer.planfile import load_plan
from racer.race import LaneRunner, run_race
from racer.status import RaceStatus, StepStatus


class LocalExecutor:
    name = "local"

    def __init__(self, root: Path, common_dir: Path, slots: int = 1) -> None:
        self.root, self.common_dir, self.slots = root, common_dir, max(1, slots)

    async def __aenter__(self) -> LocalExecutor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def put(self, data: bytes, key: str) -> BlobRef:
        return BlobRef(key, len(data))  # the steps read the repository itself

    def capacity(self) -> int:
        return self.slots

    async def run(self, step: StepSpec) -> StepResult:
        return await self.race(step, run_lane)

    async def race(self, step: StepSpec, runner: LaneRunner) -> StepResult:
        """The race of `step` here, or what is left of it (a resumed batch), lanes by `runner`."""
        started = time.monotonic()
        race_dir = store.RaceDir.of(self.common_dir, step.race_id)
        if race_dir.record.is_file():  # a resumed batch: finish the interrupted race itself
            previous = rpt.load(race_dir)
            if previous.status in (RaceStatus.RUNNING, RaceStatus.INTERRUPTED):
                plan = load_plan(race_dir)
                report = await run_race(plan, None, previous, runner)
            else:
                report = previous
        else:
            report = await steps.race_here(
                self.root,
                Path(step.job.spec_path),
                step.job,
                step.repo,
                env=os.environ,
                runner=runner,
            )
        return StepResult(
            StepStatus.OK,
            step.race_id,
            step.attempt,
            steps.host(),
            record=rpt.to_dict(report),
            wall_s=time.monotonic() - started,
        )
