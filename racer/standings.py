"""What `racer stats` shows: the recorded races of one repository (or of all) since a date, as a
leaderboard, and where its HTML page goes. The CLI parses, this reads, the views render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from racer import history, htmlstats
from racer.errors import GitError, UserError
from racer.repo import open_repo
from racer.stats import Entry, leaderboard


@dataclass(frozen=True)
class Standings:
    entries: tuple[Entry, ...]  # best rated first; empty: no race recorded in scope
    scope: str  # which races: "repository /src/app, races since 2026-12-01"
    page: Path  # where `--html` writes stats.html
    trouble: str | None = None  # the history could not be read (one line)

    @property
    def empty(self) -> str:
        return (
            f"no races recorded yet ({self.scope}) — `racer history import` adds this "
            "repository's past races; or race with `racer run SPEC --agents ...`"
        )


def parse_since(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("--since takes a date like 2026-12-01") from None


def standings(cwd: Path, repo: Path | None, every: bool, since: str | None) -> Standings:
    """The leaderboard of the repository at `repo` (default: the one holding cwd), or of every
    repository with `every`, over races started on or after `since` (an ISO date, UTC)."""
    if repo is not None and every:
        raise UserError("--repo and --all go one at a time — pass one of them")
    start = parse_since(since)
    try:
        here = open_repo(repo or cwd)
    except GitError:
        if not every:
            raise
        here = None  # every repository: racer need not run in one
    rid = None
    if here is not None and not every:
        rid = history.repo_id(here.root)
        if rid is None:
            raise GitError(f"cannot read the root commit of {here.root} — is git working there?")
    scope = f"repository {here.root}" if rid is not None and here else "every repository"
    scope += f", races since {start.isoformat()}" if start else ""
    page = (
        htmlstats.stats_page(here.common_dir) if here else history.db_path().parent / "stats.html"
    )
    found = history.candidate_rows(rid, start)
    if found.trouble is not None:
        return Standings((), scope, page, found.trouble)
    return Standings(leaderboard(found.rows), scope, page)
