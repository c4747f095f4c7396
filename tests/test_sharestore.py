"""Shared dirs are never written through: real node processes rewrite files in one hardlinked
lane, and the other lanes and the user's own node_modules stay as they were, by inode, bytes and
mode; a write that still reaches the store (root ignores read-only modes) is warned about."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from racer import sharestore
from racer.provision import provide, shared_writes

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="needs node")
OLD_NS = 499_162_500_000_000_000  # npm extracts package files with the tarball's 1985 mtime


def fingerprint(root: Path) -> str:
    """Bytes, modes and link texts of every entry under root, as one digest."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        for name in sorted([*dirnames, *filenames]):
            path = Path(dirpath) / name
            info = path.lstat()
            h.update(f"{path.relative_to(root)}\0{stat.S_IMODE(info.st_mode)}\0".encode())
            if stat.S_ISLNK(info.st_mode):
                h.update(os.readlink(path).encode())
            elif stat.S_ISREG(info.st_mode):
                h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture
def main(tmp_path: Path) -> Path:
    """A checkout with an npm-installed node_modules whose xo cache a run already wrote."""
    root = tmp_path / "main"
    nm = root / "node_modules"
    (nm / "camelcase").mkdir(parents=True)
    (nm / "camelcase" / "index.js").write_text("export default function camelCase() {}\n")
    (nm / "camelcase" / "package.json").write_text('{"name": "camelcase"}\n')
    for path in (nm / "camelcase").iterdir():
        os.utime(path, ns=(OLD_NS, OLD_NS))
    (nm / ".package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}\n')
    cache = nm / ".cache" / "xo-linter"
    cache.mkdir(parents=True)
    (cache / "tsconfig.abc.json").write_text(json.dumps({"files": [str(root / "index.js")]}))
    return root


def node(cwd: Path, script: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, "-e", script], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def lanes(main: Path, tmp_path: Path, n: int = 2) -> list[Path]:
    out = []
    for i in range(n):
        lane = tmp_path / "wt" / "race" / f"lane{i}"
        lane.mkdir(parents=True)
        got = provide(main, lane, "node_modules", store_root=tmp_path / "wt" / sharestore.STORE)
        assert got.method == "hardlink"
        out.append(lane)
    return out


@needs_node
def test_a_tool_rewriting_its_cache_in_one_lane_changes_nothing_elsewhere(
    main: Path, tmp_path: Path
) -> None:
    before = fingerprint(main / "node_modules")
    first, second = lanes(main, tmp_path)
    rel = "node_modules/.cache/xo-linter/tsconfig.abc.json"
    # what xo does: rewrite the cached tsconfig in place with this checkout's absolute paths
    run = node(first, f"require('fs').writeFileSync({rel!r}, JSON.stringify(process.cwd()))")
    assert run.returncode == 0, run.stderr
    assert json.loads((first / rel).read_text()) == str(first)
    assert (second / rel).read_text() == (main / rel).read_text()
    assert str(main / "index.js") in (second / rel).read_text()
    inodes = {(p / rel).stat().st_ino for p in (first, second, main)}
    assert len(inodes) == 3  # each lane its own writable copy, none the user's
    assert (first / rel).stat().st_mode & 0o200
    assert fingerprint(main / "node_modules") == before
    assert shared_writes(tmp_path / "wt", ["node_modules"]) == []


@needs_node
def test_an_in_place_write_to_a_package_file_never_reaches_the_checkout_and_is_warned(
    main: Path, tmp_path: Path
) -> None:
    before = fingerprint(main / "node_modules")
    first, second = lanes(main, tmp_path)
    rel = "node_modules/camelcase/index.js"
    original = (main / rel).read_text()
    assert (first / rel).stat().st_ino == (second / rel).stat().st_ino  # shared, read-only
    assert not (first / rel).stat().st_mode & 0o222
    run = node(first, f"require('fs').writeFileSync({rel!r}, 'patched in place')")
    warnings = shared_writes(tmp_path / "wt", ["node_modules"])
    if os.geteuid() == 0:  # root ignores the read-only mode: the store changed, and racer says so
        assert run.returncode == 0, run.stderr
        assert (second / rel).read_text() == "patched in place"
        assert len(warnings) == 1 and "node_modules/camelcase/index.js" in warnings[0]
        assert "wrote into 1 shared file(s) of node_modules" in warnings[0]
    else:  # O_TRUNC on a read-only file: the tool fails, nothing changes anywhere
        assert "EACCES" in run.stderr
        assert (second / rel).read_text() == original
        assert warnings == []
    assert (main / rel).read_text() == original
    assert fingerprint(main / "node_modules") == before
    # a written store is not used again: the next lane gets the user's content
    third = tmp_path / "wt" / "race" / "third"
    third.mkdir()
    provide(main, third, "node_modules", store_root=tmp_path / "wt" / sharestore.STORE)
    assert (third / rel).read_text() == original
    assert (third / rel).stat().st_ino != (second / rel).stat().st_ino


@needs_node
def test_replacing_a_file_by_rename_is_harmless_with_links(main: Path, tmp_path: Path) -> None:
    first, second = lanes(main, tmp_path)
    rel = "node_modules/camelcase/package.json"
    run = node(
        first,
        "const fs = require('fs');"
        f"fs.writeFileSync({rel!r} + '.tmp', '{{}}'); fs.renameSync({rel!r} + '.tmp', {rel!r})",
    )
    assert run.returncode == 0, run.stderr
    assert (first / rel).read_text() == "{}"
    assert (second / rel).read_text() == (main / rel).read_text() == '{"name": "camelcase"}\n'
    assert shared_writes(tmp_path / "wt", ["node_modules"]) == []


def test_one_store_serves_every_lane_until_the_source_changes(main: Path, tmp_path: Path) -> None:
    store_root = tmp_path / "wt" / sharestore.STORE
    lanes(main, tmp_path, 3)
    assert len([p for p in store_root.iterdir() if not p.name.startswith(".")]) == 1
    # `npm install` in the main checkout: the next race links a new copy, the old one goes
    (main / "node_modules" / "camelcase" / "index.js").write_text("export default 2;\n")
    lane = tmp_path / "wt" / "race2" / "lane"
    lane.mkdir(parents=True)
    provide(main, lane, "node_modules", store_root=store_root)
    assert (lane / "node_modules/camelcase/index.js").read_text() == "export default 2;\n"
    assert len([p for p in store_root.iterdir() if not p.name.startswith(".")]) == 1


@pytest.mark.parametrize(
    ("rel", "written"),
    [
        (".cache/xo-linter/tsconfig.json", True),
        (".vite/deps/_metadata.json", True),
        ("pkg/.eslintcache", True),
        (".package-lock.json", True),
        (".yarn-integrity", True),
        (".modules.yaml", True),
        ("app/tsconfig.tsbuildinfo", True),
        ("babel-loader/lib/cache.js", False),  # a package's code, not a cache
        ("file-entry-cache/cache.js", False),
        (".cache/babel-loader/0a1b.json", True),
        ("six/__pycache__/six.cpython-312.pyc", False),  # CPython replaces .pyc by rename
        ("camelcase/index.js", False),
        ("lodash/package.json", False),
    ],
)
def test_what_tools_write(rel: str, written: bool) -> None:
    assert sharestore.is_written(rel, 0, None) is written


def test_a_file_written_after_the_install_is_a_writable_copy(main: Path, tmp_path: Path) -> None:
    marker = main / "node_modules" / ".package-lock.json"
    os.utime(marker, ns=(OLD_NS + 10**12, OLD_NS + 10**12))
    late = main / "node_modules" / "camelcase" / "generated.json"
    late.write_text("{}")  # now: long after the install
    (first,) = lanes(main, tmp_path, 1)
    assert (first / "node_modules/camelcase/generated.json").stat().st_mode & 0o200
    assert (first / "node_modules/camelcase/generated.json").stat().st_nlink == 1
    assert (first / "node_modules/camelcase/index.js").stat().st_nlink == 2


def test_a_cache_the_user_rewrites_costs_no_new_copy_and_lanes_get_it_as_it_is_now(
    main: Path, tmp_path: Path
) -> None:
    store_root = tmp_path / "wt" / sharestore.STORE
    lanes(main, tmp_path, 1)
    (store,) = [p for p in store_root.iterdir() if not p.name.startswith(".")]
    cache = main / "node_modules/.cache/xo-linter"
    (cache / "tsconfig.abc.json").write_text('{"files": ["rewritten"]}')
    (cache / "tsconfig.new.json").write_text("{}")  # a new cache file in the user's checkout
    lane = tmp_path / "wt" / "race2" / "lane"
    lane.mkdir(parents=True)
    provide(main, lane, "node_modules", store_root=store_root)
    assert [p for p in store_root.iterdir() if not p.name.startswith(".")] == [store]
    got = lane / "node_modules/.cache/xo-linter"
    assert (got / "tsconfig.abc.json").read_text() == '{"files": ["rewritten"]}'
    assert (got / "tsconfig.new.json").read_text() == "{}"
    assert not (store / ".cache/xo-linter/tsconfig.abc.json").exists()  # never in the store
