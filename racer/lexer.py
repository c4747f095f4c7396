"""A tokenizer for C-family source (JavaScript/TypeScript, Go, Rust): identifiers, numbers,
strings, punctuation — comments dropped — so test files are read by structure, not by lines.

It knows enough of each language not to be fooled by what looks like code inside text: JS
template literals (with `${…}` holding code and more templates), JS regex literals (told from
division by the token before), Go raw strings, Rust raw strings (`r#"…"#`), byte strings, char
literals versus lifetimes, and Rust's nested block comments. Unterminated text ends at the end
of the file: candidate code need not be valid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Token", "match_close", "render", "tokenize"]


@dataclass(frozen=True)
class Token:
    kind: str  # "id" | "num" | "str" | "re" | "op"
    text: str
    start: int
    end: int
    line: int


_ID = re.compile(r"[A-Za-z_$][\w$]*")
_NUM = re.compile(r"(?:0[xXoObB][\w]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?\w*|\.\d[\d_]*\w*)")
_OPS = sorted(
    [
        "===",
        "!==",
        "...",
        "**=",
        "<<=",
        ">>=",
        ">>>",
        "??",
        "?.",
        "==",
        "!=",
        "<=",
        ">=",
        "=>",
        "->",
        "::",
        ":=",
        "&&",
        "||",
        "++",
        "--",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "&=",
        "|=",
        "^=",
        "<<",
        ">>",
        "**",
    ],
    key=len,
    reverse=True,
)
_OP = re.compile("|".join(re.escape(op) for op in _OPS) + r"|[^\s\w]")
# After these a `/` starts a regex in JS; after a value (name, number, string, `)`, `]`) it divides.
_JS_BEFORE_REGEX_WORDS = frozenset(
    [
        "return",
        "typeof",
        "instanceof",
        "in",
        "of",
        "new",
        "delete",
        "void",
        "throw",
        "case",
        "do",
        "else",
        "yield",
        "await",
    ]
)
_RUST_RAW = re.compile(r'b?r(#*)"')


def tokenize(text: str, lang: str) -> list[Token]:
    """Tokens of `text` in source order, comments left out."""
    out: list[Token] = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = _block_comment_end(text, i, nested=lang == "rust")
            line += text.count("\n", i, j)
            i = j
            continue
        j, kind = _scan(text, i, lang, out)
        out.append(Token(kind, text[i:j], i, j, line))
        line += text.count("\n", i, j)
        i = j
    return out


def _scan(text: str, i: int, lang: str, before: Sequence[Token]) -> tuple[int, str]:
    """End and kind of the token starting at text[i] (not whitespace or a comment)."""
    c = text[i]
    if lang == "rust" and c in "rb":
        raw = _RUST_RAW.match(text, i)
        if raw:
            close = '"' + raw.group(1)
            j = text.find(close, raw.end())
            return (len(text) if j < 0 else j + len(close)), "str"
        if text.startswith('b"', i) or text.startswith("b'", i):
            return _quoted(text, i + 1, text[i + 1], lang), "str"
    if c.isalpha() or c in "_$":
        m = _ID.match(text, i)
        return (m.end() if m else i + 1), "id"
    if c.isdigit() or (c == "." and i + 1 < len(text) and text[i + 1].isdigit()):
        m = _NUM.match(text, i)
        return (m.end() if m else i + 1), "num"
    if c == '"' or (c == "'" and lang != "rust"):
        return _quoted(text, i, c, lang), "str"
    if c == "'":  # Rust: a char literal, or a lifetime / label ('a, 'static)
        char = re.match(r"'(?:\\(?:u\{[0-9a-fA-F]*\}|x..|.)|[^\\'\n])'", text[i : i + 12])
        if char:
            return i + char.end(), "str"
        m = _ID.match(text, i + 1)
        return (m.end() if m else i + 1), "id"
    if c == "`":
        if lang == "go":
            j = text.find("`", i + 1)
            return (len(text) if j < 0 else j + 1), "str"
        if lang == "js":
            return _template_end(text, i), "str"
    if c == "/" and lang == "js" and _regex_allowed(before):
        return _regex_end(text, i), "re"
    m = _OP.match(text, i)
    return (m.end() if m else i + 1), "op"


def _quoted(text: str, i: int, quote: str, lang: str) -> int:
    """End of a quoted string starting at text[i] (escapes honoured; JS/Go strings end a line)."""
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == quote:
            return j + 1
        if c == "\n" and lang != "rust":
            return j
        j += 1
    return n


def _template_end(text: str, i: int) -> int:
    """End of the JS template literal at text[i], `${…}` expressions (and templates in them)
    included."""
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
        elif c == "`":
            return j + 1
        elif text.startswith("${", j):
            j = _code_end(text, j + 2)
        else:
            j += 1
    return n


def _code_end(text: str, i: int) -> int:
    """Index just past the `}` closing the JS expression that starts at text[i]."""
    depth, j, n = 1, i, len(text)
    while j < n:
        c = text[j]
        if c in "\"'":
            j = _quoted(text, j, c, "js")
        elif c == "`":
            j = _template_end(text, j)
        elif text.startswith("//", j):
            k = text.find("\n", j)
            j = n if k < 0 else k
        elif text.startswith("/*", j):
            j = _block_comment_end(text, j, nested=False)
        else:
            depth += (c == "{") - (c == "}")
            j += 1
            if depth == 0:
                return j
    return n


def _block_comment_end(text: str, i: int, *, nested: bool) -> int:
    depth, j, n = 0, i, len(text)
    while j < n:
        if text.startswith("/*", j):
            depth += 1 if nested or depth == 0 else 0
            j += 2
        elif text.startswith("*/", j):
            depth -= 1
            j += 2
            if depth <= 0:
                return j
        else:
            j += 1
    return n


def _regex_allowed(before: Sequence[Token]) -> bool:
    if not before:
        return True
    prev = before[-1]
    if prev.kind in ("num", "str", "re"):
        return False
    if prev.kind == "id":
        return prev.text in _JS_BEFORE_REGEX_WORDS
    return prev.text not in (")", "]", "}", "++", "--")


def _regex_end(text: str, i: int) -> int:
    j, n, in_class = i + 1, len(text), False
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "\n":
            return j  # not a regex after all; stop at the line's end
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            j += 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1  # flags
            return j
        j += 1
    return n


_OPEN = {"(": ")", "[": "]", "{": "}"}


def match_close(tokens: Sequence[Token], i: int) -> int:
    """Index of the token closing the bracket at tokens[i] (len(tokens) if it never closes)."""
    stack: list[str] = []
    for j in range(i, len(tokens)):
        t = tokens[j].text if tokens[j].kind == "op" else ""
        if t in _OPEN:
            stack.append(_OPEN[t])
        elif t in (")", "]", "}"):
            while stack and stack[-1] != t:  # a stray closer of another kind: recover
                stack.pop()
            if stack:
                stack.pop()
            if not stack:
                return j
    return len(tokens)


_NO_SPACE_AFTER = frozenset(["(", "[", "{", ".", "!", "?.", "::", "#"])
_NO_SPACE_BEFORE = frozenset([")", "]", "}", ",", ".", ";", "?.", "::"])
_WORDY = frozenset({"id", "num", "str", "re"})


def render(tokens: Sequence[Token]) -> str:
    """The tokens as one line in a canonical spacing, comments, line breaks and trailing commas
    gone: a change of layout alone renders the same."""
    out: list[str] = []
    prev: Token | None = None
    for n, tok in enumerate(tokens):
        if tok.text == "," and n + 1 < len(tokens) and tokens[n + 1].text in (")", "]", "}"):
            continue  # a trailing comma is layout
        if prev is not None:
            gap = prev.end < tok.start
            call = tok.text in ("(", "[") and (prev.kind == "id" or prev.text in (")", "]", "!"))
            if prev.text == "," or (prev.kind in _WORDY and tok.kind in _WORDY):
                out.append(" ")
            elif call:
                pass  # f(x), a[i], assert!(…): never a space
            elif gap and prev.text not in _NO_SPACE_AFTER and tok.text not in _NO_SPACE_BEFORE:
                out.append(" ")
        out.append(tok.text)
        prev = tok
    return "".join(out)
