"""Doctests are tests wherever they live: the `>>>` examples of a Python file's docstrings, what
a change removed or rewrote among them, and a test file that runs the base's examples again.

Pure text in, text out; the scoring step writes the generated test and runs it.
"""

from __future__ import annotations

import ast
import doctest
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from racer.testunits import _parse_python

GENERATED = "test_racer_base_doctests.py"  # where scoring puts the base's examples


@dataclass(frozen=True)
class Docstring:
    owner: str  # "<module>", "func", "Class.method"
    text: str
    lineno: int  # of the docstring's first line


@dataclass(frozen=True)
class Example:
    owner: str
    source: str  # the `>>>` line(s), stripped
    want: str  # the expected output, stripped


def docstrings(text: str) -> list[Docstring]:
    """Docstrings holding `>>>` examples, by owner."""
    tree = _parse_python(text)
    if tree is None:
        return []
    out: list[Docstring] = []

    def visit(node: ast.AST, prefix: str) -> None:
        body = getattr(node, "body", None)
        if isinstance(body, list) and body:
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
                and ">>>" in first.value.value
            ):
                out.append(
                    Docstring(prefix.rstrip(".") or "<module>", first.value.value, first.lineno)
                )
        if isinstance(body, list):
            for child in body:
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return out


def examples(text: str) -> list[Example]:
    parser = doctest.DocTestParser()
    out: list[Example] = []
    for doc in docstrings(text):
        try:
            found = parser.get_examples(doc.text)
        except ValueError:  # malformed example: not a test doctest would run either
            continue
        out += [Example(doc.owner, e.source.strip(), e.want.strip()) for e in found]
    return out


@dataclass(frozen=True)
class Lost:
    """A base example the change removed (`now` None) or whose expected output it changed."""

    example: Example
    now: str | None


def lost_examples(before: str, after: str) -> Iterator[Lost]:
    """Examples of `before` that `after` no longer has as they were, in source order."""
    if ">>>" not in before:
        return
    kept: dict[tuple[str, str], list[str]] = {}
    for e in examples(after):
        kept.setdefault((e.owner, e.source), []).append(e.want)
    for e in examples(before):
        wants = kept.get((e.owner, e.source))
        if wants and e.want in wants:
            wants.remove(e.want)
        elif wants:
            yield Lost(e, wants.pop(0))
        else:
            yield Lost(e, None)


def module_name(path: str) -> str | None:
    """The import name of a Python file: pkg/mod.py -> pkg.mod, src/pkg/mod.py -> pkg.mod."""
    if not path.endswith(".py"):
        return None
    parts = path[:-3].split("/")
    if parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def modules_run(outcomes: Mapping[str, str]) -> set[str]:
    """Modules whose doctests a run collected: pytest names a doctest item "pkg.mod::pkg.mod.f"
    (or "pkg.mod::pkg.mod" for the module's own docstring)."""
    out: set[str] = set()
    for test in outcomes:
        where, _, name = test.partition("::")
        for prefix in ("", "src.", "lib."):  # src layout: "src.pkg.mod::pkg.mod.f"
            mod = where.removeprefix(prefix) if where.startswith(prefix) else ""
            if name and mod and (name == mod or name.startswith(mod + ".")):
                out.add(mod)
    return out


def base_examples_test(files: Mapping[str, str]) -> str | None:
    """A pytest file running the base's docstrings of `files` (path -> base text) against the
    code in the checkout: one test per docstring. None when there is nothing to run."""
    cases: list[tuple[str, str, str, int]] = []
    for path, text in sorted(files.items()):
        module = module_name(path)
        if module is None:
            continue
        cases += [(module, d.owner, d.text, d.lineno) for d in docstrings(text)]
    if not cases:
        return None
    lines = [
        '"""The base commit\'s doctest examples, run against this checkout\'s code (racer)."""',
        "",
        "import doctest",
        "import importlib",
        "",
        "",
        "def _run(module, owner, text, lineno):",
        "    mod = importlib.import_module(module)",
        "    name = module if owner == '<module>' else module + '.' + owner",
        "    test = doctest.DocTestParser().get_doctest(",
        "        text, dict(vars(mod)), name, getattr(mod, '__file__', None), lineno",
        "    )",
        "    out = []",
        "    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)",
        "    result = runner.run(test, out=out.append, clear_globs=True)",
        "    assert result.failed == 0, ''.join(out)",
        "",
    ]
    for i, (module, owner, text, lineno) in enumerate(cases):
        slug = "".join(c if c.isalnum() else "_" for c in f"{module}.{owner}")
        lines += [
            "",
            f"def test_base_doctest_{i}_{slug}():",
            f"    _run({module!r}, {owner!r}, {text!r}, {lineno - 1})",
            "",
        ]
    return "\n".join(lines)
