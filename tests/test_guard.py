"""`share` puts ignored dependency dirs into every lane (never a symlink), warns when they are stale;
the false-green guard fails a lane whose tests would import the main checkout's code."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from helpers.repos import CORRECT, Project, git, make_repo, race_json

from racer import guard


def test_shared_dirs_reach_every_lane_and_stale_locks_warn(
    project: Project, racer, monkeypatch
) -> None:
    (project.root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\nnode_modules/\n")
    (project.root / "package-lock.json").write_text(
        json.dumps(
            {"lockfileVersion": 3, "packages": {"node_modules/left-pad": {"version": "1.3.0"}}}
        )
    )
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "deps")
    dep = project.root / "node_modules" / "left-pad"
    dep.mkdir(parents=True)
    (dep / "index.js").write_text("module.exports = 1\n")
    # installed from another lockfile than the one committed: stale
    (project.root / "node_modules" / ".package-lock.json").write_text(
        json.dumps(
            {"lockfileVersion": 3, "packages": {"node_modules/left-pad": {"version": "1.1.0"}}}
        )
    )
    (project.root / "racer.toml").write_text('share = ["node_modules"]\n')
    git(project.root, "add", "racer.toml")
    git(project.root, "commit", "-qm", "config")
    project.fake(monkeypatch, {"a": {"write": {"calc.py": CORRECT}}, "b": {}})
    res = racer("run", "specs/double.md", "--agents", "fake@a,fake@b")
    assert res.exit_code == 0, res.stdout
    data = race_json(project.root)
    assert any("node_modules may be stale" in w for w in data["warnings"]), data["warnings"]
    assert not any("wrote into" in w for w in data["warnings"]), data["warnings"]
    src = dep / "index.js"
    copies = [Path(c["worktree"]) / "node_modules/left-pad/index.js" for c in data["candidates"]]
    for copy in copies:
        assert copy.read_text() == "module.exports = 1\n"
        assert not copy.parent.parent.is_symlink()
        assert copy.stat().st_ino != src.stat().st_ino  # racer's read-only store, not yours
    assert len({copy.stat().st_ino for copy in copies}) == 1  # hardlinked: one copy on disk
    # the shared dir is not part of any candidate's work
    winner = next(c for c in data["candidates"] if c["name"] == "fake@a")
    assert "node_modules" not in git(project.root, "show", "--stat", winner["branch"])


def test_a_race_never_writes_through_a_shared_dir_and_warns_when_a_lane_wrote_into_it(
    project: Project, racer, monkeypatch
) -> None:
    """The camelcase race's failure: xo rewrote node_modules/.cache in place in every lane and in
    the user's checkout. Here a lane's node rewrites the cache and a package file in place."""
    if shutil.which("node") is None:
        pytest.skip("needs node")
    (project.root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\nnode_modules/\n")
    nm = project.root / "node_modules"
    (nm / ".cache" / "xo-linter").mkdir(parents=True)
    (nm / ".cache" / "xo-linter" / "tsconfig.json").write_text('{"files": ["/main/x.js"]}\n')
    (nm / "dep").mkdir()
    (nm / "dep" / "index.js").write_text("module.exports = 1\n")
    (nm / "dep" / "cli.js").write_text("#!/usr/bin/env node\n")
    (nm / "dep" / "cli.js").chmod(0o755)
    (project.root / "racer.toml").write_text('share = ["node_modules"]\n')
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "config")
    before = tree_digest(nm)
    write = "node -e \"require('fs').writeFileSync('node_modules/{}', process.cwd())\""
    project.fake(
        monkeypatch,
        {
            "a": {
                "write": {"calc.py": CORRECT},
                "run": [write.format(".cache/xo-linter/tsconfig.json")],
            },
            "b": {"run": [write.format("dep/index.js")]},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@a,fake@b")
    assert res.exit_code == 0, res.stdout
    assert tree_digest(nm) == before  # the user's node_modules: same bytes, same modes
    data = race_json(project.root)
    a, b = (Path(c["worktree"]) / "node_modules" for c in data["candidates"])
    assert (a / ".cache/xo-linter/tsconfig.json").read_text() == str(a.parent)
    assert (b / ".cache/xo-linter/tsconfig.json").read_text() == '{"files": ["/main/x.js"]}\n'
    written = [w for w in data["warnings"] if "wrote into" in w]
    if os.geteuid() == 0:  # root writes through read-only modes: into the lanes' store only
        assert (a / "dep/index.js").read_text() == str(b.parent)
        assert written == [w for w in written if "node_modules/dep/index.js" in w] != []
        race_dir = Path(data["race_dir"])
        for view in ("report.md", "report.html"):
            assert "node_modules/dep/index.js" in (race_dir / view).read_text(), view
        assert "node_modules/dep/index.js" in res.stdout
    else:
        assert (a / "dep/index.js").read_text() == "module.exports = 1\n"
        assert written == []


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        h.update(f"{path.relative_to(root)} {stat.S_IMODE(info.st_mode)} {info.st_ino}\n".encode())
        if path.is_file() and not path.is_symlink():
            h.update(path.read_bytes())
    return h.hexdigest()


def test_a_tracked_share_entry_is_refused(project: Project, racer) -> None:
    (project.root / "racer.toml").write_text('share = ["tests"]\n')
    res = racer("run", "specs/double.md", "--agents", "fake")
    assert res.exit_code == 1 and "tracked by git" in res.stderr


SRC_PROJECT = {
    "pyproject.toml": '[project]\nname = "mypkg"\nversion = "0"\n[tool.pytest.ini_options]\n'
    'testpaths = ["tests"]\n',
    "src/mypkg/__init__.py": "def double(x):\n    return x\n",
    "tests/test_it.py": "from mypkg import double\n\n\ndef test_double():\n    assert double(3) == 6\n",
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
    "specs/double.md": "Make double(x) return twice x.\n",
}


def test_false_green_guard_fails_a_lane_that_tests_the_main_checkout(
    tmp_path: Path, racer, monkeypatch
) -> None:
    root = make_repo(tmp_path / "repo", SRC_PROJECT)
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "wt"))
    monkeypatch.chdir(root)
    # the package "installed" from the main checkout: every lane would import this copy
    monkeypatch.setenv("PYTHONPATH", str(root / "src"))
    (root / "src" / "mypkg" / "__init__.py").write_text("def double(x):\n    return 2 * x\n")
    scen = tmp_path / "s.json"
    scen.write_text(
        json.dumps(
            {"default": {"write": {"src/mypkg/__init__.py": "def double(x):\n    return x * 3\n"}}}
        )
    )
    monkeypatch.setenv("RACER_FAKE", str(scen))
    res = racer("run", "specs/double.md", "--agents", "fake")
    data = race_json(root)
    tests = data["candidates"][0]["tests"]
    # the wrong change "passes" against the main checkout's code; the guard says why it counts not
    assert tests["passed"] == 1 and tests["ok"] is False
    assert "false green" in tests["error"] and str(root / "src") in tests["error"]
    assert res.exit_code == 4


def test_guard_is_quiet_when_the_worktree_code_is_imported(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo", {**SRC_PROJECT, "src/mypkg/__init__.py": "", "mypkg/__init__.py": ""}
    )
    assert guard.python_packages(root) == ["mypkg", "mypkg"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    assert guard.check_imports(root, "python -m pytest", env) is None
    assert guard.python_packages(tmp_path) == []  # not a Python project


def test_guard_finds_the_interpreter_of_the_test_command() -> None:
    assert guard._python_of(".venv/bin/python -m pytest -q") == ".venv/bin/python"
    assert guard._python_of("PYTHONHASHSEED=0 python3 -m pytest") == "python3"
    assert guard._python_of("pytest -q") == "python"
