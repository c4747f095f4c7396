"""Test units of JavaScript/TypeScript, Go and Rust test files, read from tokens (racer.lexer):
each test with its assertions, expectation data, table cases and marks, and the skip markers.

Assertions are whole expressions, however many lines they span: `expect(…).not.toBe(…)`,
`assert.*(…)`, ava/tap/node:test `t.is(…)`…, Go `if got != want { t.Errorf }` and testify's
`assert.Equal(t, …)`, Rust `assert_eq!(…)`. Text in strings, templates and comments is never
taken for code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from racer.lexer import Token, match_close, render, tokenize

__all__ = ["LANGS", "CUnit", "Marker", "skip_markers", "units"]

LANGS = frozenset({"js", "go", "rust"})

_JS_TESTS = frozenset(["it", "test", "specify", "xit", "fit", "xtest"])
_JS_SUITES = frozenset(["describe", "context", "suite", "xdescribe", "fdescribe", "xcontext"])
_JS_RECEIVERS = frozenset({"t", "tt", "st", "assert"})
# ava, tap, node:test's TestContext and node:assert methods: what `t.<method>(…)` asserts with.
_JS_ASSERTS = frozenset(
    [
        "is",
        "not",
        "deepEqual",
        "notDeepEqual",
        "like",
        "true",
        "false",
        "truthy",
        "falsy",
        "throws",
        "throwsAsync",
        "notThrows",
        "notThrowsAsync",
        "regex",
        "notRegex",
        "snapshot",
        "assert",
        "pass",
        "fail",
        "equal",
        "equals",
        "notEqual",
        "strictEqual",
        "notStrictEqual",
        "deepStrictEqual",
        "notDeepStrictEqual",
        "same",
        "notSame",
        "strictSame",
        "ok",
        "notOk",
        "match",
        "notMatch",
        "rejects",
        "resolves",
        "doesNotThrow",
        "doesNotReject",
        "error",
        "ifError",
        "hasStrict",
        "has",
    ]
)
_GO_FAILS = frozenset(["Error", "Errorf", "Fatal", "Fatalf", "Fail", "FailNow"])
_GO_SKIPS = frozenset(["Skip", "Skipf", "SkipNow"])
_GO_TEST = re.compile(r"(?:Test|Benchmark|Example|Fuzz)\w*")
_RUST_ASSERT = re.compile(r"(?:debug_|prop_)?assert\w*")
_DATA = re.compile(
    r"(?i:want|wanted|expected|expect|exp)(?:_\w+|[A-Z0-9]\w*)?|\w+(?:_expected|_want|Expected|Want)"
)


@dataclass
class CUnit:
    """A test as it is being read (a builder: testunits turns it into its frozen `_Unit`)."""

    name: str
    is_test: bool
    start: int = 0  # token span [start, end]
    end: int = -1
    checks: list[tuple[float, str]] = field(default_factory=list)  # (token index, text)
    data: list[tuple[float, str]] = field(default_factory=list)
    params: list[tuple[float, str]] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)  # Rust #[should_panic…]


@dataclass(frozen=True)
class Marker:
    """A skip or a focus (`.only`): what it is, and the source line it is on."""

    what: str
    line: str
    focus: bool


def units(lang: str, text: str) -> list[CUnit]:
    """The module-level unit, then one per test, with what each holds, in source order."""
    tokens = tokenize(text, lang)
    module = CUnit("<module>", False, 0, len(tokens))
    tests = {"js": _js_tests, "go": _go_tests, "rust": _rust_tests}[lang](tokens)
    everything = [module, *tests]

    def owner(i: int) -> CUnit:
        inside = [u for u in tests if u.start <= i <= u.end]
        return max(inside, key=lambda u: u.start) if inside else module

    skip_to = 0
    for i in range(len(tokens)):
        if i < skip_to:
            continue
        got = _CHECKS[lang](tokens, i)
        if got is not None:
            end, check = got
            owner(i).checks.append((i, check))
            skip_to = end + 1
            continue
        rows = _table_rows(tokens, i) if lang in ("go", "js") else None
        if rows is not None:
            end, found = rows
            owner(i).params.extend((i + n / len(found), r) for n, r in enumerate(found))
            skip_to = end + 1
            continue
        data = _data(tokens, i, lang)
        if data is not None:
            end, item = data
            owner(i).data.append((i, item))
            skip_to = end + 1
    return everything


# --- finding the tests ---------------------------------------------------------------------------


def _text(tokens: Sequence[Token], i: int) -> str:
    return tokens[i].text if 0 <= i < len(tokens) else ""


def _js_tests(tokens: Sequence[Token]) -> list[CUnit]:
    out: list[CUnit] = []
    for i, tok in enumerate(tokens):
        if tok.kind != "id" or tok.text not in _JS_TESTS or _text(tokens, i - 1) in (".", "?."):
            continue
        j, table = _js_chain(tokens, i + 1)
        if _text(tokens, j) != "(":
            continue
        close = match_close(tokens, j)
        first = tokens[j + 1] if j + 1 < len(tokens) else None
        if first is None:
            continue
        name = first.text[1:-1] if first.kind == "str" else render(_arg(tokens, j + 1))
        unit = CUnit(name, True, i, close)
        unit.params.extend((i + n / len(table), row) for n, row in enumerate(table))
        out.append(unit)
    return out


def _js_chain(tokens: Sequence[Token], j: int) -> tuple[int, list[str]]:
    """Past `.skip`, `.each([…])`… after a test function's name; the `.each` table's rows."""
    rows: list[str] = []
    while _text(tokens, j) == "." and j + 1 < len(tokens) and tokens[j + 1].kind == "id":
        j += 2
        if _text(tokens, j) == "(":  # test.each(table)(name, fn)
            close = match_close(tokens, j)
            if _text(tokens, close + 1) != "(":
                return j, rows
            if _text(tokens, j + 1) == "[":
                rows = _elements(tokens, j + 1)
            j = close + 1
    return j, rows


def _arg(tokens: Sequence[Token], i: int) -> Sequence[Token]:
    """The tokens of the call argument starting at tokens[i] (up to its comma)."""
    depth, j = 0, i
    while j < len(tokens):
        t = tokens[j].text if tokens[j].kind == "op" else ""
        if t in ("(", "[", "{"):
            depth += 1
        elif t in (")", "]", "}"):
            if depth == 0:
                break
            depth -= 1
        elif t == "," and depth == 0:
            break
        j += 1
    return tokens[i:j]


def _elements(tokens: Sequence[Token], open_: int) -> list[str]:
    """The rendered top-level elements of the bracket group opening at tokens[open_]."""
    close = match_close(tokens, open_)
    out, i = [], open_ + 1
    while i < close:
        part = _arg(tokens, i)
        if part:
            out.append(render(part))
        i += len(part) + 1
    return out


def _go_tests(tokens: Sequence[Token]) -> list[CUnit]:
    out: list[CUnit] = []
    for i, tok in enumerate(tokens):
        if tok.text != "func" or tok.kind != "id":
            continue
        j = i + 1
        if _text(tokens, j) == "(":  # a method: func (s *Suite) TestX
            j = match_close(tokens, j) + 1
        if j >= len(tokens) or not _GO_TEST.fullmatch(tokens[j].text):
            continue
        k = j + 1
        while k < len(tokens) and tokens[k].text != "{":
            k = match_close(tokens, k) + 1 if tokens[k].text in ("(", "[") else k + 1
        out.append(CUnit(tokens[j].text, True, i, match_close(tokens, k)))
    return out


def _rust_tests(tokens: Sequence[Token]) -> list[CUnit]:
    out: list[CUnit] = []
    attrs: list[tuple[int, int]] = []  # token spans of the attributes seen since the last item
    i = 0
    while i < len(tokens):
        if tokens[i].text == "#" and _text(tokens, i + 1) == "[":
            close = match_close(tokens, i + 1)
            attrs.append((i, close))
            i = close + 1
            continue
        if tokens[i].text == "fn" and i + 1 < len(tokens):
            bodies = [render(tokens[a + 2 : b]) for a, b in attrs]
            if any(re.fullmatch(r"(?:\w+::)*(?:test|rstest|test_case)\b.*", b) for b in bodies):
                k = i + 2
                while k < len(tokens) and tokens[k].text not in ("{", ";"):
                    k = match_close(tokens, k) + 1 if tokens[k].text in ("(", "[") else k + 1
                unit = CUnit(tokens[i + 1].text, True, attrs[0][0], match_close(tokens, k))
                unit.marks = [f"#[{b}]" for b in bodies if b.startswith("should_panic")]
                unit.params = [(a, f"#[{b}]") for (a, _), b in zip(attrs, bodies, strict=True)
                               if re.match(r"(?:case|test_case)\b", b)]  # fmt: skip
                out.append(unit)
            attrs = []
        elif tokens[i].text not in ("pub", "async", "unsafe", "const", "extern", "(", ")", "crate"):
            attrs = []
        i += 1
    return out


# --- assertions, data and tables -----------------------------------------------------------------


def _call_chain(tokens: Sequence[Token], i: int) -> int:
    """Index of the last token of `name(…).a.b(…)…` starting at tokens[i]."""
    k = i
    while True:
        nxt = _text(tokens, k + 1)
        if nxt == "(":
            k = match_close(tokens, k + 1)
        elif nxt in (".", "?.") and k + 2 < len(tokens) and tokens[k + 2].kind == "id":
            k += 2
        else:
            return min(k, len(tokens) - 1)


def _js_check(tokens: Sequence[Token], i: int) -> tuple[int, str] | None:
    tok = tokens[i]
    if tok.kind != "id" or _text(tokens, i - 1) in (".", "?."):
        return None
    nxt = _text(tokens, i + 1)
    if (tok.text in ("expect", "assert") and nxt in ("(", ".")) or (
        tok.text in _JS_RECEIVERS
        and nxt == "."
        and _text(tokens, i + 2) in _JS_ASSERTS
        and _text(tokens, i + 3) == "("
    ):
        end = _call_chain(tokens, i)
    else:
        return None
    # chai ends some assertions with a property: expect(x).to.be.true
    chai = tok.text == "expect" and tokens[end].kind == "id" and _text(tokens, i + 1) == "("
    if end == i or (_text(tokens, end) != ")" and not chai):
        return None
    return end, render(tokens[i : end + 1])


def _go_check(tokens: Sequence[Token], i: int) -> tuple[int, str] | None:
    tok = tokens[i]
    if tok.kind == "id" and tok.text == "if":
        brace = i + 1
        while brace < len(tokens) and tokens[brace].text != "{":
            brace = (
                match_close(tokens, brace) + 1 if tokens[brace].text in ("(", "[") else brace + 1
            )
        close = match_close(tokens, brace)
        body = tokens[brace + 1 : close]
        fails = [
            b.text
            for n, b in enumerate(body)
            if b.text in _GO_FAILS and n > 0 and body[n - 1].text == "." and _depth_ok(body, n)
        ]
        if not fails:
            return None
        # The check is the condition and what it fails with; the message is not the check.
        return close, f"if {render(tokens[i + 1 : brace])} {{ t.{fails[0]} }}"
    if tok.kind != "id" or _text(tokens, i + 1) != "." or _text(tokens, i - 1) == ".":
        return None
    method, call = _text(tokens, i + 2), _text(tokens, i + 3) == "("
    # testify's assert./require., quicktest's and gocheck's c.Assert/c.Check, matryer/is
    library = tok.text in ("assert", "require", "is") or method in ("Assert", "Check")
    if call and (method in _GO_FAILS or library):
        end = match_close(tokens, i + 3)
        return end, render(tokens[i : end + 1])
    return None


def _depth_ok(body: Sequence[Token], n: int) -> bool:
    """Whether body[n] sits directly in the if's block (not in a nested one)."""
    depth = 0
    for tok in body[:n]:
        depth += (tok.text == "{") - (tok.text == "}")
    return depth == 0


def _rust_check(tokens: Sequence[Token], i: int) -> tuple[int, str] | None:
    tok = tokens[i]
    if tok.kind != "id" or not _RUST_ASSERT.fullmatch(tok.text) or _text(tokens, i + 1) != "!":
        return None
    if _text(tokens, i + 2) not in ("(", "[", "{"):
        return None
    end = match_close(tokens, i + 2)
    return end, render(tokens[i : end + 1])


_CHECKS = {"js": _js_check, "go": _go_check, "rust": _rust_check}


def _table_rows(tokens: Sequence[Token], i: int) -> tuple[int, list[str]] | None:
    """A table of cases — a Go slice or map literal of structs (`[]struct{…}{ {…}, {…} }`), a
    JS array of arrays or objects assigned to a name — as (last token, rendered rows)."""
    if tokens[i].text == "[" and _text(tokens, i + 1) == "]" and tokens[i].kind == "op":
        start = i + 2
    elif tokens[i].text == "map" and _text(tokens, i + 1) == "[":
        start = match_close(tokens, i + 1) + 1
    elif (
        tokens[i].text == "[" and _text(tokens, i - 1) == "=" and _text(tokens, i + 1) in ("[", "{")
    ):
        return _js_table(tokens, i)
    else:
        return None
    k = start
    while k < len(tokens) and tokens[k].text != "{":
        if tokens[k].text == "struct" and _text(tokens, k + 1) == "{":
            k = match_close(tokens, k + 1)
        elif tokens[k].kind not in ("id",) and tokens[k].text not in ("*", ".", "[", "]"):
            return None
        k += 1
    if k >= len(tokens):
        return None
    close = match_close(tokens, k)
    rows = [r for r in _elements(tokens, k) if r.endswith("}")]
    return (close, rows) if rows else None


def _js_table(tokens: Sequence[Token], i: int) -> tuple[int, list[str]] | None:
    rows = _elements(tokens, i)
    if len(rows) < 2 or not all(r[:1] in ("[", "{") for r in rows):
        return None
    return match_close(tokens, i), rows


def _data(tokens: Sequence[Token], i: int, lang: str) -> tuple[int, str] | None:
    """`want := 6`, `const expected = …`, `let expected = …;`, `expected: …` to its end."""
    tok = tokens[i]
    if tok.kind != "id" or not _DATA.fullmatch(tok.text) or _text(tokens, i - 1) in (".", "?."):
        return None
    if _text(tokens, i + 1) not in ("=", ":=", ":"):
        return None
    start = i
    if _text(tokens, i - 1) in ("const", "let", "var", "mut"):
        start = i - 2 if _text(tokens, i - 1) == "mut" else i - 1
    end, depth, line = i + 2, 0, tok.line
    while end < len(tokens):
        t = tokens[end]
        if t.kind == "op" and t.text in ("(", "[", "{"):
            depth += 1
        elif t.kind == "op" and t.text in (")", "]", "}"):
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (t.text in (";", ",") or (t.line > line and lang == "go")):
            break
        before = tokens[end - 1]
        ended = before.kind in ("id", "num", "str") or before.text in (")", "]")
        if depth == 0 and t.line > line and lang == "js" and t.kind == "id" and ended:
            break  # a statement without its semicolon ended
        end += 1
    if end <= i + 2:
        return None
    return end - 1, render(tokens[start:end])


# --- skips and focus -----------------------------------------------------------------------------


def skip_markers(lang: str, text: str) -> list[Marker]:
    """Every skip and focus marker in the file: `.skip`, `.only`, `xit`, `test.todo`, `t.skip`,
    `this.skip()`, Go `t.Skip…`, Rust `#[ignore]` — in code, not in strings or comments."""
    tokens = tokenize(text, lang)
    lines = text.splitlines()
    found = {"js": _js_markers, "go": _go_markers, "rust": _rust_markers}[lang](tokens)
    return [
        Marker(
            what, lines[tokens[i].line - 1].strip() if tokens[i].line <= len(lines) else "", focus
        )
        for i, what, focus in found
    ]


def _js_markers(tokens: Sequence[Token]) -> Iterator[tuple[int, str, bool]]:
    for i, tok in enumerate(tokens):
        if tok.kind != "id" or _text(tokens, i - 1) in (".", "?."):
            continue
        name, nxt = tok.text, _text(tokens, i + 1)
        if name in {"xit", "xtest", "xdescribe", "xcontext"} and nxt == "(":
            yield i, name, False
        elif name in {"fit", "fdescribe"} and nxt == "(":
            yield i, name, True
        elif name in _JS_TESTS | _JS_SUITES and nxt == ".":
            method = _text(tokens, i + 2)
            if method in ("skip", "todo", "only", "skipIf", "runIf"):
                yield i, f"{name}.{method}", method == "only"
        elif name in ("t", "this") and nxt == "." and _text(tokens, i + 2) in ("skip", "todo"):
            if _text(tokens, i + 3) == "(":
                yield i, f"{name}.{_text(tokens, i + 2)}()", False
        elif name in ("skip", "todo", "only") and nxt == ":" and _text(tokens, i - 1) in ("{", ","):
            value = _text(tokens, i + 2)
            if value not in ("false", "undefined", "null", "0"):
                yield i, f"{name}: option", name == "only"


def _go_markers(tokens: Sequence[Token]) -> Iterator[tuple[int, str, bool]]:
    for i, tok in enumerate(tokens):
        if tok.text == "." and _text(tokens, i + 1) in _GO_SKIPS and _text(tokens, i + 2) == "(":
            yield i, f"{_text(tokens, i - 1)}.{_text(tokens, i + 1)}", False


def _rust_markers(tokens: Sequence[Token]) -> Iterator[tuple[int, str, bool]]:
    for i, tok in enumerate(tokens):
        if tok.text == "#" and _text(tokens, i + 1) == "[" and _text(tokens, i + 2) == "ignore":
            yield i, "#[ignore]", False
