"""Equivalence clusters: candidates whose changes match after normalizing away comments and layout.

Pure functions over file texts; agreement between candidates is a bounded tie-break, never a verdict.
"""

from __future__ import annotations

import ast
import hashlib
import re
import warnings
from collections.abc import Mapping, Sequence


def _exts(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Comment syntax by file extension; unknown extensions keep their comments (conservative).
_SLASH = _exts(
    ".c .h .cc .cpp .cxx .hpp .hh .cs .java .js .jsx .mjs .cjs .ts .tsx .mts .cts .go .rs .swift"
    " .kt .kts .scala .dart .groovy .php .scss .less .proto .zig"
)
_BLOCK_ONLY = _exts(".css")
_HASH = _exts(
    ".py .pyi .sh .bash .zsh .fish .rb .pl .pm .r .yaml .yml .toml .cfg .conf .mk .cmake .tf .nix"
    " .ps1 .ex .exs .jl .coffee .dockerfile"
)
_HASH_NAMES = _exts("Makefile Dockerfile Gemfile Rakefile CMakeLists.txt")
_DASH = _exts(".sql .lua .hs .elm")
_MARKUP = _exts(".html .htm .xml .svg .xhtml")
_BACKTICK = _exts(".js .jsx .mjs .cjs .ts .tsx .mts .cts .go")  # template / raw strings
_PY_SCOPES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _strip_c_comments(text: str, quotes: str, line_comments: bool) -> str:
    """Drop // and /* */ comments outside string literals."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in quotes:
            j = i + 1
            while j < n and text[j] != c and (c == "`" or text[j] != "\n"):
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif line_comments and text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            out.append(" ")
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _strip_line_comment(line: str, marker: str, need_space: bool) -> str:
    """Cut `line` at `marker` outside quotes (for `#`, only at line start or after a space)."""
    quote = ""
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif line.startswith(marker, i) and (not need_space or i == 0 or line[i - 1].isspace()):
            return line[:i]
        i += 1
    return line


def _generic(path: str, text: str) -> str:
    ext, name = _ext(path), path.rsplit("/", 1)[-1]
    if ext in _SLASH:
        # Rust's ' opens lifetimes as often as chars, so only " counts as a quote there.
        quotes = '"' if ext == ".rs" else "\"'`" if ext in _BACKTICK else "\"'"
        text = _strip_c_comments(text, quotes, line_comments=True)
    elif ext in _BLOCK_ONLY:
        text = _strip_c_comments(text, "\"'", line_comments=False)
    elif ext in _MARKUP:
        text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    lines = text.splitlines()
    if ext in _HASH or name in _HASH_NAMES:
        lines = [_strip_line_comment(line, "#", need_space=True) for line in lines]
    elif ext in _DASH:
        lines = [_strip_line_comment(line, "--", need_space=False) for line in lines]
    collapsed = (" ".join(line.split()) for line in lines)
    return "\n".join(line for line in collapsed if line)


def _python(text: str) -> str:
    with warnings.catch_warnings():  # candidate code may warn (invalid escapes); not our news
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, _PY_SCOPES) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def normalize_source(path: str, text: str) -> str:
    """Text with comments, docstrings and layout removed, so equivalent changes compare equal.

    Python goes through ast.parse → ast.unparse; other languages lose their comments (by
    extension, conservatively) and per-line whitespace; Python that does not parse takes that path.
    """
    if _ext(path) in (".py", ".pyi"):
        try:
            return _python(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass  # a candidate's broken Python still clusters on its text
    return _generic(path, text)


def fingerprint(files: Mapping[str, str | None]) -> str:
    """sha256 over a candidate's changed files (path -> text after, None = deleted), order-free."""
    digest = hashlib.sha256()
    for path in sorted(files):
        text = files[path]
        body = "\0deleted" if text is None else normalize_source(path, text)
        for part in (path, body):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
    return digest.hexdigest()


def _names(keys: Mapping[str, object], order: Sequence[str]) -> list[str]:
    """`order` first, then any other keys sorted, each once."""
    seen = dict.fromkeys(order)
    return [*seen, *sorted(k for k in keys if k not in seen)]


def clusters(fingerprints: Mapping[str, str | None], order: Sequence[str]) -> dict[str, int]:
    """Candidate -> cluster id, numbered 1, 2, … by first appearance in `order`.

    A None fingerprint (no change, failed) and a name missing from `fingerprints` get a
    singleton cluster each: having nothing is not agreement.
    """
    ids: dict[str, int] = {}
    out: dict[str, int] = {}
    for name in _names(fingerprints, order):
        fp = fingerprints.get(name)
        if fp is None:
            out[name] = len(ids) + 1
            ids[f"\0{name}"] = out[name]
        else:
            out[name] = ids.setdefault(fp, len(ids) + 1)
    return out


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def describe(clusters: Mapping[str, int], order: Sequence[str]) -> str:
    """One line on agreement: "claude and codex converged; gemini diverged"."""
    names = [n for n in _names(clusters, order) if n in clusters]
    groups: dict[int, list[str]] = {}
    for name in names:
        groups.setdefault(clusters[name], []).append(name)
    n = len(names)
    if n == 0:
        return "no candidates"
    if n == 1:
        return f"only {names[0]}: nothing to compare"
    every = "both" if n == 2 else f"all {n}"
    if len(groups) == 1:
        return f"{every} candidates converged"
    if len(groups) == n:
        return f"{every} candidates differ"
    parts = [f"{_join(g)} converged" for _, g in sorted(groups.items()) if len(g) > 1]
    singles = [g[0] for _, g in sorted(groups.items()) if len(g) == 1]
    if singles:
        parts.append(f"{_join(singles)} diverged")
    return "; ".join(parts)
