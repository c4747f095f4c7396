"""What a candidate changed: its files with their text before and after, the base's test files,
and the diffstat of its diff. Blocking git calls; run via a thread.
"""

from __future__ import annotations

import string
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from racer.flags import FileChange, is_test_file
from racer.git import git
from racer.proc import redact
from racer.report import DiffStat

MAX_TEXT_BYTES = 1_000_000  # larger files are compared by name only
MAX_TEST_FILES = 500


def _blob(root: Path, rev: str, path: str) -> str | None:
    proc = git(["cat-file", "-s", f"{rev}:{path}"], root, check=False, lane=True)
    if proc.returncode != 0 or int(proc.stdout.strip() or 0) > MAX_TEXT_BYTES:
        return None
    data = git(["show", f"{rev}:{path}"], root, check=False, lane=True)
    if data.returncode != 0 or "\0" in data.stdout:
        return None
    return data.stdout


def _blobs(root: Path, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The text of each (rev, path) as `_blob` reads it (None: absent, binary or too large),
    in two git calls whatever their number: their sizes, then the contents of the small ones."""
    out: dict[tuple[str, str], str | None] = {}
    batch = [w for w in dict.fromkeys(wanted) if "\n" not in w[1]]
    for rev, path in set(wanted) - set(batch):  # a name the batch protocol cannot carry
        out[(rev, path)] = _blob(root, rev, path)
    if not batch:
        return out
    checked = git(
        ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
        root,
        input="".join(f"{rev}:{path}\n" for rev, path in batch),
        lane=True,
    ).stdout.splitlines()
    small: dict[str, int] = {}
    objects: dict[tuple[str, str], str] = {}
    for item, line in zip(batch, checked, strict=True):
        out[item] = None
        parts = line.split(" ")  # "<sha> blob <size>", else "<rev:path> missing"
        if len(parts) != 3 or not parts[0] or set(parts[0]) - set(string.hexdigits):
            continue
        sha, kind, size = parts
        if kind == "blob" and size.isdigit() and int(size) <= MAX_TEXT_BYTES:
            small[sha], objects[item] = int(size), sha
    if not small:
        return out
    with tempfile.TemporaryDirectory(prefix="racer-blobs-") as tmp:
        dump = Path(tmp) / "blobs"
        git(
            ["cat-file", "--batch=%(objectname)"],
            root,
            input="".join(f"{sha}\n" for sha in small),
            lane=True,
            stdout_to=dump,
        )
        data = dump.read_bytes()
    texts: dict[str, str | None] = {}
    at = 0
    for sha, length in small.items():  # each: "<sha>\n<content>\n"
        start = data.index(b"\n", at) + 1
        text = data[start : start + length].decode("utf-8", errors="replace")
        texts[sha] = None if "\0" in text else text
        at = start + length + 1
    for item, sha in objects.items():
        out[item] = texts[sha]
    return out


def changed_files(root: Path, base: str, tip: str) -> list[FileChange]:
    """Every file the candidate changed, with its text before and after (None if absent/binary)."""
    args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", base, tip]
    fields = [f for f in git(args, root, lane=True).stdout.split("\0") if f]
    found: list[tuple[str, str, str]] = []  # (kind, old, new)
    i = 0
    while i < len(fields):
        status = fields[i]
        if status.startswith(("R", "C")):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old = new = fields[i + 1]
            i += 2
        found.append((status[0], old, new))
    texts = _blobs(
        root,
        [(base, old) for kind, old, _ in found if kind != "A"]
        + [(tip, new) for kind, _, new in found if kind != "D"],
    )
    return [
        FileChange(
            path=new,
            old_path=None if kind == "A" else old,
            before=None if kind == "A" else texts[(base, old)],
            after=None if kind == "D" else texts[(tip, new)],
        )
        for kind, old, new in found
    ]


def test_files_at(root: Path, rev: str, test_patterns: Sequence[str]) -> dict[str, str]:
    """Text of every test file in `rev` (up to 500 files, each up to MAX_TEXT_BYTES)."""
    args = ["ls-tree", "-r", "--name-only", "-z", rev]
    names = git(args, root, lane=True).stdout.split("\0")
    tests = [n for n in names if n and is_test_file(n, test_patterns)]
    texts = _blobs(root, [(rev, name) for name in tests])
    out: dict[str, str] = {}
    for name in tests:
        text = texts[(rev, name)]
        if text is not None and len(out) < MAX_TEST_FILES:
            out[name] = text
    return out


def diffstat_of(root: Path, base: str, tip: str) -> DiffStat:
    """Files, lines added and removed between two commits, from git's own count (the diff itself
    is never read: it may be hundreds of MB). Binary files count as files without lines."""
    args = ["diff", "--numstat", "-z", "-M", "--no-ext-diff", "--no-textconv", base, tip]
    fields = git(args, root, lane=True).stdout.split("\0")
    added = removed = 0
    paths: list[str] = []
    i = 0
    while i < len(fields):
        if not fields[i]:
            i += 1
            continue
        plus, minus, path = fields[i].split("\t", 2)
        i += 1
        if not path:  # a rename or copy: the old path, then the new one
            path = fields[i + 1] if i + 1 < len(fields) else ""
            i += 2
        added += int(plus) if plus.isdigit() else 0
        removed += int(minus) if minus.isdigit() else 0
        paths.append(path)
    return DiffStat(files=len(paths), added=added, removed=removed, paths=tuple(paths))


def holding(changes: Sequence[FileChange], secrets: Sequence[str]) -> tuple[str, ...]:
    """The changed files whose new text holds one of `secrets`."""
    return tuple(
        sorted(ch.path for ch in changes if ch.after and any(s in ch.after for s in secrets))
    )


def redacted(changes: Sequence[FileChange], secrets: Sequence[str]) -> list[FileChange]:
    """The changes with every secret value replaced (what flags and reports may quote)."""
    if not secrets:
        return list(changes)
    return [
        replace(
            ch,
            before=redact(ch.before, secrets) if ch.before else ch.before,
            after=redact(ch.after, secrets) if ch.after else ch.after,
        )
        for ch in changes
    ]
