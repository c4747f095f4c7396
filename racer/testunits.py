"""Test units: the tests of a test file with their assertions, expectation data and cases.

Python is read through its AST, JavaScript/TypeScript, Go and Rust from tokens (racer.clike),
other languages by declaration regexes; plus assertion strength.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from racer import clike
from racer.literals import _LIT_RE
from racer.testfiles import _is_comment, _lang

# --- assertion strength --------------------------------------------------------------------------

_VOCAB = re.compile(
    r"assert\w*|expect|to[A-Z]\w*|not|self|t|require|should|be|pytest|approx|raises|True|False"
    r"|None|true|false|null|nil|undefined|and|or|is|in|XCTAssert\w*|isEqualTo|assertThat|that"
)
_EXACT = re.compile(
    r"(?<![!<>=])===?(?!=)|\bis\s+(?!not\b)"
    r"|\bassert(?!\w*Not)\w*(?:Equal|Equals|Is|IsNone|Same|Identical)\b"
    r"|\bassert_(?!\w*not)\w*equal\b|\bassert_eq!"
    r"|(?<!not)\.(?:toBe|toEqual|toStrictEqual|toMatchSnapshot|toMatchInlineSnapshot"
    r"|toHaveBeenCalledWith|toHaveBeenLastCalledWith|toHaveBeenNthCalledWith|toHaveReturnedWith"
    r"|toHaveLength|toHaveBeenCalledTimes)\s*\((?!\s*\))"
    r"|\bassert_called(?:_once)?_with\b|\bassert_has_calls\b"
    r"|\b(?:assert|require)\.(?:Equal|EqualValues|Exactly|JSONEq|ElementsMatch)\b"
    r"|\bisEqualTo\b|\.(?:deep\.)?equals?\(|\.eql\(|\bXCTAssertEqual\b|\bequalTo\("
    r"|\b(?:t|tt|st|assert)\.(?:is|deepEqual|like|snapshot|same|strictSame|strictEqual"
    r"|deepStrictEqual|hasStrict)\("
    r"|\bqt\.(?:Equals|DeepEquals|CmpEquals|JSONEquals)\b|,\s*(?:Equals|DeepEquals)\s*,"
    r"|\bis\.Equal\("
    r"|^if\b[^{]*(?:[^!<>=]!=(?!\s*nil\b)|!(?:reflect\.DeepEqual|cmp\.Equal|bytes\.Equal)\(|cmp\.Diff\()"
)
_WEAK = re.compile(
    r"\bis\s+not\s+None\b|\bisinstance\(|\bhasattr\("
    r"|\bassert(?:True|False|IsNotNone|IsInstance|IsNot|NotIsInstance)\b"
    r"|\.(?:not\.)?(?:toBeTruthy|toBeFalsy|toBeDefined|toBeUndefined|toBeNull|toBeInstanceOf"
    r"|toHaveBeenCalled|toBeNaN)\s*\("
    r"|\b(?:assert|require)\.(?:True|False|NotNil|Nil|NoError|Error|NotEmpty|Empty)\b"
    r"|\bassert_called(?:_once)?\(\)|\bXCTAssert(?:True|False|NotNil|Nil)\b|\.toThrow\(\s*\)"
    r"|\b(?:t|tt|st)\.(?:true|false|truthy|falsy|assert|ok|notOk|pass)\(|^assert(?:\.ok)?\("
    r"|^if\b[^{]*(?:[!=]=\s*nil\b|\s!?ok\s*\{)|\bt\.(?:pass|throws)\(\s*\)"
    r"|\bqt\.(?:IsNil|IsNotNil|IsTrue|IsFalse)\b|\bis\.(?:True|NoErr)\("
)
_GO_NIL_CHECK = re.compile(r"^if\b[^{]*[!=]=\s*nil\s*\{")
_RELATIONAL = re.compile(
    r"!=|<|>|\bin\b|\bassert\w*(?:In|Greater|Less|Raises|Regex|Warns|NotEqual)\w*"
    r"|\bpytest\.(?:raises|warns)\b|\.(?:not\.)?to[A-Z]\w*\(\s*\S|\bassert_ne!"
    r"|\b(?:assert|require)\.\w+|\b(?:t|tt|st)\.\w+\("
)


def _strength(check: str) -> int:
    """3 exact comparison, 2 relational, 1 truthiness, 0 trivially true (no subject at all)."""
    body = _LIT_RE.sub('""', check).replace(":=", "<-")  # Go's := is no comparison
    words = {w for w in re.findall(r"[A-Za-z_]\w*", body) if not _VOCAB.fullmatch(w)}
    if not words:
        return 0
    if _GO_NIL_CHECK.search(body):  # `if err != nil { t.Fatal }`: before `==` reads as exact
        return 1
    if _EXACT.search(body):
        return 3
    if _WEAK.search(body):
        return 1
    return 2 if _RELATIONAL.search(body) else 1


# --- test units: tests, their assertions and expectation data -----------------------------------


@dataclass(frozen=True)
class _Unit:
    name: str  # qualified test name (Class.test_x), "<module>" for what sits outside tests
    is_test: bool
    checks: tuple[str, ...]  # assertions in source order
    data: tuple[str, ...]  # expectation data: `expected = 6`, `want: 6`
    params: tuple[str, ...] = ()  # pytest.mark.parametrize cases, table-test rows
    marks: tuple[str, ...] = ()  # what changes a test's meaning: Rust's #[should_panic]


_DATA_NAME = re.compile(r"(?:want|wanted|expected|expect|exp)(?:_\w+)?|\w+_(?:expected|want)", re.I)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _is_check_call(node: ast.Call) -> bool:
    name = _dotted(node.func)
    last = name.rsplit(".", 1)[-1]
    return last.lower().startswith("assert") or name in ("pytest.raises", "pytest.warns")


def _own_nodes(body: Sequence[ast.stmt]) -> Iterator[ast.AST]:
    """Nodes under `body`, not descending into nested functions or classes."""
    scopes = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    stack: list[ast.AST] = [node for node in body if not isinstance(node, scopes)]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, scopes):
                stack.append(child)


def _py_unit(name: str, is_test: bool, body: Sequence[ast.stmt], params: tuple[str, ...]) -> _Unit:
    checks: list[tuple[int, int, str]] = []
    data: list[tuple[int, int, str]] = []
    for node in _own_nodes(body):
        pos = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if isinstance(node, ast.Assert):
            checks.append((*pos, "assert " + ast.unparse(node.test)))
        elif isinstance(node, ast.Call) and _is_check_call(node):
            checks.append((*pos, ast.unparse(node)))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and _DATA_NAME.fullmatch(t.id) for t in targets):
                data.append((*pos, ast.unparse(node)))
    return _Unit(
        name,
        is_test,
        tuple(c for *_, c in sorted(checks)),
        tuple(d for *_, d in sorted(data)),
        params,
    )


def _parametrize_cases(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    cases: list[str] = []
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and _dotted(deco.func).endswith("parametrize"):
            values = deco.args[1] if len(deco.args) > 1 else None
            if isinstance(values, ast.List | ast.Tuple):
                cases += [ast.unparse(v) for v in values.elts]
    return tuple(cases)


def _child_bodies(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    for _field, value in ast.iter_fields(node):
        if isinstance(value, list):
            stmts = [v for v in value if isinstance(v, ast.stmt)]
            if stmts:
                yield stmts
            for v in value:
                if isinstance(v, ast.ExceptHandler | ast.match_case):
                    yield v.body


def _py_units(tree: ast.Module) -> list[_Unit]:
    units: list[_Unit] = [_py_unit("<module>", False, tree.body, ())]

    def visit(body: Sequence[ast.stmt], prefix: str, test_class: bool) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + node.name
                is_test = node.name.startswith("test") and (not prefix or test_class)
                units.append(_py_unit(name, is_test, node.body, _parametrize_cases(node)))
                visit(node.body, name + ".", False)
            elif isinstance(node, ast.ClassDef):
                testy = node.name.startswith("Test") or any(
                    _dotted(b).endswith("TestCase") for b in node.bases
                )
                visit(node.body, f"{prefix}{node.name}.", testy)
            else:
                for stmts in _child_bodies(node):
                    visit(stmts, prefix, test_class)

    visit(tree.body, "", False)
    return units


_NAME = r"""(?P<q>["'`])(?P<name>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
_DECL: dict[str, re.Pattern[str]] = {
    "js": re.compile(
        r"\b(?:it|test|specify|xit|fit|xtest)(?:\.\w+(?:\([^()]*\))?)*\s*(?P<open>\()\s*" + _NAME
    ),
    "go": re.compile(
        r"^func\s+(?:\([^)]*\)\s*)?(?P<name>(?:Test|Benchmark|Example|Fuzz)\w*)\s*\(", re.M
    ),
    "rust": re.compile(
        r"#\[(?:\w+::)*test\b[^\]]*\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?"
        r"(?:async\s+)?fn\s+(?P<name>\w+)"
    ),
    "java": re.compile(
        r"@(?:Test|ParameterizedTest|RepeatedTest|TestFactory)\b(?:\([^)]*\))?\s*"
        r"(?:@\w+(?:\([^)]*\))?\s*)*(?:(?:public|protected|private|static|final|suspend|override"
        r"|open)\s+)*(?:void\s+|fun\s+)?(?P<name>`[^`]+`|\w+)\s*\("
    ),
    "php": re.compile(r"function\s+(?P<name>test\w+)\s*\("),
    "py": re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?def\s+(?P<name>test\w*)\s*\(", re.M),
    "ruby": re.compile(
        r"""^(?P<indent>[ \t]*)(?:(?:it|specify|scenario|test)\s*\(?\s*"""
        + _NAME
        + r"|def\s+(?P<def>test_\w+))",
        re.M,
    ),
}
_QUOTES = {"js": "\"'`", "go": '"`', "rust": '"', "java": "\"'", "php": "\"'"}

_CHECK_LINE = re.compile(
    r"\bassert\w*!?|\bexpect\s*\(|\.(?:not\.)?to[A-Z]\w*\s*\(|\.should\b"
    r"|\bt\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\b|\b(?:require|assert)\.[A-Z]\w*\("
    r"|\bXCTAssert\w*|\bassertThat\b"
)
_GO_CHECK_LINE = re.compile(r"^\s*if\b.*(?:!=|==|!reflect\.DeepEqual|!cmp\.Equal|!bytes\.Equal)")
_DATA_LINE = re.compile(r"\b(?:want|wanted|expected|expect|exp)\w*\s*(?::=|=(?!=)|:)\s*\S")


def _close(text: str, start: int, lang: str) -> int:
    """Index just past the bracket matching text[start], skipping strings and comments."""
    opener = text[start]
    closer = {"(": ")", "{": "}"}[opener]
    quotes = _QUOTES.get(lang, "\"'")
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c in quotes:
            j = i + 1
            while j < n and text[j] != c and (c == "`" or text[j] != "\n"):
                j += 2 if text[j] == "\\" and not (lang == "go" and c == "`") else 1
            i = j + 1
            continue
        if text.startswith("//", i) or (lang == "php" and c == "#"):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _indent_end(text: str, start: int, indent: str) -> int:
    """End of an indentation block whose header line starts at `start`."""
    nl = text.find("\n", start)
    pos = len(text) if nl < 0 else nl + 1
    while pos < len(text):
        nl = text.find("\n", pos)
        line = text[pos : len(text) if nl < 0 else nl]
        stripped = line.lstrip(" \t")
        if stripped and len(line) - len(stripped) <= len(indent):
            return pos
        pos = len(text) if nl < 0 else nl + 1
    return len(text)


def _generic_units(lang: str, text: str) -> list[_Unit]:
    blocks: list[tuple[int, int, str]] = []
    decl = _DECL.get(lang) or _DECL["js"]
    for m in decl.finditer(text):
        groups = m.groupdict()
        name = groups.get("name") or groups.get("def") or ""
        if "indent" in groups:
            end = _indent_end(text, m.start(), groups["indent"] or "")
        elif groups.get("open") is not None:
            end = _close(text, m.start("open"), lang)
        else:
            brace = text.find("{", m.end())
            end = len(text) if brace < 0 else _close(text, brace, lang)
        blocks.append((m.start(), end, name.strip("`")))
    found: dict[int, tuple[list[str], list[str]]] = {-1: ([], [])}
    for i in range(len(blocks)):
        found[i] = ([], [])
    offset = 0
    for raw in text.splitlines(keepends=True):
        line = raw.strip()
        check = _CHECK_LINE.search(raw) or (lang == "go" and _GO_CHECK_LINE.search(raw))
        data = None if check else _DATA_LINE.search(raw)
        hit = check or data
        if line and hit and not _is_comment(line, lang):
            pos = offset + hit.start()
            inside = [i for i, (s, e, _) in enumerate(blocks) if s <= pos < e]
            owner = max(inside, key=lambda i: blocks[i][0]) if inside else -1
            text_line = " ".join(line.split()).rstrip(";,")
            found[owner][0 if check else 1].append(text_line)
        offset += len(raw)
    units = [_Unit("<module>", False, tuple(found[-1][0]), tuple(found[-1][1]))]
    units += [
        _Unit(name, True, tuple(found[i][0]), tuple(found[i][1]))
        for i, (_, _, name) in enumerate(blocks)
    ]
    return units


def _parse_python(text: str) -> ast.Module | None:
    """The module's AST, or None; quietly, since candidate code may warn (invalid escapes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None


def _units(path: str, text: str) -> dict[str, _Unit]:
    """Test units of a test file by unique name (repeated names get "#2", "#3")."""
    lang = _lang(path)
    units: list[_Unit] | None = None
    tree = _parse_python(text) if lang == "py" else None
    if tree is not None:
        try:
            units = _py_units(tree)
        except RecursionError:  # absurdly deep nesting: read it as lines instead
            units = None
    if units is None and lang in clike.LANGS:
        units = [
            _Unit(
                u.name,
                u.is_test,
                tuple(c for _, c in sorted(u.checks)),
                tuple(d for _, d in sorted(u.data)),
                tuple(p for _, p in sorted(u.params)),
                tuple(u.marks),
            )
            for u in clike.units(lang, text)
        ]
    if units is None:
        units = _generic_units(lang, text)
    out: dict[str, _Unit] = {}
    for unit in units:
        key, n = unit.name, 1
        while key in out:
            n += 1
            key = f"{unit.name}#{n}"
        out[key] = unit
    return out
