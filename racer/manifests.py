"""Dependency manifests and lockfiles: which dependencies a change added, removed or re-pinned.

Parses requirements files, pyproject.toml, Cargo.toml, Pipfile, go.mod, Gemfile, package.json
and composer.json into name -> spec maps and describes the difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from racer.configfiles import _as_dict, _as_list, _json, _toml
from racer.testfiles import _basename, _glob, _words

_LOCKFILES = frozenset(
    _words(
        """
    package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml bun.lockb poetry.lock uv.lock
    pdm.lock Cargo.lock go.sum Gemfile.lock composer.lock Pipfile.lock
    """
    )
)


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
