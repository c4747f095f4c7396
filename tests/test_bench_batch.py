"""scripts/bench_batch.py runs (quick: 3 specs) and finds the same winners on the local executor
and on a 3-node local Ray cluster, with the byte and overhead figures the README quotes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent


def test_bench_batch_quick() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_batch.py"), "--quick", "--json"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["same_winners"] is True
    assert result["local"]["winners"] == ["fake@good"] * 3
    ray = result["ray"]
    assert ray["lanes"] == 9 and ray["base_bundle_bytes"] > 0 and ray["bytes_back_per_lane"] > 0
    assert all(" node " in h for h in ray["hosts"])
