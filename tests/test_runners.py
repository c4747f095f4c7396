"""Test runners beyond pytest: which runner a command starts (through package.json scripts),
the reporter racer adds to its part of the command only, the command narrowed to hidden tests,
the project's test-file globs from its config, and reading the reports honestly."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import anyio
import pytest
from helpers.jsrunners import node_modules

from racer import runners, runparse, testglobs
from racer.errors import SpecError
from racer.plan import resolve_acceptance
from racer.testfiles import is_test_file
from racer.testrun import run_tests


def _package(root: Path, scripts: dict[str, str], **extra: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"scripts": scripts, **extra}), encoding="utf-8")
    return root


def test_the_reporter_goes_into_the_runner_part_of_an_npm_chain_only(tmp_path: Path) -> None:
    root = _package(tmp_path, {"test": "xo && ava && tsd", "pretest": "echo pre"})
    inst = runners.instrument("npm test", root, tmp_path / "r" / "x.tests", tmp_path / "log")
    assert [kind for kind, _ in inst.reports] == ["ava"]
    cmd = inst.command
    assert "xo &&" in cmd and "&& tsd" in cmd and "echo pre" in cmd
    assert "ava --tap" in cmd and "xo --tap" not in cmd and "tsd --tap" not in cmd
    assert 'PATH="$PWD/node_modules/.bin:$PATH"' in cmd  # as npm runs a script
    assert str(tmp_path / "r") in cmd  # the report goes to racer's directory
    pnpm = runners.instrument("pnpm test", root, tmp_path / "r" / "x", tmp_path / "log").command
    assert "ava --tap" in pnpm and "echo pre" not in pnpm  # pnpm runs no pre/post scripts


@pytest.mark.parametrize(
    ("command", "scripts", "runner", "flag"),
    [
        ("npm run test:unit", {"test:unit": "jest --ci"}, "jest", "--json --outputFile="),
        ("pnpm test", {"test": "vitest run"}, "vitest", "--reporter=json"),
        ("yarn test", {"test": "mocha 'test/**/*.js'"}, "mocha", "--reporter=json"),
        ("npm t", {"test": "node --test test/"}, "node", "--test-reporter="),
        ("npx jest", {}, "jest", "--json"),
        ("node --experimental-vm-modules node_modules/jest/bin/jest.js", {}, "jest", "--json"),
        ("CI=1 go test ./...", {}, "go", "-json"),
        ("cargo test -q", {}, "cargo", ""),
    ],
)
def test_each_runner_is_recognised_and_asked_for_its_report(
    tmp_path: Path, command: str, scripts: dict[str, str], runner: str, flag: str
) -> None:
    root = _package(tmp_path, scripts)
    assert runners.runner_of(command, root) == runner
    inst = runners.instrument(command, root, tmp_path / "x.tests", tmp_path / "log")
    assert [kind for kind, _ in inst.reports] == [runner]
    assert flag in inst.command
    if runner == "cargo":  # quiet libtest prints dots, not names
        assert inst.command == "cargo test"
    if runner == "node":  # node's options go before --test and its files
        assert inst.command.index("--test-reporter") < inst.command.index("--test ")


def test_a_node_test_file_run_as_a_plain_script_is_nodes_runner(tmp_path: Path) -> None:
    """unified/wooorm's convention: `node --conditions development test.js`, test.js importing
    node:test. Its tests are known one by one, and a hidden test runs with node's runner (the
    script runs that one file only, whatever follows it)."""
    root = _package(
        tmp_path / "p",
        {
            "test-api": "node --conditions development test.js",
            "index": "node -C development test/index.js",
            "tape": "node tape.js",
        },
        type="module",
    )
    (root / "test.js").write_text(
        "import assert from 'node:assert/strict'\nimport test from 'node:test'\n"
        "test('top', async function (t) {\n"
        "  await t.test('ok', function () { assert.equal(1, 1) })\n"
        "  await t.test('no', function () { assert.equal(1, 2) })\n"
        "})\n",
        encoding="utf-8",
    )
    (root / "tape.js").write_text("import test from 'tape'\n", encoding="utf-8")
    (root / "test").mkdir()
    (root / "test" / "index.js").write_text("import './a.js'\n", encoding="utf-8")
    (root / "test" / "a.js").write_text("import {test} from 'node:test'\n", encoding="utf-8")
    assert runners.runner_of("npm run test-api", root) == "node"
    assert runners.runner_of("npm run index", root) == "node"  # node:test one import away
    assert runners.runner_of("npm run tape", root) is None
    assert runners.runner_of("node --conditions development --test", root) == "node"
    narrowed = runners.narrow("npm run test-api", root, ["test-li.js"])
    assert narrowed is not None
    assert narrowed.endswith("node --conditions development --test test-li.js"), narrowed
    # A script outside the checkout is never read (a link an agent planted).
    outside = tmp_path / "elsewhere.js"
    outside.write_text("import test from 'node:test'\n", encoding="utf-8")
    os.symlink(outside, root / "linked.js")
    assert runners.runner_of("node linked.js", root) is None
    out = tmp_path / "out"
    summary = anyio.run(
        lambda: run_tests(
            "npm run test-api",
            root,
            log_path=out / "log",
            junit_path=out / "x.tests.xml",
            env=os.environ,
            timeout=300,
        )
    )
    assert summary.junit and not summary.ok
    assert summary.outcomes == {
        "test.js::top": "failed",
        "test.js::top > ok": "passed",
        "test.js::top > no": "failed",
    }


def test_commands_without_a_known_runner_are_left_alone(tmp_path: Path) -> None:
    root = _package(tmp_path, {"test": "make check", "lint": "xo"})
    for command in ("npm test", "make test", "npm run lint", "npm run nope", "npm test extra"):
        inst = runners.instrument(command, root, tmp_path / "x", tmp_path / "log")
        assert (inst.command, inst.reports) == (command, ())
    assert runners.runner_of("python -m pytest -q", root) == "pytest"


def test_a_script_that_calls_itself_does_not_loop(tmp_path: Path) -> None:
    root = _package(tmp_path, {"test": "npm test && ava"})
    inst = runners.instrument("npm test", root, tmp_path / "x", tmp_path / "log")
    assert inst.command.count("--tap") >= 1 and len(inst.command) < 20_000


@pytest.mark.parametrize(
    ("command", "scripts", "files", "expected"),
    [
        ("npm test", {"test": "xo && ava && tsd"}, ["tests/a.js"], "ava tests/a.js"),
        ("npx jest --ci", {}, ["tests/a.test.js"], "npx jest --ci tests/a.test.js"),
        ("npm test", {"test": "vitest"}, ["tests/a.test.ts"], "vitest run tests/a.test.ts"),
        ("node --test test/", {}, ["tests/a.test.js"], "node --test test/ tests/a.test.js"),
        ("go test -race ./...", {}, ["calc/a_test.go"], "go test -race ./calc"),
        ("cargo test", {}, ["tests/acc.rs"], "cargo test --test acc"),
        ("python -m pytest -q", {}, ["tests/test_a.py"], "python -m pytest tests/test_a.py"),
    ],
)
def test_hidden_tests_run_with_the_projects_runner_and_nothing_else(
    tmp_path: Path, command: str, scripts: dict[str, str], files: list[str], expected: str
) -> None:
    root = _package(tmp_path, scripts)
    narrowed = runners.narrow(command, root, files)
    assert narrowed is not None and narrowed.endswith(expected), narrowed
    assert "xo" not in narrowed and "tsd" not in narrowed  # a linter is no hidden test
    assert runners.narrow("make test", root, files) is None


def test_test_globs_come_from_the_projects_own_config(tmp_path: Path) -> None:
    ava = _package(
        tmp_path / "ava", {"test": "ava"}, ava={"files": ["spec/**/*.js", "!spec/helpers/**"]}
    )
    assert testglobs.runner_globs(ava, "ava") == ("/spec/**/*.js",)
    jest = _package(tmp_path / "jest", {"test": "jest"}, devDependencies={"jest": "30"})
    (jest / "jest.config.js").write_text(
        "module.exports = {testMatch: ['<rootDir>/checks/**/*.js', '**/*.check.{js,ts}']};\n",
        encoding="utf-8",
    )
    globs = testglobs.runner_globs(jest, "jest")
    assert "**/*.check.js" in globs and "**/*.check.ts" in globs and "/checks/**/*.js" in globs
    patterns = testglobs.project_test_patterns(jest)
    assert is_test_file("src/x.check.ts", patterns) and is_test_file("src/x.test.js", patterns)
    vite = tmp_path / "vite"
    vite.mkdir()
    (vite / "vitest.config.ts").write_text(
        "export default defineConfig({test: {include: ['src/**/*.unit.ts']}})\n", encoding="utf-8"
    )
    assert testglobs.runner_globs(vite, "vitest") == ("/src/**/*.unit.ts",)
    # A computed list is never run: the runner's defaults stand in for it.
    (vite / "vitest.config.ts").write_text(
        "export default {test: {include: globs()}}\n", encoding="utf-8"
    )
    assert testglobs.runner_globs(vite, "vitest") == testglobs.DEFAULTS["vitest"]
    mocha = tmp_path / "mocha"
    mocha.mkdir()
    (mocha / ".mocharc.yml").write_text("spec:\n  - 'checks/*.spec.js'\n", encoding="utf-8")
    assert testglobs.runner_globs(mocha, "mocha") == ("/checks/*.spec.js",)
    py = tmp_path / "py"
    py.mkdir()
    (py / "pytest.ini").write_text(
        "[pytest]\ntestpaths = checks\npython_files = check_*.py\n", encoding="utf-8"
    )
    assert is_test_file("checks/sub/check_x.py", testglobs.project_test_patterns(py))


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("test.js", True),  # ava's root test.js
        ("test-camel.js", True),
        ("lib/test-util.mjs", True),
        ("src/__tests__/a.ts", True),
        ("a.spec.tsx", True),
        ("calc/calc_test.go", True),
        ("tests/it.rs", True),
        ("src/tests.rs", True),
        ("index.js", False),
        ("src/testing.js", False),
        ("src/lib.rs", False),
    ],
)
def test_conventions_for_every_ecosystem(path: str, test: bool) -> None:
    assert is_test_file(path) is test


def test_a_hidden_test_from_outside_goes_to_tests(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test-b2b.js").write_text("x", encoding="utf-8")
    # No tests/ in the repository: README's tests/<name> all the same (not the root).
    [a] = resolve_acceptance(root, [str(hidden / "test-b2b.js")], tmp_path)
    assert a.dest == "tests/test-b2b.js"
    [b] = resolve_acceptance(root, [f"{hidden / 'test-b2b.js'}:spec/b2b.js"], tmp_path)
    assert b.dest == "spec/b2b.js"


def test_a_hidden_go_test_goes_to_its_package(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "calc.go").write_text("package calc\n", encoding="utf-8")
    (root / "main.go").write_text("package main\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    src = tmp_path / "acc_test.go"
    src.write_text("package calc_test\n", encoding="utf-8")
    assert resolve_acceptance(root, [str(src)], tmp_path)[0].dest == "calc/acc_test.go"
    src.write_text("package nowhere\n", encoding="utf-8")
    with pytest.raises(SpecError, match="SRC:DEST"):
        resolve_acceptance(root, [str(src)], tmp_path)


def test_output_a_test_prints_cannot_pass_a_failure() -> None:
    cases = [("a.js::t", "failed", "boom"), ("a.js::t", "passed", ""), ("a.js::u", "passed", "")]
    assert sorted(runparse.worst(cases)) == [
        ("a.js::t", "failed", "boom"),
        ("a.js::u", "passed", ""),
    ]


def test_ava_titles_are_split_into_file_and_test(tmp_path: Path) -> None:
    tap = tmp_path / "r.tap"
    tap.write_text(
        "TAP version 13\n"
        "not ok 1 - Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/x/nope.js'\n"
        "not ok 2 - test/broken.js exited with a non-zero exit code: 1\n"
        "ok 3 - test \u203a skipped # SKIP\n"
        "ok 4 - test \u203a more \u203a deep\n"
        "not ok 5 - test \u203a fails\n",
        encoding="utf-8",
    )
    files = ["test.js", "test/more.js", "test/broken.js"]
    assert sorted(runparse.ava(tap, tmp_path, files)) == [
        ("test.js::fails", "failed", ""),
        ("test.js::skipped", "skipped", ""),
        (
            "test/broken.js",
            "error",
            "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/x/nope.js'",
        ),
        ("test/more.js::deep", "passed", ""),
    ]


def test_a_missing_or_garbled_report_means_no_per_test_results(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    for parse in (runparse.jest, runparse.mocha, runparse.node, runparse.go):
        assert parse(tmp_path / "bad.json", tmp_path) == []
        assert parse(tmp_path / "missing.json", tmp_path) == []


def test_jest_reports_a_file_that_could_not_load_by_its_path(tmp_path: Path) -> None:
    modules = node_modules()
    root = _package(tmp_path / "p", {"test": "jest"})
    os.symlink(modules, root / "node_modules")
    (root / "a.test.js").write_text("test('ok', () => expect(1).toBe(1));\n", encoding="utf-8")
    (root / "b.test.js").write_text("require('./nope.js');\n", encoding="utf-8")
    out = tmp_path / "out"
    summary = anyio.run(
        lambda: run_tests(
            "npm test",
            root,
            log_path=out / "log",
            junit_path=out / "x.tests.xml",
            env=os.environ,
            timeout=300,
        )
    )
    assert summary.junit and not summary.ok
    assert summary.outcomes == {"a.test.js::ok": "passed", "b.test.js": "error"}
    assert summary.detail() == "1 errors, 1 passed"
    assert not (root / "x.tests.0.jest").exists()  # the report is racer's, not in the checkout


def test_a_runner_whose_output_the_command_sends_elsewhere_keeps_it(tmp_path: Path) -> None:
    for command in (
        "go test ./... | tee out.txt",
        "ava > out.tap",
        "node --test --test-reporter=dot",
    ):
        inst = runners.instrument(command, tmp_path, tmp_path / "x", tmp_path / "log")
        assert (inst.command, inst.reports) == (command, ()), command
    inst = runners.instrument("go test ./... 2>&1", tmp_path, tmp_path / "x", tmp_path / "log")
    assert "-json" in inst.command and [k for k, _ in inst.reports] == ["go"]


def test_a_go_package_or_rust_test_that_does_not_compile_says_why(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/m\n", encoding="utf-8")
    report = tmp_path / "go.json"
    report.write_text(
        "# example.com/m/calc [example.com/m/calc.test]\n"
        "calc/acc_test.go:5:32: undefined: Triple\n"
        "FAIL\texample.com/m/calc [build failed]\n"
        '{"Action":"pass","Package":"example.com/m","Test":"TestRoot"}\n',
        encoding="utf-8",
    )
    assert runparse.go(report, tmp_path) == [
        ("calc", "error", "calc/acc_test.go:5:32: undefined: Triple"),
        (".::TestRoot", "passed", ""),
    ]
    log = tmp_path / "cargo.log"
    log.write_text(
        "error[E0425]: cannot find function `triple` in crate `rs`\n"
        'error: could not compile `rs` (test "acc") due to 1 previous error\n',
        encoding="utf-8",
    )
    assert runparse.cargo(log, tmp_path) == [
        ("tests/acc.rs", "error", "error[E0425]: cannot find function `triple` in crate `rs`")
    ]
