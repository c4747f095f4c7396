"""`racer batch`'s options (typer), kept out of cli.py: parse → racer.batchrun → print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from racer.errors import EXIT_NO_WINNER, UserError


def _progress(data: dict[str, Any], what: str) -> None:
    from racer.batchviews import counts
    from racer.fmt import printable

    print(f"batch {data['id']}: {printable(what)} — {counts(data)}", file=sys.stderr, flush=True)


def batch(
    specs: Annotated[
        list[Path] | None, typer.Argument(help="Spec files: one race each.", metavar="SPEC")
    ] = None,
    *,
    agents: Annotated[
        str | None, typer.Option("--agents", "-a", help="Contestants, as for racer run.")
    ] = None,
    samples: Annotated[int, typer.Option("--samples", help="Lanes per contestant.")] = 1,
    executor: Annotated[
        str, typer.Option("--executor", help="local, ray (RAY_ADDRESS) or ray://HOST:PORT.")
    ] = "local",
    parallel: Annotated[
        int, typer.Option("--parallel", help="Races at once on the local executor.")
    ] = 1,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Finish batch ID: skip finished races.")
    ] = None,
    test: Annotated[str | None, typer.Option("--test", help="Test command.")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Per-lane agent timeout, seconds.")
    ] = None,
    credential: Annotated[
        list[str] | None,
        typer.Option(
            "--credential", metavar="NAME", help="Env var NAME each worker must have (repeatable)."
        ),
    ] = None,
    max_in_flight: Annotated[
        list[str] | None,
        typer.Option(
            "--max-in-flight", metavar="AGENT=N", help="AGENT=N: lanes of that agent at once (Ray)."
        ),
    ] = None,
) -> int:
    """Race every SPEC with the same contestants from HEAD; write the batch report."""
    from racer import batch as batching
    from racer import batchrun, batchviews

    if resume is not None:
        the_batch = batching.load_batch(Path.cwd(), resume)
        executor = the_batch.data["executor"] if executor == "local" else executor
    else:
        if not specs or not agents:
            raise UserError("racer batch: give SPEC files and --agents (or --resume ID)")
        settings = {"test": test, "timeout": timeout}
        the_batch = batching.new_batch(
            Path.cwd(), specs, agents, samples, executor, settings, tuple(credential or ())
        )
    limits = batchrun.parse_limits(max_in_flight or ())
    runner = batchrun.executor_for(
        executor,
        the_batch.repo.root,
        the_batch.repo.common_dir,
        parallel,
        limits,
        the_batch.data["agents"],
    )
    done = batchrun.execute(the_batch, runner, _progress)
    print(batchviews.text(done.data, batchrun.reports_of(done)), end="")
    print(f"report: {done.report_md}")
    winners = sum(1 for r in batchrun.reports_of(done).values() if r.winner)
    return 0 if winners == len(done.data["specs"]) else EXIT_NO_WINNER
