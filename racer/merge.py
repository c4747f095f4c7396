"""Landing the winner: squash a candidate onto the branch the race started from, then tidy up.

The result is computed with `git merge-tree` before anything moves, so a conflict or a clash with
the user's uncommitted changes leaves the repository exactly as it was.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from racer import faults, store
from racer import report as rpt
from racer.agents import STATE_FILES
from racer.checkout import dirty_files, is_lane_repo, lane_tip, seal
from racer.errors import GitError, RefusedError
from racer.git import git
from racer.pool import release
from racer.repo import branch_tip, delete_branch
from racer.status import RaceStatus, Status
from racer.store import BASELINE, RaceDir


@dataclass(frozen=True)
class MergeResult:
    commit: str
    branch: str
    files: tuple[str, ...]
    removed: tuple[str, ...]  # candidates whose worktree and branch were removed
    kept: tuple[str, ...]  # candidates kept because they hold work that would be lost
    rank: int | None = None  # the merged candidate's place in the ranking
    winner: str | None = None  # the ranking's winner (the person may pick another)

    def said(self, name: str) -> list[str]:
        """What `racer merge` prints: what landed where (and, when the person picked another
        than the ranking's winner, which it was), then what was removed or kept."""
        pick = f"#{self.rank} " if self.winner and self.winner != name else ""
        other = f"; the ranking's winner was {self.winner}" if pick else ""
        files = f"{len(self.files)} file{'' if len(self.files) == 1 else 's'}"
        lines = [f"merged {pick}{name} onto {self.branch} as {self.commit[:12]} ({files}){other}"]
        if self.removed:
            lines.append(
                f"removed worktrees and branches of: {', '.join(self.removed)} "
                "(diffs stay in the race record)"
            )
        if self.kept:
            lines.append(
                f"kept (they hold unrecorded work): {', '.join(self.kept)} — "
                "`racer clean --force` removes them"
            )
        return lines

    warnings: tuple[str, ...] = ()  # e.g. the history could not record the merge


def _checked_out_at(root: Path, branch: str) -> Path | None:
    out = git(["worktree", "list", "--porcelain"], root).stdout
    path: Path | None = None
    for line in out.splitlines():
        if line.startswith("worktree "):
            path = Path(line[len("worktree ") :])
        elif line == f"branch refs/heads/{branch}":
            return path
    return None


def commit_message(report: rpt.RaceReport, cand: rpt.Candidate) -> str:
    title = report.spec.get("title") or "racer change"
    body = cand.final_message.strip() if cand.final_message else ""
    lines = [title, ""]
    if body:
        lines += [body[:2000], ""]
    lines += [
        f"Racer-Race: {report.id}",
        f"Racer-Agent: {cand.agent}",
        f"Racer-Model: {cand.model or 'default'}",
    ]
    return "\n".join(lines) + "\n"


def _squash_tree(
    report: rpt.RaceReport, cand: rpt.Candidate, branch: str
) -> tuple[str, str, tuple[str, ...]]:
    """(target tip, merged tree, changed files) of squashing `cand` onto `branch`, computed
    with `git merge-tree` before anything moves; refuses conflicts and empty merges."""
    root, name = Path(report.repo), cand.name
    source = branch_tip(root, cand.branch) or cand.commit
    assert source is not None
    target_tip = branch_tip(root, branch)
    if not target_tip:
        raise GitError(
            f"branch {branch!r} no longer exists — recreate it or cherry-pick {cand.branch}"
        )
    # A three-way merge of the lane onto the branch; their merge base is the race's base commit
    # (or an ancestor of it), so the result is the squash of the candidate's changes.
    mt = git(
        ["merge-tree", "--write-tree", "--name-only", "--no-messages", target_tip, source],
        root,
        check=False,
    )
    if mt.returncode == 1:
        files = [f for f in mt.stdout.splitlines()[1:] if f.strip()]
        raise RefusedError(
            f"{name} conflicts with {branch} in: {', '.join(files)} — nothing was changed; "
            "resolve by hand or rerun the race on the current branch"
        )
    if mt.returncode != 0:
        raise GitError(f"git merge-tree failed: {mt.stderr.strip() or mt.returncode}")
    tree = mt.stdout.splitlines()[0].strip()
    changed = tuple(
        f for f in git(["diff", "--name-only", target_tip, tree], root).stdout.splitlines() if f
    )
    if not changed:
        raise RefusedError(f"{name}'s changes are already on {branch} — nothing to merge")
    return target_tip, tree, changed


def _check_mergeable(report: rpt.RaceReport, cand: rpt.Candidate, force: bool = False) -> str:
    """The branch to merge into; refuses a merged race, a detached start, an empty candidate."""
    if report.merged:
        raise RefusedError(
            f"race {report.id} was already merged ({report.merged.candidate}) — start a new race"
        )
    branch = report.base.get("branch")
    if not branch:
        raise RefusedError(
            "the race started on a detached HEAD, so there is no branch to merge into — "
            f"cherry-pick {cand.branch} yourself"
        )
    if cand.commit is None or cand.diffstat.files == 0:
        raise RefusedError(
            f"candidate {cand.name} has no changes to merge — pick another (`racer show`)"
        )
    if not cand.passed and not force:
        raise RefusedError(f"{cand.name} {why_not_passed(cand)} — pass --force to merge it anyway")
    return branch


def why_not_passed(cand: rpt.Candidate) -> str:
    """Why a candidate did not pass, in words: "failed its tests: 1 failed, 2 passed"."""
    if cand.status == Status.TESTS_FAILED and cand.tests is not None:
        return f"failed its tests: {cand.tests.detail()}"
    if cand.status == Status.ACCEPTANCE_FAILED and cand.acceptance is not None:
        a = cand.acceptance
        return f"failed the hidden acceptance tests: {a.passed}/{a.total} passed"
    if cand.status == Status.FLAGGED:
        kinds = ", ".join(sorted({f.kind for f in cand.flags if f.severity == "tamper"}))
        return f"has tamper flags ({kinds})"
    detail = f": {cand.error}" if cand.error else ""
    return f"did not pass ({cand.status}{detail})"


def merge_candidate(
    report: rpt.RaceReport, name: str, *, keep: bool = False, pool: int = 0, force: bool = False
) -> tuple[rpt.RaceReport, MergeResult]:
    """Squash `name` onto the race's branch; one that did not pass only with `force`."""
    cand = report.candidate(name)
    root = Path(report.repo)
    branch = _check_mergeable(report, cand, force)
    target_tip, tree, changed = _squash_tree(report, cand, branch)
    where = _checked_out_at(root, branch)
    if where is not None:
        touched = sorted(set(dirty_files(where) or ()) & set(changed))
        if touched:
            raise RefusedError(
                f"your uncommitted changes touch files {name} changes: {', '.join(touched)} — "
                "commit or stash them, then merge again; nothing was changed"
            )
    message = commit_message(report, cand)
    new = git(["commit-tree", tree, "-p", target_tip, "-F", "-"], root, input=message).stdout
    new = new.strip()
    # The intent comes first: a racer killed from here on is finished by `racer resume`.
    race_dir = RaceDir(Path(report.race_dir))
    intent = race_dir.merge_intent
    store.write_json(
        intent,
        {"candidate": name, "commit": new, "branch": branch, "from": target_tip, "keep": keep},
    )
    faults.checkpoint("merge-intent", race_dir.path)
    if where is not None:
        # A fast-forward keeps unrelated local changes and refuses (changing nothing) if it
        # would clobber one.
        ff = git(["merge", "--ff-only", "--quiet", new], where, check=False)
        if ff.returncode != 0:
            intent.unlink(missing_ok=True)
            why = (ff.stderr or ff.stdout).strip().splitlines()[-1]
            raise RefusedError(f"git refused to update {where}: {why} — nothing was changed")
    else:
        ref = f"refs/heads/{branch}"
        git(["update-ref", "-m", f"racer merge {name}", ref, new, target_tip], root)
    faults.checkpoint("merge-moved", race_dir.path)
    report = replace(
        report,
        merged=rpt.Merge(candidate=name, commit=new, branch=branch),
        status=RaceStatus.MERGED,
    )
    _save(report)
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    if not keep:
        report, removed, kept = remove_lanes(report, force=False, pool=pool)
    intent.unlink(missing_ok=True)
    rank = report.candidate(name).rank
    return report, MergeResult(new, branch, changed, removed, kept, rank, report.winner)


def _save(report: rpt.RaceReport) -> None:
    store.write_json(RaceDir(Path(report.race_dir)).record, rpt.to_dict(report))


def finish_interrupted_merge(
    report: rpt.RaceReport, pool: int = 0
) -> tuple[rpt.RaceReport, str] | None:
    """Complete a merge whose racer was killed midway; None when there was none.

    Either the branch moved (the merge landed: record it, tidy up) or it did not (nothing
    changed: forget the attempt). Returns the record and what happened, in words.
    """
    intent_path = RaceDir(Path(report.race_dir)).merge_intent
    try:
        intent = json.loads(intent_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    root = Path(report.repo)
    tip = branch_tip(root, intent["branch"])
    landed = tip is not None and (
        tip == intent["commit"]
        or git(["merge-base", "--is-ancestor", intent["commit"], tip], root, check=False).returncode
        == 0
    )
    if not landed:
        intent_path.unlink()
        return report, f"the merge of {intent['candidate']} had not landed; nothing was changed"
    if report.merged is None:
        merged = rpt.Merge(
            candidate=intent["candidate"], commit=intent["commit"], branch=intent["branch"]
        )
        report = replace(report, merged=merged, status=RaceStatus.MERGED)
        _save(report)
    kept: tuple[str, ...] = ()
    if not intent.get("keep"):
        report, _, kept = remove_lanes(report, force=False, pool=pool)
    intent_path.unlink()
    what = f"the merge of {intent['candidate']} onto {intent['branch']} is complete"
    if kept:
        what += f" (kept, they hold unrecorded work: {', '.join(kept)})"
    return report, what


def lane_work_at_risk(cand: rpt.Candidate, root: Path, base: str) -> str | None:
    """Why removing this lane would lose work racer has not recorded, or None."""
    wt = Path(cand.worktree)
    if wt.exists():
        if is_lane_repo(wt):
            seal(wt)  # status could run a filter an agent named
        dirty = dirty_files(wt, STATE_FILES)
        if dirty is None and (wt / ".git").exists():
            return f"git cannot read {wt} (its repository is damaged); look before removing it"
        if dirty:
            return f"uncommitted changes in {wt} ({', '.join(dirty[:3])})"
    main_tip = branch_tip(root, cand.branch)
    for tip in (main_tip, lane_tip(wt, cand.branch)):
        if tip and tip not in (base, cand.commit):
            return f"branch {cand.branch} has commits racer did not record"
    if cand.commit and cand.commit != base and main_tip != cand.commit and is_lane_repo(wt):
        return f"its work is only in {wt} (not yet in this repository) — `racer resume` collects it"
    return None


def risks(report: rpt.RaceReport) -> list[str | None]:
    """lane_work_at_risk of every candidate, in order; lanes are checked in parallel (each
    check is a `git status` of a whole checkout)."""
    root = Path(report.repo)
    base = str(report.base.get("commit"))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as ex:
        return list(ex.map(lambda c: lane_work_at_risk(c, root, base), report.candidates))


def remove_lanes(
    report: rpt.RaceReport, *, force: bool, pool: int = 0
) -> tuple[rpt.RaceReport, tuple[str, ...], tuple[str, ...]]:
    """Remove worktrees and branches; lanes with unrecorded work are kept unless force.
    Removed checkouts go to the pool of spares while it holds fewer than `pool`."""
    root = Path(report.repo)
    removed, kept = [], []
    at_risk = [None] * len(report.candidates) if force else risks(report)
    for cand, risk in zip(report.candidates, at_risk, strict=True):
        if risk:
            kept.append(cand.name)
            continue
        release(root, Path(cand.worktree), pool)
        delete_branch(root, cand.branch)
        removed.append(cand.name)
    if report.candidates and not kept:
        lanes_dir = Path(report.candidates[0].worktree).parent
        release(root, lanes_dir / BASELINE, pool)  # left by a killed racer; racer's own
        if lanes_dir.is_dir() and not any(lanes_dir.iterdir()):
            lanes_dir.rmdir()
    report = replace(report, cleaned=not kept)
    _save(report)
    return report, tuple(removed), tuple(kept)


def _lane_work(cand: rpt.Candidate, root: Path) -> str | None:
    return branch_tip(root, cand.branch) or lane_tip(Path(cand.worktree), cand.branch)


def unmerged_work(report: rpt.RaceReport) -> list[str]:
    """Reasons `racer clean` must refuse without --force."""
    root = Path(report.repo)
    base = str(report.base.get("commit"))
    problems = []
    for cand, risk in zip(report.candidates, risks(report), strict=True):
        if risk:
            problems.append(f"{cand.name}: {risk}")
        elif report.merged is None and _lane_work(cand, root) not in (None, base):
            problems.append(f"{cand.name}: work on {cand.branch} never merged")
    return problems
