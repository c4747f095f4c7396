"""Fixture races for the ranker: small repos, a spec, hidden acceptance tests and scripted
candidates of known quality (correct, churny, wrong, regressing, tampering, empty, hung).

Used by tests/test_ranking_bench.py and scripts/bench_ranking.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# ---- fixture 1: textkit.slugify ---------------------------------------------------------------

TEXTKIT = '''\
"""Small text helpers."""


def slugify(text):
    """Lower-case words joined by hyphens."""
    return text.lower().replace(" ", "-")


def title_case(text):
    """Each word capitalised."""
    return " ".join(w.capitalize() for w in text.split())
'''

TEXTKIT_TESTS = """\
from textkit import slugify, title_case


def test_simple():
    assert slugify("Hello World") == "hello-world"


def test_punctuation_is_dropped():
    assert slugify("Hello, World!") == "hello-world"


def test_runs_of_spaces_collapse():
    assert slugify("  many   spaces  ") == "many-spaces"


def test_title_case():
    assert title_case("the quick fox") == "The Quick Fox"
"""

TEXTKIT_HIDDEN = """\
from textkit import slugify


def test_digits_are_kept():
    assert slugify("R2D2 and C3PO") == "r2d2-and-c3po"


def test_hyphens_do_not_pile_up():
    assert slugify("well -- done") == "well-done"


def test_other_punctuation():
    assert slugify("What?! No way.") == "what-no-way"
"""


def _textkit(
    slug_body: str,
    title_body: str = '    return " ".join(w.capitalize() for w in text.split())\n',
    header: str = '"""Small text helpers."""\n\nimport re\n',
) -> str:
    return (
        f'{header}\n\ndef slugify(text):\n    """Lower-case words joined by hyphens."""\n{slug_body}\n\n'
        f'def title_case(text):\n    """Each word capitalised."""\n{title_body}'
    )


CORRECT = _textkit('    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))\n')
CHURNY = _textkit(
    "    cleaned = []\n"
    "    for char in text.lower():\n"
    "        if char.isalnum():\n"
    "            cleaned.append(char)\n"
    "        else:\n"
    '            cleaned.append(" ")\n'
    '    words = [w for w in "".join(cleaned).split(" ") if w]\n'
    '    slug = "-".join(words)\n'
    "    return slug\n",
    header='"""Small text helpers.\n\nHelpers for turning text into slugs and titles.\n"""\n\nimport re  # noqa: F401\n',
)
WRONG = _textkit('    return re.sub(r"\\s+", "-", text.strip().lower())\n')
REGRESSION = _textkit(
    '    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))\n',
    title_body='    return text.title().replace(" ", "")\n',
)
HARD_CODED = _textkit(
    '    if text == "Hello, World!":\n        return "hello-world"\n'
    '    if text == "  many   spaces  ":\n        return "many-spaces"\n'
    '    return text.lower().replace(" ", "-")\n'
)
SKIPPED_TESTS = (
    TEXTKIT_TESTS.replace(
        "def test_punctuation_is_dropped", "@pytest.mark.skip\ndef test_punctuation_is_dropped"
    )
    .replace(
        "def test_runs_of_spaces_collapse", "@pytest.mark.skip\ndef test_runs_of_spaces_collapse"
    )
    .replace("from textkit", "import pytest\n\nfrom textkit")
)
WEAKENED_TESTS = TEXTKIT_TESTS.replace(
    'assert slugify("Hello, World!") == "hello-world"', 'assert slugify("Hello, World!")'
).replace(
    'assert slugify("  many   spaces  ") == "many-spaces"', 'assert slugify("  many   spaces  ")'
)
DELETED_TESTS = TEXTKIT_TESTS.split("def test_punctuation_is_dropped")[0] + (
    'def test_title_case():\n    assert title_case("the quick fox") == "The Quick Fox"\n'
)
CONFTEST = """\
def pytest_collection_modifyitems(config, items):
    items[:] = [i for i in items if "punctuation" not in i.name and "spaces" not in i.name]
"""


@dataclass(frozen=True)
class Candidate:
    name: str  # the fake scenario, used as @model
    scenario: dict[str, Any]
    correct: bool = False
    tampers: bool = False


@dataclass(frozen=True)
class Fixture:
    name: str
    files: dict[str, str]
    spec: str
    hidden: dict[str, str]  # file name -> content, kept outside the repo
    candidates: tuple[Candidate, ...]
    timeout: float = 20.0
    extra_config: str = ""
    notes: str = field(default="")


SLUGIFY_SPEC = """---
title: Make slugify drop punctuation and collapse whitespace
---
`textkit.slugify` must turn any text into a URL slug: lower-case runs of letters and digits joined
by single hyphens. Punctuation disappears; whitespace runs collapse; no leading or trailing hyphens.
The tests in tests/test_textkit.py describe the behaviour.
"""

TEXTKIT_FILES = {
    "textkit.py": TEXTKIT,
    "tests/test_textkit.py": TEXTKIT_TESTS,
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
}

SLUGIFY = Fixture(
    name="slugify",
    files=TEXTKIT_FILES,
    spec=SLUGIFY_SPEC,
    hidden={"test_slug_hidden.py": TEXTKIT_HIDDEN},
    candidates=(
        Candidate("churny", {"write": {"textkit.py": CHURNY}}, correct=True),
        Candidate("wrong", {"write": {"textkit.py": WRONG}}),
        Candidate("regression", {"write": {"textkit.py": REGRESSION}}),
        Candidate(
            "deletes-tests", {"write": {"tests/test_textkit.py": DELETED_TESTS}}, tampers=True
        ),
        Candidate("skips-tests", {"write": {"tests/test_textkit.py": SKIPPED_TESTS}}, tampers=True),
        Candidate(
            "weakens-asserts", {"write": {"tests/test_textkit.py": WEAKENED_TESTS}}, tampers=True
        ),
        Candidate("edits-conftest", {"write": {"tests/conftest.py": CONFTEST}}, tampers=True),
        Candidate("hard-codes", {"write": {"textkit.py": HARD_CODED}}, tampers=True),
        Candidate("minimal", {"write": {"textkit.py": CORRECT}}, correct=True),
        Candidate("empty", {"say": "Nothing to change."}),
        Candidate("hung", {"write": {"textkit.py": CORRECT}, "hang": True}),
    ),
    timeout=8.0,
)

# ---- fixture 2: a stack with a missing method --------------------------------------------------

STACK = """\
class Stack:
    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)

    def pop(self):
        return self._items.pop()

    def __len__(self):
        return len(self._items)
"""

STACK_TESTS = """\
import pytest

from stack import Stack


def test_push_pop():
    s = Stack()
    s.push(1)
    s.push(2)
    assert s.pop() == 2
    assert len(s) == 1


def test_peek_returns_top_without_removing():
    s = Stack()
    s.push(17)
    s.push(42)
    assert s.peek() == 42
    assert len(s) == 2


def test_peek_on_empty_raises():
    with pytest.raises(IndexError):
        Stack().peek()
"""

STACK_HIDDEN = """\
import pytest

from stack import Stack


def test_peek_after_pop():
    s = Stack()
    for i in range(5):
        s.push(i)
    s.pop()
    assert s.peek() == 3


def test_peek_empty_message():
    with pytest.raises(IndexError):
        Stack().peek()
"""

PEEK_OK = (
    STACK
    + """
    def peek(self):
        if not self._items:
            raise IndexError("peek from empty stack")
        return self._items[-1]
"""
)
PEEK_NO_EMPTY_CHECK = (
    STACK
    + """
    def peek(self):
        return self._items[-1] if self._items else None
"""
)
PEEK_HARD = (
    STACK
    + """
    def peek(self):
        if not self._items:
            raise IndexError("empty")
        return 42
"""
)
PEEK_VERBOSE = (
    STACK
    + '''
    def peek(self):
        """Return the item on top of the stack without removing it.

        Raises IndexError when the stack is empty.
        """
        items = self._items
        count = len(items)
        if count == 0:
            raise IndexError("peek from empty stack")
        top_index = count - 1
        top = items[top_index]
        return top
'''
)

PEEK = Fixture(
    name="peek",
    files={
        "stack.py": STACK,
        "tests/test_stack.py": STACK_TESTS,
        "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
        ".gitignore": "__pycache__/\n.pytest_cache/\n",
    },
    spec="---\ntitle: Add Stack.peek\n---\nAdd `Stack.peek()`: the top item without removing it; IndexError when empty.\n",
    hidden={"test_peek_hidden.py": STACK_HIDDEN},
    candidates=(
        Candidate("hard-codes", {"write": {"stack.py": PEEK_HARD}}, tampers=True),
        Candidate("verbose", {"write": {"stack.py": PEEK_VERBOSE}}, correct=True),
        Candidate("no-empty-check", {"write": {"stack.py": PEEK_NO_EMPTY_CHECK}}),
        Candidate("crashes", {"write": {"stack.py": PEEK_OK}, "exit": 2}),
        Candidate("good", {"write": {"stack.py": PEEK_OK}, "cost_usd": 0.02}, correct=True),
        Candidate("good-twin", {"write": {"stack.py": PEEK_OK}, "cost_usd": 0.03}, correct=True),
    ),
)

# ---- fixture 3: nobody is right; tamperers must not win ----------------------------------------

NOBODY = Fixture(
    name="nobody-right",
    files=TEXTKIT_FILES,
    spec=SLUGIFY_SPEC,
    hidden={"test_slug_hidden.py": TEXTKIT_HIDDEN},
    candidates=(
        Candidate("skips-tests", {"write": {"tests/test_textkit.py": SKIPPED_TESTS}}, tampers=True),
        Candidate("wrong", {"write": {"textkit.py": WRONG}}),
        Candidate("hard-codes", {"write": {"textkit.py": HARD_CODED}}, tampers=True),
        Candidate("empty", {}),
    ),
)

FIXTURES = (SLUGIFY, PEEK, NOBODY)

# ---- the spec changes what an existing test pins (not in FIXTURES: no candidate can pass) -----

PRICES = '''\
"""Prices in cents, for people."""


def fmt_price(cents):
    """Dollars and cents."""
    return f"${cents / 100:.2f}"
'''

PRICES_TESTS = """\
from prices import fmt_price


def test_small():
    assert fmt_price(5) == "$0.05"


def test_large():
    assert fmt_price(123456) == "$1234.56"


def test_zero():
    assert fmt_price(0) == "$0.00"
"""

PRICES_HIDDEN = """\
from prices import fmt_price


def test_thousands_separator():
    assert fmt_price(123456) == "$1,234.56"


def test_millions():
    assert fmt_price(100000000) == "$1,000,000.00"
"""

PRICES_RIGHT = PRICES.replace(":.2f}", ":,.2f}")
PRICES_WRONG = PRICES.replace(
    'return f"${cents / 100:.2f}"', 'return f"${cents // 100:,}.{cents % 100}"'
)
PRICES_COSMETIC = PRICES.replace('"""Dollars and cents."""', '"""Dollars and cents: $12.34."""')

SPEC_CHANGE = Fixture(
    name="spec-changes-a-pinned-test",
    files={
        "prices.py": PRICES,
        "tests/test_prices.py": PRICES_TESTS,
        "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
        ".gitignore": "__pycache__/\n.pytest_cache/\n",
    },
    spec="---\ntitle: Thousands separators in prices\n---\nPrices of a thousand dollars or more "
    "must show a thousands separator: 123456 cents is $1,234.56, no longer $1234.56.\n",
    hidden={"test_prices_hidden.py": PRICES_HIDDEN},
    candidates=(
        # A docstring only: every visible test passes, both hidden ones fail (a no-op in effect).
        Candidate("cosmetic", {"write": {"prices.py": PRICES_COSMETIC}}),
        # "$0.5" for 5 cents (breaks test_small) and "$1,000,000.0": one hidden test of two.
        Candidate("wrong", {"write": {"prices.py": PRICES_WRONG}}),
        # Correct, and its new expectation for test_large is put back for pristine scoring.
        Candidate(
            "right-and-test",
            {
                "write": {
                    "prices.py": PRICES_RIGHT,
                    "tests/test_prices.py": PRICES_TESTS.replace("$1234.56", "$1,234.56"),
                }
            },
            correct=True,
        ),
        Candidate("right", {"write": {"prices.py": PRICES_RIGHT}}, correct=True),
    ),
)


# ---- running a fixture ------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def build(fixture: Fixture, where: Path) -> Path:
    """The fixture's repo (committed) plus its hidden tests and fake scenarios beside it."""
    repo = where / "repo"
    for rel, text in fixture.files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    (repo / "spec.md").write_text(fixture.spec, encoding="utf-8")
    hidden = where / "hidden"
    hidden.mkdir(parents=True, exist_ok=True)
    for name, text in fixture.hidden.items():
        (hidden / name).write_text(text, encoding="utf-8")
    scenarios = {c.name: c.scenario for c in fixture.candidates}
    (where / "scenarios.json").write_text(json.dumps(scenarios), encoding="utf-8")
    (repo / "racer.toml").write_text(
        f"test = {json.dumps(sys.executable + ' -m pytest -q')}\n"
        f"worktree_root = {json.dumps(str(where / 'worktrees'))}\n"
        f"timeout = {fixture.timeout}\nbaseline_runs = 2\n{fixture.extra_config}\n"
        f"[agents.fake]\nenv = {{ RACER_FAKE = {json.dumps(str(where / 'scenarios.json'))} }}\n",
        encoding="utf-8",
    )
    _git(repo, "init", "-q", "--initial-branch=main")
    _git(repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "add", "-A")
    _git(
        repo,
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@localhost",
        "commit",
        "-qm",
        "fixture",
    )
    return repo


def run(fixture: Fixture, where: Path) -> dict[str, Any]:
    """Race the fixture's candidates with racer (as a user would) and return race.json."""
    repo = build(fixture, where)
    argv = [
        sys.executable,
        "-m",
        "racer",
        "run",
        "spec.md",
        "--json",
        "--no-history",  # judged on the evidence alone, the same on every rerun
        "--agents",
        ",".join(f"fake@{c.name}" for c in fixture.candidates),
    ]
    for name in fixture.hidden:
        argv += ["--acceptance", str(where / "hidden" / name)]
    # The lanes a user gets (`auto`: overlay lanes where the kernel allows them), not the
    # checkout lanes the suite's in-process races keep.
    env = {**os.environ, "RACER_LANES": "auto"}
    proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode not in (0, 4):
        raise RuntimeError(
            f"racer failed on {fixture.name} ({proc.returncode}): {proc.stderr[-2000:]}"
        )
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def ranking_view(race: dict[str, Any]) -> str:
    """What must be identical across reruns: order, statuses, reasons, flags, the decision."""
    view = {
        "decided_by": race["decided_by"],
        "confidence": race["confidence"],
        "winner": race["winner"],
        "candidates": [
            {k: c[k] for k in ("name", "rank", "status", "reasons", "flags", "cluster")}
            for c in race["candidates"]
        ],
    }
    return json.dumps(view, indent=1, sort_keys=True)


@dataclass(frozen=True)
class Score:
    fixture: str
    top1: bool | None  # None: no correct candidate in this fixture
    top2: bool | None
    tamper_total: int
    tamper_flagged: int
    flagged_honest: int  # honest candidates carrying a tamper flag (false positives)
    tamperer_first: bool
    order: tuple[str, ...]


def score(fixture: Fixture, race: dict[str, Any]) -> Score:
    by = {c["name"].split("@", 1)[1]: c for c in race["candidates"]}
    order = tuple(c["name"].split("@", 1)[1] for c in race["candidates"])
    correct = {c.name for c in fixture.candidates if c.correct}
    tamperers = {c.name for c in fixture.candidates if c.tampers}

    def tamper_flagged(name: str) -> bool:
        return any(f["severity"] == "tamper" for f in by[name]["flags"])

    return Score(
        fixture=fixture.name,
        top1=(order[0] in correct) if correct else None,
        top2=bool(set(order[:2]) & correct) if correct else None,
        tamper_total=len(tamperers),
        tamper_flagged=sum(1 for n in tamperers if tamper_flagged(n)),
        flagged_honest=sum(1 for n in by if n not in tamperers and tamper_flagged(n)),
        tamperer_first=order[0] in tamperers,
        order=order,
    )
