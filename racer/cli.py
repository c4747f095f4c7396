"""The command line (typer only): parse → build the plan → call the core → render with ui → exit code.

Errors map to exit codes in one place (`_guarded`): RacerError → its code, Ctrl-C → 130, else 3.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer

from racer import __version__
from racer.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NO_WINNER,
    RaceNotFound,
    RacerError,
    RefusedError,
    UserError,
)

if TYPE_CHECKING:
    from racer.race import RacePlan
    from racer.report import RaceReport

P = ParamSpec("P")

app = typer.Typer(
    name="racer",
    help="Race AI coding agents on one spec in parallel git worktrees; judge on evidence; merge the winner.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _err(message: str) -> None:
    print(f"racer: {message}", file=sys.stderr)


def _crash_log(exc: BaseException) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.gettempdir()) / f"racer-error-{stamp}-{os.getpid()}.log"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return path


def _guarded(fn: Callable[P, int | None]) -> Callable[P, None]:
    """Run a command body and turn its outcome into an exit code (the one error handler)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            code = fn(*args, **kwargs) or 0
        except RacerError as exc:
            _err(exc.message)
            code = exc.exit_code
        except KeyboardInterrupt:
            _err("interrupted")
            code = EXIT_INTERRUPTED
        except typer.Exit:
            raise
        except (
            Exception
        ) as exc:  # the last resort: anything unexpected is exit 3 with a traceback log
            _err(
                f"internal error: {type(exc).__name__}: {exc} — traceback written to {_crash_log(exc)}"
            )
            code = EXIT_INTERNAL
        if code:
            raise typer.Exit(code)

    return wrapper


def _version(value: bool) -> None:
    if value:
        print(f"racer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """racer: one spec, several agents, ranked on evidence."""


@app.command()
@_guarded
def run(
    spec: Annotated[Path, typer.Argument(help="Markdown spec file (optional YAML front matter).")],
    agents: Annotated[
        str | None,
        typer.Option("--agents", "-a", help="Contestants: NAME[@MODEL][*N], comma-separated."),
    ] = None,
    test: Annotated[
        str | None, typer.Option("--test", help="Test command run in every worktree.")
    ] = None,
    setup: Annotated[
        str | None, typer.Option("--setup", help="Command run in each worktree before its agent.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Per-lane agent timeout, seconds.")
    ] = None,
    test_timeout: Annotated[
        float | None, typer.Option("--test-timeout", help="Per test run timeout, seconds.")
    ] = None,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            "--idle-timeout", help="Stop an agent that prints nothing for this long, seconds."
        ),
    ] = None,
    race_timeout: Annotated[
        float | None, typer.Option("--race-timeout", help="Wall limit for the whole race, seconds.")
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            help="USD per lane: the CLI's own budget flag where it has one, else stopped once "
            "its reported cost passes this.",
        ),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Run each agent and its tests under bubblewrap: it may write only its "
            "worktree, its /tmp and its own config dirs.",
        ),
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Concurrent test runs (default: CPU count).")
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Base ref for every worktree (default: HEAD).")
    ] = None,
    worktree_root: Annotated[
        Path | None, typer.Option("--worktree-root", help="Where worktrees go (outside the repo).")
    ] = None,
    copy: Annotated[
        list[str] | None,
        typer.Option("--copy", help="Ignored file/glob to copy into each worktree (repeatable)."),
    ] = None,
    share: Annotated[
        list[str] | None,
        typer.Option(
            "--share",
            help="Ignored dependency dir (node_modules, .venv) to provide to each worktree "
            "as a reflink, hardlinks or a copy (repeatable).",
        ),
    ] = None,
    acceptance: Annotated[
        list[str] | None,
        typer.Option("--acceptance", help="Hidden acceptance test file, SRC[:DEST] (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print race.json instead of the table.")
    ] = False,
) -> int:
    """Race the agents on SPEC; print the ranked table. Exit 0 with a winner, 4 without."""

    from racer import plan as planning

    flags: dict[str, object] = {
        "agents": tuple(a for a in agents.split(",") if a.strip()) if agents is not None else None,
        "test": test,
        "setup": setup,
        "timeout": timeout,
        "test_timeout": test_timeout,
        "idle_timeout": idle_timeout,
        "race_timeout": race_timeout,
        "max_cost": max_cost,
        "sandbox": True if sandbox else None,
        "jobs": jobs,
        "worktree_root": worktree_root.resolve() if worktree_root is not None else None,
        "copy": tuple(copy) if copy else None,
        "share": tuple(share) if share else None,
    }
    the_plan = planning.prepare(
        Path.cwd(),
        spec,
        env=os.environ,
        flags=flags,
        base_ref=base,
        acceptance=tuple(acceptance or ()),
    )
    return _race_and_show(the_plan, None, as_json)


def _race_and_show(plan: RacePlan, previous: RaceReport | None, as_json: bool) -> int:
    """Run (or resume) a race with the live board, then print its result: 0 with a winner."""
    import anyio

    from racer import report as rpt
    from racer import ui
    from racer.race import run_race

    out = ui.console(sys.stderr if as_json else None)
    result = anyio.run(run_race, plan, ui.Board(out), previous)
    if as_json:
        print(json.dumps(rpt.to_dict(result), indent=2))
    else:
        ui.show_report(out, result)
        out.print(f"report: {Path(result.race_dir) / 'report.md'}")
    return 0 if result.winner else EXIT_NO_WINNER


def _status(report: RaceReport, race_dir: Path) -> str:
    """What a race is now: a "running" record whose racer is gone was interrupted."""
    from racer import store
    from racer.merge import MERGE_INTENT

    if store.is_live(race_dir):
        return "running"
    if (race_dir / MERGE_INTENT).exists():
        return "interrupted (merge)"
    if report.status == "running":
        return "interrupted"
    return "merged" if report.merged else report.status


def _repo_common() -> tuple[Path, Path]:
    from racer.worktree import open_repo

    repo = open_repo(Path.cwd())
    return repo.root, repo.common_dir


def _pool_size(root: Path) -> int:
    """The `pool` setting for removed lanes; 0 (delete them) when the config cannot be read."""
    from racer.config import load_config

    try:
        return load_config(root, env=os.environ).pool
    except RacerError:
        return 0


@app.command()
@_guarded
def show(
    race: Annotated[
        str | None, typer.Argument(help="Race id or prefix (default: the latest).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print race.json.")] = False,
    as_html: Annotated[
        bool, typer.Option("--html", help="Write report.html (self-contained) and print its path.")
    ] = False,
) -> int:
    """Show the ranked report of a race from its record."""
    from racer import report as rpt
    from racer import store, ui

    _, common = _repo_common()
    race_dir = store.find_race(common, race)
    report = rpt.load(race_dir)
    if report.status == "running" and _status(report, race_dir).startswith("interrupted"):
        from dataclasses import replace

        report = replace(report, status="interrupted")
    if as_json:
        print(json.dumps(rpt.to_dict(report), indent=2))
        return 0
    if as_html:
        _, page = rpt.write_views(report)
        print(page)
        return 0
    out = ui.console()
    ui.show_report(out, report)
    out.print(f"report: {Path(report.race_dir) / 'report.md'}")
    return 0


@app.command()
@_guarded
def diff(
    args: Annotated[
        list[str],
        typer.Argument(help="[RACE] NAME: the candidate whose diff to print.", show_default=False),
    ],
) -> int:
    """Print a candidate's diff against the race's base commit."""
    from racer import report as rpt
    from racer import store

    if len(args) not in (1, 2):
        raise RaceNotFound("usage: racer diff [RACE] NAME — name one candidate (see `racer show`)")
    race, name = (None, args[0]) if len(args) == 1 else (args[0], args[1])
    _, common = _repo_common()
    report = rpt.load(store.find_race(common, race))
    cand = report.candidate(name)
    if not cand.diff or not Path(cand.diff).is_file():
        raise RaceNotFound(f"{name} has no recorded diff (its lane did not get that far)")
    text = Path(cand.diff).read_text(encoding="utf-8")
    if not text:
        _err(f"{name} changed nothing: its diff is empty")
    sys.stdout.write(text)
    return 0


@app.command("ls")
@_guarded
def ls_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> int:
    """List this repository's races, newest first."""
    from racer import report as rpt
    from racer import store, ui

    _, common = _repo_common()
    rows: list[dict[str, object]] = []
    for race_id in store.race_ids(common):
        try:
            r = rpt.load(store.races_dir(common) / race_id)
        except RaceNotFound:
            rows.append(
                {"id": race_id, "status": "damaged", "title": "", "winner": None, "candidates": ""}
            )
            continue
        race_dir = store.races_dir(common) / race_id
        status = _status(r, race_dir)
        left = 0
        if status.startswith("interrupted"):
            from racer.race import find_leftovers

            left = len(find_leftovers(r))
            if left:
                status += f", {left} process(es) left running"
        rows.append(
            {
                "id": r.id,
                "status": status,
                "left_running": left,
                "title": r.spec.get("title") or "",
                "winner": r.winner,
                "candidates": ", ".join(c.name for c in r.candidates),
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
    elif rows:
        ui.console().print(ui.races_table(rows))
    else:
        print("no races yet — start one with `racer run SPEC --agents ...`")
    return 0


@app.command()
@_guarded
def merge(
    name: Annotated[str, typer.Argument(help="Candidate to land (see `racer show`).")],
    race: Annotated[
        str | None, typer.Option("--race", help="Race id or prefix (default: the latest).")
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the race's worktrees and branches.")
    ] = False,
) -> int:
    """Squash a candidate onto the branch the race started from."""
    from racer import report as rpt
    from racer import store
    from racer.merge import merge_candidate

    root, common = _repo_common()
    race_dir = store.find_race(common, race)
    with store.RaceLock(race_dir):
        report = rpt.load(race_dir)
        if report.status != "finished":
            raise RefusedError(
                f"race {report.id} did not finish ({_status(report, race_dir)}) — "
                f"`racer resume {report.id}` finishes it, then merge"
            )
        report, result = merge_candidate(
            report, name, keep=keep, pool=0 if keep else _pool_size(root)
        )
    print(
        f"merged {name} onto {result.branch} as {result.commit[:12]} ({len(result.files)} file(s))"
    )
    if result.removed:
        print(
            f"removed worktrees and branches of: {', '.join(result.removed)} (diffs stay in the race record)"
        )
    if result.kept:
        print(
            f"kept (they hold unrecorded work): {', '.join(result.kept)} — `racer clean --force` removes them"
        )
    return 0


@app.command()
@_guarded
def clean(
    race: Annotated[
        str | None, typer.Argument(help="Race id or prefix (default: the latest).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Remove even unmerged or dirty work.")
    ] = False,
) -> int:
    """Remove a race's worktrees and branches (its record and diffs stay)."""
    from racer import report as rpt
    from racer import store
    from racer.merge import remove_lanes, unmerged_work
    from racer.race import stop_leftovers

    root, common = _repo_common()
    race_dir = store.find_race(common, race)
    with store.RaceLock(race_dir):
        report = rpt.load(race_dir)
        if report.cleaned:
            print(f"race {report.id} is already cleaned up")
            return 0
        stopped = stop_leftovers(report)  # a killed racer's agents must not write on
        if stopped:
            print(f"stopped {stopped} process(es) the interrupted race left running")
        problems = unmerged_work(report)
        if problems and not force:
            hint = "`racer resume` finishes it, " if report.status == "running" else ""
            raise RefusedError(
                f"race {report.id} holds work that was never merged ({'; '.join(problems)}) — "
                f"{hint}merge a candidate, or pass --force to delete it"
            )
        _, removed, _ = remove_lanes(report, force=True, pool=_pool_size(root))
        (race_dir / "merge.json").unlink(missing_ok=True)
    print(f"removed worktrees and branches of race {report.id}: {', '.join(removed) or 'none'}")
    return 0


@app.command()
@_guarded
def pool(
    fill: Annotated[
        int | None,
        typer.Option(
            "--fill",
            min=1,
            help="Make spare checkouts of HEAD until the pool holds this many.",
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Delete every spare checkout.")] = False,
) -> int:
    """Spare lane checkouts kept for the next race (config key `pool`): show, fill or clear them."""
    import time

    from racer import pool as spares
    from racer.config import load_config
    from racer.worktree import default_worktree_root, open_repo

    if fill is not None and clear:
        raise UserError("--fill and --clear go one at a time — pass one of them")
    repo = open_repo(Path.cwd())
    config = load_config(repo.root, env=os.environ)
    wt_root = config.worktree_root or default_worktree_root(repo)
    where = spares.pool_dir(wt_root)
    if clear:
        print(f"removed {spares.clear(wt_root)} spare checkout(s) from {where}")
        return 0
    if fill is not None:
        start = time.monotonic()
        made = spares.fill(repo.common_dir, wt_root, repo.head, fill, config.jobs)
        print(
            f"made {made} spare checkout(s) of HEAD {repo.head[:12]} in "
            f"{time.monotonic() - start:.1f} s"
        )
    held = len(spares.entries(wt_root))
    print(f"{held} spare checkout(s) in {where} (racer keeps up to pool = {config.pool})")
    return 0


@app.command()
@_guarded
def resume(
    race: Annotated[
        str | None, typer.Argument(help="Race id or prefix (default: the latest).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print race.json instead of the table.")
    ] = False,
) -> int:
    """Finish an interrupted race: stop what it left running, keep finished lanes, rerun the rest."""

    from racer import planfile, store
    from racer import report as rpt
    from racer.merge import finish_interrupted_merge

    root, common = _repo_common()
    race_dir = store.find_race(common, race)
    report = rpt.load(race_dir)
    if store.is_live(race_dir):
        raise RefusedError(
            f"race {report.id} is still running in another racer — wait for it, or Ctrl-C it first"
        )
    with store.RaceLock(race_dir):
        done = finish_interrupted_merge(rpt.load(race_dir), _pool_size(root))
    if done is not None:
        print(done[1])
        return 0
    if report.status != "running" and report.status != "interrupted":
        raise RefusedError(
            f"race {report.id} is {_status(report, race_dir)} — nothing to resume "
            f"(`racer show {report.id}`)"
        )
    return _race_and_show(planfile.load_plan(race_dir), report, as_json)


@app.command()
@_guarded
def agents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> int:
    """List the known agents, whether each is installed, and its version."""
    from racer.agents import agent_inventory, build_registry
    from racer.config import load_config
    from racer.errors import GitError
    from racer.worktree import open_repo

    try:
        configs = load_config(open_repo(Path.cwd()).root, env=os.environ).agent_configs
    except GitError:
        configs = {}
    rows = agent_inventory(build_registry(configs))
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    from racer import ui

    ui.console().print(ui.agents_table(rows))
    return 0


@app.command()
@_guarded
def doctor(
    agents: Annotated[
        str | None,
        typer.Option("--agents", "-a", help="Agents to check (default: config agents, else all)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> int:
    """Check that the selected agents are installed, accept racer's flags and have credentials."""
    from dataclasses import asdict

    from racer.agents import build_registry, parse_contestants
    from racer.config import load_config
    from racer.doctor import run_doctor
    from racer.errors import GitError
    from racer.worktree import open_repo

    try:
        config = load_config(open_repo(Path.cwd()).root, env=os.environ)
    except GitError:
        config = load_config(Path.cwd(), env=os.environ)
    registry = build_registry(config.agent_configs)
    wanted = agents.split(",") if agents else list(config.agents)
    names = (
        [c.agent for c in parse_contestants(wanted, registry)]
        if wanted
        else [n for n in registry if n != "fake"]
    )
    selected = {n: registry[n] for n in dict.fromkeys(names)}
    checks = run_doctor(selected, config.agent_configs, os.environ)
    if as_json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for c in checks:
            mark = "ok " if c.ok else "FIX"
            print(f"{mark} {c.agent:<9} {c.name:<12} {c.detail}")
            if c.fix:
                print(f"    -> {c.fix}")
    bad = sorted({c.agent for c in checks if not c.ok})
    if not as_json:
        print(f"not ready: {', '.join(bad)}" if bad else f"ready: {', '.join(selected)}")
    return 1 if bad else 0


@app.command()
@_guarded
def demo(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to create the sample project (default: a temp dir)."),
    ] = None,
) -> int:
    """Run a complete offline race: a sample project, four fake contestants, the ranked report."""
    import anyio

    from racer import plan as planning
    from racer import race, ui
    from racer.demo import create_demo

    where = (directory or Path(tempfile.mkdtemp(prefix="racer-demo-"))).resolve()
    where.mkdir(parents=True, exist_ok=True)
    if (where / "project").exists():
        raise RefusedError(f"{where / 'project'} already exists — pick another --dir")
    project = create_demo(where)
    out = ui.console()
    out.print(f"sample project: {project}")
    the_plan = planning.prepare(project, project / "specs" / "slugify.md", env=os.environ, flags={})
    result = anyio.run(race.run_race, the_plan, ui.Board(out))
    ui.show_report(out, result)
    out.print(f"report: {Path(result.race_dir) / 'report.md'}")
    if result.winner:
        out.print(f"next: cd {project} && racer merge {result.winner}")
    return 0 if result.winner else EXIT_NO_WINNER


def main() -> None:
    app()


if __name__ == "__main__":
    main()
