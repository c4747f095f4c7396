"""The offline demo: a small sample project and four fake contestants of different quality.

No API key, no network: the fake agent plays scripted scenarios selected by its @model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from racer.git import git

SPEC = """\
---
title: Make slugify drop punctuation and collapse whitespace
agents: [fake@wrong, fake@churny, fake@minimal, fake@idle]
acceptance: ../../hidden/test_slug_hidden.py
review: fake@reviewer
---
# Make slugify drop punctuation and collapse whitespace

`textkit.slugify` should turn any text into a URL slug: lower-case words made of letters and
digits, joined by single hyphens. Punctuation disappears; runs of spaces collapse; no leading
or trailing hyphens. The tests in `tests/test_textkit.py` describe the behaviour.
"""

ORIGINAL = '''\
"""Small text helpers."""


def slugify(text: str) -> str:
    """Lower-case words joined by hyphens."""
    return text.lower().replace(" ", "-")
'''

TESTS = """\
from textkit import slugify


def test_simple():
    assert slugify("Hello World") == "hello-world"


def test_punctuation_is_dropped():
    assert slugify("Hello, World!") == "hello-world"


def test_runs_of_spaces_collapse():
    assert slugify("  many   spaces  ") == "many-spaces"
"""

# Hidden acceptance tests: they live outside the project, so no agent can see them; racer copies
# them into each worktree only after its agent has stopped.
HIDDEN = """\
from textkit import slugify


def test_digits_are_kept():
    assert slugify("R2D2 and C3PO") == "r2d2-and-c3po"


def test_hyphens_do_not_pile_up():
    assert slugify("well -- done") == "well-done"
"""

MINIMAL = '''\
"""Small text helpers."""

import re
import unicodedata


def slugify(text: str) -> str:
    """Lower-case words joined by hyphens."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", plain.lower()))
'''

CHURNY = '''\
"""Small text helpers.

This module provides helpers for working with text.
"""

import re
import string

_ALLOWED = set(string.ascii_lowercase + string.digits)


def _clean_char(char: str) -> str:
    """Return the character if it is allowed in a slug, else a space."""
    if char in _ALLOWED:
        return char
    return " "


def _words(text: str) -> list[str]:
    """Split text into slug words."""
    cleaned = "".join(_clean_char(c) for c in text.lower())
    return [w for w in re.split(r"\\s+", cleaned) if w]


def slugify(text: str) -> str:
    """Turn text into a URL slug.

    Lower-case words made of letters and digits, joined by single hyphens.
    """
    words = _words(text)
    slug = "-".join(words)
    return slug
'''

WRONG = '''\
"""Small text helpers."""

import re


def slugify(text: str) -> str:
    """Lower-case words joined by hyphens."""
    return re.sub(r"\\s+", "-", text.strip().lower())
'''

# The reviewer reads the two best diffs under blind labels; `label_of` finds which label each
# one got. One claim its test proves (accented letters are letters: churny drops them, minimal
# keeps them, so that test decides the race on evidence), one it cannot (digits are kept: not
# reproduced).
ACCENTS_TEST = """\
from textkit import slugify


def test_accented_letters_are_letters():
    assert slugify("Crème brûlée") == "creme-brulee"
"""
DIGITS_TEST = """\
from textkit import slugify


def test_digits_survive():
    assert slugify("Route 66") == "route-66"
"""
REVIEW = {
    "findings": [
        {
            "candidate": "@CHURNY@",
            "file": "textkit/__init__.py",
            "line": 9,
            "severity": "medium",
            "claim": "accented letters are dropped: slugify('Crème brûlée') gives 'cr-me-br-l-e'",
            "test": {"path": "tests/test_review_accents.py", "content": ACCENTS_TEST},
        },
        {
            "candidate": "@MINIMAL@",
            "file": "textkit/__init__.py",
            "line": 8,
            "severity": "high",
            "claim": "digits are dropped: slugify('Route 66') loses the 66",
            "test": {"path": "tests/test_review_digits.py", "content": DIGITS_TEST},
        },
    ],
    "summary": "both drop accented letters; the digits claim is for racer to check",
}

SCENARIOS = {
    "minimal": {
        "print": ["Read textkit/__init__.py", "Bash python -m pytest -q"],
        "sleep": 1.2,
        "write": {"textkit/__init__.py": MINIMAL},
        "say": "slugify now keeps only letter/digit runs joined by hyphens.",
        "tokens": {"input": 5200, "output": 310},
        "cost_usd": 0.0203,
    },
    "churny": {
        "print": ["Read textkit/__init__.py", "Write textkit/__init__.py"],
        "sleep": 1.6,
        "write": {"textkit/__init__.py": CHURNY},
        "say": "Rewrote slugify with helper functions for clarity.",
        "tokens": {"input": 7900, "output": 820},
        "cost_usd": 0.0360,
    },
    "wrong": {
        "print": ["Read textkit/__init__.py"],
        "sleep": 0.6,
        "write": {"textkit/__init__.py": WRONG},
        "say": "Whitespace is collapsed now. All done!",
        "tokens": {"input": 3100, "output": 140},
        "cost_usd": 0.0114,
    },
    "reviewer": {
        "print": ["Read .racer-review/A.diff", "Read .racer-review/B.diff"],
        "sleep": 0.5,
        "say": "Two findings.\n```json\n" + json.dumps(REVIEW, indent=1) + "\n```",
        "label_of": {"@CHURNY@": "_clean_char", "@MINIMAL@": "re.findall"},
        "tokens": {"input": 9100, "output": 420},
        "cost_usd": 0.0212,
    },
    "idle": {
        "print": ["Read textkit/__init__.py"],
        "sleep": 0.4,
        "say": "The code already looks correct to me.",
        "tokens": {"input": 2000, "output": 40},
        "cost_usd": 0.0066,
    },
}


def create_demo(where: Path) -> Path:
    """Write the sample project into where/project (a fresh git repo) and return its path."""
    project = where / "project"
    (project / "textkit").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "specs").mkdir()
    (where / "hidden").mkdir()
    (where / "hidden" / "test_slug_hidden.py").write_text(HIDDEN, encoding="utf-8")
    scenarios = where / "fake-scenarios.json"
    scenarios.write_text(json.dumps(SCENARIOS, indent=2), encoding="utf-8")
    (project / "textkit" / "__init__.py").write_text(ORIGINAL, encoding="utf-8")
    (project / "tests" / "test_textkit.py").write_text(TESTS, encoding="utf-8")
    (project / "specs" / "slugify.md").write_text(SPEC, encoding="utf-8")
    (project / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n", encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "textkit"\nversion = "0.1.0"\n\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
        encoding="utf-8",
    )
    (project / "racer.toml").write_text(
        f"test = {json.dumps(sys.executable + ' -m pytest -q')}\n"
        'worktree_root = "../worktrees"\n'
        "timeout = 60\n\n"
        "[agents.fake]\n"
        f"env = {{ RACER_FAKE = {json.dumps(str(scenarios))} }}\n",
        encoding="utf-8",
    )
    git(["init", "--quiet", "--initial-branch=main"], project)
    git(["config", "user.name", "racer demo"], project)
    git(["config", "user.email", "demo@racer.invalid"], project)
    git(["add", "-A"], project)
    git(["commit", "--quiet", "--no-verify", "-m", "textkit: a slugify that needs work"], project)
    return project
