"""Doctest examples as tests: what a change removed or rewrote, and the base's examples run
again (for real, with doctest) against a candidate's code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from racer import doctests

BASE = '''"""Words."""


def singularize(word):
    """Singular of a word.

    >>> singularize('chances')
    'chance'
    >>> singularize('Activities')
    'Activity'
    """
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1]
'''


def test_removed_and_rewritten_examples_are_lost_added_ones_are_not() -> None:
    removed = BASE.replace("    >>> singularize('chances')\n    'chance'\n", "")
    (lost,) = doctests.lost_examples(BASE, removed)
    assert (lost.example.owner, lost.example.source, lost.now) == (
        "singularize",
        "singularize('chances')",
        None,
    )
    rewritten = BASE.replace("'chance'", "'chanc'")
    (lost,) = doctests.lost_examples(BASE, rewritten)
    assert (lost.example.want, lost.now) == ("'chance'", "'chanc'")
    added = BASE.replace(
        '    """\n    if', "    >>> singularize('glass')\n    'glass'\n    \"\"\"\n    if", 1
    )
    assert list(doctests.lost_examples(BASE, added)) == []
    assert list(doctests.lost_examples("x = 1\n", "y = 2\n")) == []


def test_module_names() -> None:
    assert doctests.module_name("boltons/strutils.py") == "boltons.strutils"
    assert doctests.module_name("src/pkg/__init__.py") == "pkg"
    assert doctests.module_name("scripts/not-a-module.py") is None
    assert doctests.module_name("README.md") is None


def test_the_base_examples_run_against_the_candidates_code(tmp_path: Path) -> None:
    # The candidate broke 'chances' and deleted the example that showed it: the base's
    # example, run against its code, still fails.
    broken = BASE.replace("return word[:-1]", "return word[:-2]").replace(
        "    >>> singularize('chances')\n    'chance'\n", ""
    )
    (tmp_path / "words.py").write_text(broken)
    source = doctests.base_examples_test({"words.py": BASE})
    assert source is not None
    (tmp_path / doctests.GENERATED).write_text(source)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", doctests.GENERATED],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stdout
    assert "1 failed" in run.stdout and "singularize('chances')" in run.stdout
    (tmp_path / "words.py").write_text(BASE)
    again = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", doctests.GENERATED],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stdout
