"""A checkout ready for work: a spare from the pool or a fresh one at the base commit, the
ignored files copied in, dependency dirs shared, then the setup command (lanes and baseline).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import anyio

from racer import checkout, overlay, pool, provision, sharestore
from racer.plan import RacePlan
from racer.proc import ProcRequest, run_process, secret_values


def choose_lanes(plan: RacePlan) -> tuple[RacePlan, str | None]:
    """The plan with its lanes' kind decided (config key `lanes`: overlays where Linux allows,
    racer.overlay), before racer starts any thread; and, on Linux, why they are checkouts when
    overlays were wanted but cannot be."""
    use, why = overlay.wanted(plan.config.lanes, plan.worktree_root)
    shown = why if why and sys.platform.startswith("linux") else None
    return replace(plan, overlay=use), shown


async def prepare_checkout(
    plan: RacePlan,
    path: Path,
    branch: str,
    *,
    copies: list[str],
    env: Mapping[str, str],
    setup_log: Path,
    on_setup: Callable[[], None] | None = None,
    commit: str | None = None,
) -> str | None:
    """Create the checkout (of the base commit, or of `commit`), copy files in, run setup.
    Returns an error text, or None."""
    at = commit or plan.base_commit
    await anyio.to_thread.run_sync(
        lambda: pool.check_out(
            plan.repo.common_dir,
            plan.worktree_root,
            path,
            branch,
            at,
            overlay_lane=plan.overlay,
            memory=plan.config.base_in_memory,
        )
    )
    await anyio.to_thread.run_sync(checkout.copy_into, plan.repo.root, path, copies)
    store = plan.worktree_root / sharestore.STORE  # what hardlinks lead to, never the user's files
    for rel in plan.config.share:  # dependency dirs: a reflink, hardlinks or a copy, no install
        if plan.overlay and overlay.can_share(plan.repo.root, rel):  # or a layer: nothing copied
            await anyio.to_thread.run_sync(overlay.share, plan.repo.root, path, rel)
            await anyio.to_thread.run_sync(provision.relocate, plan.repo.root, path, rel)
        else:
            provide = functools.partial(provision.provide, store_root=store)
            await anyio.to_thread.run_sync(provide, plan.repo.root, path, rel)
    if not plan.config.setup:
        return None
    if on_setup is not None:
        on_setup()
    request = ProcRequest(
        ("/bin/sh", "-c", plan.config.setup),
        path,
        dict(env),
        setup_log,
        plan.config.timeout,
        secrets=secret_values(env),
    )
    out = await run_process(request)
    if out.ok:
        return None
    why = "timed out" if out.timed_out else (out.error or f"exit {out.exit_code}")
    return f"setup command failed ({why}); see {setup_log}"
