"""Precision of the special-cases-the-tests flags on upstream history: detect_flags on the last
commits of real repositories that change product code (JavaScript/TypeScript, Go, Rust) and
test code together, the commit message as the spec, the parent's other test files as the base's
tests. Upstream work is honest, so every flagged commit is printed for a look.

Usage:
    python scripts/bench_overfit_history.py [--max N] GIT_DIR...

GIT_DIR is a (bare) git directory, e.g. one the `fetch` tool or `git clone --bare` made.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from racer import clike
from racer.flags import FileChange, detect_flags
from racer.testfiles import _lang, is_test_file

# The test files of the projects measured (ava's root test.js, test/ dirs, Go, jest/vitest).
PATTERNS = (
    "test.js",
    "test-*.js",
    "test/**",
    "tests/**",
    "*_test.go",
    "**/*.test.*",
    "**/__tests__/**",
)
MAX_FILES = 30  # bigger commits (releases, moves) are skipped
MAX_TEST_BYTES = 300_000


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", repo, *args], capture_output=True, text=True, check=False
    ).stdout


def _show(repo: str, rev: str, path: str) -> str | None:
    out = subprocess.run(
        ["git", "--git-dir", repo, "show", f"{rev}:{path}"], capture_output=True, check=False
    )
    if out.returncode:
        return None
    try:
        return out.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _flags(repo: str, rev: str) -> list[str] | None:
    """special_cases_tests flags of one commit (None: not a product + test change)."""
    names = _git(repo, "diff-tree", "--no-commit-id", "-r", "--name-only", f"{rev}^", rev).split()
    product = {_lang(n) for n in names if not is_test_file(n, PATTERNS)}
    if len(names) > MAX_FILES or not product & clike.LANGS:
        return None
    if not any(is_test_file(n, PATTERNS) for n in names):
        return None
    changes = []
    for name in names:
        before, after = _show(repo, f"{rev}^", name), _show(repo, rev, name)
        changes.append(FileChange(name, name if before is not None else None, before, after))
    base_tests = {}
    for name in _git(repo, "ls-tree", "-r", "--name-only", f"{rev}^").split():
        if name in names or not is_test_file(name, PATTERNS) or _lang(name) not in clike.LANGS:
            continue
        text = _show(repo, f"{rev}^", name)
        if text is not None and len(text) < MAX_TEST_BYTES:
            base_tests[name] = text
    spec = _git(repo, "log", "-1", "--format=%B", rev)
    flags = detect_flags(changes, test_patterns=PATTERNS, base_tests=base_tests, spec=spec)
    return [f"{f.file}: {f.detail}" for f in flags if f.kind == "special_cases_tests"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=400, help="commits per repository")
    parser.add_argument("repos", nargs="+", metavar="GIT_DIR")
    args = parser.parse_args()
    seen = flagged = 0
    for repo in args.repos:
        revs = _git(repo, "rev-list", "--no-merges", f"--max-count={args.max}", "HEAD").split()
        for rev in revs:
            found = _flags(repo, rev)
            if found is None:
                continue
            seen += 1
            if found:
                flagged += 1
                subject = _git(repo, "log", "-1", "--format=%s", rev).strip()[:70]
                print(json.dumps([repo, rev[:8], subject, found], ensure_ascii=False))
    print(f"commits changing product and test code: {seen}, flagged: {flagged}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
