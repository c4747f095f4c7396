"""Run in a child process by tests/test_overlay.py (it enters a mount namespace, which a pytest
process with threads cannot): each change of CORPUS made in an overlay lane and in a checkout
lane of the same base, both committed by racer, then a test run's leftovers (TESTS_LEFT) put
back by racer's reset; prints {name: [[overlay tree, checkout tree], [overlay status after the
reset, checkout status]]}.

argv: repo root, worktree root.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from racer import checkout, overlay, scoring, upper
from racer.agents import STATE_FILES

IDENTITY = "git -c user.name=agent -c user.email=agent@localhost"

# name → shell commands run in the lane (as an agent would)
CORPUS = {
    "nothing": "true",
    "new file": "echo new > new.txt",
    "changed file": "echo more >> a.txt",
    "deleted file": "rm a.txt",
    "deleted dir": "rm -r dir",
    "emptied dir": "rm dir/*",
    "renamed file": "mv a.txt renamed.txt",
    "renamed dir": "mv dir dir2",
    "made executable": "chmod +x a.txt",
    "not executable": "chmod -x run.sh",
    "new symlink": "ln -s a.txt link2",
    "retargeted symlink": "rm link && ln -s dir/b.txt link",
    "file to symlink": "rm a.txt && ln -s dir a.txt",
    "symlink to file": "rm link && echo plain > link",
    "file replaced by dir": "rm a.txt && mkdir a.txt && echo x > a.txt/inner",
    "dir replaced by file": "rm -r dir && echo f > dir",
    "opaque dir": "rm -r dir && mkdir dir && echo n > dir/new.txt",
    "binary": "printf '\\000\\001\\377' > new.bin && printf '\\377\\376' >> bin.dat",
    "ignored": "echo x > debug.log && mkdir -p build/sub && echo y > build/sub/z",
    "new package": "mkdir -p pkg/__pycache__ pkg/sub && echo 1 > pkg/mod.py "
    "&& echo c > pkg/__pycache__/m.pyc && echo s > pkg/sub/s.py",
    "tracked ignored file": "echo z >> keep.log",
    "agent state files": "echo h > .aider.chat.history.md && echo q > dir/.aider.tags",
    "odd names": "echo u > 'sp ace é.txt' && mkdir 'd ir' && echo v > 'd ir/x'",
    "eol attribute": "printf 'a\\r\\nb\\r\\n' > new.crlf && printf 'c\\r\\n' >> old.crlf",
    "agent commits": f"echo one > a.txt && git add -A && {IDENTITY} commit -qm agent "
    "&& echo after > after.txt",
    "agent commits a deletion": f"git rm -q dir/b.txt && {IDENTITY} commit -qm gone",
    "staged then reverted": "cp a.txt .git/a-copy && echo s > a.txt && git add a.txt "
    "&& cp .git/a-copy a.txt",
    "staged removal kept": "git rm -q --cached dir/c.txt",
    "deep": "mkdir -p dir/deep/er && echo d > dir/deep/er/f && rm dir/b.txt",
}


# What a test run (and racer's pristine restore) leaves in a lane before racer resets it.
TESTS_LEFT = (
    "(echo dirty >> a.txt; echo stray > stray.txt; mkdir -p tests/__pycache__ newdir/sub; "
    "echo c > tests/__pycache__/x.pyc; echo log > run.log; echo n > newdir/sub/f; "
    'git checkout "$BASE" -- dir/b.txt; rm -f run.sh; echo d > dir/extra; '
    # the restore removes test files the lane added: files its commit has and the base has not
    "rm -f new.txt renamed.txt pkg/mod.py dir2/b.txt link2 'd ir/x') 2>/dev/null; true"
)


# After a reset, the one change a test run makes: a file rewritten to the same size and mtime (in
# the lanes whose agent changed it, a file of the upper layer already): only its ctime tells.
SNEAKY = (
    "(cp -p a.txt .git/a-copy && tr a-z A-Z < .git/a-copy > a.txt && touch -r .git/a-copy a.txt)"
    " 2>/dev/null; true"
)


def _lane(common: Path, wt_root: Path, name: str, kind: str, head: str) -> Path:
    lane = wt_root / "race" / f"{kind}-{abs(hash(name))}"
    if kind == "overlay":
        overlay.check_out(common, wt_root, lane, f"racer/{kind}", head)
    else:
        checkout.create_lane_repo(common, lane, f"racer/{kind}", head)
        checkout.populate_worktree(lane)
    return lane


def _git(lane: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=lane, capture_output=True, text=True, check=True
    ).stdout.strip()


def _counting(step: Callable[[], object]) -> tuple[object, list[str]]:
    """(what `step` returns, the git commands racer's upper layer code ran in it)."""
    real, calls = upper.git, []

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(str(args[0][0]))  # type: ignore[index]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    upper.git = counted  # type: ignore[assignment]
    try:
        return step(), calls
    finally:
        upper.git = real


def _gits_in_reset(lane: Path, tip: str) -> int:
    """How many git commands racer's reset of an overlay lane runs (-1: a checkout lane)."""
    if not upper.is_overlay(lane):
        scoring.reset_checkout(lane, tip)
        return -1
    return len(_counting(lambda: scoring.reset_checkout(lane, tip))[1])


def _after(
    lane: Path, script: str, common: Path, head: str
) -> tuple[str, str, list[object], list[int], int]:
    """(the tree racer committed, `git status` once racer has reset a test run's leftovers,
    what racer finds uncommitted before and after the commit: how many, and which — git status
    quotes odd names, so only plain ones are compared by name —, the git commands of a reset
    right after the commit and of a second reset after the first, the `git diff-index` runs of
    racer's commit)."""
    subprocess.run(["/bin/sh", "-c", script], cwd=lane, check=True, capture_output=True)
    before = checkout.dirty_files(lane, STATE_FILES) or []
    made, gits = _counting(
        lambda: checkout.commit_all(lane, "racer: work", STATE_FILES, None, common)
    )
    tip = str(made)
    after = checkout.dirty_files(lane, STATE_FILES)
    names = set(before)  # git status may list a path twice (staged, then untracked)
    plain = sorted(p for p in names if re.fullmatch(r"[\w./-]+", p))
    dirty: list[object] = [len(names), plain, after]
    tree = _git(lane, "rev-parse", f"{tip}^{{tree}}")
    untouched = _gits_in_reset(lane, tip)
    env = {**os.environ, "BASE": head}
    subprocess.run(["/bin/sh", "-c", TESTS_LEFT], cwd=lane, check=True, env=env)
    scoring.reset_checkout(lane, tip)
    again = _gits_in_reset(lane, tip)
    subprocess.run(["/bin/sh", "-c", SNEAKY], cwd=lane, check=True)
    scoring.reset_checkout(lane, tip)  # (git status, next, writes the index anew)
    status = _git(lane, "status", "--porcelain", "--ignored", "--untracked-files=all")
    moved = _git(lane, "rev-parse", "HEAD") != tip
    diffs = gits.count("diff-index") if upper.is_overlay(lane) else -1
    return tree, status + ("\nHEAD moved" if moved else ""), dirty, [untouched, again], diffs


def main() -> None:
    root, wt_root = Path(sys.argv[1]), Path(sys.argv[2])
    common = root / ".git"
    head = _git(root, "rev-parse", "HEAD")
    overlay.enter()
    found = {}
    for name, script in CORPUS.items():
        runs = [
            _after(_lane(common, wt_root, name, kind, head), script, common, head)
            for kind in ("overlay", "checkout")
        ]
        found[name] = [[r[i] for r in runs] for i in range(5)]
    print(json.dumps(found))


if __name__ == "__main__":
    main()
