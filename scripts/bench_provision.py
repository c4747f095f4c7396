#!/usr/bin/env python3
"""Provisioning benchmark: time and disk to provide a gitignored dependency dir to N worktrees
by reflink, hardlinks and plain copy, against one bare `git worktree add` of the same repo.

    python scripts/bench_provision.py [--mb 300] [--files 20000] [--lanes 8] [--tracked 1000]
                                      [--dir DIR] [--keep]

Targets (issue): per lane, time ≤ 2x one bare `git worktree add`; where reflinks or hardlinks
work, extra disk ≤ 10% of one plain copy. The page cache is warm (the dir was just written), as
it is when racer provisions lanes right after an install.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from racer import provision, sharestore
from racer.git import RACER_IDENTITY, git

DEP = "node_modules"
MB = 1024 * 1024


def build_repo(root: Path, tracked: int, files: int, mb: int) -> None:
    """A repo with `tracked` small source files and an ignored DEP of `files` files, `mb` MB."""
    rng = random.Random(42)
    root.mkdir(parents=True)
    git(["init", "--quiet", "--initial-branch=main"], root)
    (root / ".gitignore").write_text(f"{DEP}/\n")
    line = "export const value = 1; // some source code of a typical length\n"
    for i in range(tracked):
        path = root / "src" / f"mod{i // 25}" / f"file{i}.ts"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(line * rng.randint(20, 100))
    git(["add", "-A"], root)
    git(["commit", "--quiet", "-m", "project"], root, env=RACER_IDENTITY)
    # node_modules-like: packages of 3 dirs x ~8 files, sizes skewed (many small, a few large),
    # incompressible content, one relative .bin symlink per package.
    blob = os.urandom(8 * MB)
    mean = mb * MB / files
    made = package = 0
    (root / DEP / ".bin").mkdir(parents=True)
    while made < files:
        pkg = root / DEP / f"pkg-{package}"
        for sub in (pkg, pkg / "lib", pkg / "dist"):
            sub.mkdir(parents=True)
            for i in range(8):
                if made >= files:
                    break
                size = min(int(rng.expovariate(1 / mean)), len(blob))
                start = rng.randrange(len(blob) - size + 1)
                (sub / f"f{i}.js").write_bytes(blob[start : start + size])
                made += 1
        (root / DEP / ".bin" / f"pkg-{package}").symlink_to(f"../pkg-{package}/f0.js")
        package += 1


def blocks(paths: Iterable[Path], skip: set[tuple[int, int]] | None = None) -> int:
    """Bytes allocated under paths, each inode once (hardlinks), leaving out `skip` inodes."""
    seen: set[tuple[int, int]] = set(skip or ())
    total = 0
    for root in paths:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [".", *dirnames, *filenames]:
                info = os.lstat(os.path.join(dirpath, name))
                key = (info.st_dev, info.st_ino)
                if key not in seen:
                    seen.add(key)
                    total += info.st_blocks * 512
    return total


def inodes(root: Path) -> set[tuple[int, int]]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            info = os.lstat(os.path.join(dirpath, name))
            out.add((info.st_dev, info.st_ino))
    return out


def used_bytes(path: Path) -> int:
    os.sync()
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def fs_type(path: Path) -> str:
    best, kind = "", "?"
    real = os.path.realpath(path)
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, f"{fields[2]} ({fields[0]} on {point})"
    return kind


def bare_worktree_add(repo: Path, work: Path, runs: int = 3) -> float:
    times = []
    for i in range(runs):
        path = work / f"bare-{i}"
        t0 = time.perf_counter()
        git(["worktree", "add", "--quiet", "--detach", str(path), "HEAD"], repo)
        times.append(time.perf_counter() - t0)
        git(["worktree", "remove", "--force", str(path)], repo)
    return statistics.median(times)


def run_method(
    repo: Path, work: Path, method: str, lanes: int, parallel: bool
) -> tuple[float, list[float]]:
    """Seconds for all N lanes, and each lane's own (sequential runs only)."""
    dests = [work / f"{method}-{'par' if parallel else 'seq'}-{i}" for i in range(lanes)]
    for dest in dests:
        dest.mkdir()
    store = work / sharestore.STORE

    def one(dest: Path) -> float:
        t = time.perf_counter()
        got = provision.provide(repo, dest, DEP, method, store_root=store)
        assert got.method == method, got
        return time.perf_counter() - t

    t0 = time.perf_counter()
    if parallel:
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(one, dests))
        return time.perf_counter() - t0, []
    each = [one(d) for d in dests]
    return time.perf_counter() - t0, each


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300, help="size of the dependency dir (MB)")
    parser.add_argument("--files", type=int, default=20_000, help="files in the dependency dir")
    parser.add_argument("--lanes", type=int, default=8, help="worktrees to provide (N)")
    parser.add_argument("--tracked", type=int, default=1000, help="tracked source files")
    parser.add_argument("--dir", type=Path, help="work here instead of a temp dir")
    parser.add_argument("--keep", action="store_true", help="leave the files behind")
    args = parser.parse_args()

    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="racer-bench-provision-", dir=args.dir))
    try:
        return bench(work, args)
    finally:
        if args.keep:
            print(f"\nkept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def bench(work: Path, args: argparse.Namespace) -> int:
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    )
    print(f"filesystem: {fs_type(work)}; load average {os.getloadavg()[0]:.1f}")
    repo = work / "repo"
    started = t0 = time.perf_counter()
    build_repo(repo, args.tracked, args.files, args.mb)
    src = repo / DEP
    one_copy = blocks([src])
    n_files = sum(len(f) for _, _, f in os.walk(src))
    n_dirs = sum(len(d) for _, d, _ in os.walk(src)) + 1
    print(
        f"repo: {args.tracked} tracked files; {DEP}/: {n_files} files in {n_dirs} dirs, "
        f"{one_copy / MB:.0f} MB on disk (built in {time.perf_counter() - t0:.1f} s)"
    )
    bare = bare_worktree_add(repo, work)
    print(f"one bare `git worktree add`: {bare * 1000:.0f} ms (median of 3)")

    (work / "probe").mkdir()
    methods = ["hardlink", "copy"]
    if provision._reflink_supported(src, work / "probe"):
        methods.insert(0, "reflink")
    else:
        print("reflink: not supported here (FICLONE probe failed), skipped")
    print(
        f"\nN = {args.lanes} lanes; target: per lane ≤ 2x worktree add, extra disk ≤ 10% of a copy"
    )
    header = (
        f"{'method':<9} {'N seq':>7} {'N par':>7} {'/lane':>7} {'xwt add':>8} "
        f"{'extra MB':>9} {'%copy/lane':>10} {'%copy all N':>11} {'df Δ MB':>8}  targets"
    )
    print(header)
    print("-" * len(header))
    source_inodes = inodes(src)
    store_report: tuple[float, float, int] | None = None  # first lane s, later lanes s, bytes
    for method in methods:
        # Reflinked files report their full size in st_blocks: only the filesystem's own count
        # shows the sharing. It needs a sync (slow, and noisy if other work runs), so only here.
        before = used_bytes(work) if method == "reflink" else 0
        seq, each = run_method(repo, work, method, args.lanes, parallel=False)
        delta = used_bytes(work) - before if method == "reflink" else None
        dests = [work / f"{method}-seq-{i}" / DEP for i in range(args.lanes)]
        store_inodes = inodes(work / sharestore.STORE) if method == "hardlink" else set()
        extra = blocks(dests, skip=source_inodes | store_inodes)
        if store_inodes:
            later = sum(each[1:]) / max(1, len(each) - 1)
            store_report = (each[0], later, blocks([work / sharestore.STORE]))
        counted = extra if delta is None else delta
        for dest in dests:
            shutil.rmtree(dest.parent)
        par = None
        if method != "copy":  # disk-bound: a parallel pass would only add minutes of I/O
            par, _ = run_method(repo, work, method, args.lanes, parallel=True)
            for i in range(args.lanes):
                shutil.rmtree(work / f"{method}-par-{i}")
        per_lane = seq / args.lanes
        ratio = per_lane / bare
        pct_lane = 100 * counted / args.lanes / one_copy
        pct_all = 100 * counted / one_copy
        time_ok = "time ok" if ratio <= 2 else "time MISSED"
        if method == "copy":
            disk_ok = "disk n/a (a copy)"
        else:
            disk_ok = "disk ok" if pct_lane <= 10 else "disk MISSED"
            disk_ok += "" if pct_all <= 10 else " (all N together: over)"
        par_s = "-" if par is None else f"{par:.2f}s"
        df_mb = "-" if delta is None else f"{delta / MB:.0f}"
        print(
            f"{method:<9} {seq:>6.2f}s {par_s:>7} {per_lane * 1000:>5.0f}ms {ratio:>7.2f}x "
            f"{counted / MB:>9.1f} {pct_lane:>9.1f}% {pct_all:>10.1f}% {df_mb:>8}  "
            f"{time_ok}, {disk_ok}"
        )
    if store_report is not None:
        first, next_lanes, store_bytes = store_report
        print(
            f"\nhardlink: lanes link racer's read-only copy of {DEP}, made by the first lane "
            f"({first:.2f} s, {store_bytes / MB:.0f} MB once per state of the dir) and reused by "
            f"every later lane and race ({next_lanes * 1000:.0f} ms per lane after the first); "
            "extra MB leaves that copy out"
        )
    total = time.perf_counter() - started
    print(f"\nbench total: {total:.0f} s (load average now {os.getloadavg()[0]:.1f})")
    print(
        "N seq: N lanes one after another; N par: on a thread pool of CPU count (not for copy).\n"
        "/lane and xwt add come from N seq. extra MB: blocks of inodes not shared with the\n"
        "source, each counted once (reflink: df delta, the filesystem's own count after a sync)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
