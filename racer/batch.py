"""`racer batch`: one race per spec, every spec from the same base commit, lanes = agents x
samples, on an executor (local by default, or a Ray cluster).

Each race is an ordinary race record (`racer ls/show/diff/merge` work on it); the batch itself
is `.git/racer/batches/<id>/batch.json`, rewritten at every change, from which the batch report
(terminal, report.md, report.html) is rendered. A batch never merges anything. `--resume ID`
keeps the races that finished and runs the rest (a race cut short is resumed lane by lane, as
`racer resume` does). On Ray a race still runs here (baseline, scoring, verdict); its lanes'
agents run on the cluster (racer.executors.ray).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from racer import history, store
from racer import report as rpt
from racer.errors import UserError
from racer.executor import Executor, RaceJob, RepoRef, StepResult, StepSpec
from racer.git import git
from racer.plan import resolve_base
from racer.repo import RepoInfo, open_repo
from racer.spec import load_spec
from racer.status import BatchStatus, RaceStatus, SpecState, StepStatus
from racer.verdict import now

SCHEMA = 2  # 2: a spec's own `base` (front matter); 1 is read as is (no spec has one)
READS = (1, 2)
BATCH_FILE = "batch.json"
REPORT_MD, REPORT_HTML = "report.md", "report.html"
# `racer run` settings a batch passes on to every race.
SETTINGS = ("test", "setup", "timeout", "test_timeout", "idle_timeout", "race_timeout",
            "max_cost", "sandbox", "jobs")  # fmt: skip
Progress = Callable[[dict[str, Any], str], None]


def batches_dir(common_dir: Path) -> Path:
    return common_dir / "racer" / "batches"


def expand_agents(agents: str, samples: int) -> str:
    """Contestants x samples: `a,b@m` with 3 samples → `a*3,b@m*3`."""
    if samples < 1:
        raise UserError(f"--samples {samples}: must be at least 1")
    out = []
    for item in (a.strip() for a in agents.split(",")):
        if not item:
            continue
        name, _, count = item.partition("*")
        try:
            n = int(count or 1) * samples
        except ValueError:
            raise UserError(f"--agents: {item!r} is not NAME[@MODEL][*N]") from None
        out.append(name if n == 1 else f"{name}*{n}")
    if not out:
        raise UserError("--agents: name at least one contestant")
    return ",".join(out)


def _step_timeout(settings: Mapping[str, Any]) -> float:
    """A backstop for a whole remote race (its own timeouts stop it first): the race timeout,
    else three agent timeouts (setup, agent, tests and retries), at least an hour."""
    if settings.get("race_timeout"):
        return float(settings["race_timeout"]) + 600
    return max(3600.0, 3 * float(settings.get("timeout") or 1800))


def needs_of(agents: str) -> frozenset[str]:
    return frozenset(f"agent:{a.split('@')[0].split('*')[0]}" for a in agents.split(","))


@dataclass(frozen=True)
class Batch:
    repo: RepoInfo
    data: dict[str, Any]  # batch.json

    @property
    def dir(self) -> Path:
        return batches_dir(self.repo.common_dir) / str(self.data["id"])

    @property
    def report_md(self) -> Path:
        return self.dir / REPORT_MD

    @property
    def report_html(self) -> Path:
        return self.dir / REPORT_HTML

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        store.write_atomic(self.dir / BATCH_FILE, json.dumps(self.data, indent=2) + "\n")


def new_batch(
    cwd: Path,
    specs: Sequence[Path],
    agents: str,
    samples: int,
    executor: str,
    settings: Mapping[str, object],
    credentials: Sequence[str] = (),
) -> Batch:
    """Validate the specs and contestants and fix the base (HEAD now) and the race ids."""
    repo = open_repo(cwd)
    lanes = expand_agents(agents, samples)
    entries, ids = [], set()
    for path in specs:
        spec = load_spec(path if path.is_absolute() else cwd / path)
        race_id = store.new_race_id()
        while race_id in ids:
            race_id = store.new_race_id()
        ids.add(race_id)
        entry = {"path": str(spec.path), "title": spec.title, "race_id": race_id,
                 "state": SpecState.QUEUED, "attempt": 0, "host": "", "error": ""}  # fmt: skip
        if spec.base is not None:  # the spec's own `base:`, fixed now as HEAD is
            commit, branch = resolve_base(repo, spec, None)
            entry["base"] = {"commit": commit, "branch": branch, "ref": spec.base}
        entries.append(entry)
    if not entries:
        raise UserError("racer batch: name at least one spec")
    stamp = store.new_race_id()
    data = {
        "schema": SCHEMA,
        "id": stamp,
        "status": BatchStatus.RUNNING,
        "created": now(),
        "finished": None,
        "executor": executor,
        "base": {"commit": repo.head, "branch": repo.branch},
        "agents": lanes,
        "samples": samples,
        "settings": {k: v for k, v in settings.items() if v is not None},
        "credentials": list(credentials),
        "specs": entries,
    }
    return Batch(repo, data)


def load_batch(cwd: Path, batch_id: str) -> Batch:
    repo = open_repo(cwd)
    root = batches_dir(repo.common_dir)
    found = sorted(p.name for p in root.glob(f"{batch_id}*")) if root.is_dir() else []
    if len(found) != 1:
        why = "no batch" if not found else f"{len(found)} batches"
        raise UserError(f"--resume {batch_id}: {why} with that id in {root}")
    data = json.loads((root / found[0] / BATCH_FILE).read_text(encoding="utf-8"))
    schema = data.get("schema")
    if schema not in READS:
        newer = isinstance(schema, int) and schema > SCHEMA
        why = "written by a newer racer" if newer else "not a batch record racer knows"
        raise UserError(
            f"batch {found[0]}: {why} (schema {schema!r}; this racer reads schemas"
            f" {READS[0]} to {READS[-1]}) — upgrade racer (pip install -U racer) to resume it"
        )
    return Batch(repo, data)


def repo_id(repo: RepoInfo) -> str:
    roots = git(["rev-list", "--max-parents=0", repo.head], repo.root).stdout.split()
    return hashlib.sha256(" ".join(sorted(roots)).encode()).hexdigest()[:16]


def base_of(batch: Batch, entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """The spec's base ({commit, branch}): its front matter's `base:`, else the batch's HEAD."""
    base: Mapping[str, Any] = entry.get("base") or batch.data["base"]
    return base


def base_bundle(batch: Batch) -> bytes:
    """`git bundle` of the base commits (all their history): put once, shared by every step."""
    commits = sorted({base_of(batch, e)["commit"] for e in batch.data["specs"]})
    refs = []
    for commit in commits:
        refs.append(f"refs/racer/batches/{batch.data['id']}/base-{commit[:16]}")
        git(["update-ref", refs[-1], commit], batch.repo.root)
    with tempfile.TemporaryDirectory(prefix="racer-bundle-") as tmp:
        out = Path(tmp) / "base.bundle"
        git(["bundle", "create", "-q", str(out), *refs], batch.repo.root)
        return out.read_bytes()


def job_of(batch: Batch, entry: Mapping[str, Any]) -> RaceJob:
    """A race of the batch as plain values. Its hidden acceptance tests are not among them:
    the race is scored where it is run (here), and a remote lane step plans without them."""
    spec_path = Path(entry["path"])
    return RaceJob(
        race_id=entry["race_id"],
        spec_name=spec_path.name,
        spec_path=str(spec_path),
        spec_text=spec_path.read_text(encoding="utf-8"),
        agents=batch.data["agents"],
        settings=tuple(sorted(batch.data["settings"].items())),
    )


def _finished(batch: Batch, entry: Mapping[str, Any]) -> bool:
    race_dir = store.RaceDir.of(batch.repo.common_dir, entry["race_id"])
    if not race_dir.record.is_file():
        return False
    return rpt.load(race_dir).status != RaceStatus.RUNNING and entry["state"] == SpecState.DONE


def _fresh_id(batch: Batch, entry: dict[str, Any]) -> None:
    """A race that was tried and left no record to resume gets a new id (its old lane branches
    may exist); a race cut short keeps its id and is resumed lane by lane."""
    if not entry.get("attempt"):
        return
    race_dir = store.RaceDir.of(batch.repo.common_dir, entry["race_id"])
    if race_dir.record.is_file():
        return
    entry.setdefault("earlier_race_ids", []).append(entry["race_id"])
    race_id = store.new_race_id()
    while store.RaceDir.of(batch.repo.common_dir, race_id).path.exists():
        race_id = store.new_race_id()
    entry["race_id"] = race_id


async def run_batch(batch: Batch, executor: Executor, progress: Progress) -> Batch:
    """Race every spec not finished yet on the executor; batch.json says where each one is."""
    bundle = None
    if executor.name != "local":
        data = base_bundle(batch)
        bundle = executor.put(data, hashlib.sha256(data).hexdigest()[:16])
        batch.data["base_bundle_bytes"] = len(data)
    rid = repo_id(batch.repo)
    batch.data.update(status=BatchStatus.RUNNING, finished=None)
    todo = [e for e in batch.data["specs"] if not _finished(batch, e)]
    for entry in todo:
        _fresh_id(batch, entry)
        entry.update(state=SpecState.QUEUED, error="")
    batch.save()
    limiter = anyio.CapacityLimiter(executor.capacity())

    async def one(entry: dict[str, Any]) -> None:
        async with limiter:
            entry.update(state=SpecState.RUNNING, attempt=entry.get("attempt", 0) + 1)
            batch.save()
            progress(batch.data, f"{Path(entry['path']).name}: running")
            base = base_of(batch, entry)
            repo = RepoRef(rid, base["commit"], base["branch"], bundle)
            step = StepSpec(
                "race", entry["race_id"], entry["attempt"], repo, job_of(batch, entry),
                credentials=tuple(batch.data.get("credentials", ())),
                timeout_s=_step_timeout(batch.data["settings"]),
            )  # fmt: skip
            try:
                result = await executor.run(step)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    entry.update(state=SpecState.CANCELLED, error="cancelled")
                    batch.save()
                raise
            _settle(batch, entry, result)
            batch.save()
            progress(batch.data, f"{Path(entry['path']).name}: {entry['state']}")

    try:
        async with anyio.create_task_group() as tg:
            for entry in todo:
                tg.start_soon(one, entry)
    except BaseException:
        with anyio.CancelScope(shield=True):
            batch.data.update(status=BatchStatus.INTERRUPTED, finished=now())
            batch.save()
        raise
    batch.data.update(status=BatchStatus.FINISHED, finished=now())
    batch.save()
    return batch


def _settle(batch: Batch, entry: dict[str, Any], result: StepResult) -> None:
    """Fold a race step's result into its batch entry."""
    entry.update(attempt=result.attempt, host=result.host, wall_s=round(result.wall_s, 3))
    entry.update(result.moved)  # a remote executor's traffic
    if result.status != StepStatus.OK or result.record is None:
        entry.update(state=result.status, error=result.error)
        return
    report = rpt.from_dict(dict(result.record))
    entry.update(state=SpecState.DONE, error="")
    warning = history.record_race(report)
    if warning:
        entry["error"] = warning
