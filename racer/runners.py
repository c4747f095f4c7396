"""Which test runner a test command starts, and that command with the runner's machine-readable
reporter added (or narrowed to some test files), following npm/pnpm/yarn scripts in package.json.

`npm test` whose script is `xo && ava && tsd` becomes that script run as npm would run it (the
project's node_modules/.bin first on PATH, pre/post scripts around it) with `--tap` added to the
ava part only. Reports go to files in racer's own directory, never into the checkout.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RUNNERS = ("pytest", "jest", "vitest", "mocha", "ava", "node", "go", "cargo")
_WRAPPERS = {"npx", "bunx", "env", "cross-env", "dotenv"}
_PM = {"npm", "pnpm", "yarn"}
_NPM_TEST = {"test", "t", "tst"}
_MAX_DEPTH = 5


@dataclass(frozen=True)
class Word:
    text: str  # unquoted
    start: int
    end: int


@dataclass(frozen=True)
class Segment:
    """One simple command of a chain: its text, words, and the runner it starts (if any)."""

    text: str
    words: tuple[Word, ...]
    runner: str | None
    at: int  # index of the word after which runner options go (-1: none)
    script: int = -1  # index of the test file node runs as a plain script (`node test.js`)


@dataclass(frozen=True)
class Instrumented:
    command: str
    reports: tuple[tuple[str, Path], ...]  # (runner, its report file); cargo's is the log
    ava_files: tuple[str, ...] = ()  # files named on ava's command line


def split_chain(command: str) -> list[tuple[str, str]]:
    """(segment, separator after it) at the top level: `&&`, `||`, `;` and new lines."""
    out: list[tuple[str, str]] = []
    quote, depth, i, start = "", 0, 0, 0
    while i < len(command):
        c = command[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"':
                i += 1
        elif c == "\\":
            i += 1
        elif c in "'\"`":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and command.startswith(("&&", "||"), i):
            out.append((command[start:i], command[i : i + 2]))
            i, start = i + 2, i + 2
            continue
        elif depth == 0 and c in ";\n":
            out.append((command[start:i], c))
            start = i + 1
        i += 1
    out.append((command[start:], ""))
    return out


def words(segment: str) -> tuple[Word, ...]:
    out: list[Word] = []
    i, n = 0, len(segment)
    while i < n:
        if segment[i].isspace():
            i += 1
            continue
        start, text = i, []
        while i < n and not segment[i].isspace():
            c = segment[i]
            if c in "'\"":
                end = segment.find(c, i + 1)
                end = n if end < 0 else end
                text.append(segment[i + 1 : end])
                i = end + 1
                continue
            if c == "\\" and i + 1 < n:
                text.append(segment[i + 1])
                i += 2
                continue
            text.append(c)
            i += 1
        out.append(Word("".join(text), start, i))
    return tuple(out)


def _name(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def segment(text: str, root: Path | None = None) -> Segment:
    """The segment's runner; with `root`, a script node runs that imports node:test (the
    unified/wooorm convention `node --conditions development test.js`) counts as node's."""
    ws = words(text)
    i = 0
    while i < len(ws) and (
        re.fullmatch(r"[A-Za-z_]\w*=.*", ws[i].text) or _name(ws[i].text) in _WRAPPERS
    ):
        i += 1
    pm = i + 1 < len(ws) and _name(ws[i].text) in ("pnpm", "yarn")
    if pm and ws[i + 1].text in ("exec", "dlx"):
        i += 2
    elif pm and ws[i + 1].text in RUNNERS:
        i += 1
    rest = [w.text for w in ws[i:]]
    runner, at = _runner(rest)
    if runner is None and root is not None and rest and _name(rest[0]) == "node":
        script = _node_script(rest)
        if script is not None and imports_node_test(root, rest[script]):
            return Segment(text, ws, "node", i, i + script)
    return Segment(text, ws, runner, i + at if runner else -1)


# node options whose value is the next word (`--conditions development`, `-r ts-node/register`)
_NODE_VALUED = frozenset(
    [
        "-C",
        "--conditions",
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "--input-type",
        "--test-reporter",
        "--test-reporter-destination",
        "--test-name-pattern",
        "--test-skip-pattern",
        "--test-concurrency",
        "--test-timeout",
        "--watch-path",
        "--env-file",
        "--title",
        "--disable-warning",
        "--inspect-port",
        "--stack-trace-limit",
    ]
)


def _node_script(argv: list[str]) -> int | None:
    """The index of the first word after node's options: the script it runs or, after
    `--test`, the test runner's first file (None: no such word, or `-e`/`-p` code)."""
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in ("-e", "--eval", "-p", "--print", "-", "--"):
            return None
        if not word.startswith("-"):
            return i
        i += 2 if word in _NODE_VALUED else 1
    return None


_NODE_TEST = re.compile(r"""(?:\bfrom|\bimport|\brequire\s*\()\s*['"]node:test['"]""")
_RELATIVE = re.compile(r"""(?:\bfrom|^import)\s*['"](\.\.?/[^'"\n]+)['"]""", re.MULTILINE)
_MAX_READ = 256_000


def imports_node_test(root: Path, script: str) -> bool:
    """Whether the script (inside root), or a file it imports relatively, imports node:test.
    The files are read, never run."""
    base = root.resolve()

    def text(path: Path) -> str:
        try:
            path = path.resolve()
            if not path.is_relative_to(base) or not path.is_file():
                return ""
            with path.open("rb") as fh:
                return fh.read(_MAX_READ).decode("utf-8", errors="replace")
        except OSError:
            return ""

    main = root / script
    found = text(main)
    if _NODE_TEST.search(found):
        return True
    imported = _RELATIVE.findall(found)[:50]  # test/index.js importing ./a.js, ./b.js
    return any(_NODE_TEST.search(text(main.parent / rel)) for rel in imported)


def _runner(argv: list[str]) -> tuple[str | None, int]:
    """The runner argv starts and the index of the word after which its options go."""
    if not argv:
        return None, -1
    prog = _name(argv[0])
    if prog in ("jest", "mocha", "_mocha", "ava"):
        return ("mocha" if "mocha" in prog else prog), 0
    if prog == "vitest":
        return "vitest", 1 if len(argv) > 1 and argv[1] == "run" else 0
    if prog in ("pytest", "py.test"):
        return "pytest", 0
    if re.fullmatch(r"python[\d.]*", prog) and argv[1:3] == ["-m", "pytest"]:
        return "pytest", 2
    if prog == "node" and "--test" in argv[1 : _node_script(argv) or len(argv)]:
        return "node", 0
    if prog == "node":  # `node --experimental-vm-modules node_modules/jest/bin/jest.js`
        script = _node_script(argv)
        if script is not None:
            inner, at = _runner([_name(argv[script]).split(".", 1)[0], *argv[script + 1 :]])
            if inner in ("jest", "mocha", "ava", "vitest"):
                return inner, script + at
    if prog in ("go", "cargo") and len(argv) > 1 and argv[1] == "test":
        return prog, 1
    return None, -1


def _script_of(ws: list[str], root: Path) -> tuple[str, list[str]] | None:
    """`npm test`, `npm run X`, `pnpm X`, `yarn X`: the script name and args after `--`."""
    if not ws or _name(ws[0]) not in _PM:
        return None
    rest = ws[1:]
    name: str | None = None
    if rest and rest[0] in _NPM_TEST:
        name, rest = "test", rest[1:]
    elif rest and rest[0] in ("run", "run-script") and len(rest) > 1:
        name, rest = rest[1], rest[2:]
    elif rest and _name(ws[0]) != "npm" and not rest[0].startswith("-"):
        name, rest = rest[0], rest[1:]
    if name is None:
        return None
    extra: list[str] = []
    if "--" in rest:
        extra = rest[rest.index("--") + 1 :]
        rest = rest[: rest.index("--")]
    if any(not r.startswith("-") for r in rest):
        return None
    return name, extra


def scripts(root: Path) -> dict[str, str]:
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    found = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}


Visit = Callable[[Segment], str | None]


def rewrite(command: str, root: Path, visit: Visit, depth: int = 0) -> str:
    """The command with each runner segment replaced by visit(segment) (None: kept) and each
    package-manager script run inlined, as its package manager would run it."""
    out: list[str] = []
    for text, sep in split_chain(command):
        seg = segment(text, root)
        new: str | None = None
        if seg.runner is not None:
            new = visit(seg)
        elif depth < _MAX_DEPTH:
            new = _inline(seg, root, visit, depth)
        out.append((text if new is None else new) + sep)
    return "".join(out)


def _inline(seg: Segment, root: Path, visit: Visit, depth: int) -> str | None:
    ws = [w.text for w in seg.words]
    envs = 0
    while envs < len(ws) and re.fullmatch(r"[A-Za-z_]\w*=.*", ws[envs]):
        envs += 1
    found = _script_of(ws[envs:], root)
    if found is None or any((root / f).exists() for f in (".pnp.cjs", ".pnp.js")):
        return None  # (Plug'n'Play: only yarn itself can resolve the runner)
    known = scripts(root)
    name, extra = found
    body = known.get(name)
    if body is None:
        return None
    inner = rewrite(body, root, visit, depth + 1)
    if inner == body:
        return None  # no runner inside: npm runs it as it always does
    if extra:
        inner += " " + shlex.join(extra)
    # npm runs pre/post scripts around a script; pnpm (7 and later) and yarn 2+ do not.
    npm = _name(ws[envs]) == "npm"
    parts = [
        *([known[f"pre{name}"]] if npm and f"pre{name}" in known else []),
        inner,
        *([known[f"post{name}"]] if npm and f"post{name}" in known else []),
    ]
    env = " ".join(shlex.quote(w) for w in ws[:envs])
    head = f"export {env} && " if env else ""
    path = 'export PATH="$PWD/node_modules/.bin:$PATH"'
    return f"({path} && {head}" + " && ".join(f"{{ {p}\n}}" for p in parts) + ")"


def _insert(seg: Segment, options: str) -> str:
    cut = seg.words[seg.at].end
    return seg.text[:cut] + " " + options + seg.text[cut:]


def _redirects(text: str) -> bool:
    """Whether the segment sends its output somewhere itself (`2>&1` keeps it in the log)."""
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "", text).replace("2>&1", "")
    return bool(re.search(r"[|>]", bare))


def instrument(command: str, root: Path, report_stem: Path, log: Path) -> Instrumented:
    """The command with a machine-readable reporter added to each runner it starts; the
    reports are written next to `report_stem` (racer's directory, outside the checkout)."""
    reports: list[tuple[str, Path]] = []
    ava_files: list[str] = []

    def visit(seg: Segment) -> str | None:
        runner = seg.runner
        path = report_stem.with_name(f"{report_stem.name}.{len(reports)}.{runner}")
        q = shlex.quote(str(path))
        if runner == "jest":
            new = _insert(seg, f"--json --outputFile={q}")
        elif runner == "vitest":
            new = _insert(seg, f"--reporter=default --reporter=json --outputFile.json={q}")
        elif runner == "mocha":
            new = _insert(seg, f"--reporter=json --reporter-option=output={q}")
        elif runner == "node" and not any("--test-reporter" in w.text for w in seg.words):
            # (reporters of the project's own would not pair with racer's destinations)
            reporter = shlex.quote(
                str(report_stem.with_name(f"{report_stem.name}.node-reporter.mjs"))
            )
            new = _insert(
                seg,
                "--test-reporter=spec --test-reporter-destination=stdout "
                f"--test-reporter={reporter} --test-reporter-destination={q}",
            )
        elif runner in ("ava", "go") and not _redirects(seg.text):
            flag = "--tap" if runner == "ava" else "-json"
            # go's compiler errors go to stderr: into the report too, to say why a package failed
            errs = " 2>&1" if runner == "go" else ""
            new = f"({_insert(seg, flag)} > {q}{errs}; racer_s=$?; cat {q}; exit $racer_s)"
            if runner == "ava":
                after = [w.text for w in seg.words[seg.at + 1 :]]
                ava_files.extend(a for a in after if not a.startswith("-"))
        elif runner == "cargo":
            reports.append(("cargo", log))
            # Quiet, cargo names no test binary and libtest prints dots, not names.
            quiet = [w for w in seg.words if w.text in ("-q", "--quiet")]
            text = seg.text
            for w in reversed(quiet):
                text = text[: w.start].rstrip() + text[w.end :]
            return text if quiet else None
        else:
            return None
        reports.append((str(runner), path))
        return new

    new = rewrite(command, root, visit)
    return Instrumented(new, tuple(reports), tuple(ava_files))


def runner_of(command: str, root: Path) -> str | None:
    """The first test runner the command starts (through package.json scripts too)."""
    found: list[str] = []

    def visit(seg: Segment) -> None:
        found.append(str(seg.runner))

    rewrite(command, root, visit)
    return found[0] if found else None


def narrow(command: str, root: Path, files: list[str]) -> str | None:
    """The command that runs only `files` with the project's runner: the runner's part of the
    test command (other parts, such as linters, left out) with the files as its arguments;
    None when the command starts no runner racer knows."""
    found: list[Segment] = []

    def visit(seg: Segment) -> None:
        if not found:
            found.append(seg)

    rewrite(command, root, visit)
    if not found:
        return None
    seg = found[0]
    # A runner named by a package.json script runs from the project's node_modules/.bin.
    head = "" if seg.text in command else 'export PATH="$PWD/node_modules/.bin:$PATH" && '
    body = _narrowed(seg, files)
    return f"{head}{body}" if body else None


def _narrowed(seg: Segment, files: list[str]) -> str | None:
    quoted = " ".join(shlex.quote(f) for f in files)
    if seg.runner == "go":
        dirs = sorted({"./" + f.rsplit("/", 1)[0] if "/" in f else "." for f in files})
        kept = [
            w for w in seg.words[seg.at + 1 :] if not (w.text.startswith(".") or "..." in w.text)
        ]
        head = seg.text[: seg.words[seg.at].end]
        return " ".join([head, *(shlex.quote(w.text) for w in kept), *dirs])
    if seg.runner == "cargo":
        names = [
            f[len("tests/") : -3] for f in files if f.startswith("tests/") and f.endswith(".rs")
        ]
        if not names:
            return None
        return _insert(seg, " ".join(f"--test {shlex.quote(n)}" for n in names))
    if seg.runner == "pytest":
        return seg.text[: seg.words[seg.at].end] + " " + quoted
    if seg.script >= 0:  # `node [options] test.js` runs that one file: node's runner runs these
        return f"{seg.text[: seg.words[seg.script].start].rstrip()} --test {quoted}"
    # Files the segment already names run too; only the acceptance files' results are read.
    text = _insert(seg, "run") if seg.runner == "vitest" and seg.at == 0 else seg.text
    return f"{text.rstrip()} {quoted}"
