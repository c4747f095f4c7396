"""The project's own test-file globs, read from its runners' config (never executed): ava
`files`, jest `testMatch`, vitest `include`, mocha `spec`, pytest `testpaths`/`python_files`.

JSON and TOML/INI are parsed; a JavaScript config file is only searched for a literal array of
strings under the key (anything computed falls back to the runner's defaults).
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from racer.testfiles import DEFAULT_TEST_PATTERNS, _words

_JS = "js cjs mjs"
_JSX = "js jsx ts tsx cjs mjs cts mts"
# Each runner's defaults, as globs relative to the project root ("/" anchors at the root).
_DEFAULTS: dict[str, tuple[str, ...]] = {
    "ava": _words(
        "/test.{EXT} /src/test.{EXT} /source/test.{EXT} **/test-*.{EXT} **/*.spec.{EXT} "
        "**/*.test.{EXT} **/test/**/*.{EXT} **/tests/**/*.{EXT} **/__tests__/**/*.{EXT}".replace(
            "{EXT}", "{" + _JS.replace(" ", ",") + "}"
        )
    ),
    "jest": _words(
        "**/__tests__/**/*.{EXT} **/*.test.{EXT} **/*.spec.{EXT}".replace(
            "{EXT}", "{js,jsx,ts,tsx,mjs,cjs}"
        )
    ),
    "vitest": _words(
        "**/*.test.{EXT} **/*.spec.{EXT}".replace("{EXT}", "{" + _JSX.replace(" ", ",") + "}")
    ),
    "mocha": _words("/test/*.{js,cjs,mjs}"),
    "node": _words(
        "**/*.test.{EXT} **/*-test.{EXT} **/*_test.{EXT} **/test-*.{EXT} **/test.{EXT} "
        "**/test/**/*.{EXT}".replace("{EXT}", "{js,cjs,mjs}")
    ),
    "pytest": _words("test_*.py *_test.py"),
    "go": _words("*_test.go"),
    "cargo": _words("/tests/**/*.rs tests.rs"),
}

_JS_CONFIGS = {
    "ava": ("ava.config.js", "ava.config.cjs", "ava.config.mjs"),
    "jest": ("jest.config.js", "jest.config.cjs", "jest.config.mjs", "jest.config.ts"),
    "vitest": tuple(
        f"{stem}.config.{ext}" for stem in ("vitest", "vite") for ext in ("ts", "js", "mts", "mjs")
    ),
    "mocha": (".mocharc.js", ".mocharc.cjs"),
}
_KEYS = {"ava": "files", "jest": "testMatch", "vitest": "include", "mocha": "spec"}


def expand(pattern: str) -> list[str]:
    """A micromatch-style glob as plain globs: `{a,b}` and extglobs `?(x)`, `+(a|b)`, `@(a|b)`,
    `*(x)` expanded into alternatives (a repeated group counts once)."""
    m = re.search(r"([?+@*!]?)\(([^()]*)\)|\{([^{}]*)\}", pattern)
    if m is None:
        return [pattern]
    head, tail = pattern[: m.start()], pattern[m.end() :]
    if m.group(3) is not None:
        options = m.group(3).split(",")
    else:
        options = m.group(2).split("|")
        if m.group(1) in ("?", "*"):
            options = ["", *options]
    return [x for opt in options for x in expand(head + opt + tail)]


DEFAULTS: dict[str, tuple[str, ...]] = {
    runner: tuple(p for pattern in globs for p in expand(pattern))
    for runner, globs in _DEFAULTS.items()
}


def _anchored(pattern: str) -> list[str]:
    """A config glob (relative to the root) in testfiles' syntax: anchored unless it starts
    with `**/`; negations are left out (a union of globs cannot subtract)."""
    if pattern.startswith("!") or not pattern.strip():
        return []
    out = []
    for p in expand(pattern.strip()):
        p = p.removeprefix("<rootDir>/").removeprefix("./")  # jest's <rootDir> is the root
        out.append(p if p.startswith(("**/", "/")) else "/" + p)
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


def _json(path: Path) -> dict[str, Any]:
    text = _read(path)
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


_STRING = r"""(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`$\\]*`)"""


def literal_array(text: str, key: str) -> list[str] | None:
    """`key: ["a", 'b']` in JavaScript source when the array holds only string literals (a
    string alone counts too); None when it is computed or absent."""
    m = re.search(
        rf"""(?<![\w$.]){key}["']?\s*:\s*(\[\s*(?:{_STRING}\s*,?\s*)*\]|{_STRING})""", text
    )
    if m is None:
        return None
    return [s[1:-1] for s in re.findall(_STRING, m.group(1))]


def _from_js(root: Path, runner: str) -> list[str] | None:
    for name in _JS_CONFIGS.get(runner, ()):
        text = _read(root / name)
        if text is not None:
            return literal_array(text, _KEYS[runner])
    return None


def _mocharc(root: Path) -> list[str] | None:
    for name in (".mocharc.json", ".mocharc.jsonc"):
        if (root / name).is_file():
            return _strings(_json(root / name).get("spec")) or None
    for name in (".mocharc.yml", ".mocharc.yaml"):
        text = _read(root / name)
        if text is None:
            continue
        m = re.search(r"^spec:[ \t]*(.*)$((?:\n[ \t]+-[ \t]*.*)*)", text, re.M)
        if m is None:
            return None
        items = [m.group(1)] if m.group(1).strip() else re.findall(r"-\s*(.*)", m.group(2))
        return [i.strip().strip("'\"") for i in items if i.strip()] or None
    return _from_js(root, "mocha")


def runner_globs(root: Path, runner: str) -> tuple[str, ...]:
    """The globs of the files `runner` runs in the project at `root`: its config, else its
    defaults (empty for a runner racer does not know)."""
    # Not cached: a candidate's checkout may change its config between two runs.
    package = _json(root / "package.json")
    found: list[str] | None = None
    if runner in ("ava", "jest", "mocha"):
        section = package.get(runner)
        if isinstance(section, dict):
            found = _strings(section.get(_KEYS[runner])) or None
        if found is None and runner == "jest":
            found = _strings(_json(root / "jest.config.json").get("testMatch")) or None
        if found is None:
            found = _mocharc(root) if runner == "mocha" else _from_js(root, runner)
    elif runner == "vitest":
        found = _from_js(root, "vitest")
    elif runner == "pytest":
        return _pytest_globs(root)
    if found:
        return tuple(p for pat in found for p in _anchored(pat))
    return DEFAULTS.get(runner, ())


def _pytest_globs(root: Path) -> tuple[str, ...]:
    ini = _pytest_ini(root)
    files = ini.get("python_files", "").split() or ["test_*.py", "*_test.py"]
    paths = ini.get("testpaths", "").split()
    if not paths:
        return tuple(files)
    return tuple(f"/{p.strip('/')}/**/{f}" for p in paths for f in files)


def _pytest_ini(root: Path) -> dict[str, str]:
    text = _read(root / "pyproject.toml")
    if text is not None:
        try:
            tool = tomllib.loads(text).get("tool", {})
        except tomllib.TOMLDecodeError:
            tool = {}
        table = tool.get("pytest", {}) if isinstance(tool, dict) else {}
        table = table.get("ini_options", table) if isinstance(table, dict) else {}
        if isinstance(table, dict) and table:
            return {k: " ".join(_strings(v)) or str(v) for k, v in table.items()}
    for name, section in (
        ("pytest.ini", "pytest"),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(_read(root / name) or "")
        except configparser.Error:
            continue
        if parser.has_section(section):
            return dict(parser.items(section))
    return {}


def runners_of(root: Path) -> tuple[str, ...]:
    """The test runners the project declares: its package.json dependencies and config files,
    pytest configuration, go.mod, Cargo.toml."""
    package = _json(root / "package.json")
    deps = {
        name
        for key in ("dependencies", "devDependencies")
        if isinstance(package.get(key), dict)
        for name in package[key]
    }
    found = [r for r in ("ava", "jest", "vitest", "mocha") if r in deps or r in package]
    scripts = package.get("scripts")
    test = scripts.get("test") if isinstance(scripts, dict) else None
    if isinstance(test, str) and "node --test" in test:
        found.append("node")
    if _pytest_ini(root) or (root / "conftest.py").is_file():
        found.append("pytest")
    found += [r for r, f in (("go", "go.mod"), ("cargo", "Cargo.toml")) if (root / f).is_file()]
    return tuple(found)


def project_test_patterns(root: Path) -> tuple[str, ...]:
    """Test-file globs for the project at `root`: its runners' own globs first, then racer's
    conventions for every ecosystem (DEFAULT_TEST_PATTERNS)."""
    own = [p for r in runners_of(root) for p in runner_globs(root, r)]
    return tuple(dict.fromkeys([*own, *DEFAULT_TEST_PATTERNS]))
