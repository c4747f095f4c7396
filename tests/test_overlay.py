"""Overlay lanes (racer.overlay, racer.upper): one base checkout, a writable layer per lane in a
mount namespace of racer's own, and commits made from the upper layer alone — the same trees
as the checkout path makes, a race whose lanes are overlays, and what remains when racer dies.

Overlay needs Linux and a mount namespace; each test that needs one runs racer (or the corpus
helper) as a child process, since the namespace is entered for a whole process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.repos import CORRECT, Project, git, make_repo, race_json

from racer import overlay

HERE = Path(__file__).resolve().parent
SRC = HERE.parent


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(SRC), str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


def _needs_overlay(where: Path) -> None:
    why = overlay.unavailable(where)
    if why is not None:
        pytest.skip(f"overlay lanes unavailable here: {why}")


BASE = {
    "a.txt": "alpha\n",
    "run.sh": "#!/bin/sh\necho hi\n",
    "dir/b.txt": "beta\n",
    "dir/c.txt": "gamma\n",
    "old.crlf": "x\n",
    ".gitignore": "*.log\nbuild/\n__pycache__/\n",
    ".gitattributes": "*.crlf text eol=lf\n",
}


def _corpus_repo(root: Path) -> Path:
    make_repo(root, BASE, commit=False)
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("a.txt")
    (root / "bin.dat").write_bytes(b"\x00\x01\x02")
    (root / "keep.log").write_text("tracked though ignored\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "add", "-f", "keep.log")
    git(root, "commit", "--quiet", "-m", "base")
    return root


def test_overlay_commits_make_the_same_trees_as_checkouts(tmp_path: Path) -> None:
    repo = _corpus_repo(tmp_path / "repo")
    wt_root = tmp_path / "worktrees"
    wt_root.mkdir()
    _needs_overlay(wt_root)
    child = subprocess.run(
        [sys.executable, str(HERE / "helpers" / "overlay_corpus.py"), str(repo), str(wt_root)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert child.returncode == 0, child.stderr
    found = json.loads(child.stdout)
    base_tree = git(repo, "rev-parse", "HEAD^{tree}")
    assert found["nothing"] == [base_tree, base_tree]
    differ = {name: trees for name, trees in found.items() if trees[0] != trees[1]}
    assert not differ
    # every change but these changed the tree: the corpus tests something
    same = {name for name, trees in found.items() if trees[0] == base_tree}
    assert same == {
        "nothing",
        "staged then reverted",
        "staged removal kept",
        "ignored",
        "agent state files",
    }
