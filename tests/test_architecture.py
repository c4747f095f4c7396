"""The shape of racer/: no import cycle (deferred imports included), every module in a layer of
the import-linter contract, small modules and functions, statuses and race-dir paths spelled in
one place each."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp
import pytest

from racer.status import RaceStatus, Status

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "racer"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("racer")
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None (a depth-first search over every module)."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            # A package importing its own submodules is how packages work, not a cycle.
            if n.startswith(m + "."):
                continue
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycle_anywhere_in_racer() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_is_in_a_layer_of_the_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    named = {m.strip() for layer in contract["layers"] for m in layer.split("|")}
    top = {
        "racer." + (p.stem if p.parent == PACKAGE else p.parent.name)
        for p in MODULES
        if p.name != "__init__.py" or p.parent != PACKAGE
    }
    top -= {"racer.__main__"}
    assert sorted(top - named) == []


def test_modules_and_functions_stay_small() -> None:
    long_modules, long_functions = [], []
    for path in MODULES:
        src = path.read_text(encoding="utf-8")
        if len(src.splitlines()) > 600:
            long_modules.append(path.name)
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > 80:
                    long_functions.append(f"{path.name}:{node.name}")
    assert (long_modules, long_functions) == ([], [])


STATUS_WORDS = {s.value for s in Status} | {s.value for s in RaceStatus}
RECORD_FILES = {
    "race.json",
    "prompt.md",
    "plan.json",
    "merge.json",
    "report.md",
    "report.html",
    "_baseline",
    "logs",
    "junit",
    "diffs",
    "lock",
}


def _is_status(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "status") or (
        isinstance(node, ast.Name) and node.id == "status"
    )


def _strs(nodes: list[ast.expr]) -> list[str]:
    out: list[str] = []
    for n in nodes:
        if isinstance(n, ast.Tuple | ast.Set | ast.List):
            out += _strs(list(n.elts))
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            out.append(n.value)
    return out


def status_literals(tree: ast.AST) -> list[str]:
    """Strings a status is compared with or set to (`c.status == "ok"`, `status="ok"`)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            _is_status(x) for x in [node.left, *node.comparators]
        ):
            found += _strs([node.left, *node.comparators])
        elif isinstance(node, ast.keyword) and node.arg == "status":
            found += _strs([node.value])
    return found


def path_literals(tree: ast.AST) -> list[str]:
    """Strings joined onto a path (`race_dir / "race.json"`)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            found += _strs([node.left, node.right])
    return found


def test_the_literal_finders_find_literals() -> None:
    tree = ast.parse('c.status == "ok"; f(status="passed"); status in ("a", "b"); d / "race.json"')
    assert sorted(status_literals(tree)) == ["a", "b", "ok", "passed"]
    assert path_literals(tree) == ["race.json"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_statuses_and_record_paths_are_spelled_in_one_place(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if path.name not in ("status.py", "report.py"):
        assert sorted(set(status_literals(tree)) & STATUS_WORDS) == []
    if path.name != "store.py":
        assert sorted(set(path_literals(tree)) & RECORD_FILES) == []
