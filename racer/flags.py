"""Tamper and scope flags: what a candidate's change did to tests, test infrastructure and scope.

Pure functions over file texts (base and candidate); the caller reads git, this module does no I/O.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from racer import clike, clikefit, doctests, overfit
from racer.configfiles import _infra_reason, _lint_config_reason, _verb, is_test_infra
from racer.flagkinds import SEVERITY, Flag, Severity
from racer.hardcoding import _expected_literals
from racer.literals import _LIT_RE, _literal_key, _skeleton, _token_value
from racer.manifests import _LOCKFILES, _dependency_detail
from racer.testfiles import DEFAULT_TEST_PATTERNS, _basename, _is_comment, _lang, is_test_file
from racer.testunits import _strength, _Unit, _units

__all__ = [
    "DEFAULT_TEST_PATTERNS",
    "MAX_HUNK_SCAN_LINES",
    "MAX_PER_KIND",
    "SEVERITY",
    "FileChange",
    "Flag",
    "Severity",
    "detect_flags",
    "is_test_file",
    "is_test_infra",
]

MAX_HUNK_SCAN_LINES = 20_000  # bigger files get the whole-file formatting check only
MAX_PER_KIND = 8  # per file and kind; beyond this one "… and N more" flag keeps reports readable


@dataclass(frozen=True)
class FileChange:
    """One changed file. Deleted: `after` None with `before` text; both None: binary, path only."""

    path: str  # new path (old path for deletions)
    old_path: str | None  # None for added files
    before: str | None  # full text at base (None: added or binary)
    after: str | None  # full text in the candidate (None: deleted or binary)


# --- line helpers --------------------------------------------------------------------------------


def _clip(text: str, limit: int = 160) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _new_lines(before: str | None, after: str) -> list[str]:
    """Stripped lines of `after` that occur more often than in `before` (moves are not new)."""
    seen = Counter(line.strip() for line in (before or "").splitlines())
    out: list[str] = []
    for raw in after.splitlines():
        line = raw.strip()
        if seen[line] > 0:
            seen[line] -= 1
        elif line:
            out.append(line)
    return out


def _minus(xs: Sequence[str], ys: Sequence[str]) -> list[str]:
    """Ordered multiset difference xs - ys."""
    left = Counter(ys)
    out: list[str] = []
    for x in xs:
        if left[x] > 0:
            left[x] -= 1
        else:
            out.append(x)
    return out


# --- comparing a pre-existing test file with the candidate's version ---------------------------


def _pair(
    removed: list[str], added: list[str], *, fuzzy: bool
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair removed with added items, most alike first: the same skeleton (only literals differ)
    or, when `fuzzy`, similar text. Among 60 near-identical asserts (`t.is(f('a'), 'b')`…) the
    closest wins, not the first of the same shape."""
    if len(removed) * len(added) > _PAIR_LIMIT:
        return _pair_in_order(removed, added, fuzzy=fuzzy)
    skeletons = [_skeleton(a)[0] for a in added]
    scored: list[tuple[float, int, int]] = []
    for i, r in enumerate(removed):
        skel = _skeleton(r)[0]
        for j, a in enumerate(added):
            same = skeletons[j] == skel
            if not same and not fuzzy:
                continue
            ratio = difflib.SequenceMatcher(None, r, a).ratio()
            if same or ratio >= 0.6:
                scored.append((ratio + (1.0 if same else 0.0), i, j))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    taken_r: dict[int, int] = {}
    taken_a: set[int] = set()
    for _, i, j in scored:
        if i not in taken_r and j not in taken_a:
            taken_r[i] = j
            taken_a.add(j)
    pairs = [(removed[i], added[j]) for i, j in sorted(taken_r.items())]
    left = [r for i, r in enumerate(removed) if i not in taken_r]
    pool = [a for j, a in enumerate(added) if j not in taken_a]
    return pairs, left, pool


_PAIR_LIMIT = 10_000  # removed * added beyond which pairing goes in order (quadratic cost)


def _pair_in_order(
    removed: list[str], added: list[str], *, fuzzy: bool
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    pairs: list[tuple[str, str]] = []
    left: list[str] = []
    pool = list(added)
    for r in removed:
        skel = _skeleton(r)[0]
        match = next((a for a in pool if _skeleton(a)[0] == skel), None)
        if match is None and fuzzy and pool:
            ratios = [difflib.SequenceMatcher(None, r, a).ratio() for a in pool]
            best = max(range(len(pool)), key=lambda i: (ratios[i], -i))
            match = pool[best] if ratios[best] >= 0.6 else None
        if match is None:
            left.append(r)
        else:
            pool.remove(match)
            pairs.append((r, match))
    return pairs, left, pool


def _unit_flags(path: str, name: str, b: _Unit, a: _Unit) -> Iterator[Flag]:
    where = "module level" if name == "<module>" else name
    pairs, gone, new = _pair(_minus(b.checks, a.checks), _minus(a.checks, b.checks), fuzzy=True)
    for old, rewritten in pairs:
        if _skeleton(old)[0] == _skeleton(rewritten)[0]:
            yield _flag(
                "expected_changed", path, f"expected value changed in {where}: {old} → {rewritten}"
            )
        elif _strength(rewritten) < _strength(old):
            yield _flag("assert_weakened", path, f"weakened in {where}: {old} → {rewritten}")
    # Unrelated rewrites of equal or greater strength are not weakening; a dropped count is.
    for old, rewritten in zip(gone, new, strict=False):
        if _strength(rewritten) < _strength(old):
            yield _flag("assert_weakened", path, f"weakened in {where}: {old} → {rewritten}")
    for old in gone[len(new) :]:
        yield _flag("assert_weakened", path, f"assert removed from {where}: {old}")
    for old, changed in _data_pairs(_minus(b.data, a.data), _minus(a.data, b.data)):
        yield _flag(
            "expected_changed", path, f"expected data changed in {where}: {old} → {changed}"
        )
    pairs, gone, _ = _pair(_minus(b.params, a.params), _minus(a.params, b.params), fuzzy=False)
    for old, changed in pairs:
        yield _flag("expected_changed", path, f"parametrized case in {where}: {old} → {changed}")
    for old in gone:
        yield _flag("test_deleted", path, f"parametrized case removed from {where}: {old}")
    for mark in _minus(a.marks, b.marks):  # passing by panicking: any panic will do
        yield _flag("assert_weakened", path, f"{mark} added to {where}: it passes if it panics")
    for mark in _minus(b.marks, a.marks):
        yield _flag("assert_weakened", path, f"{mark} removed from {where}")


def _data_pairs(removed: list[str], added: list[str]) -> list[tuple[str, str]]:
    """Expectation data rewritten: the same name given other literals (`want := []string{"a",
    "b"}` → `want := []string{"a-b"}`), else the same shape with other literals."""
    pairs: list[tuple[str, str]] = []
    pool = list(added)
    rest: list[str] = []
    for r in removed:
        name, lits = _DATA_LHS.split(r, maxsplit=1)[0].strip(), _skeleton(r)[1]
        match = next((a for a in pool if _DATA_LHS.split(a, maxsplit=1)[0].strip() == name), None)
        if match is not None and lits and _skeleton(match)[1] != lits:
            pool.remove(match)
            pairs.append((r, match))
        else:
            rest.append(r)
    more, _, _ = _pair(rest, pool, fuzzy=False)
    return pairs + more


_DATA_LHS = re.compile(r":=|(?<![=!<>])=(?!=)|:")


def _test_edit_flags(path: str, before: str, after: str) -> Iterator[Flag]:
    ub, ua = _units(path, before), _units(path, after)
    renamed = _renames(ub, ua)
    tests_b = Counter(u.name for k, u in ub.items() if u.is_test and k not in renamed)
    tests_a = Counter(u.name for k, u in ua.items() if u.is_test and k not in renamed.values())
    for name, n in sorted((tests_b - tests_a).items()):
        yield _flag(
            "test_deleted", path, f"test removed: {name}" + (f" ({n} times)" if n > 1 else "")
        )
    for key in sorted(ub.keys() & ua.keys()):
        yield from _unit_flags(path, ub[key].name, ub[key], ua[key])
    for old, new in sorted(renamed.items()):
        yield from _unit_flags(path, f"{ub[old].name} (now {ua[new].name})", ub[old], ua[new])


def _renames(ub: Mapping[str, _Unit], ua: Mapping[str, _Unit]) -> dict[str, str]:
    """Tests gone from `ub` paired with new tests of `ua` holding most of their checks: a
    renamed test is compared with its new self, not counted as deleted."""
    gone = [k for k, u in ub.items() if u.is_test and k not in ua]
    new = [k for k, u in ua.items() if u.is_test and k not in ub]
    out: dict[str, str] = {}
    for old in gone:
        checks = ub[old].checks
        if not checks:
            continue
        scored = [(len(checks) - len(_minus(checks, ua[k].checks)), k) for k in new]
        kept, best = max(scored, default=(0, ""))
        if best and kept * 2 >= len(checks):
            out[old] = best
            new.remove(best)
    return out


_SKIPS: dict[str, re.Pattern[str]] = {
    "py": re.compile(
        r"@pytest\.mark\.(?:skip|skipif|xfail)\b|\bpytest\.(?:skip|xfail|importorskip)\s*\("
        r"|\bunittest\.(?:skip\w*|expectedFailure)\b|@(?:skip|skipIf|skipUnless|expectedFailure)\b"
        r"|\bself\.skipTest\s*\(|\bSkipTest\b|\bcollect_ignore"
    ),
    "js": re.compile(
        r"\.(?:skip|only)\s*\(|\b(?:it|test|describe|context|suite)\.(?:skip|only)\b"
        r"|\b(?:xit|xdescribe|xtest|xcontext|fit|fdescribe)\s*\("
    ),
    "rust": re.compile(r"#\[ignore\b"),
    "go": re.compile(r"\bt\.Skip(?:f|Now)?\s*\("),
    "java": re.compile(r"@(?:Disabled|Ignore)\b"),
    "php": re.compile(r"\bmarkTest(?:Skipped|Incomplete)\s*\(|@group\s+skip"),
    "ruby": re.compile(r"^\s*(?:skip|pending|xit)\b"),
}
_FOCUS = re.compile(r"\.only\b|\bf(?:it|describe)\s*\(")


def _skip_flags(path: str, before: str, after: str) -> Iterator[Flag]:
    lang = _lang(path)
    if lang in clike.LANGS:  # from tokens: a skip in a string or a comment is none
        had = Counter(m.what for m in clike.skip_markers(lang, before))
        for m in clike.skip_markers(lang, after):
            if had[m.what] > 0:
                had[m.what] -= 1
                continue
            what = "focus added (other tests stop running)" if m.focus else "skip added"
            yield _flag("skip_added", path, f"{what}: {_clip(m.line)}")
        return
    # Unknown languages get every marker but Ruby's bare `skip`, which is an ordinary word.
    patterns = [_SKIPS[lang]] if lang in _SKIPS else [p for k, p in _SKIPS.items() if k != "ruby"]
    for line in _new_lines(before, after):
        if not _is_comment(line, lang) and any(p.search(line) for p in patterns):
            focus = _FOCUS.search(line)
            what = "focus added (other tests stop running)" if focus else "skip added"
            yield _flag("skip_added", path, f"{what}: {_clip(line)}")


# --- product code --------------------------------------------------------------------------------

_TEST_SNIFF = re.compile(
    r"PYTEST_CURRENT_TEST|PYTEST_XDIST_WORKER|PYTEST_VERSION"
    r"""|["'](?:_?pytest|unittest)["']\s+in\s+sys\.modules"""
    r"""|sys\.modules\.get\(\s*["']_?pytest|sys\.argv.*pytest|pytest.*sys\.argv"""
    r"|JEST_WORKER_ID|VITEST_WORKER_ID|process\.env\.VITEST\b"
    r"""|NODE_ENV\s*[!=]==?\s*["']test["']|["']test["']\s*[!=]==?\s*process\.env\.NODE_ENV"""
    r"|\btesting\.Testing\(\)|\bflag\.Lookup\(\s*\"test\.|os\.Args\[0\].*\"\.test\""
    r"|\bcfg!\(\s*test\s*\)|process\.env\.(?:AVA\b|NODE_TEST_CONTEXT|MOCHA_\w+)|__vitest_worker__"
    r"|process\.argv\b.*\b(?:ava|jest|vitest|mocha)\b"
)
_RETURN_OR_COMPARE = re.compile(
    r"\breturn\b|=>|(?<![!<>=])===?(?!=)|!==?|\b(?:case|in|if|elif|switch|match|when)\b|\.equals\("
)
_DEBUG: dict[str, re.Pattern[str]] = {
    "py": re.compile(r"\bprint\s*\(|\bbreakpoint\s*\(\s*\)|\b(?:i?pdb|pudb)\.set_trace\s*\("),
    "js": re.compile(r"\bconsole\.(?:log|debug|trace|dir)\s*\(|^\s*debugger\s*;?\s*$"),
    "rust": re.compile(r"\bdbg!\s*\("),
    "go": re.compile(r"\bfmt\.Println\s*\("),
    "java": re.compile(r"\bSystem\.(?:out|err)\.print(?:ln)?\s*\(|\.printStackTrace\s*\(\s*\)"),
    "ruby": re.compile(r"\bbinding\.pry\b|\bbyebug\b"),
    "php": re.compile(r"\b(?:var_dump|print_r|dd)\s*\("),
}
_SUPPRESSION = re.compile(
    r"#\s*noqa\b|#\s*type:\s*ignore\b|\beslint-disable|@ts-(?:ignore|nocheck|expect-error)\b"
    r"|#\s*pylint:\s*disable|#!?\[(?:allow|expect)\(|//\s*nolint\b|#\s*pyright:\s*ignore"
    r"|@SuppressWarnings\b|#\s*rubocop:disable|#\s*pragma:\s*no\s*cover|\bNOSONAR\b"
    r"|#\s*mypy:\s*ignore-errors|#\s*nosec\b|\bistanbul\s+ignore\b|\bc8\s+ignore\b"
)


def _product_flags(path: str, before: str | None, after: str, known: _Known) -> Iterator[Flag]:
    expected = known.expected
    lang = _lang(path)
    if lang == "py":
        for detail in overfit.special_cases(before, after, known.tests, known.allowed):
            yield _flag("special_cases_tests", path, detail)
    seen: set[str] = set()  # lines flagged already: one flag a line
    if lang in clike.LANGS:
        for line, why in clikefit.special_cases(path, before, after, known.words, known.clike):
            seen.add(line)
            yield _flag("special_cases_tests", path, f"{why}: {line}")
    literals = _LIT_RE.finditer(before or "") if expected else iter(())
    base_literals = {_literal_key(_token_value(tok.group(0))) for tok in literals}
    debug = _DEBUG.get(lang)
    for line in _new_lines(before, after):
        if _is_comment(line, lang):
            continue
        if _TEST_SNIFF.search(line):
            yield _flag("special_cases_tests", path, f"checks for the test run: {_clip(line)}")
        if debug is not None and debug.search(line):
            yield _flag("debug_print", path, f"debug output added: {_clip(line)}")
        if not expected or not _RETURN_OR_COMPARE.search(line) or " ".join(line.split()) in seen:
            continue
        for tok in _LIT_RE.finditer(line):
            key = _literal_key(_token_value(tok.group(0)))
            if key is None or key not in expected or key in base_literals:
                continue
            if lang in clike.LANGS and (known.clike.required(key) or key in known.words.settings):
                continue  # what the spec's prose asks for, or an option's value the tests pass
            detail = f"hard-coded expected output {tok.group(0)} (from {expected[key]}): {_clip(line, 100)}"
            yield _flag("special_cases_tests", path, detail)


def _formatting_flags(path: str, before: str, after: str) -> Iterator[Flag]:
    def squash(lines: Iterable[str]) -> str:
        return re.sub(r"\s+", "", "".join(lines))

    if before == after:
        return
    if squash(before) == squash(after):
        yield _flag("formatting_only", path, "whole change is whitespace/formatting only")
        return
    a, b = before.splitlines(), after.splitlines()
    if len(a) + len(b) > MAX_HUNK_SCAN_LINES:  # line matching is quadratic at worst
        return
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks = list(matcher.get_grouped_opcodes(3))
    starts: list[int] = []
    for group in hunks:
        changed = [op for op in group if op[0] != "equal"]
        removed = [line for _, i1, i2, _, _ in changed for line in a[i1:i2]]
        added = [line for _, _, _, j1, j2 in changed for line in b[j1:j2]]
        if squash(removed) == squash(added):
            starts.append(changed[0][3] + 1)
    if starts:
        where = ", ".join(str(s) for s in starts[:5]) + (" …" if len(starts) > 5 else "")
        plural = "s" if len(starts) > 1 else ""
        yield _flag(
            "formatting_only",
            path,
            f"{len(starts)} of {len(hunks)} hunk{'s' if len(hunks) > 1 else ''} only reformat (line{plural} {where})",
        )


# --- putting it together -------------------------------------------------------------------------


def _flag(kind: str, file: str, detail: str) -> Flag:
    return Flag(kind, file, _clip(detail, 240), SEVERITY[kind])


@dataclass(frozen=True)
class _Known:
    """What a change is compared with: literals the tests expect, the tests' vocabulary, the
    values the base's product code and the spec already hold, whether doctests are tests."""

    expected: Mapping[str, str]
    tests: overfit.TestVocabulary
    allowed: set[str]
    doctests: frozenset[str]  # modules whose doctests the test command runs
    words: clikefit.TestWords  # the same for JavaScript/TypeScript, Go and Rust product code
    clike: clikefit.Allowed


def _doctest_flags(path: str, before: str, after: str) -> Iterator[Flag]:
    for lost in doctests.lost_examples(before, after):
        e = lost.example
        where = "module docstring" if e.owner == "<module>" else e.owner
        if lost.now is None:
            yield _flag(
                "test_deleted", path, f"doctest example removed from {where}: >>> {e.source}"
            )
        else:
            yield _flag(
                "expected_changed",
                path,
                f"doctest expected output changed in {where}: >>> {e.source} → {lost.now}",
            )


def _change_flags(
    ch: FileChange,
    is_test: Callable[[str], bool],
    known: _Known,
    others: Collection[str] | None,
) -> Iterator[Flag]:
    path, old = ch.path, ch.old_path or ch.path
    infra = _infra_reason(path, ch.before, ch.after)
    if infra is None and ch.old_path and ch.old_path != path:
        infra = _infra_reason(ch.old_path, ch.before, ch.after)
    if infra is not None:
        yield _flag("test_infra_edited", path, infra)

    was_test = ch.old_path is not None and is_test(old)
    if was_test and ch.before is not None:
        if ch.after is None:
            n = sum(u.is_test for u in _units(old, ch.before).values())
            count = f" ({n} test{'s' if n != 1 else ''})" if n else ""
            yield _flag("test_deleted", path, f"test file deleted{count}")
        elif not is_test(path):
            yield _flag("test_deleted", path, f"test file {old} moved outside the test patterns")
        else:
            yield from _test_edit_flags(path, ch.before, ch.after)
            yield from _skip_flags(path, ch.before, ch.after)

    if ch.after is not None:
        if not is_test(path) and infra is None:
            yield from _product_flags(path, ch.before, ch.after, known)
        if ch.before is not None and doctests.module_name(path) in known.doctests:
            yield from _doctest_flags(path, ch.before, ch.after)
        for line in _new_lines(ch.before, ch.after):
            if _SUPPRESSION.search(line):
                yield _flag("lint_suppression", path, f"suppression added: {_clip(line)}")
    lint = _lint_config_reason(path, ch.before, ch.after)
    if lint is not None:
        yield _flag("lint_suppression", path, lint)

    if _basename(path) in _LOCKFILES:
        yield _flag("lockfile", path, f"lockfile {_verb(ch.before, ch.after)}")
    deps = _dependency_detail(path, ch.before, ch.after)
    if deps is not None:
        yield _flag("dependency", path, deps)
    # Every candidate writes its own new tests; only product files (or edited tests) count.
    new_test = ch.old_path is None and is_test(path)
    if others and path not in others and ch.old_path not in others and not new_test:
        yield _flag("unique_file", path, "no other candidate changed this file")
    if ch.before is not None and ch.after is not None and _basename(path) not in _LOCKFILES:
        yield from _formatting_flags(path, ch.before, ch.after)


def _capped(flags: Iterable[Flag]) -> list[Flag]:
    groups: dict[tuple[str, str], list[Flag]] = {}
    for f in sorted(set(flags), key=lambda f: (f.file, f.kind, f.detail)):
        groups.setdefault((f.file, f.kind), []).append(f)
    out: list[Flag] = []
    for (file, kind), items in groups.items():
        if len(items) > MAX_PER_KIND:
            rest = len(items) - (MAX_PER_KIND - 1)
            items = [*items[: MAX_PER_KIND - 1], _flag(kind, file, f"… and {rest} more")]
        out += items
    return out


def detect_flags(
    changes: Sequence[FileChange],
    *,
    touched_by_others: Collection[str] | None = None,
    test_patterns: Sequence[str] = DEFAULT_TEST_PATTERNS,
    base_tests: Mapping[str, str] | None = None,
    hidden_tests: Mapping[str, str] | None = None,
    spec: str = "",
    doctest_modules: Collection[str] = (),
) -> tuple[Flag, ...]:
    """Tamper and scope flags for one candidate's change, tamper first, then by file/kind/detail.

    `touched_by_others`: union of paths other candidates changed (enables `unique_file`).
    `base_tests`: base texts of test files the candidate did not change, so literals the tests
    expect can be recognised when they turn up hard-coded in product code; `hidden_tests`
    (the acceptance files) count as tests for that too, and the `spec`'s own examples do not.
    `doctest_modules`: modules whose doctests the base's run collected: their docstring examples
    are tests.
    """

    def is_test(path: str) -> bool:
        return is_test_file(path, test_patterns)

    sources = list((base_tests or {}).items())
    for ch in changes:
        old = ch.old_path or ch.path
        if ch.old_path is not None and ch.before is not None and is_test(old):
            sources.append((old, ch.before))
        if ch.after is not None and is_test(ch.path):
            sources.append((ch.path, ch.after))
    expected = _expected_literals(sorted(sources))
    product = [ch for ch in changes if not is_test(ch.path) and _lang(ch.path) == "py"]
    clike_product = [ch for ch in changes if not is_test(ch.path) and _lang(ch.path) in clike.LANGS]
    vocab_sources = [*sources, *sorted((hidden_tests or {}).items())]
    for ch in product:  # docstring examples are tests too: their values come from the tests
        for label, text in (("base", ch.before), ("candidate", ch.after)):
            if text is not None and ">>>" in text:
                vocab_sources.append((f"{ch.path} ({label} doctests)", _doctest_text(text)))
    known = _Known(
        expected=expected,
        tests=overfit.vocabulary(vocab_sources),
        allowed=overfit.allowed_keys([ch.before for ch in product if ch.before], spec),
        doctests=frozenset(doctest_modules),
        # Read only when JavaScript/TypeScript, Go or Rust product code changed.
        words=clikefit.words(vocab_sources) if clike_product else clikefit.TestWords(),
        clike=clikefit.allowed([(ch.path, ch.before) for ch in clike_product if ch.before], spec),
    )
    flags: list[Flag] = []
    for ch in changes:
        flags += _change_flags(ch, is_test, known, touched_by_others)
    return tuple(
        sorted(_capped(flags), key=lambda f: (f.severity != "tamper", f.file, f.kind, f.detail))
    )


def _doctest_text(text: str) -> str:
    """A file's doctest examples as Python lines (source, then the expected output)."""
    lines: list[str] = []
    for e in doctests.examples(text):
        lines += [e.source, e.want]
    return "\n".join(lines)
