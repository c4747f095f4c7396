"""Per-test results from test runners' machine-readable output, as JUnit XML for testrun.

jest and vitest JSON, mocha JSON, ava TAP, node's test runner (racer's own reporter: JSON
lines), `go test -json`, cargo's libtest text lines. A test's id is `FILE::TITLE` (FILE relative
to the checkout, nested titles joined by " > "); a file that could not load is the id FILE alone,
as pytest names a module that failed to collect. Duplicate ids keep their worst outcome.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

Case = tuple[str, str, str]  # (id, passed/failed/error/skipped, first line of the message)
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
SEP = " > "
AVA_SEP = " \u203a "  # ava's single right-pointing angle quote between a file's parts and title

# racer's reporter for `node --test` (node 20's TAP and JUnit reporters do not name the file of
# a passing test): one JSON object per finished test, with its file and nesting.
NODE_REPORTER = """\
export default async function* racerReporter(source) {
  const stderr = new Map();
  for await (const event of source) {
    const d = event.data || {};
    if (event.type === 'test:stderr' && d.file) {
      stderr.set(d.file, (stderr.get(d.file) || '') + String(d.message || ''));
    } else if (event.type === 'test:start' || event.type === 'test:pass' || event.type === 'test:fail') {
      const err = d.details && d.details.error;
      const cause = err && err.cause;
      const message = cause ? (cause.message || String(cause)) : err ? (err.message || String(err)) : '';
      yield JSON.stringify({event: event.type, name: d.name, nesting: d.nesting, file: d.file,
        skip: Boolean(d.skip || d.todo), message: String(message),
        stderr: event.type === 'test:fail' ? (stderr.get(d.file) || '') : ''}) + '\\n';
    }
  }
}
"""


def first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("●").strip()
        if line and line not in ("Test suite failed to run", "test failed"):
            return line[:300]
    return ""


def _rel(path: str, root: Path) -> str:
    if not path:
        return ""
    p = Path(path.removeprefix("file://"))
    if p.is_absolute():
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None


def jest(path: Path, root: Path) -> list[Case]:
    """jest's `--json` report, and vitest's `--reporter=json` (the same shape)."""
    data = _load_json(path)
    cases: list[Case] = []
    results = data.get("testResults") if isinstance(data, dict) else None
    for suite in results if isinstance(results, list) else []:
        if not isinstance(suite, dict):
            continue
        file = _rel(str(suite.get("name") or suite.get("testFilePath") or ""), root)
        asserts = suite.get("assertionResults") or suite.get("testResults") or []
        if not asserts and suite.get("status") == "failed":
            cases.append((file, "error", first_line(str(suite.get("message") or ""))))
        for a in asserts if isinstance(asserts, list) else []:
            if not isinstance(a, dict):
                continue
            titles = [*(str(t) for t in a.get("ancestorTitles") or []), str(a.get("title", ""))]
            status = str(a.get("status", ""))
            outcome = {"passed": "passed", "failed": "failed"}.get(status, "skipped")
            message = first_line("\n".join(str(m) for m in a.get("failureMessages") or []))
            cases.append((f"{file}::{SEP.join(titles)}", outcome, message))
    return cases


def mocha(path: Path, root: Path) -> list[Case]:
    data = _load_json(path)
    if not isinstance(data, dict):
        return []
    cases: list[Case] = []
    for key, outcome in (("passes", "passed"), ("failures", "failed"), ("pending", "skipped")):
        for t in data.get(key) or []:
            if not isinstance(t, dict):
                continue
            err: dict[str, Any] = t["err"] if isinstance(t.get("err"), dict) else {}
            title = str(t.get("fullTitle") or t.get("title") or "")
            where = _rel(str(t.get("file") or ""), root) or "(mocha)"
            cases.append((f"{where}::{title}", outcome, first_line(str(err.get("message", "")))))
    return cases


def node(path: Path, root: Path) -> list[Case]:
    """racer's node reporter: a test's id is its file and the names of its enclosing tests."""
    cases: list[Case] = []
    stacks: dict[str, list[str]] = {}
    for line in _lines(path):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not isinstance(e, dict):
            continue
        file, name, depth = str(e.get("file") or ""), str(e.get("name", "")), e.get("nesting")
        depth = depth if isinstance(depth, int) else 0
        stack = stacks.setdefault(file, [])
        del stack[depth:]
        if e.get("event") == "test:start":
            stack.append(name)
            continue
        rel = _rel(file, root) or "(node)"
        if depth == 0 and file and os.path.abspath(name) == os.path.abspath(file):
            # the file itself failed: it did not load, or exited before its tests ran
            cases.append((rel, "error", _load_error(str(e.get("stderr", ""))) or "test failed"))
            continue
        outcome = "failed" if e.get("event") == "test:fail" else "passed"
        outcome = "skipped" if e.get("skip") else outcome
        cases.append(
            (f"{rel}::{SEP.join([*stack, name])}", outcome, first_line(str(e.get("message", ""))))
        )
    return cases


def _load_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if re.match(r"\s*\w*(Error|Exception)\b", line):
            return line.strip()[:300]
    return first_line(stderr)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


_TAP = re.compile(r"^(not )?ok \d+(?: - (.*?))?(?: # (SKIP|TODO)\b.*)?$")


def ava_prefix(rel: str) -> str:
    """How ava names a file in its titles: the path without its extension, AVA_SEP between parts."""
    stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
    return AVA_SEP.join(stem.split("/"))


def ava(path: Path, root: Path, files: Sequence[str]) -> list[Case]:
    """ava's TAP: titles carry the file (`test/sub.js` as `test`, AVA_SEP, `sub`, AVA_SEP, the
    title) unless one file ran; `files` are
    the test files ava could have run, to tell the file from the title."""
    prefixes = sorted(((ava_prefix(f), f) for f in files), key=lambda p: -len(p[0]))
    only = files[0] if len(files) == 1 else "(ava)"
    cases: list[Case] = []
    pending = ""
    for line in _lines(path):
        m = _TAP.match(line)
        if m is None:
            continue
        failed, title, directive = bool(m.group(1)), m.group(2) or "", m.group(3)
        exited = re.match(r"(.+?) exited with a non-zero exit code", title)
        if exited:
            file = next(
                (f for p, f in prefixes if p == exited.group(1) or f == exited.group(1)),
                exited.group(1),
            )
            cases.append((file, "error", pending or title))
            pending = ""
            continue
        file, name = only, title
        for prefix, f in prefixes:
            if title.startswith(prefix + AVA_SEP):
                file, name = f, title[len(prefix) + len(AVA_SEP) :]
                break
        if (
            failed
            and re.match(r"\w*(Error|Exception)\b", title)
            and file == only
            and len(files) != 1
        ):
            pending = title  # an uncaught error; the file that threw it follows
            continue
        outcome = "skipped" if directive else ("failed" if failed else "passed")
        cases.append((f"{file}::{name}", outcome, ""))
    return cases


def go(path: Path, root: Path) -> list[Case]:
    """`go test -json`: per test, and a package that failed with no test (a build error)."""
    module = _go_module(root)
    names = _GoNames(root)
    cases: list[Case] = []
    output: dict[tuple[str, str], list[str]] = {}
    ran: set[str] = set()
    building = ""  # the package whose compiler errors follow (`# pkg [pkg.test]`)
    for line in _lines(path):
        if m := re.match(r"# (\S+)", line):
            building = m.group(1)
            continue
        if building and not line.startswith("{") and not line.startswith("FAIL"):
            output.setdefault((building, ""), []).insert(0, line)  # the compiler's first word
            building = ""
            continue
        if m := re.match(r"FAIL\s+(\S+) \[(build failed|setup failed)\]", line):
            e: Any = {"Package": m.group(1), "Action": "fail", "Output": m.group(2)}
            output.setdefault((m.group(1), ""), []).append(m.group(2))
        else:
            try:
                e = json.loads(line)
            except ValueError:
                continue
        if not isinstance(e, dict):
            continue
        pkg, test, action = str(e.get("Package", "")), str(e.get("Test") or ""), e.get("Action")
        rel = (
            pkg[len(module) + 1 :]
            if module and pkg.startswith(module + "/")
            else "."
            if pkg == module
            else pkg
        )
        if action == "output":
            output.setdefault((pkg, test), []).append(str(e.get("Output", "")))
        elif test and action in ("pass", "fail", "skip"):
            ran.add(pkg)
            outcome = {"pass": "passed", "fail": "failed", "skip": "skipped"}[str(action)]
            message = _go_message(output.get((pkg, test), []))
            cases.append((f"{names.file(rel, test)}::{test}", outcome, message))
        elif not test and action == "fail" and pkg not in ran:
            cases.append((rel, "error", _go_message(output.get((pkg, ""), [])) or "build failed"))
    return cases


def _go_message(lines: Iterable[str]) -> str:
    for line in lines:
        s = line.strip()
        if s and not s.startswith(("=== ", "--- ", "FAIL", "PASS", "ok ")):
            return s[:300]
    return ""


def _go_module(root: Path) -> str:
    text = "\n".join(_lines(root / "go.mod"))
    m = re.search(r"^module\s+(\S+)", text, re.M)
    return m.group(1).strip('"') if m else ""


class _GoNames:
    """Which `_test.go` file of a package declares a test (subtests: their parent's file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: dict[str, dict[str, str]] = {}

    def file(self, rel: str, test: str) -> str:
        if rel not in self.seen:
            found: dict[str, str] = {}
            folder = self.root / rel
            for f in sorted(folder.glob("*_test.go")) if folder.is_dir() else []:
                for name in re.findall(r"^func\s+(Test\w*)\s*\(", "\n".join(_lines(f)), re.M):
                    found.setdefault(name, f.relative_to(self.root).as_posix())
            self.seen[rel] = found
        return self.seen[rel].get(test.split("/", 1)[0], rel)


_CARGO_RUNNING = re.compile(r"^\s*Running (?:unittests )?(\S+)")
_CARGO_DOC = re.compile(r"^\s*Doc-tests (\S+)")
_CARGO_TEST = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored)\b")


_CARGO_ERROR = re.compile(r"^error(?:\[E\d+\])?: (?!could not compile)(.*)")
_CARGO_BROKEN = re.compile(r"^error: could not compile `[^`]+` \(test \"([^\"]+)\"\)")


def cargo(path: Path, root: Path) -> list[Case]:
    """libtest's text lines (`test m::t ... ok`) under cargo's `Running tests/x.rs` header; an
    integration test that does not compile is its file, with the compiler's first error."""
    cases: list[Case] = []
    where = "(cargo)"
    first_error = ""
    for line in _lines(path):
        if (m := _CARGO_ERROR.match(line)) and not first_error:
            first_error = line.strip()[:300]
        elif m := _CARGO_BROKEN.match(line):
            cases.append((f"tests/{m.group(1)}.rs", "error", first_error or line.strip()))
            first_error = ""
        elif m := _CARGO_RUNNING.match(line):
            where = m.group(1)
        elif m := _CARGO_DOC.match(line):
            where = f"doc-tests {m.group(1)}"
        elif m := _CARGO_TEST.match(line):
            outcome = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}[m.group(2)]
            cases.append((f"{where}::{m.group(1)}", outcome, ""))
    return cases


PARSERS: dict[str, Callable[[Path, Path], list[Case]]] = {
    "jest": jest,
    "vitest": jest,
    "mocha": mocha,
    "node": node,
    "go": go,
    "cargo": cargo,
}


def worst(cases: Iterable[Case]) -> list[Case]:
    """One case per id, the worst outcome kept: output a test prints cannot pass a failure."""
    best: dict[str, Case] = {}
    for case in cases:
        old = best.get(case[0])
        if old is None or _RANK[case[1]] > _RANK[old[1]]:
            best[case[0]] = case
    return list(best.values())


def _xml_safe(text: str) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "\ufffd", text)


def write_junit(cases: Sequence[Case], path: Path) -> None:
    """The cases as a JUnit report testrun reads (`classname::name` ids come back as they were)."""
    suite = ET.Element("testsuite", name="racer", tests=str(len(cases)))
    for raw_id, outcome, raw_message in cases:
        tid, message = _xml_safe(raw_id), _xml_safe(raw_message)
        classname, sep, name = tid.partition("::")
        case = ET.SubElement(
            suite, "testcase", classname=classname if sep else "", name=name if sep else tid
        )
        if outcome in ("failed", "error", "skipped"):
            tag = {"failed": "failure", "error": "error", "skipped": "skipped"}[outcome]
            ET.SubElement(case, tag, message=message)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
