"""The command line (typer only): parse → call one core function → render with ui → exit code.

Errors map to exit codes in one place (`_guarded`): RacerError → its code, Ctrl-C → 130, else 3.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer
import typer.core

from racer import __version__, clibatch, cliopts, exiting, fmt
from racer.config import flags_from_cli
from racer.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NO_WINNER,
    EXIT_PIPE_CLOSED,
    RaceNotFound,
    RacerError,
    RefusedError,
    UserError,
    crash_log,
    disk_full,
    disk_full_in,
    racer_error_in,
)

# Each command imports the core modules it calls when it runs (the `from racer import ...` lines
# below): `racer --help` then costs typer's start-up, not anyio's, GitPython's and rich's.
if TYPE_CHECKING:
    from racer.plan import RacePlan
    from racer.repo import RepoInfo
    from racer.report import RaceReport

P = ParamSpec("P")


cliopts.switches_take_no_value()
app = typer.Typer(
    name="racer",
    help="Race AI coding agents on one spec in parallel git worktrees; judge on evidence; merge the winner.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _err(message: str) -> None:
    print(f"racer: {message}", file=sys.stderr)


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
        except BrokenPipeError:  # the reader went away (`racer ls --json | head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = EXIT_PIPE_CLOSED
        except typer.Exit:
            raise
        except Exception as exc:  # a racer error from inside a task group, a full disk, or…
            known = racer_error_in(exc) or (disk_full(Path.cwd()) if disk_full_in(exc) else None)
            if known is None:
                code = _crashed(exc)
            else:
                _err(known.message)
                code = known.exit_code
        if code:
            raise typer.Exit(code)

    return wrapper


def _crashed(exc: BaseException) -> int:
    """The last resort: anything unexpected is exit 3 with a traceback log."""
    _err(f"internal error: {type(exc).__name__}: {exc} — traceback written to {crash_log(exc)}")
    return EXIT_INTERNAL


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
@cliopts.setting_options
def run(
    spec: Annotated[Path, typer.Argument(help="Markdown spec file (optional YAML front matter).")],
    *,
    base: Annotated[
        str | None, typer.Option("--base", help="Base ref for every worktree (default: HEAD).")
    ] = None,
    acceptance: Annotated[
        list[str] | None,
        typer.Option("--acceptance", help="Hidden acceptance test file, SRC[:DEST] (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print race.json instead of the table.")
    ] = False,
    **settings: object,  # --agents, --test, ... : one option per racer.config.RUN_SETTINGS
) -> int:
    """Race the agents on SPEC; print the ranked table. Exit 0 with a winner, 4 without."""
    from racer import plan as planning

    the_plan = planning.prepare(
        Path.cwd(),
        spec,
        env=os.environ,
        flags=flags_from_cli(settings),
        base_ref=base,
        acceptance=tuple(acceptance or ()),
    )
    return _race_and_show(the_plan, None, as_json)


def _race_and_show(plan: RacePlan, previous: RaceReport | None, as_json: bool) -> int:
    """Run (or resume) a race with the live board, then print its result: 0 with a winner."""
    import anyio

    from racer import report as rpt
    from racer import store, ui
    from racer.prepare import choose_lanes
    from racer.race import run_race

    plan, why = choose_lanes(plan)
    if why:
        _err(f"lanes are checkouts: {why}")
    out = ui.console(sys.stderr if as_json else None)
    result = anyio.run(run_race, plan, ui.Board(out), previous)
    if as_json:
        print(json.dumps(rpt.to_dict(result), indent=2))
    else:
        ui.show_report(out, result)
        out.print(f"report: {store.RaceDir(Path(result.race_dir)).report_md}")
    return 0 if result.winner else EXIT_NO_WINNER


def _repo() -> RepoInfo:
    from racer.repo import open_repo

    return open_repo(Path.cwd())


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
    from racer import records, store, ui
    from racer import report as rpt

    repo = _repo()
    report = records.shown(store.find_race(repo.common_dir, race))
    if as_json:
        print(json.dumps(rpt.to_dict(report), indent=2))
    elif as_html:
        print(records.rewrite_views(report, repo.root))
    else:
        out = ui.console()
        ui.show_report(out, report)
        out.print(f"report: {store.RaceDir(Path(report.race_dir)).report_md}")
    return 0


@app.command()
@_guarded
def review(
    race: Annotated[
        str | None, typer.Argument(help="Race id or prefix (default: the latest).")
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            help="Reviewer: any contestant syntax (codex, claude@opus, a command agent) or auto "
            "(default: config key review, else auto).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print race.json instead of the table.")
    ] = False,
) -> int:
    """Review a finished race's best candidates with another agent (another model family by
    default); its findings' tests run on every candidate and can change the ranking."""
    from racer import races, store, ui
    from racer import report as rpt

    out = ui.console(sys.stderr if as_json else None)
    result = races.review(_repo(), race, agent, ui.Board(out, live=False))
    if as_json:
        print(json.dumps(rpt.to_dict(result), indent=2))
    else:
        ui.show_report(out, result)
        out.print(f"report: {store.RaceDir(Path(result.race_dir)).report_md}")
    return 0 if result.winner else EXIT_NO_WINNER


@app.command()
@_guarded
def diff(
    args: Annotated[
        list[str],
        typer.Argument(help="[RACE] NAME: the candidate whose diff to print.", show_default=False),
    ],
    show_secrets: Annotated[
        bool,
        typer.Option(
            "--show-secrets",
            help="Print it from git as it is, keys and tokens the agent wrote included.",
        ),
    ] = False,
) -> int:
    """Print a candidate's diff against the race's base commit (secret values redacted)."""
    from racer import report as rpt
    from racer import store
    from racer.git import git

    if len(args) not in (1, 2):
        raise RaceNotFound("usage: racer diff [RACE] NAME — name one candidate (see `racer show`)")
    race, name = (None, args[0]) if len(args) == 1 else (args[0], args[1])
    repo = _repo()
    report = rpt.load(store.find_race(repo.common_dir, race))
    cand = report.candidate(name)
    if show_secrets and cand.commit:
        base = str(report.base.get("commit"))
        argv = ["diff", "--binary", "--no-color", "--no-ext-diff", "--no-textconv"]
        sys.stdout.write(git([*argv, base, cand.commit], repo.root).stdout)
        return 0
    if not cand.diff or not Path(cand.diff).is_file():
        raise RaceNotFound(f"{name} has no recorded diff (its lane did not get that far)")
    if Path(cand.diff).stat().st_size == 0:
        _err(f"{name} changed nothing: its diff is empty")
    sys.stdout.flush()
    with Path(cand.diff).open("rb") as saved:  # streamed: a diff may be hundreds of MB
        shutil.copyfileobj(saved, sys.stdout.buffer)
    return 0


@app.command("ls")
@_guarded
def ls_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> int:
    """List this repository's races, newest first."""
    from dataclasses import asdict

    from racer import races, ui

    rows = [asdict(r) for r in races.race_rows(_repo().common_dir)]
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
    force: Annotated[
        bool, typer.Option("--force", help="Merge a candidate that did not pass.")
    ] = False,
) -> int:
    """Squash a candidate onto the branch the race started from."""
    from racer import races

    result = races.merge(_repo(), name, race, keep=keep, force=force)
    print("\n".join(result.said(name)))
    for warning in result.warnings:
        _err(warning)
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
    from racer import races

    done = races.clean(_repo(), race, force=force)
    if done.already:
        print(f"race {done.race_id} is already cleaned up")
        return 0
    if done.stopped:
        print(f"stopped {done.stopped} process(es) the interrupted race left running")
    removed = ", ".join(done.removed) or "none"
    print(f"removed worktrees and branches of race {done.race_id}: {removed}")
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
    """Spare lane checkouts kept for the next race (config key `pool`): show, fill or clear them.
    With overlay lanes (config key `lanes`), --fill makes the base checkout of HEAD instead."""
    from racer import pool as spares
    from racer.config import load_config
    from racer.repo import default_worktree_root

    if fill is not None and clear:
        raise UserError("--fill and --clear go one at a time — pass one of them")
    repo = _repo()
    config = load_config(repo.root, env=os.environ)
    wt_root = config.worktree_root or default_worktree_root(repo)
    where = spares.pool_dir(wt_root)
    if clear:
        print(f"removed {fmt.plural(spares.clear(wt_root), 'spare checkout')} from {where}")
        return 0
    if fill is not None and spares.overlays_wanted(config.lanes, wt_root):
        start = time.monotonic()
        spares.fill_base(repo.common_dir, wt_root, repo.head)
        took = time.monotonic() - start
        print(f"base checkout of HEAD {repo.head[:12]} for overlay lanes ready in {took:.1f} s")
    elif fill is not None:
        start = time.monotonic()
        made = spares.fill(repo.common_dir, wt_root, repo.head, fill, config.jobs)
        took = time.monotonic() - start
        print(f"made {fmt.plural(made, 'spare checkout')} of HEAD {repo.head[:12]} in {took:.1f} s")
    held, bases = len(spares.entries(wt_root)), len(spares.bases(wt_root))
    print(
        f"{fmt.plural(held, 'spare checkout')} in {where} (racer keeps up to pool = {config.pool})"
        + (f"; {fmt.plural(bases, 'base checkout')} for overlay lanes" if bases else "")
    )
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
    from racer import races

    what = races.resume(_repo(), race)
    if what.done is not None:
        print(what.done)
        return 0
    assert what.plan is not None
    return _race_and_show(what.plan, what.previous, as_json)


@app.command()
@_guarded
def agents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> int:
    """List the known agents, whether each is installed, and its version."""
    from racer import ui
    from racer.agents import agent_inventory, build_registry
    from racer.config import load_config
    from racer.errors import GitError

    try:
        configs = load_config(_repo().root, env=os.environ).agent_configs
    except GitError:
        configs = {}
    rows = agent_inventory(build_registry(configs))
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
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

    from racer.doctor import cwd_config, run_doctor, select_agents

    config = cwd_config(Path.cwd(), os.environ)
    selected = select_agents(config, agents)
    checks = run_doctor(selected, config.agent_configs, os.environ)
    bad = sorted({c.agent for c in checks if not c.ok})
    if as_json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
        return 1 if bad else 0
    for c in checks:
        print(f"{'ok ' if c.ok else 'FIX'} {c.agent:<9} {c.name:<12} {c.detail}")
        if c.fix:
            print(f"    -> {c.fix}")
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
    from racer import store, ui
    from racer.demo import create_demo
    from racer.race import run_race

    where = (directory or Path(tempfile.mkdtemp(prefix="racer-demo-"))).resolve()
    where.mkdir(parents=True, exist_ok=True)
    if (where / "project").exists():
        raise RefusedError(f"{where / 'project'} already exists — pick another --dir")
    project = create_demo(where)
    out = ui.console()
    where_said = "" if directory else " (a temporary directory: delete it when you are done)"
    out.print(f"sample project: {project}{where_said}")
    the_plan = planning.prepare(
        project, project / "specs" / "slugify.md", env=os.environ, flags={"history": False}
    )
    result = anyio.run(run_race, the_plan, ui.Board(out))
    ui.show_report(out, result)
    out.print(f"report: {store.RaceDir(Path(result.race_dir)).report_md}")
    if result.winner:
        out.print(f"next: cd {project} && racer merge {result.winner}")
    return 0 if result.winner else EXIT_NO_WINNER


@app.command("stats")
@_guarded
def stats_(
    repo: Annotated[
        Path | None,
        typer.Option("--repo", help="The repository whose races to count (default: this one)."),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Count every repository's races.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only races started on or after DATE (UTC).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the leaderboard as JSON.")] = False,
    as_html: Annotated[
        bool, typer.Option("--html", help="Write stats.html (self-contained), print its path.")
    ] = False,
) -> int:
    """Leaderboard of the recorded races: pass rate, wins, merges, cost, rating per agent@model."""
    from dataclasses import asdict

    from racer import htmlstats, ui, uistats
    from racer.standings import standings

    if as_json and as_html:
        raise UserError("--json and --html go one at a time — pass one of them")
    found = standings(Path.cwd(), repo, every, since)
    if found.trouble is not None:
        _err(found.trouble)
        return 1
    if as_json:
        print(json.dumps([asdict(e) for e in found.entries], indent=2))
    if not found.entries:
        _err(found.empty) if as_json else print(found.empty)
    elif as_html:
        when = datetime.now().astimezone().isoformat(timespec="seconds")
        print(htmlstats.write_stats(found.page, found.entries, found.scope, when))
    elif not as_json:
        uistats.show_stats(ui.console(), found.entries, f"racer stats: {found.scope}")
    return 0


@app.command("mcp")
@_guarded
def mcp_() -> int:
    """Serve racer's race tools to a lead agent over MCP (stdio), in this repository."""
    from racer.mcpserver import serve  # without the MCP SDK: one line, exit 1

    serve(Path.cwd())
    return 0


history_app = typer.Typer(
    help="The history of finished races that `racer stats` reads.", no_args_is_help=True
)
app.add_typer(history_app, name="history")


@history_app.command("import")
@_guarded
def history_import() -> int:
    """Record every finished race of this repository (its race.json files) in the history."""
    from racer import history

    repo = _repo()
    done = history.import_races(repo.common_dir)
    for warning in done.warnings:
        _err(warning)
    if done.trouble is not None:
        _err(done.trouble)
        return 1
    damaged = f"; skipped {fmt.plural(done.skipped, 'damaged record')}" if done.skipped else ""
    where = history.db_path()
    print(
        f"recorded {fmt.plural(done.imported, 'finished race')} of {repo.root} in {where}{damaged}"
    )
    return 0


app.command("batch")(_guarded(clibatch.batch))  # its options live in clibatch


def main() -> None:
    """The console script; its exit skips the interpreter's teardown (racer.exiting)."""
    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    exiting.leave(code)


if __name__ == "__main__":
    main()
