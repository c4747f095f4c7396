"""racer.changes: a candidate's changed files and the base's test files are read in two git
calls whatever their number, with the same texts as one `git show` per file gave."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.repos import git, make_repo

from racer import changes
from racer.changes import _blob, changed_files
from racer.changes import test_files_at as files_at

BASE = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "tests/test_calc.py": "def test_add():\n    assert True\n",
    "tests/test_gone.py": "def test_gone():\n    pass\n",
    "docs/old name.txt": "moved away\n" * 20,
    "a blob 5": "a name that looks like a batch-check answer\n",
    "big.txt": "x" * 5000,
    "same1.txt": "the same text\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "r", BASE)
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    (root / "tests" / "test_calc.py").write_text("def test_add():\n    assert 1\n", "utf-8")
    (root / "tests" / "test_gone.py").unlink()
    (root / "docs" / "old name.txt").rename(root / "docs" / "new name.txt")
    (root / "a blob 5").write_text("changed\n", encoding="utf-8")
    (root / "big.txt").write_text("y" * 6000, encoding="utf-8")
    (root / "bin.dat").write_bytes(b"\x00\x01binary\x00")
    (root / "latin1.txt").write_bytes(b"caf\xe9\n")
    (root / "same2.txt").write_text("the same text\n", encoding="utf-8")  # a blob both have
    (root / "empty.txt").write_text("", encoding="utf-8")
    os.symlink("calc.py", root / "link")
    (root / "tests" / "test_new.py").write_text("def test_new():\n    pass\n", "utf-8")
    (root / "tests" / "test_bin.py").write_bytes(b"\x00")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "tip")
    return root


def test_changed_files_read_what_one_git_show_per_file_read(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "MAX_TEXT_BYTES", 5500)  # big.txt's base fits, its tip does not
    found = changed_files(repo, "HEAD~1", "HEAD")
    assert {c.path for c in found} >= {"calc.py", "docs/new name.txt", "bin.dat", "link"}
    for c in found:
        assert c.before == (None if c.old_path is None else _blob(repo, "HEAD~1", c.old_path))
        assert c.after == _blob(repo, "HEAD", c.path)
    by = {c.path: c for c in found}
    assert by["docs/new name.txt"].old_path == "docs/old name.txt"
    assert by["a blob 5"].after == "changed\n"
    assert by["big.txt"].before == "x" * 5000 and by["big.txt"].after is None
    assert by["bin.dat"].after is None and by["bin.dat"].old_path is None
    assert by["latin1.txt"].after == "caf\ufffd\n"
    assert by["empty.txt"].after == "" and by["link"].after == "calc.py"
    assert by["tests/test_gone.py"].after is None
    assert by["tests/test_gone.py"].before == "def test_gone():\n    pass\n"


def test_test_files_at_reads_every_test_file_once(repo: Path) -> None:
    got = files_at(repo, "HEAD", ("tests/test_*.py",))
    assert got == {
        "tests/test_calc.py": "def test_add():\n    assert 1\n",
        "tests/test_new.py": "def test_new():\n    pass\n",
    }  # the binary one is left out, as before
    assert files_at(repo, "HEAD~1", ("nothing/*",)) == {}


def test_a_name_with_a_newline_is_read_too(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    (root / "odd\nname.txt").write_text("odd\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "odd")
    found = changed_files(root, "HEAD~1", "HEAD")
    assert [(c.path, c.before, c.after) for c in found] == [("odd\nname.txt", None, "odd\n")]
