"""The reviewer's and the test writer's contract, pure: blind labels, the prompts, reading the
JSON they answer with, and what a finding's test did on the base and on each candidate.

Nothing here runs anything: racer.reviewing runs the agents and the tests.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from racer.report import Finding, GeneratedTest, ReviewTest
from racer.status import Verification
from racer.testfiles import is_test_file

MAX_FINDINGS = 10
MAX_TESTS = 10
MAX_TEST_BYTES = 64 * 1024
MAX_PROMPT_DIFF_BYTES = 80_000  # bytes of all diffs: one argv string stays under Linux's 128 KiB
SEVERITIES = ("high", "medium", "low")
REVIEW_DIR = ".racer-review"  # full diffs for the reviewer, in its (discarded) checkout
_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.S)
_OBJECT_START = re.compile(r'\{\s*"')  # an object with a key


class ContractError(ValueError):
    """The answer does not follow the contract: the review or the tests are unusable."""


def labels_for(race_id: str, names: Sequence[str]) -> dict[str, str]:
    """Label (A, B, …) → candidate, in an order derived from the race id: blind, yet stable."""
    order = sorted(names, key=lambda n: hashlib.sha256(f"{race_id}\0{n}".encode()).hexdigest())
    return {chr(ord("A") + i): name for i, name in enumerate(order[:26])}


# --- prompts ---------------------------------------------------------------------------------

_REVIEW_RULES = """\
You are reviewing candidate solutions to a coding task. Independent authors each changed the
same base commit; their diffs are below, labelled {labels}. The current directory is a checkout
of the base commit: read any file you need. Anything you change here is discarded.

Report real defects only: behaviour that contradicts the task, wrong results, crashes, edge
cases the task implies, security holes. No style, naming, formatting or documentation remarks.
At most {max_findings} findings; none is a fine answer when the candidates are right.

For each finding give the candidate's label, the file and line in that candidate's version,
a severity (high, medium or low), the claim in one sentence, and wherever you can a test that
FAILS on that candidate because of the defect and passes on a correct solution: a complete
test file (path under the project's tests, named like tests/test_review_<topic>.py, at most
64 KB) that imports the code as the project's own tests do.

Your final message must contain exactly one JSON object of this shape (bare, or in a ```json
fence), and nothing may follow it:
{example}
"""

_REVIEW_EXAMPLE = {
    "findings": [
        {
            "candidate": "A",
            "file": "calc/ops.py",
            "line": 9,
            "severity": "high",
            "claim": "safe_div floors: safe_div(7, 2) returns 3, the task asks for 3.5",
            "test": {
                "path": "tests/test_review_safe_div.py",
                "content": "from calc.ops import safe_div\n\n\ndef test_true_division():\n"
                "    assert safe_div(7, 2) == 3.5\n",
            },
        }
    ],
    "summary": "one line",
}

_WRITER_RULES = """\
You write acceptance tests for a coding task before anyone solves it. The current directory is
a checkout of the project as it is now: read any file you need; anything you change here is
discarded. Write tests that check what the task asks for: each must fail on the project as it is
now (the behaviour is new) and pass once the task is done right. Test behaviour the task states;
do not guess at names or details it leaves open. At most {max_tests} test files, each complete
(imports included, at most 64 KB), under the project's tests, named like tests/test_accept_<topic>.py.

Your final message must contain exactly one JSON object of this shape (bare, or in a ```json
fence), and nothing may follow it:
{example}
"""

_WRITER_EXAMPLE = {
    "tests": [
        {
            "path": "tests/test_accept_safe_div.py",
            "content": "from calc.ops import safe_div\n\n\ndef test_true_division():\n"
            "    assert safe_div(7, 2) == 3.5\n",
        }
    ]
}


def _task(title: str, body: str) -> str:
    return f"# Task: {title}\n\n{body.strip()}\n"


def review_prompt(title: str, body: str, diffs: Mapping[str, str]) -> str:
    """The reviewer's prompt: rules, the task, each labelled diff (cut to fit: the full diffs are
    in .racer-review/<label>.diff in its checkout)."""
    labels = ", ".join(diffs)
    rules = _REVIEW_RULES.format(
        labels=labels,
        max_findings=MAX_FINDINGS,
        example=json.dumps(_REVIEW_EXAMPLE, indent=2),
    )
    share = MAX_PROMPT_DIFF_BYTES // max(len(diffs), 1)
    parts = [rules, _task(title, body), "# Candidates\n"]
    for label, diff in diffs.items():
        # Linux's limit is on bytes: a character of a non-ASCII diff takes up to 4.
        raw = diff.encode("utf-8", "replace")
        size = len(raw)
        shown = diff if size <= share else raw[:share].decode("utf-8", "ignore")
        cut = (
            ""
            if shown is diff
            else f"\n(cut at {share} of {size} bytes: the whole diff is in "
            f"{REVIEW_DIR}/{label}.diff)\n"
        )
        parts.append(f"## Candidate {label}\n\n```diff\n{shown.rstrip()}\n```\n{cut}")
    return "\n".join(parts)


def writer_prompt(title: str, body: str) -> str:
    rules = _WRITER_RULES.format(max_tests=MAX_TESTS, example=json.dumps(_WRITER_EXAMPLE, indent=2))
    return "\n".join([rules, _task(title, body)])


# --- reading the answer ------------------------------------------------------------------------


def last_object_with(text: str, key: str, *, tries: int = 4000) -> dict[str, object] | None:
    """The last JSON object in `text` (bare or fenced) that has `key` at its top level.

    An object nested in another one that has `key` too is not mistaken for the answer; garbage
    (deep nesting, thousands of braces) gives None, never an exception."""
    decoder = json.JSONDecoder()
    fenced: tuple[int, int, dict[str, object]] | None = None
    for match in _FENCE.finditer(text):
        try:
            obj = json.loads(match.group(1))
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict) and key in obj:
            fenced = (match.start(1), match.end(1), obj)
    # An object with `key` starts `{"` before some `"key":`; a `{` anywhere else starts none
    # (and failed decodes are costly: each error counts the lines before it).
    keys = [m.start() for m in re.finditer(rf'"{re.escape(key)}"\s*:', text)]
    starts = [m.start() for m in _OBJECT_START.finditer(text, 0, keys[-1] + 1)] if keys else []
    found: tuple[int, int, dict[str, object]] | None = None
    for start in reversed(starts[-tries:]):
        if fenced is not None and start < fenced[0]:
            break  # the fenced object is later than anything from here on
        if found is not None and _top_level(text, found[0]):
            break  # nothing earlier can enclose it
        try:
            obj, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        # Earlier than the one found: it only counts when it encloses it (outer beats nested).
        if isinstance(obj, dict) and key in obj and (found is None or end > found[0]):
            found = (start, end, obj)
    if found is None or (fenced is not None and found[0] < fenced[1]):
        return fenced[2] if fenced else None
    return found[2]


def _top_level(text: str, start: int) -> bool:
    """Whether the JSON value at `start` cannot be nested in another (no `:`, `,` or `[` before
    it)."""
    i = start - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    return i < 0 or text[i] not in ":,["


def safe_path(value: object, what: str) -> str:
    """A relative path inside the repository, outside .git; ContractError otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{what} must be a non-empty string")
    raw = value.strip().replace("\\", "/")
    norm = posixpath.normpath(raw)
    if raw.startswith("/") or norm == ".." or norm.startswith("../") or norm == ".":
        raise ContractError(f"{what} {value!r} is outside the repository")
    if any(part.lower() == ".git" for part in norm.split("/")):  # .GIT is .git on macOS
        raise ContractError(f"{what} {value!r} is inside .git")
    if "\0" in norm or any(ord(ch) < 32 for ch in norm):
        raise ContractError(f"{what} {value!r} has control characters")
    return norm


def _test_file(raw: object, what: str, patterns: Sequence[str]) -> ReviewTest:
    if not isinstance(raw, dict):
        raise ContractError(f"{what} must be an object with path and content")
    path = safe_path(raw.get("path"), f"{what}.path")
    if not is_test_file(path, patterns):
        raise ContractError(f"{what}.path {path!r} is not a test file (e.g. tests/test_x.py)")
    content = raw.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ContractError(f"{what}.content must be the test file's text")
    if len(content.encode("utf-8")) > MAX_TEST_BYTES:
        raise ContractError(f"{what}.content is over {MAX_TEST_BYTES // 1024} KB")
    return ReviewTest(path, content)


def _text(raw: Mapping[str, object], key: str, what: str, limit: int = 2000) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{what}.{key} must be a non-empty string")
    return " ".join(value.split())[:limit]


def _finding(i: int, raw: object, labels: Mapping[str, str], patterns: Sequence[str]) -> Finding:
    what = f"findings[{i}]"
    if not isinstance(raw, dict):
        raise ContractError(f"{what} must be an object")
    label = raw.get("candidate")
    if not isinstance(label, str) or label.strip().upper() not in labels:
        raise ContractError(f"{what}.candidate must be one of {', '.join(labels)}, got {label!r}")
    label = label.strip().upper()
    line = raw.get("line")
    if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 1):
        raise ContractError(f"{what}.line must be a line number ≥ 1")
    severity = raw.get("severity")
    if not isinstance(severity, str) or severity.strip().lower() not in SEVERITIES:
        raise ContractError(f"{what}.severity must be high, medium or low, got {severity!r}")
    test = raw.get("test")
    return Finding(
        label=label,
        candidate=labels[label],
        file=safe_path(raw.get("file"), f"{what}.file"),
        line=line,
        severity=severity.strip().lower(),
        claim=_text(raw, "claim", what),
        test=None if test is None else _test_file(test, f"{what}.test", patterns),
        outcome=Verification.ADVISORY if test is None else Verification.NOT_RUN,
    )


def parse_review(
    text: str, labels: Mapping[str, str], patterns: Sequence[str]
) -> tuple[tuple[Finding, ...], str | None]:
    """The findings and summary in a reviewer's answer; ContractError says what is wrong."""
    obj = last_object_with(text, "findings")
    if obj is None:
        raise ContractError('no JSON object with "findings" in the reviewer\'s final message')
    items = obj["findings"]
    if not isinstance(items, list):
        raise ContractError('"findings" must be a list')
    if len(items) > MAX_FINDINGS:
        raise ContractError(f"{len(items)} findings: the contract allows at most {MAX_FINDINGS}")
    found = tuple(_finding(i, raw, labels, patterns) for i, raw in enumerate(items))
    paths = [f.test.path for f in found if f.test]
    if len(set(paths)) != len(paths):
        raise ContractError("two findings' tests have the same path")
    summary = obj.get("summary")
    return found, " ".join(summary.split())[:500] if isinstance(summary, str) else None


def parse_tests(text: str, patterns: Sequence[str]) -> tuple[ReviewTest, ...]:
    """The test files in a test writer's answer; ContractError says what is wrong."""
    obj = last_object_with(text, "tests")
    if obj is None:
        raise ContractError('no JSON object with "tests" in the test writer\'s final message')
    items = obj["tests"]
    if not isinstance(items, list):
        raise ContractError('"tests" must be a list')
    if len(items) > MAX_TESTS:
        raise ContractError(f"{len(items)} test files: the contract allows at most {MAX_TESTS}")
    tests = tuple(_test_file(raw, f"tests[{i}]", patterns) for i, raw in enumerate(items))
    if len({t.path for t in tests}) != len(tests):
        raise ContractError("two test files have the same path")
    return tests


# --- what the tests did --------------------------------------------------------------------------

PASSED, FAILED, WRONG, MISSING = "passed", "failed", "wrong", "missing"


def verify_finding(finding: Finding, results: Mapping[str, str], base: str) -> Finding:
    """A finding with its outcome, from its test file's result on each candidate (name →
    passed / failed / wrong / missing) and on the base."""
    if finding.test is None:
        return finding
    named = results.get(finding.candidate, MISSING)
    every = [base, *results.values()]
    if named == MISSING:
        outcome = Verification.NOT_RUN
    elif named == PASSED:
        outcome = Verification.NOT_REPRODUCED
    elif all(r in (WRONG, MISSING) for r in every):
        outcome = Verification.BROKEN_TEST
    else:
        outcome = Verification.REPRODUCED
    passing = {n for n, r in results.items() if r == PASSED}
    # Only an assertion that fails ranks: a test that cannot even run on the candidate it names
    # (an import of another candidate's helper) proves nothing about the spec.
    separates = outcome == Verification.REPRODUCED and named == FAILED and bool(passing)
    return replace(finding, outcome=outcome, results=dict(results), base=base, separates=separates)


def generated_results(
    test: ReviewTest, base: Mapping[str, str], runs: Mapping[str, Mapping[str, str]]
) -> GeneratedTest:
    """One generated test file: its ids that do not pass on the base (new behaviour), each
    candidate's outcome on them, and the ids no candidate passes (discounted)."""
    ids = sorted({t for outcomes in runs.values() for t in outcomes if "::" in t})
    # A module that does not even import on the base fails there as a whole.
    base_errored = any("::" not in t and o in ("failed", "error") for t, o in base.items())
    new = [
        t
        for t in ids
        if base.get(t) in ("failed", "error") or (base_errored and base.get(t) != PASSED)
    ]
    discounted = tuple(t for t in new if not any(r.get(t) == PASSED for r in runs.values()))
    counted = tuple(t for t in new if t not in discounted)
    per = {name: sum(1 for t in counted if r.get(t) == PASSED) for name, r in runs.items()}
    passes_on_base = tuple(t for t in ids if base.get(t) == PASSED)
    return GeneratedTest(
        path=test.path,
        content=test.content,
        counted=counted,
        discounted=discounted,
        passes_on_base=passes_on_base,
        passed=per,
    )


def line_in_diff(diff: str, path: str, line: int | None) -> str | None:
    """The text of `path`'s line `line` (new numbering) where the diff shows it, else None."""
    if not line:
        return None
    try:
        patch = PatchSet(diff)
    except UnidiffParseError:
        return None
    for pfile in patch:
        if str(pfile.path) != path:
            continue
        for hunk in pfile:
            for ln in hunk:
                if ln.target_line_no == line:
                    return str(ln.value).rstrip("\r\n")
    return None
