"""`racer batch --executor ray` on a real multi-node Ray cluster on this machine
(`ray.cluster_utils.Cluster`: a head with 0 CPUs, node A with `agent:fake`, node B with only
`agent:other`), one cluster for the module. Each lane's agent is a Ray task on a node that has
it; the race (baseline, scoring, verdict) runs in the driver. Nothing writes ~/.ray: RAY_TMPDIR
and HOME are temp dirs, token auth is off."""

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
# A second agent, on node B only: writes the correct fix.
OTHER = """[agents.other]\ncommand = ["sh", "-c", "printf 'def double(x):\\\\n    return 2 * x\\\\n' > calc.py"]\n"""


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
        # A lane step takes one CPU slot: eight, for the eight hanging lanes of the Ctrl-C test.
        return self.cluster.add_node(
            num_cpus=8, resources={"agent:fake": 8, "agent:envdump": 2}, env_vars=env
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
        r.b = c.add_node(
            num_cpus=1, resources={"agent:other": 2}, env_vars={"RACER_CACHE": str(r.cache("b"))}
        )
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
    (root / "racer.toml").write_text((root / "racer.toml").read_text() + ENVDUMP + OTHER)
    git(root, "commit", "-qam", "envdump and other agents")
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


def _lanes(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in record["candidates"]}


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
    node_a = cluster.a.node_id[:12]
    for le, re_ in zip(loc["specs"], rem["specs"], strict=True):
        lr, rr = _record(brepo, le["race_id"]), _record(brepo, re_["race_id"])
        assert rr["winner"] == lr["winner"] == "fake@good"
        assert _ranking(rr) == _ranking(lr)
        assert (rr["decided_by"], rr["confidence"]) == (lr["decided_by"], lr["confidence"])
        for lane in rr["candidates"]:  # each lane a step of its own, on the node with its agent
            assert node_a in lane["host"] and lane["attempt"] == 1, lane
        assert all(c["host"] is None for c in lr["candidates"])  # local lanes: no host
        assert _acceptance(rr) == _acceptance(lr)
        assert re_["lane_steps"] == 3 and re_["bytes_returned"] > 0, re_
        good = git(brepo, "rev-parse", f"racer/{re_['race_id']}/fake@good")
        assert _lanes(rr)["fake@good"]["commit"] == good
        # The bundles were fetched under refs/racer/lanes/ (head SHA checked), dropped once the
        # lanes' branches hold their commits.
        assert git(brepo, "for-each-ref", f"refs/racer/lanes/{re_['race_id']}/") == ""
        # Every lane with a commit has its branch (the idle one at the base), as locally.
        assert _branches(brepo, re_["race_id"]) == _branches(brepo, le["race_id"])
    # Spec c's hidden acceptance test ran here, where the lanes were scored.
    good_c = _lanes(_record(brepo, rem["specs"][2]["race_id"]))["fake@good"]
    assert good_c["acceptance"]["passed"] == 1
    # `racer diff` works on the race; its logs and diff are in this repository's race dir.
    race = rem["specs"][0]["race_id"]
    assert "+    return 2 * x" in racer("diff", race, "fake@good").stdout
    record = _record(brepo, race)
    assert record["race_dir"] == str(brepo / ".git/racer/races" / race)
    agent_log = Path(_lanes(record)["fake@good"]["logs"]["agent"])
    assert agent_log.is_file() and agent_log.is_relative_to(brepo / ".git/racer/races" / race)
    # The base reached node A once (its mirror), node B never; no step left behind.
    assert len(list((cluster.cache("a") / "mirrors").glob("*.git"))) == 1
    assert not (cluster.cache("b") / "mirrors").exists()
    assert not list((cluster.cache("a") / "steps").iterdir())


def _branches(root: Path, race: str) -> list[str]:
    out = git(root, "for-each-ref", "--format=%(refname)", f"refs/heads/racer/{race}/")
    return [line.rsplit("/", 1)[-1] for line in out.splitlines()]


def test_lanes_of_one_race_spread_over_the_nodes_with_their_agents(
    cluster: Ray, brepo: Path, racer: Callable[..., Result]
) -> None:
    """fake lives on node A only, other on node B only: the race needs both nodes."""
    res = racer("batch", "specs/a.md", "--agents", "fake@good,fake@bad,other", "--executor", "ray")
    assert res.exit_code == 0, res.stdout + res.stderr[-3000:]
    (entry,) = _batch(brepo)["specs"]
    lanes = _lanes(_record(brepo, entry["race_id"]))
    assert cluster.a.node_id[:12] in lanes["fake@good"]["host"]
    assert cluster.a.node_id[:12] in lanes["fake@bad"]["host"]
    assert cluster.b.node_id[:12] in lanes["other"]["host"]
    assert lanes["other"]["status"] == "passed" and lanes["fake@good"]["status"] == "passed"
    assert lanes["fake@bad"]["status"] == "tests_failed"
    assert len(list((cluster.cache("b") / "mirrors").glob("*.git"))) == 1  # B got the base too
    assert not list((cluster.cache("b") / "steps").iterdir())


def test_credentials_by_name_scrubbed_env_and_a_missing_one(
    cluster: Ray, brepo: Path, racer: Callable[..., Result]
) -> None:
    res = racer("batch", "specs/a.md", "--agents", "fake@good", "--executor", "ray",
                "--credential", "RACER_TEST_ABSENT_KEY")  # fmt: skip
    assert res.exit_code == 4
    (entry,) = _batch(brepo)["specs"]
    (lane,) = _record(brepo, entry["race_id"])["candidates"]
    assert lane["status"] == "error" and lane["attempt"] == 1, lane  # not retried
    assert lane["error"].startswith("infra_error: missing RACER_TEST_ABSENT_KEY on node ")
    assert cluster.a.node_id[:12] in lane["error"]

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


def _fake_agents(under: Path) -> list[int]:
    """The fake agents' own processes (python -m racer.agents.fake_cli) of any lane whose
    checkout is under `under` (the cluster's nodes: not another test's on this machine)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"racer.agents.fake_cli" not in (entry / "cmdline").read_bytes():
                    continue
                env = (entry / "environ").read_bytes().split(b"\0")
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if any(e.startswith(b"RACER_LANE=") for e in env) and cwd.is_relative_to(under):
                pids.append(int(entry.name))
    return pids


def _workers() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::_lane_task"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_a_killed_worker_leaves_no_agent_and_the_lane_runs_again(
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
    assert entry["state"] == "done" and entry["race_id"] == race, entry
    (lane,) = _record(brepo, race)["candidates"]
    assert lane["status"] == "timed_out" and lane["attempt"] == 2, lane
    assert not _wait_gone(f"RACER_RACE_ID={race}", within=5)


def test_a_lost_node_reruns_that_lane_once_not_the_race(
    cluster: Ray, brepo: Path, racer: Callable[..., Result]
) -> None:
    """The lane on node A is lost with its node and runs again (attempt 2, one branch); the
    lane on node B is not touched (attempt 1)."""
    args = ("batch", "specs/a.md", "--agents", "fake@slow,other", "--executor", "ray")
    thread, out = _in_thread(lambda: racer(*args))
    race = _running_race(brepo)
    deadline = time.monotonic() + 60
    while (
        not _fake_agents(cluster.tmp) and time.monotonic() < deadline
    ):  # fake@slow is on node A now
        time.sleep(0.1)
    lost = cluster.a.node_id[:12]
    cluster.cluster.remove_node(cluster.a, allow_graceful=False)
    cluster.a = cluster.add_a()  # the machine back, with the same disk (its reaper cleans up)
    thread.join(180)
    assert out, "the batch did not end"
    (entry,) = _batch(brepo)["specs"]
    assert entry["state"] == "done" and entry["attempt"] == 1, entry
    record = _record(brepo, race)
    lanes = _lanes(record)
    assert lanes["fake@slow"]["attempt"] == 2, lanes["fake@slow"]
    assert lost not in lanes["fake@slow"]["host"]
    assert cluster.a.node_id[:12] in lanes["fake@slow"]["host"]
    assert lanes["other"]["attempt"] == 1
    assert lanes["fake@slow"]["status"] == "passed" and lanes["other"]["status"] == "passed"
    assert _branches(brepo, race) == ["fake@slow", "other"]
    sha = git(brepo, "rev-parse", f"racer/{race}/fake@slow")
    assert lanes["fake@slow"]["commit"] == sha


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
        hanging = _fake_agents(cluster.tmp)
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
    for race in ids:  # racer recorded each lane cancelled itself (Ray's value is ignored)
        lanes = _record(brepo, race)["candidates"]
        assert len(lanes) == 4 and all(c["error"].startswith("cancelled") for c in lanes), lanes
    for race in ids:
        assert not _wait_gone(f"RACER_RACE_ID={race}", within=5)
    # No checkout left on the node: each step's child removes its own on the SIGTERM its dying
    # worker sends it, which may come after racer has exited (ray.cancel does not wait for it).
    steps_dir = cluster.cache("a") / "steps"
    waited = time.monotonic()
    while list(steps_dir.iterdir()) and time.monotonic() - waited < 5:
        time.sleep(0.1)
    assert not list(steps_dir.iterdir())
    waited = time.monotonic() - waited
    print(f"Ctrl-C: lanes' processes gone after {gone:.1f} s, racer exited after {took:.1f} s, "
          f"the nodes' step dirs {waited:.1f} s later")  # fmt: skip


def test_resume_runs_the_cancelled_lanes_again_on_the_cluster(cluster: Ray, brepo: Path) -> None:
    """A batch cut short by Ctrl-C while its lanes' agents ran: `--resume` finishes the same
    race (same id), its cancelled lanes running again on a node, and scores them here."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": cluster.cluster.address}
    argv = [sys.executable, "-m", "racer", "batch"]
    proc = subprocess.Popen(
        [*argv, "specs/a.md", "--agents", "fake@slow,fake@bad", "--executor", "ray"],
        cwd=brepo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not _fake_agents(cluster.tmp) and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    data = _batch(brepo)
    (entry,) = data["specs"]
    race = entry["race_id"]
    assert entry["state"] == "cancelled"
    res = subprocess.run([*argv, "--resume", data["id"]], cwd=brepo, env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    (entry,) = _batch(brepo)["specs"]
    assert entry["state"] == "done" and entry["race_id"] == race, entry
    record = _record(brepo, race)
    assert record["winner"] == "fake@slow" and record["resumed"] == 1
    assert cluster.a.node_id[:12] in _lanes(record)["fake@slow"]["host"]
    assert _branches(brepo, race) == ["fake@bad", "fake@slow"]


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


def test_max_in_flight_counts_lanes(
    cluster: Ray, brepo: Path, tmp_path: Path, racer: Callable[..., Result]
) -> None:
    """Node A could run two envdump lanes at once (agent:envdump 2); with `--max-in-flight envdump=1` the
    driver holds the agent back: the three lanes of one race run one after the other."""
    stamps = tmp_path / "stamps"
    toml = (
        (brepo / "racer.toml")
        .read_text()
        .replace(
            'command = ["sh", "-c", "env > envdump.txt"]',
            f'command = ["sh", "-c", "echo s $(date +%s.%N) >> {stamps}; sleep 1; '
            f'echo e $(date +%s.%N) >> {stamps}"]',
        )
    )
    (brepo / "racer.toml").write_text(toml)
    git(brepo, "commit", "-qam", "a stamping agent")
    res = racer("batch", "specs/a.md", "--agents", "envdump", "--samples", "3",
                "--executor", "ray", "--max-in-flight", "envdump=1")  # fmt: skip
    assert res.exit_code == 4, res.stderr  # no lane changes anything: no winner
    (entry,) = _batch(brepo)["specs"]
    assert entry["lane_steps"] == 3, entry
    marks = [line.split() for line in stamps.read_text().splitlines()]
    assert [m[0] for m in marks] == ["s", "e"] * 3  # never two agents at once
    times = [float(m[1]) for m in marks]
    assert times == sorted(times)


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
