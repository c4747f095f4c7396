#!/usr/bin/env python3
"""Batch benchmark: `racer batch` of N specs x 3 fake contestants (good, bad, idle) on the local
executor and on a local Ray cluster of a 0-CPU head and two worker nodes with `agent:fake`
(ray.cluster_utils.Cluster; RAY_TMPDIR and HOME in a temp dir, token auth off).

On Ray each lane's agent is a Ray task (a lane step) and the races (baseline, scoring, verdict)
run in the driver. Reports per executor: wall time of the batch, the winners, each race's own
wall time (race.json created→finished); for Ray, per lane step, its wall time on the worker
against the agent's own run (the step's overhead: mirror, clone, the lane child's start and
plan, checkout, commit, bundle), the race's wall time against the local executor's per lane,
and the bytes moved: the base bundle (put once, pulled once per node) and, per lane, what came
back (the thin lane bundle, the lane's record, its logs and diff). Local and Ray must give the
same winners; exit 1 otherwise.

    python scripts/bench_batch.py [--specs N] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers.batchrepo import make_batch_repo  # noqa: E402

AGENTS = "fake@good,fake@bad,fake@idle"


def _batch(repo: Path, executor: str, specs: list[str], env: dict[str, str]) -> dict[str, Any]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "racer", "batch", *specs, "--agents", AGENTS,
         "--executor", executor],
        cwd=repo, env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(
            f"racer batch --executor {executor} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
        )
    found = sorted((repo / ".git/racer/batches").iterdir(), key=lambda p: p.stat().st_mtime)
    data: dict[str, Any] = json.loads((found[-1] / "batch.json").read_text())
    data["bench_wall_s"] = wall
    for entry in data["specs"]:
        record = json.loads(
            (repo / ".git/racer/races" / entry["race_id"] / "race.json").read_text()
        )
        entry["winner"] = record["winner"]
        entry["race_wall_s"] = _race_wall(record)
        entry["lanes"] = len(record["candidates"])
        entry["agent_s"] = sum(c["duration_s"] or 0 for c in record["candidates"])
        entry["lane_hosts"] = sorted({c["host"] for c in record["candidates"] if c["host"]})
    return data


def _race_wall(record: dict[str, Any]) -> float:
    from datetime import datetime

    return (
        datetime.fromisoformat(record["finished"]) - datetime.fromisoformat(record["created"])
    ).total_seconds()


def _summary(name: str, data: dict[str, Any]) -> dict[str, Any]:
    specs = data["specs"]
    lanes = sum(e["lanes"] for e in specs)
    out: dict[str, Any] = {
        "executor": name,
        "specs": len(specs),
        "lanes": lanes,
        "wall_s": round(data["bench_wall_s"], 1),
        "winners": [e["winner"] for e in specs],
        "mean_race_s": round(statistics.mean(e["race_wall_s"] for e in specs), 2),
    }
    if name != "local":
        steps = sum(e.get("lane_steps", 0) for e in specs)
        over = sum(e.get("lane_steps_s", 0) - e["agent_s"] for e in specs) / steps
        out["lane_steps"] = steps
        out["step_overhead_per_lane_s"] = round(over, 2)
        out["mean_lane_step_s"] = round(sum(e.get("lane_steps_s", 0) for e in specs) / steps, 2)
        out["base_bundle_bytes"] = data.get("base_bundle_bytes", 0)
        out["bytes_back_per_lane"] = round(sum(e.get("bytes_returned", 0) for e in specs) / steps)
        out["hosts"] = sorted({h for e in specs for h in e["lane_hosts"]})
    return out


def _both(tmp: Path, n: int, env: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], float]:
    """The batch locally, then on a fresh 3-node cluster (shut down whatever happens)."""
    repo = make_batch_repo(tmp / "repo", n_specs=n)
    specs = [f"specs/{p.name}" for p in sorted((repo / "specs").glob("*.md"))]
    local = _summary("local", _batch(repo, "local", specs, env))

    import ray
    from ray.cluster_utils import Cluster

    started = time.monotonic()
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    try:
        for i in range(2):  # a lane step takes a CPU slot: two lanes at once per node
            node_env = {"RACER_CACHE": str(tmp / f"cache-{i}"), "HOME": str(tmp / "home")}
            cluster.add_node(num_cpus=2, resources={"agent:fake": 8}, env_vars=node_env)
        cluster.wait_for_nodes()
        up = time.monotonic() - started
        ray_env = {**env, "RAY_ADDRESS": cluster.address}
        remote = _summary("ray (3 nodes)", _batch(repo, "ray", specs, ray_env))
    finally:
        ray.shutdown()
        cluster.shutdown()
    return local, remote, up


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--specs", type=int, default=12)
    ap.add_argument("--quick", action="store_true", help="3 specs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    n = 3 if args.quick else args.specs
    tmp = Path(tempfile.mkdtemp(prefix="rb", dir="/tmp"))
    (tmp / "home").mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "HOME": str(tmp / "home"), "XDG_DATA_HOME": str(tmp / "xdg"), "RAY_TMPDIR": str(tmp),
           "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
           "RACER_WORKTREE_ROOT": str(tmp / "worktrees"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}  # fmt: skip
    os.environ.update({k: v for k, v in env.items() if k.startswith(("GIT_", "RAY_", "HOME"))})
    try:
        local, remote, up = _both(tmp, n, env)
    finally:
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    remote["cluster_start_s"] = round(up, 1)
    per_race = remote["mean_race_s"] - local["mean_race_s"]
    remote["race_vs_local_per_lane_s"] = round(per_race / (local["lanes"] / local["specs"]), 2)
    result = {"local": local, "ray": remote, "same_winners": local["winners"] == remote["winners"]}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for row in (local, remote):
            extra = {k: v for k, v in row.items() if k not in ("executor", "winners")}
            print(f"{row['executor']:>14}: " + ", ".join(f"{k} {v}" for k, v in extra.items()))
        print(f"winners: {local['winners']}")
        print(f"same winners: {result['same_winners']}")
    return 0 if result["same_winners"] else 1


if __name__ == "__main__":
    sys.exit(main())
