"""Tamper and scope flags: what a candidate's change did to tests, test infrastructure and scope.

Pure functions over file texts (base and candidate); the caller reads git, this module does no I/O.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import re
import tomllib
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

Severity = Literal["tamper", "scope"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TAMPER = (
    "test_deleted skip_added assert_weakened expected_changed test_infra_edited special_cases_tests"
)
_SCOPE = "lockfile dependency lint_suppression debug_print unique_file formatting_only"
SEVERITY: dict[str, Severity] = {
    **dict.fromkeys(_TAMPER.split(), "tamper"),
    **dict.fromkeys(_SCOPE.split(), "scope"),
}

MAX_HUNK_SCAN_LINES = 20_000  # bigger files get the whole-file formatting check only
MAX_PER_KIND = 8  # per file and kind; beyond this one "… and N more" flag keeps reports readable


@dataclass(frozen=True)
class Flag:
    kind: str
    file: str
    detail: str  # one line a person understands
    severity: Severity


@dataclass(frozen=True)
class FileChange:
    """One changed file. Deleted: `after` None with `before` text; both None: binary, path only."""

    path: str  # new path (old path for deletions)
    old_path: str | None  # None for added files
    before: str | None  # full text at base (None: added or binary)
    after: str | None  # full text in the candidate (None: deleted or binary)


DEFAULT_TEST_PATTERNS: tuple[str, ...] = _words(
    """
    tests/** test/** __tests__/** spec/** src/test/** test_*.py *_test.py tests.py *_test.go
    *.test.[jt]s *.test.[jt]sx *.test.[cm][jt]s *.spec.[jt]s *.spec.[jt]sx *.spec.[cm][jt]s
    *_spec.rb *_test.rb *Test.java *Tests.java *Test.kt *Test.php
    """
)

# Globs: a leading "/" anchors at the repository root; others match at any depth.
# CI files count as test infrastructure (they decide what "tests pass" means), not as scope.
_INFRA_PATTERNS: tuple[str, ...] = _words(
    """
    conftest.py pytest.ini tox.ini noxfile.py jest.config.* vitest.config.* vitest.workspace.*
    karma.conf.* .mocharc* .nycrc* phpunit.xml phpunit.xml.dist .coveragerc codecov.yml
    codecov.yaml .codecov.yml Jenkinsfile /.github/workflows/** /.gitlab-ci.yml /.circleci/**
    /.travis.yml /azure-pipelines.yml /bitbucket-pipelines.yml /.buildkite/**
    """
)
_LINT_CONFIG_PATTERNS: tuple[str, ...] = _words(
    """
    .flake8 .pylintrc pylintrc mypy.ini .mypy.ini ruff.toml .ruff.toml .eslintrc* eslint.config.*
    .golangci.y*ml clippy.toml .rubocop.yml tslint.json
    """
)
_LOCKFILES = frozenset(
    _words(
        """
    package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml bun.lockb poetry.lock uv.lock
    pdm.lock Cargo.lock go.sum Gemfile.lock composer.lock Pipfile.lock
    """
    )
)
_EXT_LANG = {
    ext: lang
    for lang, exts in (
        ("py", ".py .pyi"),
        ("js", ".js .jsx .ts .tsx .mjs .cjs .mts .cts .vue .svelte"),
        ("go", ".go"),
        ("rust", ".rs"),
        ("java", ".java .kt .kts"),
        ("ruby", ".rb"),
        ("php", ".php"),
    )
    for ext in exts.split()
}


# --- paths ---------------------------------------------------------------------------------------


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _lang(path: str) -> str:
    name = _basename(path)
    dot = name.rfind(".")
    return _EXT_LANG.get(name[dot:].lower(), "other") if dot > 0 else "other"


def _match_parts(pat: Sequence[str], parts: Sequence[str]) -> bool:
    if not pat:
        return not parts
    if pat[0] == "**":
        if len(pat) == 1:
            return len(parts) >= 1
        return any(_match_parts(pat[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pat[0]) and _match_parts(pat[1:], parts[1:])


def _glob(pattern: str, path: str) -> bool:
    pat = [p for p in pattern.split("/") if p]
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    starts = [0] if pattern.startswith("/") else range(len(parts))
    return any(_match_parts(pat, parts[i:]) for i in starts)


def _segment_regex(seg: str) -> str:
    out, i = [], 0
    while i < len(seg):
        c = seg[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := seg.find("]", i + 2)) > 0:
            body = seg[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """The globs as one regex over a normalised path (same meaning as `_glob`, 10x faster)."""
    bodies = []
    for pattern in patterns:
        segs = [s for s in pattern.split("/") if s]
        if not segs:
            continue
        body = []
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            if seg == "**":
                body.append("[^/]+(?:/[^/]+)*" if last else "(?:[^/]+/)*")
            else:
                body.append(_segment_regex(seg) + ("" if last else "/"))
        lead = "" if pattern.startswith("/") else "(?:[^/]+/)*"
        bodies.append(lead + "".join(body))
    return re.compile("(?:" + "|".join(bodies) + r")\Z") if bodies else None


def is_test_file(path: str, patterns: Sequence[str] = DEFAULT_TEST_PATTERNS) -> bool:
    """Whether `path` is a test file: gitignore-like globs, `**` spans directories."""
    regex = _compiled(tuple(patterns))
    if regex is None:
        return False
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return regex.match("/".join(parts)) is not None


# --- config files: which sections changed ------------------------------------------------------


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _toml(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _json(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


_SECTION = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*$")


def _text_sections(text: str | None) -> dict[str, tuple[str, ...]]:
    """INI/TOML text by section header, comments and blank lines dropped."""
    out: dict[str, list[str]] = {}
    current = ""
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        m = _SECTION.match(line)
        if m:
            current = m.group(1).replace('"', "").replace("'", "")
            out.setdefault(current, [])
        else:
            out.setdefault(current, []).append(line)
    return {k: tuple(v) for k, v in out.items()}


def _changed_sections(before: str | None, after: str | None, prefixes: Sequence[str]) -> list[str]:
    """Names of INI/TOML sections under `prefixes` whose content differs (text comparison)."""
    b, a = _text_sections(before), _text_sections(after)
    names = {n for n in b.keys() | a.keys() if n.startswith(tuple(prefixes))}
    return sorted(n for n in names if b.get(n) != a.get(n))


def _changed_tool_tables(before: str | None, after: str | None, tools: Sequence[str]) -> list[str]:
    """`[tool.X…]` tables of a pyproject.toml that changed, X starting with one of `tools`."""
    b, a = _toml(before), _toml(after)
    if b is None or a is None:
        return _changed_sections(before, after, [f"tool.{t}" for t in tools])
    tb, ta = _as_dict(b.get("tool")), _as_dict(a.get("tool"))
    names = {k for k in tb.keys() | ta.keys() if k.startswith(tuple(tools))}
    return sorted(f"tool.{k}" for k in names if tb.get(k) != ta.get(k))


def _package_json_test_keys(before: str | None, after: str | None) -> list[str]:
    b, a = _json(before), _json(after)
    if b is None or a is None:
        return []
    changed = [k for k in ("jest", "mocha", "ava", "nyc", "c8", "vitest") if b.get(k) != a.get(k)]
    sb, sa = _as_dict(b.get("scripts")), _as_dict(a.get("scripts"))
    for key in sorted(sb.keys() | sa.keys()):
        testy = key in ("test", "pretest", "posttest") or key.startswith("test:")
        if testy and sb.get(key) != sa.get(key):
            changed.append(f"scripts.{key}")
    return changed


def _verb(before: str | None, after: str | None) -> str:
    if before is None and after is None:
        return "changed"
    return "added" if before is None else "deleted" if after is None else "edited"


def _infra_reason(path: str, before: str | None, after: str | None) -> str | None:
    name = _basename(path)
    if name == "pyproject.toml":
        changed = _changed_tool_tables(before, after, ("pytest", "coverage"))
        return f"test config changed: [{'], ['.join(changed)}]" if changed else None
    if name == "setup.cfg":
        changed = _changed_sections(before, after, ("tool:pytest", "pytest", "coverage:"))
        return f"test config changed: [{'], ['.join(changed)}]" if changed else None
    if name == "package.json":
        keys = _package_json_test_keys(before, after)
        return f"test config changed: {', '.join(keys)}" if keys else None
    if any(_glob(p, path) for p in _INFRA_PATTERNS):
        return f"test infrastructure {_verb(before, after)}: {path}"
    return None


def is_test_infra(path: str, before: str | None, after: str | None) -> bool:
    """Whether a change to `path` edits test infrastructure (config, conftest, CI, coverage).

    pyproject.toml, setup.cfg and package.json count only when their test sections changed.
    """
    return _infra_reason(path, before, after) is not None


def _lint_config_reason(path: str, before: str | None, after: str | None) -> str | None:
    name = _basename(path)
    if name == "pyproject.toml":
        tools = ("ruff", "mypy", "pylint", "pyright", "basedpyright", "flake8")
        changed = _changed_tool_tables(before, after, tools)
        return f"lint config changed: [{'], ['.join(changed)}]" if changed else None
    if name == "setup.cfg":
        changed = _changed_sections(before, after, ("flake8", "mypy", "pylint", "pycodestyle"))
        return f"lint config changed: [{'], ['.join(changed)}]" if changed else None
    if name == "package.json":
        b, a = _json(before), _json(after)
        if b is not None and a is not None and b.get("eslintConfig") != a.get("eslintConfig"):
            return "lint config changed: eslintConfig"
        return None
    if any(_glob(p, path) for p in _LINT_CONFIG_PATTERNS):
        return f"lint config {_verb(before, after)}: {path}"
    return None


# --- dependency manifests ----------------------------------------------------------------------

_REQ_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _pep508(spec: str) -> str:
    m = _REQ_NAME.match(spec)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else spec.strip()


def _requirements(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        key = line if line.startswith("-") else _pep508(line)
        out[key] = "".join(line.split())
    return out


def _pyproject_deps(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}

    def add(specs: Any, group: str) -> None:
        for spec in _as_list(specs):
            if isinstance(spec, str):
                out[_pep508(spec) + (f" [{group}]" if group else "")] = "".join(spec.split())

    project = _as_dict(data.get("project"))
    add(project.get("dependencies"), "")
    for group, specs in _as_dict(project.get("optional-dependencies")).items():
        add(specs, group)
    for group, specs in _as_dict(data.get("dependency-groups")).items():
        add(specs, group)
    add(_as_dict(data.get("build-system")).get("requires"), "build-system")
    poetry = _as_dict(_as_dict(data.get("tool")).get("poetry"))
    tables = {"": poetry.get("dependencies"), "dev": poetry.get("dev-dependencies")}
    for group, table in _as_dict(poetry.get("group")).items():
        tables[group] = _as_dict(table).get("dependencies")
    for group, table in tables.items():
        for name, spec in _as_dict(table).items():
            key = name + (f" [{group}]" if group else "")
            out[key] = json.dumps(spec, sort_keys=True)
    return out


def _cargo_deps(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    sections = ("dependencies", "dev-dependencies", "build-dependencies")
    tables: list[tuple[str, Any]] = [(s, data.get(s)) for s in sections]
    tables.append(("workspace", _as_dict(data.get("workspace")).get("dependencies")))
    for target, body in _as_dict(data.get("target")).items():
        tables += [(f"{target} {s}", _as_dict(body).get(s)) for s in sections]
    for section, table in tables:
        for name, spec in _as_dict(table).items():
            key = name if section == "dependencies" else f"{name} [{section}]"
            out[key] = json.dumps(spec, sort_keys=True)
    return out


def _json_deps(data: dict[str, Any], sections: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for section in sections:
        for name, spec in _as_dict(data.get(section)).items():
            key = name if section in ("dependencies", "require") else f"{name} [{section}]"
            out[key] = json.dumps(spec, sort_keys=True)
    return out


def _go_mod(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    block: str | None = None
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if block is not None:
            if line == ")":
                block = None
            elif line:
                parts = line.split()
                out[parts[0] if block == "require" else f"{block} {parts[0]}"] = " ".join(parts)
            continue
        m = re.match(r"(require|replace|exclude)\s*\(\s*$", line)
        if m:
            block = m.group(1)
            continue
        m = re.match(r"(require|replace|exclude)\s+(\S+)\s*(.*)", line)
        if m:
            kind, mod = m.group(1), m.group(2)
            out[mod if kind == "require" else f"{kind} {mod}"] = line
    return out


def _gemfile(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in re.finditer(r"""^\s*gem\s+["']([^"']+)["'](.*)$""", text, re.M):
        out[m.group(1)] = "".join(m.group(2).split())
    return out


def _manifest(path: str) -> str | None:
    """Which kind of dependency manifest `path` is, if any."""
    name = _basename(path)
    if any(_glob(p, path) for p in ("requirements*.txt", "requirements*.in", "requirements/*.txt")):
        return "requirements"
    known = ("pyproject.toml", "Cargo.toml", "Pipfile", "package.json", "composer.json")
    return name if name in (*known, "go.mod", "Gemfile") else None


def _deps(kind: str, text: str | None) -> dict[str, str] | None:
    """Dependency name -> spec of a manifest's text; None when it does not parse."""
    if text is None:
        return {}
    if kind == "requirements":
        return _requirements(text)
    if kind == "go.mod":
        return _go_mod(text)
    if kind == "Gemfile":
        return _gemfile(text)
    if kind in ("package.json", "composer.json"):
        obj = _json(text)
        if obj is None:
            return None
        if kind == "composer.json":
            return _json_deps(obj, ("require", "require-dev"))
        sections = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")
        return _json_deps(obj, sections)
    data = _toml(text)
    if data is None:
        return None
    if kind == "pyproject.toml":
        return _pyproject_deps(data)
    if kind == "Cargo.toml":
        return _cargo_deps(data)
    return _json_deps(data, ("packages", "dev-packages"))


def _dependency_detail(path: str, before: str | None, after: str | None) -> str | None:
    kind = _manifest(path)
    if kind is None or (before is None and after is None):
        return None
    b, a = _deps(kind, before), _deps(kind, after)
    if b is None or a is None:
        return None
    items = [f"+{k}" for k in sorted(a.keys() - b.keys())]
    items += [f"-{k}" for k in sorted(b.keys() - a.keys())]
    items += [f"~{k}" for k in sorted(b.keys() & a.keys()) if b[k] != a[k]]
    if not items:
        return None
    more = f" … and {len(items) - 6} more" if len(items) > 6 else ""
    return f"dependencies changed: {', '.join(items[:6])}{more}"


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


def _is_comment(line: str, lang: str) -> bool:
    if lang in ("py", "ruby"):
        return line.startswith("#")
    if lang == "other":
        return line.startswith(("#", "//", "/*", "*"))
    return line.startswith(("//", "/*", "*")) or (lang == "php" and line.startswith("#"))


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


# --- literals ------------------------------------------------------------------------------------

_LIT = r"""(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`|(?<![\w.])-?\d[\d_]*(?:\.\d+)?(?![\w.]))"""
_LIT_RE = re.compile(_LIT)
_LIT_OR_KEYWORD = re.compile(_LIT + r"|\b(?:True|False|None|true|false|null|nil|undefined)\b")
_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _round_number(n: int) -> bool:
    n = abs(n)
    if n == 0:
        return True
    while n % 10 == 0:
        n //= 10
    return n == 1 or (n & (n - 1)) == 0 or ((n + 1) & n) == 0


def _literal_key(value: object) -> str | None:
    """Canonical text of a literal distinctive enough to betray hard-coding, else None.

    Strings of ≥ 3 characters that are not a single plain word; numbers with ≥ 2 digits that
    are not round (powers of 10 or 2, 2**n - 1): "FizzBuzz" or 100 are too natural to count.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        digits = len(str(abs(value)))
        return str(value) if digits >= 2 and not _round_number(value) else None
    if isinstance(value, float):
        text = repr(value)
        if value.is_integer():
            return _literal_key(int(value))
        return text if sum(c.isdigit() for c in text) >= 2 else None
    if isinstance(value, str):
        if len(value) < 3 or _PLAIN_WORD.fullmatch(value) or not value.strip():
            return None
        return value
    return None


def _token_value(token: str) -> object:
    if token[0] in "\"'`":
        return token[1:-1]
    plain = token.replace("_", "")
    try:
        return int(plain)
    except ValueError:
        return float(plain)


def _skeleton(text: str) -> tuple[str, tuple[str, ...]]:
    lits = tuple(m.group(0) for m in _LIT_OR_KEYWORD.finditer(text))
    return _LIT_OR_KEYWORD.sub("§", text), lits


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
)
_WEAK = re.compile(
    r"\bis\s+not\s+None\b|\bisinstance\(|\bhasattr\("
    r"|\bassert(?:True|False|IsNotNone|IsInstance|IsNot|NotIsInstance)\b"
    r"|\.(?:not\.)?(?:toBeTruthy|toBeFalsy|toBeDefined|toBeUndefined|toBeNull|toBeInstanceOf"
    r"|toHaveBeenCalled|toBeNaN)\s*\("
    r"|\b(?:assert|require)\.(?:True|False|NotNil|Nil|NoError|Error|NotEmpty|Empty)\b"
    r"|\bassert_called(?:_once)?\(\)|\bXCTAssert(?:True|False|NotNil|Nil)\b|\.toThrow\(\s*\)"
)
_RELATIONAL = re.compile(
    r"!=|<|>|\bin\b|\bassert\w*(?:In|Greater|Less|Raises|Regex|Warns|NotEqual)\w*"
    r"|\bpytest\.(?:raises|warns)\b|\.(?:not\.)?to[A-Z]\w*\(\s*\S|\bassert_ne!"
    r"|\b(?:assert|require)\.\w+"
)


def _strength(check: str) -> int:
    """3 exact comparison, 2 relational, 1 truthiness, 0 trivially true (no subject at all)."""
    body = _LIT_RE.sub('""', check)
    words = {w for w in re.findall(r"[A-Za-z_]\w*", body) if not _VOCAB.fullmatch(w)}
    if not words:
        return 0
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
    params: tuple[str, ...] = ()  # pytest.mark.parametrize cases


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


# --- comparing a pre-existing test file with the candidate's version ---------------------------


def _pair(
    removed: list[str], added: list[str], *, fuzzy: bool
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair removed with added items: same skeleton (only literals differ) first, then similar."""
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
    pairs, _, _ = _pair(_minus(b.data, a.data), _minus(a.data, b.data), fuzzy=False)
    for old, changed in pairs:
        yield _flag(
            "expected_changed", path, f"expected data changed in {where}: {old} → {changed}"
        )
    pairs, gone, _ = _pair(_minus(b.params, a.params), _minus(a.params, b.params), fuzzy=False)
    for old, changed in pairs:
        yield _flag("expected_changed", path, f"parametrized case in {where}: {old} → {changed}")
    for old in gone:
        yield _flag("test_deleted", path, f"parametrized case removed from {where}: {old}")


def _test_edit_flags(path: str, before: str, after: str) -> Iterator[Flag]:
    ub, ua = _units(path, before), _units(path, after)
    tests_b = Counter(u.name for u in ub.values() if u.is_test)
    tests_a = Counter(u.name for u in ua.values() if u.is_test)
    for name, n in sorted((tests_b - tests_a).items()):
        yield _flag(
            "test_deleted", path, f"test removed: {name}" + (f" ({n} times)" if n > 1 else "")
        )
    for key in sorted(ub.keys() & ua.keys()):
        yield from _unit_flags(path, ub[key].name, ub[key], ua[key])


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
    r"|\btesting\.Testing\(\)"
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
    r"\b(?:assert\w*Equals?|assert_eq!|(?:assert|require)\.Equal\w*|XCTAssertEqual)\s*\((.*)\)"
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
    for line in text.splitlines():
        if not _CHECK_LINE.search(line):
            continue
        for m in _EXPECT_AFTER.finditer(line):
            yield _token_value(m.group(1))
        for m in _EQUAL_CALL.finditer(line):
            for tok in _LIT_RE.finditer(m.group(1)):
                yield _token_value(tok.group(0))


def _product_flags(
    path: str, before: str | None, after: str, expected: Mapping[str, str]
) -> Iterator[Flag]:
    lang = _lang(path)
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
        if not expected or not _RETURN_OR_COMPARE.search(line):
            continue
        for tok in _LIT_RE.finditer(line):
            key = _literal_key(_token_value(tok.group(0)))
            if key is not None and key in expected and key not in base_literals:
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


def _change_flags(
    ch: FileChange,
    is_test: Callable[[str], bool],
    expected: Mapping[str, str],
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
            yield from _product_flags(path, ch.before, ch.after, expected)
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
) -> tuple[Flag, ...]:
    """Tamper and scope flags for one candidate's change, tamper first, then by file/kind/detail.

    `touched_by_others`: union of paths other candidates changed (enables `unique_file`).
    `base_tests`: base texts of test files the candidate did not change, so literals the tests
    expect can be recognised when they turn up hard-coded in product code.
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
    flags: list[Flag] = []
    for ch in changes:
        flags += _change_flags(ch, is_test, expected, touched_by_others)
    return tuple(
        sorted(_capped(flags), key=lambda f: (f.severity != "tamper", f.file, f.kind, f.detail))
    )
