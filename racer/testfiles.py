"""Test-file paths: gitignore-like globs deciding which paths are tests, compiled to one regex.

Also the language a path is written in (by extension) and what a comment line looks like there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from fnmatch import fnmatchcase


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DEFAULT_TEST_PATTERNS: tuple[str, ...] = _words(
    """
    tests/** test/** __tests__/** spec/** src/test/** test_*.py *_test.py tests.py *_test.go
    /test.[jt]s /test.[cm][jt]s test-*.[jt]s test-*.[cm][jt]s *-test.[jt]s *_test.[jt]s
    *-test.[cm][jt]s *_test.[cm][jt]s tests.rs
    *.test.[jt]s *.test.[jt]sx *.test.[cm][jt]s *.spec.[jt]s *.spec.[jt]sx *.spec.[cm][jt]s
    *_spec.rb *_test.rb *Test.java *Tests.java *Test.kt *Test.php
    """
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


def _is_comment(line: str, lang: str) -> bool:
    if lang in ("py", "ruby"):
        return line.startswith("#")
    if lang == "other":
        return line.startswith(("#", "//", "/*", "*"))
    return line.startswith(("//", "/*", "*")) or (lang == "php" and line.startswith("#"))
