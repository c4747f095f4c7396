"""Tests for racer.provision: dependency dirs provided to worktrees in real tmp dirs, and the
lockfile staleness checks against real git repos."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from helpers.repos import git, make_repo

from racer import provision
from racer.errors import ConfigError, RefusedError, UserError
from racer.provision import Provided, lockfile_warnings, provide


def _reflink_works(tmp: Path) -> bool:
    (tmp / "probe-src").mkdir()
    (tmp / "probe-src" / "f").write_bytes(b"x" * 4096)
    return provision._reflink_supported(tmp / "probe-src", tmp)


@pytest.fixture
def reflink(tmp_path: Path) -> bool:
    return _reflink_works(tmp_path)


@pytest.fixture
def main(tmp_path: Path) -> Path:
    """A main checkout with an ignored node_modules holding every kind of entry."""
    root = make_repo(
        tmp_path / "main",
        {".gitignore": "node_modules/\n.venv/\ntarget/\n", "src/app.js": "main's code\n"},
    )
    nm = root / "node_modules"
    (nm / "tool" / "lib").mkdir(parents=True)
    (nm / "tool" / "cli.js").write_text("#!/usr/bin/env node\nconsole.log('hi')\n")
    (nm / "tool" / "cli.js").chmod(0o755)
    (nm / "tool" / "lib" / "data.bin").write_bytes(os.urandom(20_000))
    (nm / "tool" / "empty.txt").write_bytes(b"")
    (nm / "tool" / "résumé.txt").write_text("unicode name\n")
    (nm / "empty-dir").mkdir()
    (nm / "private").mkdir(mode=0o700)
    (nm / "private" / "secret").write_text("s\n")
    (nm / ".bin").mkdir()
    (nm / ".bin" / "tool").symlink_to("../tool/cli.js")  # relative, inside the dir
    (nm / "abs-tool").symlink_to(nm / "tool" / "cli.js")  # absolute, inside the dir
    (nm / "app").symlink_to("../src")  # relative, to the checkout's own code (a workspace)
    (nm / "abs-app").symlink_to(root / "src")  # absolute, to the main checkout's code
    outside = tmp_path / "outside.txt"
    outside.write_text("outside\n")
    (nm / "ext").symlink_to(outside)  # absolute, outside the checkout
    (nm / "ext-rel").symlink_to(os.path.relpath(outside, nm))  # relative, climbs out
    (nm / "dangling").symlink_to("no-such-file")
    return root


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """Where a lane's worktree would be: a different depth, with its own src/."""
    root = tmp_path / "worktrees" / "deeper" / "lane"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.js").write_text("the lane's code\n")
    return root


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under root: type, permission bits, content or link text."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            info = path.lstat()
            key = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                out[key] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                out[key] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                out[key] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return out


REWRITTEN = {"abs-tool", "abs-app", "ext-rel"}


def read_only(entry: tuple[object, ...]) -> tuple[object, ...]:
    """What a hardlinked lane holds of a source entry: its files read-only, the rest as is."""
    if entry[0] != "file":
        return entry
    mode = entry[1]
    assert isinstance(mode, int)
    return ("file", mode & ~0o222, *entry[2:])


@pytest.mark.parametrize("method", ["hardlink", "copy", "auto", "reflink"])
def test_every_method_provides_identical_content(
    main: Path, worktree: Path, method: str, reflink: bool
) -> None:
    if method == "reflink" and not reflink:
        pytest.skip("no reflink support on this filesystem")
    got = provide(main, worktree, "node_modules", method)
    assert got.method == (("reflink" if reflink else "hardlink") if method == "auto" else method)
    assert (got.rel, got.files) == ("node_modules", 12)
    assert got.bytes == sum(
        p.stat().st_size
        for p in (main / "node_modules").rglob("*")
        if p.is_file() and not p.is_symlink()
    )
    src, dest = snapshot(main / "node_modules"), snapshot(worktree / "node_modules")
    assert src.keys() == dest.keys()
    linked = got.method == "hardlink"
    for key in src.keys() - REWRITTEN:
        assert dest[key] == (read_only(src[key]) if linked else src[key]), key
    assert dest["tool/cli.js"][1] == (0o555 if linked else 0o755)
    assert dest["private"] == ("dir", 0o700)
    nm = worktree / "node_modules"
    assert os.readlink(nm / "abs-tool") == str(nm / "tool" / "cli.js")
    assert os.readlink(nm / "abs-app") == str(worktree / "src")
    assert os.readlink(nm / "ext-rel") == str(main.parent / "outside.txt")


def test_symlinks_keep_working_and_never_lead_into_the_main_checkout(
    main: Path, worktree: Path
) -> None:
    provide(main, worktree, "node_modules", "copy")
    nm = worktree / "node_modules"
    assert not nm.is_symlink()
    assert (nm / ".bin" / "tool").read_text().startswith("#!/usr/bin/env node")
    assert (nm / "abs-tool").read_text() == (nm / "tool" / "cli.js").read_text()
    assert (nm / "app" / "app.js").read_text() == "the lane's code\n"
    assert (nm / "abs-app" / "app.js").read_text() == "the lane's code\n"
    assert (nm / "ext").read_text() == (nm / "ext-rel").read_text() == "outside\n"
    for path in nm.rglob("*"):
        if path.is_symlink() and path.exists():
            assert not path.resolve().is_relative_to(main.resolve()), path


def test_a_symlinked_dir_is_provided_as_a_real_one(main: Path, worktree: Path) -> None:
    (main / "node_modules").rename(main / "nm-real")
    (main / "node_modules").symlink_to("nm-real")
    got = provide(main, worktree, "node_modules", "copy")
    dest = worktree / "node_modules"
    assert got.files == 12 and dest.is_dir() and not dest.is_symlink()
    assert (dest / ".bin" / "tool").read_text().startswith("#!")


def test_hardlinked_lanes_share_inodes_and_blocks_but_none_with_the_main_checkout(
    main: Path, worktree: Path
) -> None:
    provide(main, worktree, "node_modules", "hardlink")
    second = worktree.parent / "second"
    provide(main, second, "node_modules", "hardlink")
    src, dest, other = main / "node_modules", worktree / "node_modules", second / "node_modules"
    files = [p.relative_to(src) for p in src.rglob("*") if p.is_file() and not p.is_symlink()]
    assert files
    src_inodes = {(src / f).stat().st_ino for f in files}
    first_inodes = {(dest / f).stat().st_ino for f in files}
    for f in files:
        assert (other / f).stat().st_ino == (dest / f).stat().st_ino
        assert (dest / f).stat().st_ino not in src_inodes
        assert not (dest / f).stat().st_mode & 0o222  # read-only: the store's, not the user's
    assert (src / "tool" / "cli.js").stat().st_mode & 0o777 == 0o755  # the user's mode kept
    new_file_blocks = sum(
        p.lstat().st_blocks
        for p in other.rglob("*")
        if p.is_file() and not p.is_symlink() and p.lstat().st_ino not in first_inodes
    )
    assert new_file_blocks == 0


@pytest.mark.parametrize("method", ["copy", "reflink"])
def test_copy_and_reflink_are_independent_of_the_source(
    main: Path, worktree: Path, method: str, reflink: bool
) -> None:
    if method == "reflink" and not reflink:
        pytest.skip("no reflink support on this filesystem")
    provide(main, worktree, "node_modules", method)
    src, dest = main / "node_modules", worktree / "node_modules"
    for path in src.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert (dest / path.relative_to(src)).stat().st_ino != path.stat().st_ino
    with (dest / "tool" / "lib" / "data.bin").open("r+b") as f:  # in place, same inode
        f.write(b"lane edit")
    (dest / "tool" / "cli.js").write_text("changed\n")
    assert not (src / "tool" / "lib" / "data.bin").read_bytes().startswith(b"lane edit")
    assert (src / "tool" / "cli.js").read_text().endswith("console.log('hi')\n")


def test_missing_dir_is_reported_not_raised(main: Path, worktree: Path) -> None:
    got = provide(main, worktree, "frontend/node_modules")
    assert isinstance(got, Provided)
    assert (got.method, got.files, got.bytes) == ("missing", 0, 0)
    assert not (worktree / "frontend").exists()


def test_existing_destination_is_refused(main: Path, worktree: Path) -> None:
    (worktree / "node_modules").symlink_to(main / "node_modules")
    with pytest.raises(RefusedError, match="already exists"):
        provide(main, worktree, "node_modules")
    assert os.readlink(worktree / "node_modules") == str(main / "node_modules")


@pytest.mark.parametrize("rel", ["../elsewhere", "/abs/node_modules", "", "a/../../b"])
def test_paths_outside_the_checkout_are_config_errors(main: Path, worktree: Path, rel: str) -> None:
    with pytest.raises(ConfigError, match="inside the repository"):
        provide(main, worktree, rel)


def test_unknown_method_and_file_are_config_errors(main: Path, worktree: Path) -> None:
    with pytest.raises(ConfigError, match="unknown share method 'symlink'"):
        provide(main, worktree, "node_modules", "symlink")
    with pytest.raises(ConfigError, match="not a directory"):
        provide(main, worktree, ".gitignore")


def test_explicit_reflink_where_unsupported_is_a_clear_error(
    main: Path, worktree: Path, reflink: bool
) -> None:
    if reflink:
        pytest.skip("this filesystem supports reflinks")
    with pytest.raises(ConfigError, match=r"reflink clones are not supported.*use share method"):
        provide(main, worktree, "node_modules", "reflink")
    assert not (worktree / "node_modules").exists()


def test_auto_hardlinks_only_read_mostly_dirs(main: Path, worktree: Path, reflink: bool) -> None:
    (main / "target" / "debug").mkdir(parents=True)
    (main / "target" / "debug" / "app").write_bytes(b"\x7fELF")
    got = provide(main, worktree, "target")
    assert got.method == ("reflink" if reflink else "copy")
    got = provide(main, worktree, "node_modules")
    assert got.method == ("reflink" if reflink else "hardlink")


def test_auto_falls_back_when_a_method_fails_midway(
    main: Path, worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(src: Path, dest: Path) -> None:
        (dest / "half").mkdir(parents=True)
        raise UserError("cp -a --reflink=always failed: Operation not supported")

    monkeypatch.setattr(provision, "_reflink_supported", lambda src, dest: True)
    monkeypatch.setitem(provision._COPIERS, "reflink", broken)
    got = provide(main, worktree, "node_modules")
    assert got.method == "hardlink"
    assert not (worktree / "node_modules" / "half").exists()
    assert snapshot(main / "node_modules").keys() == snapshot(worktree / "node_modules").keys()


def test_every_method_failing_is_one_error_naming_each(
    main: Path, worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(src: Path, dest: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(provision._COPIERS, "hardlink", broken)
    monkeypatch.setitem(provision._COPIERS, "copy", broken)
    with pytest.raises(UserError, match=r"could not provide node_modules.*copy: .*No space left"):
        provide(main, worktree, "node_modules")
    assert not (worktree / "node_modules").exists()


def test_auto_copies_across_filesystems(main: Path, tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if (
        not shm.is_dir()
        or not os.access(shm, os.W_OK)
        or shm.stat().st_dev == tmp_path.stat().st_dev
    ):
        pytest.skip("needs a writable /dev/shm on another filesystem")
    import tempfile

    with tempfile.TemporaryDirectory(dir=shm) as other:
        # the store is copied onto the lanes' filesystem once; lanes link to it there
        got = provide(main, Path(other) / "lane", "node_modules")
        assert got.method == "hardlink"
        assert (Path(other) / "lane/node_modules/.bin/tool").read_text().startswith("#!")
        with pytest.raises(ConfigError, match="different ones"):
            provide(main, worktree_of(tmp_path), "node_modules", "hardlink", store_root=Path(other))
        got = provide(main, worktree_of(tmp_path), "node_modules", store_root=Path(other))
        assert got.method == "copy"


def worktree_of(tmp_path: Path) -> Path:
    root = tmp_path / "wt-elsewhere"
    root.mkdir(exist_ok=True)
    return root


@pytest.mark.parametrize("method", ["hardlink", "copy"])
def test_python_fallback_without_gnu_cp(
    main: Path, worktree: Path, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provision, "_gnu_cp", lambda: False)
    provide(main, worktree, "node_modules", method)
    src, dest = snapshot(main / "node_modules"), snapshot(worktree / "node_modules")
    assert src.keys() == dest.keys()
    linked = method == "hardlink"
    assert all(dest[k] == (read_only(src[k]) if linked else src[k]) for k in src.keys() - REWRITTEN)
    assert (worktree / "node_modules/tool/cli.js").stat().st_nlink == (2 if linked else 1)


def test_venv_paths_are_moved_to_the_worktree_without_touching_the_source(
    main: Path, worktree: Path
) -> None:
    venv = main / ".venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")
    pytest_script = f"#!{venv}/bin/python\nimport sys\n"
    (venv / "bin" / "pytest").write_text(pytest_script)
    (venv / "bin" / "pytest").chmod(0o755)
    (venv / "bin" / "activate").write_text(f"VIRTUAL_ENV='{venv}'\nOTHER={main}2/x\n")
    (site / "_app.pth").write_text(f"{main}/src\n")
    (site / "six.py").write_text(f"# mentions {main}/src but is not a path file\n")

    provide(main, worktree, ".venv", "hardlink")
    wv = worktree / ".venv"
    assert (wv / "bin" / "pytest").read_text() == f"#!{wv}/bin/python\nimport sys\n"
    assert (wv / "bin" / "pytest").stat().st_mode & 0o111
    assert (wv / "bin" / "activate").read_text() == f"VIRTUAL_ENV='{wv}'\nOTHER={main}2/x\n"
    assert (wv / "lib/python3.11/site-packages/_app.pth").read_text() == f"{worktree}/src\n"
    assert os.readlink(wv / "bin" / "python") == "/usr/bin/python3"
    # the originals are untouched; the rest stays linked (to the store)
    assert (venv / "bin" / "pytest").read_text() == pytest_script
    assert (site / "_app.pth").read_text() == f"{main}/src\n"
    assert (wv / "lib/python3.11/site-packages/six.py").stat().st_nlink == 2


# ---- lockfile warnings ----------------------------------------------------------------------

LOCK_V1 = {
    "name": "app",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "app", "dependencies": {"left-pad": "^1.3.0"}},
        "node_modules/left-pad": {
            "version": "1.3.0",
            "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
            "integrity": "sha512-v1",
        },
        "node_modules/@esbuild/darwin-arm64": {"version": "0.20.0", "optional": True},
    },
}


def lock_v2() -> dict[str, Any]:
    data = json.loads(json.dumps(LOCK_V1))
    data["packages"]["node_modules/left-pad"]["version"] = "1.3.1"
    data["packages"]["node_modules/left-pad"]["integrity"] = "sha512-v2"
    return data


def npm_install(root: Path, lock: dict[str, Any]) -> None:
    """What `npm ci` leaves: node_modules/.package-lock.json listing the installed packages."""
    packages = {k: v for k, v in lock["packages"].items() if k and not v.get("optional")}
    hidden = {"name": "app", "lockfileVersion": 3, "requires": True, "packages": packages}
    (root / "node_modules" / "left-pad").mkdir(parents=True, exist_ok=True)
    (root / "node_modules" / ".package-lock.json").write_text(json.dumps(hidden))


def set_mtime(path: Path, when: float) -> None:
    os.utime(path, (when, when), follow_symlinks=False)


@pytest.fixture
def npm_repo(tmp_path: Path) -> tuple[Path, str]:
    root = make_repo(
        tmp_path / "npm",
        {".gitignore": "node_modules/\n", "package-lock.json": json.dumps(LOCK_V1, indent=2)},
    )
    npm_install(root, LOCK_V1)
    return root, git(root, "rev-parse", "HEAD")


def test_fresh_npm_install_gives_no_warning(npm_repo: tuple[Path, str]) -> None:
    root, head = npm_repo
    # npm saves package-lock.json just after the hidden lockfile: not a stale sign
    set_mtime(
        root / "package-lock.json", (root / "node_modules/.package-lock.json").stat().st_mtime + 60
    )
    assert lockfile_warnings(root, head, ["node_modules"]) == []


def test_a_base_commit_lockfile_differs(npm_repo: tuple[Path, str]) -> None:
    root, base = npm_repo
    (root / "package-lock.json").write_text(json.dumps(lock_v2(), indent=2))
    git(root, "commit", "--quiet", "-am", "bump left-pad")
    npm_install(root, lock_v2())
    [warning] = lockfile_warnings(root, base, ["node_modules"])
    assert warning.startswith("node_modules may not match the base commit: package-lock.json")
    assert base[:12] in warning and "npm ci" in warning
    assert lockfile_warnings(root, git(root, "rev-parse", "HEAD"), ["node_modules"]) == []


def test_c_npm_record_disagrees_with_lockfile(npm_repo: tuple[Path, str]) -> None:
    root, head = npm_repo
    npm_install(root, lock_v2())  # installed something else than the lockfile says
    [warning] = lockfile_warnings(root, head, ["node_modules"])
    assert "node_modules/.package-lock.json" in warning and "disagrees" in warning
    assert warning.endswith("run `npm ci` in the main checkout")


def test_c_extraneous_package_is_stale(npm_repo: tuple[Path, str]) -> None:
    root, head = npm_repo
    hidden = root / "node_modules" / ".package-lock.json"
    data = json.loads(hidden.read_text())
    data["packages"]["node_modules/removed"] = {"version": "1.0.0"}
    hidden.write_text(json.dumps(data))
    assert len(lockfile_warnings(root, head, ["node_modules"])) == 1


def test_b_lockfile_newer_than_install_marker(npm_repo: tuple[Path, str], tmp_path: Path) -> None:
    root, head = npm_repo
    (root / "node_modules" / ".package-lock.json").unlink()  # e.g. installed by an old npm
    for entry in [root / "node_modules", *(root / "node_modules").iterdir()]:
        set_mtime(entry, 1_000_000)
    [warning] = lockfile_warnings(root, head, ["node_modules"])
    assert warning == (
        "node_modules may be stale: package-lock.json changed after node_modules was last "
        "installed — run `npm ci` in the main checkout"
    )


def test_b_python_and_rust(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "py",
        {".gitignore": ".venv/\ntarget/\n", "uv.lock": "version = 1\n", "Cargo.lock": "v = 3\n"},
    )
    site = root / ".venv" / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "target" / "debug" / ".fingerprint").mkdir(parents=True)
    (root / "target" / ".rustc_info.json").write_text("{}")
    head = git(root, "rev-parse", "HEAD")
    lock_time = (root / "uv.lock").stat().st_mtime
    for path in [site, root / ".venv/pyvenv.cfg", root / "target/.rustc_info.json",
                 root / "target/debug/.fingerprint"]:  # fmt: skip
        set_mtime(path, lock_time + 100)
    assert lockfile_warnings(root, head, [".venv", "target"]) == []

    set_mtime(site, lock_time - 100)
    set_mtime(root / ".venv/pyvenv.cfg", lock_time - 100)
    set_mtime(root / "target/debug/.fingerprint", lock_time - 100)
    set_mtime(root / "target/.rustc_info.json", lock_time - 100)
    assert lockfile_warnings(root, head, [".venv", "target"]) == [
        ".venv may be stale: uv.lock changed after .venv was last installed — run `uv sync` in "
        "the main checkout",
        "target may be stale: Cargo.lock changed after target was last installed — run "
        "`cargo build` in the main checkout",
    ]


def test_nested_dir_and_requirements_glob(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "mono",
        {".gitignore": "venv/\n", "api/requirements.txt": "a==1\n", "api/requirements-dev.txt": ""},
    )
    base = git(root, "rev-parse", "HEAD")
    (root / "api" / "venv").mkdir()
    (root / "api" / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "api" / "requirements.txt").write_text("a==2\n")
    installed = (root / "api" / "venv" / "pyvenv.cfg").stat().st_mtime
    for name in ("requirements.txt", "requirements-dev.txt"):
        set_mtime(root / "api" / name, installed)
    warnings = lockfile_warnings(root, base, ["api/venv"])
    assert len(warnings) == 1
    assert "api/requirements.txt at" in warnings[0]
    assert "`pip install -r api/requirements.txt`" in warnings[0]


def test_no_lockfile_or_no_dir_gives_no_warning(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", {"README": "x\n"})
    head = git(root, "rev-parse", "HEAD")
    (root / "node_modules").mkdir()
    (root / "vendor").mkdir()
    assert lockfile_warnings(root, head, ["node_modules", "vendor", ".venv"]) == []
