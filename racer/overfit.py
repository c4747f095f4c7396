"""Overfitting: product code that branches on values taken from the tests.

Real hard-coding looks like `if value in (999.9, 999.99):`, `if word == "chances":` or
`if objtype.__name__ == "Cached":` — literals and names from the tests (visible, written by the
candidate, or hidden) inside a new condition of product code. Values the base's product code
already uses, the spec's own examples and 0/1/-1/empty/None do not count. Python only (AST).
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from racer.literals import _LIT_RE, _PLAIN_WORD, _literal_key, _token_value
from racer.testfiles import _lang
from racer.testunits import _parse_python

_NAME_ATTRS = ("__name__", "__qualname__")
_PREFIX_CALLS = ("startswith", "endswith")


def key(value: object) -> str | None:
    """A literal distinctive enough to betray a value copied from the tests: _literal_key's,
    plus plain words of four letters or more (in conditions, `word == "chances"` is a tell)."""
    if isinstance(value, str) and len(value) >= 4 and _PLAIN_WORD.fullmatch(value):
        return value
    return _literal_key(value)


@dataclass(frozen=True)
class TestVocabulary:
    """What the tests hold: literal keys (-> the file they are in) and the names they define."""

    __test__ = False  # not a pytest class, though its name says so

    literals: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # test functions, classes -> file
    values: set[str] = field(default_factory=set)  # repr of every literal, distinctive or not


def vocabulary(sources: Iterable[tuple[str, str]]) -> TestVocabulary:
    literals: dict[str, str] = {}
    names: dict[str, str] = {}
    values: set[str] = set()
    for path, text in sources:
        tree = _parse_python(text) if _lang(path) == "py" else None
        if tree is None:
            for tok in _LIT_RE.finditer(text):
                k = key(_token_value(tok.group(0)))
                if k is not None:
                    literals.setdefault(k, path)
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.setdefault(node.name, path)
            for value in _values(node) if isinstance(node, ast.expr) else ():
                values.add(repr(value))
                k = key(value)
                if k is not None:
                    literals.setdefault(k, path)
    return TestVocabulary(literals, names, values)


def allowed_keys(product: Iterable[str], spec: str) -> set[str]:
    """Literal keys the user gave or the base already had: literals of the base's product code
    (its code, not the words of its comments) and every literal and word of the spec."""
    out: set[str] = set()
    for text in product:
        tree = _parse_python(text)
        if tree is not None:
            out |= {k for n in ast.walk(tree) if isinstance(n, ast.expr) for k in _keys(n)}
            out |= {_raw(v) for n in ast.walk(tree) if isinstance(n, ast.expr) for v in _values(n)}
            continue
        out |= {k for t in _LIT_RE.finditer(text) if (k := key(_token_value(t.group(0))))}
    out |= {k for t in _LIT_RE.finditer(spec) if (k := key(_token_value(t.group(0))))}
    out |= set(re.findall(r"[A-Za-z_]\w{3,}", spec))
    # Numbers written in prose ("999.9 is shown as ...") are the spec's examples too.
    out |= {k for n in re.findall(r"-?\d[\d_]*(?:\.\d+)?", spec) if (k := key(_token_value(n)))}
    return out


def _raw(value: object) -> str:
    return "=" + repr(value)  # kept apart from keys: any literal, distinctive or not


_NATURAL = {repr(v) for v in (0, 1, -1, "", None, 0.0, 1.0)}
_SET_SIZE = 3  # a literal set this big, every value from the tests, is a list of test inputs
_TABLE_SIZE = 2  # distinctive test values in one new table literal


def _keys(node: ast.expr) -> Iterator[str]:
    for value in _values(node):
        k = key(value)
        if k is not None:
            yield k


def _values(node: ast.expr) -> Iterator[object]:
    """Literal values of one expression node: a constant, -constant, or a collection of them."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
        yield node.value
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int | float):
            yield -node.operand.value
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for elt in node.elts:
            yield from _values(elt)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("set", "frozenset", "tuple", "list")
        and node.args
    ):
        yield from _values(node.args[0])


def _new_lines(before: str | None, after: str) -> set[int]:
    """1-based numbers of the lines of `after` that are not in `before`."""
    a, b = (before or "").splitlines(), after.splitlines()
    out: set[int] = set()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, _, _, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            out.update(range(j1 + 1, j2 + 1))
    return out


def _conditions(tree: ast.AST) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.While | ast.IfExp):
            yield node.test
        elif isinstance(node, ast.comprehension):
            yield from node.ifs
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for pat in ast.walk(case.pattern):
                    if isinstance(pat, ast.MatchValue):
                        yield pat.value


def _compared(cond: ast.expr) -> Iterator[tuple[ast.expr, ast.expr | None]]:
    """(operand, the other side) of every comparison and prefix test inside a condition; a
    bare literal (a match case) stands alone."""
    if isinstance(cond, ast.Constant | ast.UnaryOp):
        yield cond, None
    for node in ast.walk(cond):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for i, x in enumerate(operands):
                yield x, operands[1 - i] if len(operands) == 2 else None
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _PREFIX_CALLS
        ):
            for arg in node.args:
                yield arg, node.func.value


def _is_name_of(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in _NAME_ATTRS


def special_cases(
    before: str | None, after: str, tests: TestVocabulary, allowed: set[str]
) -> Iterator[str]:
    """Details of new conditions in `after` that compare with values from the tests."""
    tree = _parse_python(after)
    if tree is None or not (tests.literals or tests.names):
        return
    new = _new_lines(before, after)
    lines = after.splitlines()
    done: set[int] = set()
    for cond in _conditions(tree):
        span = range(cond.lineno, (cond.end_lineno or cond.lineno) + 1)
        if cond.lineno in done or not new.intersection(span):
            continue
        found = [
            what
            for operand, other in _compared(cond)
            for value in _values(operand)
            if (what := _from_tests(value, other, tests, allowed)) is not None
        ]
        found += _test_value_sets(cond, tests, allowed)
        if found:
            done.add(cond.lineno)
            yield f"branches on {_join(found)}: {_line(lines, cond.lineno)}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict | ast.Set | ast.List | ast.Tuple):
            continue
        if node.lineno in done or node.lineno not in new:
            continue
        hits = _table_hits(node, tests, allowed)
        if len(hits) >= _TABLE_SIZE:
            done.add(node.lineno)
            yield f"a table of values from the tests ({', '.join(hits[:4])}): {_line(lines, node.lineno)}"


def _line(lines: list[str], lineno: int) -> str:
    return " ".join(lines[lineno - 1].split()) if lineno <= len(lines) else ""


def _table_hits(
    node: ast.Dict | ast.Set | ast.List | ast.Tuple, tests: TestVocabulary, allowed: set[str]
) -> list[str]:
    """Distinctive values of a collection literal (dict keys and values too) from the tests."""
    if isinstance(node, ast.Dict):
        items = [k for k in node.keys if k is not None] + list(node.values)
    else:
        items = list(node.elts)
    hits: list[str] = []
    for item in items:
        for value in _values(item):
            k = key(value)
            if (
                k is not None
                and k not in allowed
                and k in tests.literals
                and repr(value) not in hits
            ):
                hits.append(repr(value))
    return hits


def _test_value_sets(cond: ast.expr, tests: TestVocabulary, allowed: set[str]) -> list[str]:
    """`x in (9, -10, -15)`, `v.to_tuple() == (3, 4, 5, None, None)`: a literal collection of
    test inputs, even of values too plain to count one by one — all its elements literals, at
    least three of them not natural (0, 1, -1, empty, None), each of those in the tests, not
    all of them in the base's code."""
    out: list[str] = []
    for node in ast.walk(cond):
        if not isinstance(node, ast.Compare) or not any(
            isinstance(op, ast.In | ast.NotIn | ast.Eq | ast.NotEq) for op in node.ops
        ):
            continue
        for side in (node.left, *node.comparators):
            if not isinstance(side, ast.Tuple | ast.List | ast.Set):
                continue
            values = [v for e in side.elts for v in _values(e)]
            if len(values) != len(side.elts):
                continue  # not all literals: a computed collection
            plain = [v for v in values if repr(v) not in _NATURAL]
            if len(plain) < _SET_SIZE or not all(repr(v) in tests.values for v in plain):
                continue
            if not all(_raw(v) in allowed for v in plain):
                out.append("a set of test inputs " + ast.unparse(side) + " (from the tests)")
    return out


def _join(found: list[str]) -> str:
    """'1 (from a)', '2 (from a)' -> '1, 2 (from a)'."""
    unique = list(dict.fromkeys(found))
    tails = {f.rpartition(" (")[2] for f in unique}
    if len(tails) == 1 and all(" (" in f for f in unique):
        return ", ".join(f.rpartition(" (")[0] for f in unique) + " (" + tails.pop()
    return "; ".join(unique)


def _from_tests(
    value: object, other: ast.expr | None, tests: TestVocabulary, allowed: set[str]
) -> str | None:
    if isinstance(value, str) and _is_name_of(other) and value in tests.names:
        return f"the name of {value} (defined in {tests.names[value]})"
    k = key(value)
    if k is None or k in allowed:
        return None
    if k in tests.literals:
        return f"{value!r} (from {tests.literals[k]})"
    if isinstance(value, str) and value in tests.names:
        return f"the test name {value!r} (in {tests.names[value]})"
    return None
