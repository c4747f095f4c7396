"""Literals in source text: one regex for string and number tokens, and their canonical keys.

A key exists only for literals distinctive enough to betray hard-coding; skeletons blank them out.
"""

from __future__ import annotations

import re

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
