"""Hard-coding evidence: the distinctive literals test assertions expect, by test file.

Product code that starts returning or comparing against one of these is special-casing the tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from racer import clike
from racer.literals import _LIT, _LIT_RE, _literal_key, _token_value
from racer.testfiles import _lang
from racer.testunits import _CHECK_LINE, _dotted, _parse_python, _units


def _expected_literals(sources: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Distinctive literals in expected positions of test assertions -> the test file they are from."""
    out: dict[str, str] = {}
    for path, text in sources:
        for value in _expected_values(path, text):
            key = _literal_key(value)
            if key is not None:
                out.setdefault(key, path)
    return out


def _py_literal_values(node: ast.expr) -> Iterator[object]:
    if isinstance(node, ast.Constant):
        yield node.value
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int | float):
            yield -node.operand.value
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for elt in node.elts:
            yield from _py_literal_values(elt)
    elif isinstance(node, ast.Dict):
        for item in (*node.keys, *node.values):
            if item is not None:
                yield from _py_literal_values(item)


_EXPECT_AFTER = re.compile(
    r"(?:(?<![!<>=])===?|\b(?:toBe|toEqual|toStrictEqual|isEqualTo|equal|equals|eql)\s*\()\s*("
    + _LIT
    + ")"
)
_EQUAL_CALL = re.compile(
    r"\b(?:assert\w*Equals?|assert_eq!|(?:assert|require)\.Equal\w*|XCTAssertEqual"
    r"|(?:t|tt|st|assert)\.(?:is|deepEqual|strictEqual|deepStrictEqual|equal|same|strictSame|like))"
    r"\s*\((.*)\)"
)


def _expected_values(path: str, text: str) -> Iterator[object]:
    if _lang(path) == "py":
        tree = _parse_python(text)
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.Assert):
                    for cmp in ast.walk(node.test):
                        if isinstance(cmp, ast.Compare) and any(
                            isinstance(op, ast.Eq) for op in cmp.ops
                        ):
                            for operand in (cmp.left, *cmp.comparators):
                                yield from _py_literal_values(operand)
                elif isinstance(node, ast.Call):
                    last = _dotted(node.func).rsplit(".", 1)[-1].lower()
                    if last.startswith("assert") and "equal" in last and "not" not in last:
                        for arg in node.args:
                            yield from _py_literal_values(arg)
            return
    if _lang(path) in clike.LANGS:  # whole assertions, however many lines, from tokens
        lines = [c for unit in _units(path, text).values() for c in unit.checks]
    else:
        lines = [line for line in text.splitlines() if _CHECK_LINE.search(line)]
    for line in lines:
        for m in _EXPECT_AFTER.finditer(line):
            yield _token_value(m.group(1))
        for m in _EQUAL_CALL.finditer(line):
            for tok in _LIT_RE.finditer(m.group(1)):
                yield _token_value(tok.group(0))
