"""Config files: whether a change edits test infrastructure or lint configuration.

pyproject.toml, setup.cfg and package.json are compared by section; other files by path glob.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from typing import Any

from racer.testfiles import _basename, _glob, _words

# Globs: a leading "/" anchors at the repository root; others match at any depth.
# CI files count as test infrastructure (they decide what "tests pass" means), not as scope.
_INFRA_PATTERNS: tuple[str, ...] = _words(
    """
    conftest.py pytest.ini tox.ini noxfile.py jest.config.* vitest.config.* vitest.workspace.*
    ava.config.*
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
