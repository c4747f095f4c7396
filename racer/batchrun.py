"""`racer batch` as one call: the executor the flag names (Ray imported only for `ray`), the
batch run with its progress, then the batch report written next to batch.json."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from racer import batch as batching
from racer import batchviews, store
from racer import report as rpt
from racer.errors import UserError
from racer.executor import Executor, parse_executor


def executor_for(
    spec: str,
    repo_root: Path,
    common_dir: Path,
    parallel: int,
    limits: Mapping[str, int],
    agents: str = "",
) -> Executor:
    kind, address = parse_executor(spec)
    if kind == "local":
        from racer.executors.local import LocalExecutor

        return LocalExecutor(repo_root, common_dir, parallel)
    try:
        from racer.executors.ray import RayExecutor
    except ImportError:
        raise UserError(
            "--executor ray needs Ray: pip install 'racer[ray]' (the same Ray and Python "
            "versions as the cluster)"
        ) from None
    # A cluster racer starts itself is this machine: it has what a local race would use.
    return RayExecutor(
        repo_root, common_dir, address, max_in_flight=limits, local_needs=batching.needs_of(agents)
    )


def parse_limits(items: Sequence[str]) -> dict[str, int]:
    """`claude=16` → {"claude": 16}: lanes of that agent running at once (Ray)."""
    out = {}
    for item in items:
        name, _, n = item.partition("=")
        if not name or not n.isdigit() or int(n) < 1:
            raise UserError(f"--max-in-flight {item!r}: expected AGENT=N (N ≥ 1)")
        out[name] = int(n)
    return out


def reports_of(batch: batching.Batch) -> dict[str, rpt.RaceReport]:
    out = {}
    for entry in batch.data["specs"]:
        race_dir = store.RaceDir.of(batch.repo.common_dir, entry["race_id"])
        if race_dir.record.is_file():
            out[entry["race_id"]] = rpt.load(race_dir)
    return out


def write_reports(batch: batching.Batch) -> Path:
    reports = reports_of(batch)
    store.write_atomic(batch.report_md, batchviews.markdown(batch.data, reports))
    store.write_atomic(batch.report_html, batchviews.page(batch.data, reports))
    return batch.report_md


def execute(
    batch: batching.Batch,
    executor: Executor,
    progress: Callable[[dict[str, Any], str], None],
) -> batching.Batch:
    async def go() -> batching.Batch:
        async with executor:
            return await batching.run_batch(batch, executor, progress)

    try:
        return anyio.run(go)
    finally:
        write_reports(batch)
