"""Overfitting in JavaScript/TypeScript, Go and Rust product code (racer.overfit does Python):
new conditions, `switch`/`match` cases and tables holding values and names from the tests.

Read from racer.lexer's tokens, so text in strings and comments is never taken for code.

The tests' words (TestWords): every literal of the test files (the base's, the candidate's
changed or added ones) and of the hidden acceptance tests, the numbers inside their strings
('4.5' of '<=4.5'), the property names and object keys JavaScript tests read and write
(`result.isAdmin`, `{isAdmin: false}`), the names tests declare, and which literals stand in one
test statement together (an input beside the output expected of it). Values JavaScript tests
only ever pass as an option's setting (`parse(x, {arrayFormat: 'comma'})`) are what the product
must recognise, not values from the tests.

What does not count (Allowed): literals and names of the base's product code; what the spec's
prose asks for (its words, and what its code spans and quoted strings hold: `__proto__`,
"file:" of `file://`); 0/1/empty/true, short strings, plain-word lists and the languages' own
words. The spec's example values (its numbers, its code blocks) count as bounds (`v < 4.5`)
but not as an equality, a case or a table entry. A table pairing test inputs with the outputs
the tests expect of them, or a branch on a test input returning its expected output, is
hard-coding whatever the spec says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from racer import clike
from racer.lexer import Token, match_close, tokenize
from racer.literals import _LIT_RE, _PLAIN_WORD, _token_value
from racer.overfit import _join, _new_lines, key
from racer.testfiles import _lang

__all__ = ["Allowed", "TestWords", "allowed", "special_cases", "words"]


@dataclass(frozen=True)
class TestWords:
    """What the tests hold, each with the test file it is from."""

    __test__ = False  # not a pytest class, though its name says so

    literals: Mapping[str, str] = field(default_factory=dict)  # literal key -> file
    parts: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # '4.5' -> ('<=4.5', file)
    names: Mapping[str, str] = field(default_factory=dict)  # property, object key, declared name
    values: frozenset[str] = frozenset()  # repr of every literal, distinctive or not
    together: Mapping[str, frozenset[int]] = field(default_factory=dict)  # key -> statement ids
    settings: frozenset[str] = frozenset()  # keys only ever passed as an option's value


@dataclass(frozen=True)
class Allowed:
    """What a condition may compare with: the base's product code, the spec's requirements
    (the words of its prose), and the spec's examples (as bounds only)."""

    code: frozenset[str] = frozenset()
    requirements: frozenset[str] = frozenset()  # words of the spec's prose
    phrases: frozenset[str] = frozenset()  # its `code spans` and "quoted strings"
    examples: frozenset[str] = frozenset()

    def required(self, k: str) -> bool:
        """Whether the spec's prose asks for this value: one of its words, or (not a number)
        part of one of its code spans or quoted strings (`"file:"` of `file://`)."""
        if k in self.requirements:
            return True
        return not _NUMBERISH.fullmatch(k) and any(k in p for p in self.phrases)


# The languages' own words: `typeof x === "string"`, `key === "constructor"` are no tell.
_NATURAL_WORDS = frozenset([
    "string", "number", "object", "function", "undefined", "boolean", "symbol", "bigint",
    "constructor", "prototype", "__proto__", "length", "name", "message", "default", "toString",
    "valueOf", "then", "null", "true", "false", "none", "error", "Error"
])  # fmt: skip
_NATURAL = frozenset(repr(v) for v in (0, 1, -1, "", 0.0, 1.0))
_NUMBERISH = re.compile(r"-?\d[\d_]*(?:\.\d+)*")
_NUMBER_PARTS = re.compile(r"(?<![\w.])\d+(?:\.\d+)+(?![\w.])|(?<![\w.])\d{2,}(?![\w.])")
_DECLARES = frozenset(["class", "function", "func", "fn", "struct", "type", "interface", "enum"])
_STRING_PREFIX = re.compile(r"^(?:b?r#*|b)(?=[\"'])")
_NUM_SUFFIX = re.compile(r"(?:[iu](?:8|16|32|64|128|size)|f32|f64|n)$")
_SET_SIZE = 3  # a literal set this big, every value from the tests, is a list of test inputs
_TABLE_SIZE = 2  # distinctive test values in one new table literal


def _value(tok: Token) -> object | None:
    """The constant a string or number token stands for (None: a template with code, or not
    a literal)."""
    if tok.kind == "str":
        text = _STRING_PREFIX.sub("", tok.text)
        text = text.strip("#")
        if len(text) < 2 or (text.startswith("`") and "${" in text):
            return None
        return text[1:-1]
    if tok.kind == "num":
        try:
            return _token_value(_NUM_SUFFIX.sub("", tok.text.lower()) or "x")
        except ValueError:
            return None
    return None


def _literals(tokens: Sequence[Token]) -> Iterator[tuple[Token, object]]:
    for tok in tokens:
        value = _value(tok)
        if value is not None and not isinstance(value, bool):
            yield tok, value


# --- the tests' words ----------------------------------------------------------------------------


@dataclass
class _Words:
    """TestWords as they are being read (a builder)."""

    literals: dict[str, str] = field(default_factory=dict)
    parts: dict[str, tuple[str, str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    values: set[str] = field(default_factory=set)
    together: dict[str, set[int]] = field(default_factory=dict)
    groups: int = 0
    uses: dict[str, int] = field(default_factory=dict)  # JavaScript literals: how often
    as_option: dict[str, int] = field(default_factory=dict)  # … of which as an option's value

    def group(self, path: str, values: Iterable[object]) -> None:
        """Values of one test statement (a line, a whole assertion, a table row)."""
        self.groups += 1
        for value in values:
            self.values.add(repr(value))
            k = key(value)
            if k is None:
                continue
            self.literals.setdefault(k, path)
            self.together.setdefault(k, set()).add(self.groups)
            if isinstance(value, str):
                for part in _NUMBER_PARTS.findall(value):
                    pk = key(part)
                    if pk is not None and pk != k:
                        self.parts.setdefault(pk, (value, path))


def words(sources: Iterable[tuple[str, str]]) -> TestWords:
    """The tests' words, from (path, text) of test files of any language."""
    w = _Words()
    for path, text in sources:
        lang = _lang(path)
        if lang not in clike.LANGS:
            for line in text.splitlines():
                w.group(path, (_token_value(t.group(0)) for t in _LIT_RE.finditer(line)))
            continue
        tokens = tokenize(text, lang)
        by_line: dict[int, list[object]] = {}
        for tok, value in _literals(tokens):
            by_line.setdefault(tok.line, []).append(value)
        for values in by_line.values():
            w.group(path, values)
        for unit in clike.units(lang, text):  # whole assertions and table rows, however long
            for _, stmt in (*unit.checks, *unit.params, *unit.data):
                w.group(path, (_token_value(t.group(0)) for t in _LIT_RE.finditer(stmt)))
        for name in _names(tokens, lang):
            w.names.setdefault(name, path)
        if lang == "js":
            for _, value in _literals(tokens):
                k = key(value)
                if k is not None:
                    w.uses[k] = w.uses.get(k, 0) + 1
            for k in _option_values(tokens):
                w.as_option[k] = w.as_option.get(k, 0) + 1
    return TestWords(
        w.literals,
        w.parts,
        w.names,
        frozenset(w.values),
        {k: frozenset(v) for k, v in w.together.items()},
        frozenset(k for k, n in w.as_option.items() if n == w.uses.get(k)),
    )


def _option_values(tokens: Sequence[Token]) -> Iterator[str]:
    """Keys of literals a JavaScript test passes as a setting: the value of a property of an
    object given as a later argument of a call (`parse(x, {arrayFormat: 'comma'})`, `{types:
    {age: 'number[]'}}`) — what the product must recognise, not a value it computes."""
    stack: list[int] = []  # indexes of the open brackets around the current token
    for i, tok in enumerate(tokens):
        if tok.kind == "op" and tok.text in ("(", "[", "{"):
            stack.append(i)
            continue
        if tok.kind == "op" and tok.text in (")", "]", "}"):
            if stack:
                stack.pop()
            continue
        if tok.kind not in ("str", "num") or _text(tokens, i - 1) != ":" or not stack:
            continue
        if not _in_options(tokens, stack):
            continue
        k = key(_value(tok))
        if k is not None:
            yield k


# What a test asserts with: its later arguments are expectations, not settings.
_ASSERTING = clike._JS_ASSERTS | {
    "toEqual", "toStrictEqual", "toMatchObject", "toBe", "toHaveProperty", "toContainEqual",
    "toHaveBeenCalledWith", "eql", "deepEqual", "deepStrictEqual", "equal",
}  # fmt: skip


def _in_options(tokens: Sequence[Token], stack: list[int]) -> bool:
    """Whether the innermost brackets are objects nested (as property values) in an object
    that is a call's second or later argument."""
    for n in range(len(stack) - 1, -1, -1):
        at = stack[n]
        if tokens[at].text != "{":
            return False
        before = _text(tokens, at - 1)
        if before == ",":  # a later argument, of a call that is not an assertion
            call = stack[n - 1] if n > 0 else -1
            return _text(tokens, call) == "(" and _text(tokens, call - 1) not in _ASSERTING
        if before != ":":
            return False
    return False


def _names(tokens: Sequence[Token], lang: str) -> Iterator[str]:
    """Names a test declares; in JavaScript also the properties it reads and the object keys
    it writes (`result.isAdmin`, `{isAdmin: false}`)."""
    for i, tok in enumerate(tokens):
        if tok.kind != "id":
            continue
        prev = tokens[i - 1].text if i > 0 else ""
        nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if prev in _DECLARES or (
            lang == "js" and (prev in (".", "?.") or (nxt == ":" and prev in ("{", ",")))
        ):
            yield tok.text


# --- what a condition may compare with -----------------------------------------------------------


def allowed(product: Iterable[tuple[str, str]], spec: str) -> Allowed:
    """Allowed values: every literal and identifier of the base's product files (path, text),
    the words of the spec's prose (requirements) and the values of its examples."""
    code: set[str] = set()
    for path, text in product:
        lang = _lang(path)
        if lang not in clike.LANGS:
            continue
        tokens = tokenize(text, lang)
        code |= {t.text for t in tokens if t.kind == "id"}
        for _, value in _literals(tokens):
            code.add(_raw(value))
            k = key(value)
            if k is not None:
                code.add(k)
    prose: list[str] = []
    fenced = False
    for line in spec.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            prose.append(line)
    text = "\n".join(prose)
    requirements = {w for w in re.findall(r"[A-Za-z_$][\w$]*", text) if not _NUMBERISH.fullmatch(w)}
    phrases = set(re.findall(r"`([^`\n]+)`", text)) | set(re.findall(r'"([^"\n]+)"', text))
    examples = {k for t in _LIT_RE.finditer(spec) if (k := key(_token_value(t.group(0))))}
    examples |= {k for n in re.findall(r"-?\d[\d_]*(?:\.\d+)?", spec) if (k := _number_key(n))}
    examples |= {k for n in _NUMBER_PARTS.findall(spec) if (k := key(n))}
    return Allowed(
        frozenset(code), frozenset(requirements), frozenset(phrases), frozenset(examples)
    )


def _number_key(text: str) -> str | None:
    try:
        return key(_token_value(text))
    except ValueError:
        return None


def _raw(value: object) -> str:
    return "=" + repr(value)  # kept apart from keys: any literal, distinctive or not


# --- product code --------------------------------------------------------------------------------

_EQUALITY = frozenset(["==", "===", "!=", "!=="])
_ORDER = frozenset(["<", ">", "<=", ">="])
# Methods and functions that compare their argument with a value: `s.startsWith("x")`.
_COMPARING_CALLS = frozenset([
    "startsWith", "endsWith", "includes", "has", "hasOwnProperty", "hasOwn", "indexOf",
    "localeCompare", "HasPrefix", "HasSuffix", "Contains", "ContainsAny", "EqualFold",
    "TrimPrefix", "TrimSuffix", "starts_with", "ends_with", "contains", "eq",
    "eq_ignore_ascii_case", "strip_prefix", "strip_suffix"
])  # fmt: skip


def special_cases(
    path: str, before: str | None, after: str, tests: TestWords, ok: Allowed
) -> Iterator[tuple[str, str]]:
    """(the line, why) of new conditions, cases and tables in `after` on values from the
    tests; the line as one line of single spaces."""
    lang = _lang(path)
    if lang not in clike.LANGS or not (tests.literals or tests.names):
        return
    tokens = tokenize(after, lang)
    new = _new_lines(before, after)
    lines = after.splitlines()
    found: dict[int, list[str]] = {}
    for i, mode in _compared(tokens, lang):
        if tokens[i].line not in new:
            continue
        value = _value(tokens[i])
        if i > 0 and tokens[i - 1].text == "-" and isinstance(value, int | float):
            value = -value
        what = _from_tests(tokens[i].text, value, mode, tests, ok)
        if what is None and mode == "eq":
            what = _returns_expected(tokens, i, value, tests, ok)
        if what is not None:
            found.setdefault(tokens[i].line, []).append(what)
    for line, hits in sorted(found.items()):
        yield _line(lines, line), f"branches on {_join(hits)}"
    for line, detail in _tables(tokens, new, tests, ok):
        if line not in found:
            yield _line(lines, line), detail


def _returns_expected(
    tokens: Sequence[Token], i: int, value: object, tests: TestWords, ok: Allowed
) -> str | None:
    """A branch on a test's input that returns the output the same test statement expects
    (`if (s === 'b2b_x') return 'b2bX';`, `"a" => "b"`, `s === 'a' ? 'b' : …`): hard-coding
    even when the spec shows both."""
    k = key(value) if value is not None else None
    mine = tests.together.get(k, frozenset()) if k is not None and k not in ok.code else None
    if not mine:
        # `items.join(',') === 'Foxtrot,Golf'`: a value made of two or more inputs of one test
        # statement ('Foxtrot' and 'Golf'), none of them the base's.
        mine = _composite(value, tests, ok)
    if not mine:
        return None
    for j in range(i + 1, min(len(tokens), i + _LOOKAHEAD)):
        if tokens[j].line > tokens[i].line + 3:
            break
        if tokens[j].text not in ("return", "=>", "?") or not _is_literal(tokens, j + 1):
            continue
        out = key(_value(tokens[j + 1]))
        if out is not None and out != k and mine & tests.together.get(out, frozenset()):
            return f"{tokens[i].text} and returns {tokens[j + 1].text}, what a test expects of it"
    return None


_LOOKAHEAD = 40  # tokens after a branch's literal where its returned value is looked for
_PIECES = re.compile(r"[^\W_]+")


def _composite(value: object, tests: TestWords, ok: Allowed) -> frozenset[int]:
    """The test statements holding every piece of `value` when it is two or more distinctive
    test literals joined by separators (none of them the base's code), else nothing."""
    if not isinstance(value, str):
        return frozenset()
    pieces = _PIECES.findall(value)
    keys = [key(p) for p in pieces]
    if len(pieces) < 2 or any(k is None or k not in tests.literals or k in ok.code for k in keys):
        return frozenset()
    shared = frozenset.intersection(*(frozenset(tests.together.get(k or "", ())) for k in keys))
    return shared


def _line(lines: list[str], lineno: int) -> str:
    return " ".join(lines[lineno - 1].split()) if lineno <= len(lines) else ""


def _is_literal(tokens: Sequence[Token], i: int) -> bool:
    return 0 <= i < len(tokens) and tokens[i].kind in ("str", "num")


def _compared(tokens: Sequence[Token], lang: str) -> Iterator[tuple[int, str]]:
    """(index of a literal token, "eq" or "bound") for every literal a condition compares with:
    either side of ==/!=/</>…, `case` labels, Rust match arms, `"k" in obj`, and arguments of
    comparing calls (`startsWith`, `strings.HasPrefix`, `.contains`)."""
    for i, tok in enumerate(tokens):
        text = tok.text
        if tok.kind == "op" and (text in _EQUALITY or text in _ORDER):
            mode = "eq" if text in _EQUALITY else "bound"
            if _is_literal(tokens, i - 1):
                yield i - 1, mode
            j = i + 2 if i + 1 < len(tokens) and tokens[i + 1].text == "-" else i + 1
            if _is_literal(tokens, j):
                yield j, mode
        elif tok.kind == "id" and text == "case" and lang in ("js", "go"):
            j = i + 1
            while _is_literal(tokens, j) and j + 1 < len(tokens):
                if tokens[j + 1].text not in (",", ":"):
                    break
                yield j, "eq"
                if tokens[j + 1].text == ":":
                    break
                j += 2
        elif text == "=>" and lang == "rust":
            yield from _match_arm(tokens, i)
        elif tok.kind == "id" and text == "in" and lang == "js" and _is_literal(tokens, i - 1):
            yield i - 1, "eq"
        elif tok.kind == "id" and text in _COMPARING_CALLS and _text(tokens, i + 1) == "(":
            yield from ((j, "eq") for j in _call_literals(tokens, i + 1))


def _text(tokens: Sequence[Token], i: int) -> str:
    return tokens[i].text if 0 <= i < len(tokens) else ""


def _match_arm(tokens: Sequence[Token], arrow: int) -> Iterator[tuple[int, str]]:
    """Literals of a Rust match arm's pattern (`"a" | "b" =>`), if it is only literals."""
    j, lits = arrow - 1, []
    while _is_literal(tokens, j):
        lits.append(j)
        if _text(tokens, j - 1) != "|":
            break
        j -= 2
    if lits and _text(tokens, lits[-1] - 1) in (",", "{", "}"):
        yield from ((j, "eq") for j in lits)


def _call_literals(tokens: Sequence[Token], open_: int) -> Iterator[int]:
    """Indexes of the literal arguments (at the top level) of the call opening at open_."""
    close, depth = match_close(tokens, open_), 0
    for j in range(open_ + 1, close):
        t = tokens[j]
        if t.kind == "op" and t.text in ("(", "[", "{"):
            depth += 1
        elif t.kind == "op" and t.text in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and t.kind in ("str", "num") and _text(tokens, j + 1) in (",", ")"):
            yield j


def _from_tests(text: str, value: object, mode: str, tests: TestWords, ok: Allowed) -> str | None:
    k = key(value) if value is not None else None
    if k is None or k in _NATURAL_WORDS or k in ok.code or ok.required(k):
        return None
    if (mode == "bound" and k in ok.examples) or k in tests.settings:
        return None
    if k in tests.literals:
        return f"{text} (from {tests.literals[k]})"
    if k in tests.parts:
        whole, file = tests.parts[k]
        return f"{text} (part of {whole!r} in {file})"
    if isinstance(value, str) and value in tests.names:
        return f"{text} (a name the tests use, in {tests.names[value]})"
    return None


# --- tables --------------------------------------------------------------------------------------

# Tokens that make a bracket group code rather than data.
_CODE = frozenset([
    ";", "=", ":=", "=>", "->", "return", "if", "for", "while", "switch", "match", "case", "let",
    "const", "var", "func", "function", "fn", "==", "===", "!=", "!==", "&&", "||", "+=", "-="
])  # fmt: skip


def _tables(
    tokens: Sequence[Token], new: set[int], tests: TestWords, ok: Allowed
) -> Iterator[tuple[int, str]]:
    """(line, detail) of new array/object/map/slice literals holding values from the tests."""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind != "op" or tok.text not in ("[", "{") or tok.line not in new:
            i += 1
            continue
        close = match_close(tokens, i)
        body = tokens[i + 1 : close]
        if not _is_data(tokens, i, body):
            i += 1
            continue
        compared = _text(tokens, close + 1) in (".", "?.") and _text(tokens, close + 2) in (
            _COMPARING_CALLS
        )
        detail = _table_detail(_elements(body), tests, ok, compared=compared)
        if detail is not None:
            yield tok.line, detail
        i = close + 1


def _is_data(tokens: Sequence[Token], open_: int, body: Sequence[Token]) -> bool:
    if tokens[open_].text == "{" and _text(tokens, open_ - 1) in (")", "=>", "else", "->"):
        return False  # a block
    for n, t in enumerate(body):
        if t.text in _CODE and t.kind in ("op", "id"):
            return False
        call = t.kind == "id" and n + 1 < len(body) and body[n + 1].text == "("
        if call and t.text not in ("Map", "Set", "from", "of", "vec", "new"):
            return False  # a call: code
    return True


def _elements(body: Sequence[Token]) -> list[list[object]]:
    """The literal values of each top-level element of a bracket group's body."""
    out: list[list[object]] = [[]]
    depth = 0
    for n, t in enumerate(body):
        if t.kind == "op" and t.text in ("(", "[", "{"):
            depth += 1
        elif t.kind == "op" and t.text in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and t.text == ",":
            out.append([])
            continue
        value = _value(t)
        if value is not None:
            negative = n > 0 and body[n - 1].text == "-" and isinstance(value, int | float)
            out[-1].append(-value if negative and isinstance(value, int | float) else value)
    return [e for e in out if e]


def _table_detail(
    elements: list[list[object]], tests: TestWords, ok: Allowed, *, compared: bool
) -> str | None:
    """Why a new table is hard-coding, if it is: entries pairing a test input with the output
    expected of it; distinctive values from the tests (not plain words); or, compared with (`[9, -10,
    -15].includes(x)`), a set of plain test inputs."""
    pairs: list[str] = []
    hits: list[str] = []
    for values in elements:
        keys = [k for v in values if (k := key(v)) is not None and k not in _NATURAL_WORDS]
        pair = _test_pair(keys, tests, ok)
        if pair is not None:
            pairs.append(pair)
        for v in values:
            k = key(v)
            if k is None or k in _NATURAL_WORDS or k in ok.code or ok.required(k):
                continue
            if k in tests.settings:
                continue
            if _PLAIN_WORD.fullmatch(k):  # a list of words is a vocabulary (type names, days)
                continue
            if (k in tests.literals or k in tests.parts) and repr(v) not in hits:
                hits.append(repr(v))
    if len(pairs) >= _TABLE_SIZE:
        return f"a table of test inputs and the outputs the tests expect ({', '.join(pairs[:3])})"
    if len(hits) >= _TABLE_SIZE:
        return f"a table of values from the tests ({', '.join(hits[:4])})"
    flat = [v for values in elements for v in values]
    if compared and len(flat) == len(elements):  # one literal each: plain test inputs?
        plain = [v for v in flat if repr(v) not in _NATURAL and not _excused(v, tests, ok)]
        from_tests = all(repr(v) in tests.values for v in plain)
        if len(plain) >= _SET_SIZE and from_tests and not all(_raw(v) in ok.code for v in plain):
            return f"a set of test inputs ({', '.join(repr(v) for v in plain[:4])})"
    return None


def _excused(value: object, tests: TestWords, ok: Allowed) -> bool:
    """A value the spec asks for or the tests only pass as a setting."""
    k = key(value)
    return k is not None and (ok.required(k) or k in tests.settings)


def _test_pair(keys: list[str], tests: TestWords, ok: Allowed) -> str | None:
    """'a → b' when two values of one table entry stand in one test statement together (an
    input beside the output expected of it), not both from the base's code."""
    for n, a in enumerate(keys):
        for b in keys[n + 1 :]:
            if a == b or (a in ok.code and b in ok.code):
                continue
            if tests.together.get(a, frozenset()) & tests.together.get(b, frozenset()):
                return f"{a!r} → {b!r}"
    return None
