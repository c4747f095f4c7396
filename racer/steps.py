"""The step code: a race here (`race_here`, both executors) and, on a Ray worker, one lane's
agent step (`run_remote`).

`race_here` races a spec in the user's repository from the batch's base commit; its lanes run
through a lane runner: here (racer.lane.run_lane), or on cluster nodes (racer.executors.ray).
On a worker, `run_remote` materialises the base commit from the base bundle through a per-node
bare mirror (fetched once per node, under a lock), clones it, and runs one lane up to its
committed work (checkout, setup, the agent under racer's kill ladder and optional sandbox,
commit: racer.lane.agent_lane) in a child process (`python -m racer.steps JOB`) that dies with
the worker (`setpriv --pdeathsig TERM`, taken as Ctrl-C) and has a scrubbed environment: no
RAY_*, a private HOME, the named credentials read from the node's own environment. The lane's
tests never run there: the hidden tests stay with the driver, which scores the lane. A
step-start reaper stops what a killed step left on the node. The worker returns a thin git
bundle of the lane branch, its head SHA, the lane's record and its (redacted) logs and diff.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from racer import orphans, store
from racer.config import Flags, flags_from_cli
from racer.executor import InfraError, RaceJob, RepoRef, StepResult, StepSpec
from racer.git import git
from racer.proc import ProcRequest, run_process
from racer.report import RaceReport
from racer.reporter import Reporter
from racer.status import StepStatus

if TYPE_CHECKING:
    from racer.race import LaneRunner

STEP_MARKER = "RACER_STEP"  # step_key(): in the environment of every process of a step
# Environment a race child keeps from the worker (besides the named credentials).
_KEEP = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "TZ")


def host() -> str:
    """This machine, and the Ray node id when a Ray task set RACER_NODE (one host may run
    several nodes)."""
    node = os.environ.get("RACER_NODE")
    return f"{socket.gethostname()} node {node[:12]}" if node else socket.gethostname()


def cache_root() -> Path:
    """The node's cache: mirrors/<repo>.git and steps/<race>-<attempt>/ (RACER_CACHE)."""
    raw = os.environ.get("RACER_CACHE")
    return Path(raw) if raw else Path.home() / ".cache" / "racer"


def _flags(job: RaceJob, worktree_root: Path | None) -> Flags:
    values: dict[str, object] = {"agents": job.agents, "history": True, "preflight": None}
    values.update(dict(job.settings))
    if worktree_root is not None:
        values["worktree_root"] = worktree_root
    return flags_from_cli(values)


async def race_here(
    root: Path,
    spec_path: Path,
    job: RaceJob,
    repo: RepoRef,
    *,
    acceptance: tuple[str, ...] = (),
    worktree_root: Path | None = None,
    reporter: Reporter | None = None,
    env: Mapping[str, str] | None = None,
    runner: LaneRunner | None = None,
) -> RaceReport:
    """Race one spec in the repository at `root` from the batch's base commit, with the
    batch's race id. The race neither reads nor records the history here: the batch records
    each finished race itself, so a race ranks alike whichever executor ran it."""
    from dataclasses import replace

    from racer import plan as planning
    from racer.lane import run_lane
    from racer.race import run_race

    the_env = dict(env if env is not None else os.environ)
    the_env.update(dict(job.passthrough))
    plan = planning.prepare(
        root,
        spec_path,
        env=the_env,
        flags=_flags(job, worktree_root),
        base_ref=repo.base_sha,
        acceptance=acceptance,
    )
    plan = replace(plan, race_id=job.race_id, base_branch=repo.base_branch or plan.base_branch)
    return await run_race(plan, reporter, runner=runner or run_lane)


# --- on a worker -------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def mirror(repo: RepoRef, fetch: Callable[[], bytes] | None) -> Path:
    """The node's bare mirror of the repository, holding the base commit (fetched once)."""
    path = cache_root() / "mirrors" / f"{repo.repo_id}.git"
    with _locked(path.with_suffix(".lock")):
        if not path.exists():
            git(["init", "-q", "--bare", str(path)], path.parent)
        has = git(["cat-file", "-e", f"{repo.base_sha}^{{commit}}"], path, check=False)
        if has.returncode != 0:
            if fetch is None:
                raise InfraError(f"the base bundle of {repo.repo_id} did not reach {host()}")
            tmp = path.with_suffix(".bundle")
            tmp.write_bytes(fetch())  # only a node without the base pulls the bundle
            try:
                got = git(["fetch", "-q", str(tmp), "+refs/*:refs/racer-base/*"], path, check=False)
            finally:
                tmp.unlink(missing_ok=True)
            if got.returncode != 0:
                raise InfraError(f"fetching the base bundle on {host()}: {got.stderr.strip()}")
    return path


def reap(wait_for: tuple[str, ...] = (), timeout: float = 5.0, grace: float = 2.0) -> int:
    """Stop the processes and remove the directories of steps whose owner is gone (a killed
    worker: its lane child died with it, the agent's process group may not have). With
    `wait_for` (race ids just cancelled), keep at it until their steps are gone or timeout.
    `grace`: seconds between SIGTERM and SIGKILL."""
    deadline = time.monotonic() + timeout
    stopped = _reap_once(grace)
    while wait_for and time.monotonic() < deadline:
        steps = cache_root() / "steps"
        if not [lock for rid in wait_for for lock in steps.glob(f"{rid}--*.lock")]:
            break
        time.sleep(0.1)
        stopped += _reap_once(grace)
    # A lane child outliving its worker for a moment (its lock already free) may still start
    # its agent: stop every process marked with a cancelled race's steps until none is seen
    # twice in a row (the lane child is marked too, so it cannot start another).
    prefixes = tuple(f"{STEP_MARKER}={rid}--" for rid in wait_for)
    quiet, until = 0, max(deadline, time.monotonic() + 2.0)
    while prefixes and quiet < 2 and time.monotonic() < until:
        left = marked_prefix(prefixes)
        quiet = 0 if left else quiet + 1
        stopped += orphans.stop(left, grace=grace) if left else 0
        time.sleep(0.1)
    return stopped


def _reap_once(grace: float) -> int:
    steps = cache_root() / "steps"
    if not steps.is_dir():
        return 0
    stopped = 0
    for lock in sorted(steps.glob("*.lock")):
        with lock.open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live step holds it
            stopped += orphans.stop(marked(f"{STEP_MARKER}={lock.stem}"), grace=grace)
            shutil.rmtree(lock.with_suffix(""), ignore_errors=True)
            lock.unlink(missing_ok=True)
    return stopped


def marked(marker: str) -> list[int]:
    """Live processes with `marker` (NAME=VALUE) in their environment."""
    want = marker.encode()
    return _marked(lambda env: want in env)


def marked_prefix(prefixes: tuple[str, ...]) -> list[int]:
    """Live processes with an environment entry starting with one of `prefixes`."""
    wanted = tuple(p.encode() for p in prefixes)
    return _marked(lambda env: any(e.startswith(wanted) for e in env))


def _marked(match: Callable[[list[bytes]], bool]) -> list[int]:
    return [pid for pid in orphans.live_pids() if match(orphans.proc_environ(pid))]


def _child_env(step: StepSpec, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEEP or k.startswith("LC_")}
    missing = [name for name in step.credentials if not os.environ.get(name)]
    if missing:
        raise _Missing(f"missing {missing[0]} on node {host()}")
    env.update({name: os.environ[name] for name in step.credentials})
    env.update(dict(step.job.passthrough))
    env["HOME"] = str(home)
    env["RACER_CACHE"] = str(cache_root())
    env[STEP_MARKER] = step_key(step)
    return {k: v for k, v in env.items() if not k.startswith("RAY_")}


class _Missing(Exception):
    """A named credential the node lacks: a result (infra_error), not retried."""


def step_key(step: StepSpec) -> str:
    """A lane step's directory and marker on a node: <race>--<lane>-a<attempt>."""
    return f"{step.race_id}--{store.slug(step.lane)}-a{step.attempt}"


def _job_file(step: StepSpec, where: Path) -> Path:
    spec = where / "spec" / Path(step.job.spec_name).name
    spec.parent.mkdir(parents=True)
    spec.write_text(step.job.spec_text, encoding="utf-8")
    data = {
        "job": {
            "race_id": step.job.race_id,
            "spec_name": step.job.spec_name,
            "spec_path": str(spec),
            "agents": step.job.agents,
            "settings": [list(s) for s in step.job.settings],
            "passthrough": [list(p) for p in step.job.passthrough],
        },
        "repo": {
            "repo_id": step.repo.repo_id,
            "base_sha": step.repo.base_sha,
            "base_branch": step.repo.base_branch,
        },
        "lane": step.lane,
        "worktree_root": str(where / "wt"),
        "out": str(where / "out" / "lane.json"),
    }
    path = where / "job.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run_remote(step: StepSpec, fetch: Callable[[], bytes] | None) -> StepResult:
    """The worker's side of a lane step (runs inside the Ray task)."""
    started = time.monotonic()
    reap()
    where = cache_root() / "steps" / step_key(step)
    with _locked(where.with_suffix(".lock")):
        try:
            return _in_step_dir(step, fetch, where, started)
        except _Missing as exc:
            return StepResult(StepStatus.INFRA_ERROR, step.race_id, step.attempt, host(), str(exc))
        finally:
            shutil.rmtree(where, ignore_errors=True)
            where.with_suffix(".lock").unlink(missing_ok=True)


def _in_step_dir(
    step: StepSpec, fetch: Callable[[], bytes] | None, where: Path, started: float
) -> StepResult:
    shutil.rmtree(where, ignore_errors=True)
    (where / "home").mkdir(parents=True)
    env = _child_env(step, where / "home")
    src = mirror(step.repo, fetch)
    clone = where / "repo"
    got = git(
        ["clone", "-q", "--shared", "--no-checkout", str(src), str(clone)], where, check=False
    )
    if got.returncode != 0:
        raise InfraError(f"clone on {host()}: {got.stderr.strip()}")
    branch = step.repo.base_branch or "racer-base"
    git(["checkout", "-q", "-B", branch, step.repo.base_sha], clone)
    job = _job_file(step, where)
    argv = ("setpriv", "--pdeathsig", "TERM", "--", sys.executable, "-m", "racer.steps", str(job))
    request = ProcRequest(argv, clone, env, where / "step.log", timeout=step.timeout_s)
    outcome = anyio.run(run_process, request)
    out = where / "out" / "lane.json"
    if not out.is_file():
        tail = (where / "step.log").read_text(errors="replace")[-2000:]
        if outcome.exit_code is not None and outcome.exit_code < 0:
            raise InfraError(f"the lane process on {host()} was killed: {tail}")
        return StepResult(StepStatus.FAILED, step.race_id, step.attempt, host(), tail.strip())
    fragment = json.loads(out.read_text(encoding="utf-8"))
    bundle_bytes, heads = _lane_bundle(clone, step.race_id, step.repo.base_sha, where)
    race_dir = store.RaceDir.of(clone / ".git", step.race_id)
    return StepResult(
        StepStatus.OK,
        step.race_id,
        step.attempt,
        host(),
        fragment=fragment,
        lane_bundle=bundle_bytes,
        heads=heads,
        logs=_lane_files(race_dir, store.slug(step.lane)),
        wall_s=time.monotonic() - started,
    )


def _lane_bundle(
    clone: Path, race_id: str, base: str, where: Path
) -> tuple[bytes | None, dict[str, str]]:
    refs = git(
        ["for-each-ref", "--format=%(refname) %(objectname)", f"refs/heads/racer/{race_id}/"], clone
    )
    heads = {}
    for line in refs.stdout.splitlines():
        ref, sha = line.split()
        heads[ref.removeprefix("refs/heads/")] = sha
    if not heads:
        return None, {}
    out = where / "lanes.bundle"
    moved = [ref for ref, sha in heads.items() if sha != base]
    if not moved:  # no lane moved past the base: the refs alone tell the heads
        return None, heads
    made = git(["bundle", "create", "-q", str(out), *moved, f"^{base}"], clone, check=False)
    if made.returncode != 0:
        raise InfraError(f"bundling the lanes on {host()}: {made.stderr.strip()}")
    return out.read_bytes(), heads


LOG_CAP = 4 * 1024 * 1024  # per file: the tail is kept (logs are redacted as they are written)


def _lane_files(race_dir: store.RaceDir, lane: str) -> dict[str, bytes]:
    """The lane's logs and diff, as `logs/<lane>.<kind>.log` / `diffs/<lane>.diff` → bytes."""
    out = {}
    for sub in ("logs", "diffs"):
        for item in sorted((race_dir.path / sub).glob(f"{lane}.*")):
            if item.is_file() and not item.is_symlink():
                data = item.read_bytes()
                out[f"{sub}/{item.name}"] = data[-LOG_CAP:]
    return out


def _on_term(where: Path) -> Callable[..., None]:
    """SIGTERM (its worker died: the parent-death signal; a step timeout; a reaper): the
    step is over and its work not wanted (a cancelled step, or a lost one that runs again
    from the base), so every process of the step is killed at once and its directory goes."""

    def handler(*_: object) -> None:
        orphans.stop(marked(f"{STEP_MARKER}={os.environ.get(STEP_MARKER, '')}"), grace=0.0)
        shutil.rmtree(where, ignore_errors=True)
        where.with_suffix(".lock").unlink(missing_ok=True)
        os._exit(143)

    return handler


def main(argv: list[str]) -> int:
    """`python -m racer.steps JOB`: the lane child of a worker step (see `_on_term`)."""
    signal.signal(signal.SIGTERM, _on_term(Path(argv[0]).parent))
    data = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    j = data["job"]
    job = RaceJob(
        race_id=j["race_id"],
        spec_name=j["spec_name"],
        spec_path=j["spec_path"],
        spec_text="",
        agents=j["agents"],
        settings=tuple((k, v) for k, v in j["settings"]),
        passthrough=tuple((k, v) for k, v in j["passthrough"]),
    )
    r = data["repo"]
    from racer.errors import RacerError

    repo = RepoRef(r["repo_id"], r["base_sha"], r["base_branch"], None)
    try:
        fragment = anyio.run(_lane_child, job, repo, data["lane"], Path(data["worktree_root"]))
    except RacerError as exc:
        print(f"racer: {exc}", file=sys.stderr)
        return 1
    out = Path(data["out"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fragment), encoding="utf-8")
    return 0


async def _lane_child(job: RaceJob, repo: RepoRef, name: str, wt_root: Path) -> dict[str, Any]:
    """One lane of the race, up to its committed work, as the race here would run it: the
    same plan (and so the same prompt), without the hidden tests; its branch in this clone."""
    from dataclasses import asdict, replace

    from racer import checkout
    from racer import plan as planning
    from racer.context import LaneShared
    from racer.lane import agent_lane
    from racer.race import initial_report, make_lane
    from racer.report import RaceState
    from racer.reporter import NullReporter

    env = {**os.environ, **dict(job.passthrough)}
    plan = planning.prepare(Path.cwd(), Path(job.spec_path), env=env,
                            flags=_flags(job, wt_root), base_ref=repo.base_sha,
                            hidden_tests=False)  # fmt: skip
    plan = replace(plan, race_id=job.race_id, base_branch=repo.base_branch or plan.base_branch)
    plan.race_dir.path.mkdir(parents=True)
    store.write_atomic(plan.race_dir.prompt, plan.prompt)
    state = RaceState(initial_report(plan))
    lane = make_lane(plan, state, NullReporter(), LaneShared(plan, [], {}), name)
    outcome = await agent_lane(lane)
    cand = outcome.apply(state.candidate(name))
    if cand.commit:
        checkout.collect_lane(plan.repo.root, lane.checkout, lane.branch, cand.commit)
    changes = None if outcome.changes is None else [asdict(c) for c in outcome.changes]
    return {"candidate": asdict(cand), "changes": changes, "race_dir": str(plan.race_dir.path)}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
