"""`racer batch --executor ray` on a real multi-node Ray cluster on this machine
(`ray.cluster_utils.Cluster`: a head with 0 CPUs, node A with `agent:fake`, node B without),
one cluster for the module. Nothing writes ~/.ray: RAY_TMPDIR and HOME are temp dirs, token
auth is off."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.batchrepo import make_batch_repo
from helpers.repos import Result, git

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from racer import steps  # noqa: E402

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parent.parent
SECRET = "planted-secret-value-4242"
REAL_RAY_DIR = Path(os.path.expanduser("~")) / ".ray"  # HOME before any fixture changes it
RAY_DIR_BEFORE = REAL_RAY_DIR.exists()
ENVDUMP = '[agents.envdump]\ncommand = ["sh", "-c", "env > envdump.txt"]\n'


@dataclass
class Ray:
    cluster: Any
    a: Any
    b: Any
    tmp: Path

    def cache(self, name: str) -> Path:
        return self.tmp / f"cache-{name}"

    def add_a(self, name: str = "a") -> Any:
        env = {
            "RACER_CACHE": str(self.cache(name)),
            "FAKE_API_KEY": SECRET,
            "HOME": str(self.tmp / "home"),
        }
        return self.cluster.add_node(
            num_cpus=2, resources={"agent:fake": 8, "agent:envdump": 2}, env_vars=env
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Ray]:
    tmp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # short: Ray's socket paths
    (tmp / "home").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_TMPDIR", str(tmp))
        mp.setenv("RAY_AUTH_MODE", "disabled")
        mp.setenv("HOME", str(tmp / "home"))
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        c = Cluster(
            initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
        )
        r = Ray(c, None, None, tmp)
        r.a = r.add_a()
        r.b = c.add_node(num_cpus=1, env_vars={"RACER_CACHE": str(r.cache("b"))})
        ray.init(address=c.address, include_dashboard=False, log_to_driver=False)
        try:
            yield r
        finally:
            ray.shutdown()
            c.shutdown()
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
    # Nothing was written to the real ~/.ray (no auth token, no session files).
    assert REAL_RAY_DIR.exists() == RAY_DIR_BEFORE


@pytest.fixture
def brepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_batch_repo(tmp_path / "repo", extra_toml="timeout = 60\n" + "")
    (root / "racer.toml").write_text((root / "racer.toml").read_text() + ENVDUMP)
    git(root, "commit", "-qam", "envdump agent")
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    return root


def _batch(root: Path) -> dict[str, Any]:
    """The latest batch (ids made in the same second do not sort by time)."""
    found = sorted(
        (root / ".git" / "racer" / "batches").glob("*/batch.json"),
        key=lambda p: p.stat().st_mtime_ns,
    )
    return json.loads(found[-1].read_text())


def _record(root: Path, race_id: str) -> dict[str, Any]:
    return json.loads((root / ".git/racer/races" / race_id / "race.json").read_text())


def _ranking(record: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(c["name"], c["status"], c["rank"]) for c in record["candidates"]]


def _acceptance(record: dict[str, Any]) -> list[object]:
    """The hidden tests' results, without the log's path (each race has its own)."""
    out: list[object] = []
    for c in record["candidates"]:
        acc = c["acceptance"]
        out.append(None if acc is None else {k: v for k, v in acc.items() if k != "log"})
    return out


def _alive(marker: str) -> list[int]:
    return [p for p in steps.marked(marker) if Path(f"/proc/{p}/stat").exists()]


def _wait_gone(marker: str, within: float) -> list[int]:
    deadline = time.monotonic() + within
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _alive(marker)


def test_same_winners_as_local_lanes_only_on_capable_nodes(
    cluster: Ray, brepo: Path, tmp_path: Path, racer: Callable[..., Result]
) -> None:
    specs = ["specs/a.md", "specs/b.md", "specs/c.md"]
    agents = ["--agents", "fake@good,fake@bad,fake@idle"]
    local = racer("batch", *specs, *agents)
    assert local.exit_code == 0, local.stderr
    remote = racer("batch", *specs, *agents, "--executor", "ray")
    assert remote.exit_code == 0, remote.stdout + remote.stderr
    both = [json.loads(p.read_text()) for p in (brepo / ".git/racer/batches").glob("*/batch.json")]
    (loc,) = [b for b in both if b["executor"] == "local"]
    (rem,) = [b for b in both if b["executor"] == "ray"]
    assert rem["executor"] == "ray" and loc["executor"] == "local"
    node_a = cluster.a.node_id[:12]
    for le, re_ in zip(loc["specs"], rem["specs"], strict=True):
        lr, rr = _record(brepo, le["race_id"]), _record(brepo, re_["race_id"])
        assert rr["winner"] == lr["winner"] == "fake@good"
        assert _ranking(rr) == _ranking(lr)
        assert (rr["decided_by"], rr["confidence"]) == (lr["decided_by"], lr["confidence"])
        assert node_a in re_["host"], re_  # only node A has agent:fake
        assert _acceptance(rr) == _acceptance(lr)
        good = git(brepo, "rev-parse", f"racer/{re_['race_id']}/fake@good")
        assert next(c for c in rr["candidates"] if c["name"] == "fake@good")["commit"] == good
    # Spec c's hidden acceptance test travelled with its step and ran there.
    good_c = next(
        c
        for c in _record(brepo, rem["specs"][2]["race_id"])["candidates"]
        if c["name"] == "fake@good"
    )
    assert good_c["acceptance"]["passed"] == 1
    # `racer diff` works on an imported race; its paths are this repository's.
    race = rem["specs"][0]["race_id"]
    assert "+    return 2 * x" in racer("diff", race, "fake@good").stdout
    assert _record(brepo, race)["race_dir"] == str(brepo / ".git/racer/races" / race)
    # The base reached node A once (its mirror), node B never; no step left behind.
    assert len(list((cluster.cache("a") / "mirrors").glob("*.git"))) == 1
    assert not (cluster.cache("b") / "mirrors").exists()
    assert not list((cluster.cache("a") / "steps").iterdir())


def test_credentials_by_name_scrubbed_env_and_a_missing_one(
    cluster: Ray, brepo: Path, racer: Callable[..., Result]
) -> None:
    res = racer("batch", "specs/a.md", "--agents", "fake@good", "--executor", "ray",
                "--credential", "RACER_TEST_ABSENT_KEY")  # fmt: skip
    assert res.exit_code == 4
    (entry,) = _batch(brepo)["specs"]
    assert entry["state"] == "infra_error" and entry["attempt"] == 1  # not retried
    assert entry["error"].startswith("missing RACER_TEST_ABSENT_KEY on node ")
    assert cluster.a.node_id[:12] in entry["error"]

    res = racer("batch", "specs/a.md", "--agents", "envdump", "--executor", "ray",
                "--credential", "FAKE_API_KEY")  # fmt: skip
    (entry,) = _batch(brepo)["specs"]
    assert entry["state"] == "done", entry
    env = git(brepo, "show", f"racer/{entry['race_id']}/envdump:envdump.txt")
    names = {line.split("=", 1)[0] for line in env.splitlines() if "=" in line}
    assert "FAKE_API_KEY" in names  # the agent got the credential it was given by name…
    assert not [n for n in names if n.startswith("RAY_")]  # …and nothing of Ray's
    home = next(line for line in env.splitlines() if line.startswith("HOME="))
    assert "/steps/" in home and home.endswith("/home")  # a private HOME
    # The value never reaches the record, the reports or the batch files.
    for path in [*(brepo / ".git/racer").rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _in_thread(fn: Callable[[], Result]) -> tuple[threading.Thread, list[Result]]:
    out: list[Result] = []
    t = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    t.start()
    return t, out


def _running_race(root: Path, within: float = 60) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            (entry,) = _batch(root)["specs"]
        except (FileNotFoundError, ValueError, IndexError):  # not written yet
            entry = None
        if entry and entry["state"] == "running" and _alive(f"RACER_RACE_ID={entry['race_id']}"):
            return str(entry["race_id"])
        time.sleep(0.2)
    raise AssertionError("the race never started")


def _fake_agents() -> list[int]:
    """The fake agents' own processes (python -m racer.agents.fake_cli) of any lane."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"racer.agents.fake_cli" not in (entry / "cmdline").read_bytes():
                    continue
                env = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(e.startswith(b"RACER_LANE=") for e in env):
                pids.append(int(entry.name))
    return pids


def _workers() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::_race_task"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_a_killed_worker_leaves_no_agent_and_the_race_runs_again(
    cluster: Ray, brepo: Path, racer: Callable[..., Result]
) -> None:
    args = ("batch", "specs/a.md", "--agents", "fake@hang", "--executor", "ray", "--timeout", "4")
    thread, out = _in_thread(lambda: racer(*args))
    race = _running_race(brepo)
    time.sleep(1)  # the agent's process group is up
    (worker,) = _workers()
    os.kill(worker, signal.SIGKILL)
    thread.join(120)
    assert out and out[0].exit_code == 4, out  # a hanging agent wins nothing
    (entry,) = _batch(brepo)["specs"]
    assert entry["state"] == "done" and entry["attempt"] == 2, entry
    record = _record(brepo, entry["race_id"])
    assert [c["status"] for c in record["candidates"]] == ["timed_out"]
    assert not _wait_gone(f"RACER_RACE_ID={race}", within=5)
    assert not _wait_gone(f"RACER_RACE_ID={entry['race_id']}", within=5)


def test_a_lost_node_reruns_the_lane_once(
    cluster: Ray, brepo: Path, racer: Callable[..., Result]
) -> None:
    args = ("batch", "specs/a.md", "--agents", "fake@slow", "--executor", "ray")
    thread, out = _in_thread(lambda: racer(*args))
    _running_race(brepo)
    cluster.cluster.remove_node(cluster.a, allow_graceful=False)
    cluster.a = cluster.add_a()  # the machine back, with the same disk (its reaper cleans up)
    thread.join(180)
    assert out, "the batch did not end"
    (entry,) = _batch(brepo)["specs"]
    assert entry["state"] == "done" and entry["attempt"] == 2, entry
    record = _record(brepo, entry["race_id"])
    assert record["winner"] == "fake@slow"
    branches = git(
        brepo, "for-each-ref", "--format=%(refname)", f"refs/heads/racer/{entry['race_id']}/"
    )
    assert branches.splitlines() == [f"refs/heads/racer/{entry['race_id']}/fake@slow"]
    assert "attempt 2" in " ".join(record["warnings"])


def test_ctrl_c_cancels_every_lane_and_leaves_nothing(cluster: Ray, brepo: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": cluster.cluster.address}
    proc = subprocess.Popen(
        [sys.executable, "-m", "racer", "batch", "specs/a.md", "specs/b.md", "--agents",
         "fake@hang", "--samples", "4", "--executor", "ray"],
        cwd=brepo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    hanging: list[int] = []
    while time.monotonic() < deadline and len(hanging) < 8:
        time.sleep(0.3)
        hanging = _fake_agents()
    try:
        assert len(hanging) >= 8, "eight hanging lanes never ran"
        ids = [e["race_id"] for e in _batch(brepo)["specs"]]
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        markers = [f"RACER_RACE_ID={race}" for race in ids]
        while any(_alive(m) for m in markers) and time.monotonic() - started < 60:
            time.sleep(0.1)
        gone = time.monotonic() - started
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err[-3000:]
    data = _batch(brepo)
    assert data["status"] == "interrupted"
    assert [e["state"] for e in data["specs"]] == ["cancelled", "cancelled"]
    for race in ids:
        assert not _wait_gone(f"RACER_RACE_ID={race}", within=5)
    assert not list((cluster.cache("a") / "steps").iterdir())  # no checkout left on the node
    print(f"Ctrl-C: lanes' processes gone after {gone:.1f} s, racer exited after {took:.1f} s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_ray_client_against_a_head_on_loopback(brepo: Path) -> None:
    """`--executor ray://127.0.0.1:PORT` from another process; the head is stopped by PID."""
    gcs, client = _free_port(), _free_port()
    tmp = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))
    # Nothing of the module's cluster (ray.init leaves RAY_* variables in this process).
    mine = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env = {**mine, "PYTHONPATH": str(ROOT), "RAY_TMPDIR": str(tmp), "HOME": str(tmp),
           "RAY_AUTH_MODE": "disabled", "RACER_CACHE": str(tmp / "cache"),
           # the per-client server is a fresh Python process: on a loaded 2-core box it can
           # take longer than Ray's default 30 s to answer
           "RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S": "180"}  # fmt: skip
    ray_bin = str(Path(sys.executable).parent / "ray")
    head = subprocess.Popen(
        [ray_bin, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={gcs}",
         f"--ray-client-server-port={client}", "--num-cpus=1", "--include-dashboard=false",
         '--resources={"agent:fake": 2}', f"--temp-dir={tmp}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        res = subprocess.run(
            [sys.executable, "-m", "racer", "batch", "specs/a.md", "--agents",
             "fake@good,fake@bad", "--executor", f"ray://127.0.0.1:{client}"],
            cwd=brepo, env={k: v for k, v in env.items() if k != "RACER_CACHE"},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert res.returncode == 0, res.stdout + res.stderr[-3000:]
        (entry,) = _batch(brepo)["specs"]
        assert entry["state"] == "done"
        assert _record(brepo, entry["race_id"])["winner"] == "fake@good"
        assert (tmp / "cache" / "mirrors").is_dir()  # it ran on that head, not the module's
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


def test_max_in_flight_holds_races_of_an_agent_back(
    cluster: Ray, brepo: Path, racer: Callable[..., Result]
) -> None:
    """Node A could take both races at once (2 CPUs, 8 agent:fake); the driver's limit of one
    fake race in flight runs them one after the other."""
    res = racer("batch", "specs/a.md", "specs/b.md", "--agents", "fake@good", "--executor", "ray",
                "--max-in-flight", "fake=1")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    first, second = sorted(
        (_record(brepo, e["race_id"]) for e in _batch(brepo)["specs"]), key=lambda r: r["created"]
    )
    assert first["finished"] <= second["created"]


def test_a_cluster_racer_starts_itself_has_this_machines_agents(
    brepo: Path, tmp_path: Path
) -> None:
    """`--executor ray` with no RAY_ADDRESS starts a one-machine cluster: it advertises the
    batch's agents (this machine runs them as a local race would), so the races run there.
    Runs in its own process, apart from the module's cluster; nothing under the real HOME."""
    tmp = Path(tempfile.mkdtemp(prefix="rs", dir="/tmp"))  # short: Ray's socket paths
    (tmp / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(PYTHONPATH=str(ROOT), RAY_TMPDIR=str(tmp), RAY_AUTH_MODE="disabled",
               RAY_USAGE_STATS_ENABLED="0", HOME=str(tmp / "home"),
               RACER_CACHE=str(tmp / "cache"))  # fmt: skip
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "racer", "batch", "specs/a.md", "--agents",
             "fake@good,fake@bad", "--executor", "ray"],
            cwd=brepo, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (spec,) = _batch(brepo)["specs"]
    assert spec["state"] == "done" and not spec.get("error"), spec
    assert _record(brepo, spec["race_id"])["winner"] == "fake@good"
