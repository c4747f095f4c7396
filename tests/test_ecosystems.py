"""Whole races on JavaScript, Go and Rust projects with their real test runners (ava, jest,
vitest, mocha, node's test runner, go test, cargo test): per-test fixed, broken and deleted tests,
the project's own test file restored for pristine scoring, and a hidden acceptance test kept
outside the repository placed where README says and run with the project's runner."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.jsrunners import REAL_HOME, node_modules, tool
from helpers.repos import make_repo, race_json

pytestmark = pytest.mark.slow

SPEC = "---\ntitle: Fix double\n---\nMake `double(x)` return twice `x`.\n"


@dataclass(frozen=True)
class Eco:
    """A project whose `double` is wrong: test `zero` passes on the base, `three` fails."""

    name: str
    files: dict[str, str]
    product: str  # the file holding double
    good: str
    breaker: str  # fixes three, breaks zero
    test_file: str
    deleter: str  # the test file without `three`
    hidden: tuple[str, str]  # (file name, text) kept outside the repository
    dest: str  # where README says the hidden test goes
    zero: str  # test ids
    three: str
    acc: str
    skip: tuple[str, str] = ("", "")  # (old, new) in the test file: `three` skipped
    needs: tuple[str, ...] = ()


def _js(
    name: str,
    package: dict[str, object],
    test_file: str,
    test: str,
    hidden: str,
    ids: tuple[str, str, str],
    esm: bool = True,
) -> Eco:
    export = (
        "export function double(x) {\n  return %s;\n}\n" if esm else "exports.double = (x) => %s;\n"
    )
    three = test.split("@@")[1]
    full = test.replace("@@", "")
    return Eco(
        name=name,
        files={
            "package.json": json.dumps(package, indent=2) + "\n",
            "index.js": export % "x",
            test_file: full,
            ".gitignore": "node_modules\n",
            "spec.md": SPEC,
        },
        product="index.js",
        good=export % "2 * x",
        breaker=export % "x === 0 ? 1 : 2 * x",
        test_file=test_file,
        deleter=full.replace(three, ""),
        hidden=("acc.test.js", hidden),
        dest="tests/acc.test.js",
        zero=ids[0],
        three=ids[1],
        acc=ids[2],
        skip=("test('three'", "test.skip('three'")
        if "it('three'" not in full
        else ("it('three'", "it.skip('three'"),
        needs=("node_modules",),
    )


ESM = {"type": "module"}
ECOS = [
    _js(
        "ava",
        {**ESM, "scripts": {"test": "echo lint ok && ava && echo types ok"}},
        "test.js",  # ava's default: the root test.js, as sindresorhus's packages have it
        "import test from 'ava';\nimport {double} from './index.js';\n\n"
        "test('zero', t => {\n  t.is(double(0), 0);\n});\n"
        "@@test('three', t => {\n  t.is(double(3), 6);\n});\n@@",
        "import test from 'ava';\nimport {double} from '../index.js';\n\n"
        "test('five', t => {\n  t.is(double(5), 10);\n});\n",
        ("test.js::zero", "test.js::three", "tests/acc.test.js::five"),
    ),
    _js(
        "jest",
        {"scripts": {"test": "jest"}},
        "double.test.js",
        "const {double} = require('./index.js');\n\n"
        "describe('double', () => {\n  test('zero', () => expect(double(0)).toBe(0));\n"
        "@@  test('three', () => expect(double(3)).toBe(6));\n@@});\n",
        "const {double} = require('../index.js');\n\ntest('five', () => expect(double(5)).toBe(10));\n",
        (
            "double.test.js::double > zero",
            "double.test.js::double > three",
            "tests/acc.test.js::five",
        ),
        esm=False,
    ),
    _js(
        "vitest",
        {**ESM, "scripts": {"test": "vitest run"}},
        "double.test.js",
        "import {test, expect} from 'vitest';\nimport {double} from './index.js';\n\n"
        "test('zero', () => expect(double(0)).toBe(0));\n"
        "@@test('three', () => expect(double(3)).toBe(6));\n@@",
        "import {test, expect} from 'vitest';\nimport {double} from '../index.js';\n\n"
        "test('five', () => expect(double(5)).toBe(10));\n",
        ("double.test.js::zero", "double.test.js::three", "tests/acc.test.js::five"),
    ),
    _js(
        "node",
        {**ESM, "scripts": {"test": "node --test"}},
        "test/double.test.js",
        "import test from 'node:test';\nimport assert from 'node:assert';\n"
        "import {double} from '../index.js';\n\n"
        "test('zero', () => assert.equal(double(0), 0));\n"
        "@@test('three', () => assert.equal(double(3), 6));\n@@",
        "import test from 'node:test';\nimport assert from 'node:assert';\n"
        "import {double} from '../index.js';\n\ntest('five', () => assert.equal(double(5), 10));\n",
        ("test/double.test.js::zero", "test/double.test.js::three", "tests/acc.test.js::five"),
    ),
    _js(
        "mocha",
        {"scripts": {"test": "mocha"}},
        "test/double.js",
        "const assert = require('assert');\nconst {double} = require('../index.js');\n\n"
        "describe('double', () => {\n  it('zero', () => assert.equal(double(0), 0));\n"
        "@@  it('three', () => assert.equal(double(3), 6));\n@@});\n",
        "const assert = require('assert');\nconst {double} = require('../index.js');\n\n"
        "it('five', () => assert.equal(double(5), 10));\n",
        ("test/double.js::double zero", "test/double.js::double three", "tests/acc.test.js::five"),
        esm=False,
    ),
]

GO_TEST = (
    'package calc\n\nimport "testing"\n\n'
    "func TestZero(t *testing.T) {\n\tif Double(0) != 0 {\n\t\tt.Fatal(Double(0))\n\t}\n}\n"
    "@@\nfunc TestThree(t *testing.T) {\n\tif Double(3) != 6 {\n\t\tt.Fatal(Double(3))\n\t}\n}\n@@"
)
GO = "package calc\n\n// Double doubles.\nfunc Double(x int) int {\n\treturn %s\n}\n"
ECOS.append(
    Eco(
        name="go",
        files={
            "go.mod": "module example.com/calc\n\ngo 1.19\n",
            "calc/calc.go": GO % "x",
            "calc/calc_test.go": GO_TEST.replace("@@", ""),
            "spec.md": SPEC,
        },
        product="calc/calc.go",
        good=GO % "2 * x",
        breaker=GO.replace("\treturn %s", "\tif x == 0 {\n\t\treturn 1\n\t}\n\treturn 2 * x"),
        test_file="calc/calc_test.go",
        deleter=GO_TEST.replace(GO_TEST.split("@@")[1], "").replace("@@", ""),
        hidden=(
            "acc_test.go",
            'package calc\n\nimport "testing"\n\n'
            "func TestFive(t *testing.T) {\n\tif Double(5) != 10 {\n\t\tt.Fatal(Double(5))\n\t}\n}\n",
        ),
        dest="calc/acc_test.go",  # a Go test goes into its package's directory
        zero="calc/calc_test.go::TestZero",
        three="calc/calc_test.go::TestThree",
        acc="calc/acc_test.go::TestFive",
        skip=("func TestThree(t *testing.T) {\n", "func TestThree(t *testing.T) {\n\tt.Skip()\n"),
        needs=("go",),
    )
)
RS_TEST = (
    "use calc::double;\n\n#[test]\nfn zero() {\n    assert_eq!(double(0), 0);\n}\n"
    "@@\n#[test]\nfn three() {\n    assert_eq!(double(3), 6);\n}\n@@"
)
RS = "pub fn double(x: i64) -> i64 {\n    %s\n}\n"
ECOS.append(
    Eco(
        name="cargo",
        files={
            "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
            "src/lib.rs": RS % "x",
            "tests/double.rs": RS_TEST.replace("@@", ""),
            ".gitignore": "target\nCargo.lock\n",
            "spec.md": SPEC,
        },
        product="src/lib.rs",
        good=RS % "2 * x",
        breaker=RS % "if x == 0 { 1 } else { 2 * x }",
        test_file="tests/double.rs",
        deleter=RS_TEST.replace(RS_TEST.split("@@")[1], "").replace("@@", ""),
        hidden=(
            "acc.rs",
            "use calc::double;\n\n#[test]\nfn five() {\n    assert_eq!(double(5), 10);\n}\n",
        ),
        dest="tests/acc.rs",
        zero="tests/double.rs::zero",
        three="tests/double.rs::three",
        acc="tests/acc.rs::five",
        skip=("#[test]\nfn three", "#[test]\n#[ignore]\nfn three"),
        needs=("cargo",),
    )
)


def _prepare(eco: Eco, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Tools on hand and the environment they need under the tests' own HOME; extra run args."""
    args: list[str] = []
    if "node_modules" in eco.needs:
        modules = node_modules()
        args += ["--setup", f"ln -s {modules} node_modules"]
    for name in ("go", "cargo"):
        if name in eco.needs:
            tool(name)
    real = REAL_HOME  # rustup's toolchains live under the real home, not the tests' own
    if "cargo" in eco.needs:
        monkeypatch.setenv("RUSTUP_HOME", os.environ.get("RUSTUP_HOME", str(real / ".rustup")))
        monkeypatch.setenv("CARGO_HOME", os.environ.get("CARGO_HOME", str(real / ".cargo")))
        monkeypatch.setenv("CARGO_NET_OFFLINE", "true")
    if "go" in eco.needs:
        monkeypatch.setenv("GOFLAGS", "-mod=mod")
        monkeypatch.setenv("GOTOOLCHAIN", "local")
    return args


@pytest.mark.parametrize("eco", ECOS, ids=[e.name for e in ECOS])
def test_a_race_knows_each_test_by_its_runner(eco: Eco, tmp_path, racer, monkeypatch) -> None:
    extra = _prepare(eco, tmp_path, monkeypatch)
    root = make_repo(tmp_path / "repo", eco.files)
    hidden = tmp_path / "hidden" / eco.hidden[0]  # outside the repository
    hidden.parent.mkdir()
    hidden.write_text(eco.hidden[1], encoding="utf-8")
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    scenarios = {
        "good": {"write": {eco.product: eco.good}},
        "breaker": {"write": {eco.product: eco.breaker}},
        "deleter": {"write": {eco.test_file: eco.deleter}},
        "skipper": {"write": {eco.test_file: eco.files[eco.test_file].replace(*eco.skip)}},
    }
    (tmp_path / "fake.json").write_text(json.dumps(scenarios), encoding="utf-8")
    monkeypatch.setenv("RACER_FAKE", str(tmp_path / "fake.json"))
    res = racer(
        "run", "spec.md", "--agents", "fake@skipper,fake@deleter,fake@breaker,fake@good",
        "--acceptance", str(hidden), *extra,
    )  # fmt: skip
    data = race_json(root)
    assert res.exit_code == 0, (res.stdout, res.stderr, data)
    by = {c["name"]: c for c in data["candidates"]}
    good, breaker, deleter = by["fake@good"], by["fake@breaker"], by["fake@deleter"]
    # Per-test results on the base: zero passes, three fails — by name, not "(test command)".
    assert data["baseline"]["outcomes"] == {eco.zero: "passed", eco.three: "failed"}, data[
        "baseline"
    ]
    assert (data["winner"], good["status"]) == ("fake@good", "passed"), data["decided_by"]
    assert good["tests"]["fixed"] == [eco.three] and good["tests"]["broken"] == []
    assert breaker["tests"]["broken"] == [eco.zero] and breaker["status"] != "passed"
    # The deleter's own run lacks `three`: a deleted test; its pristine run has the base's file
    # back, where `three` still fails.
    kinds = {f["kind"] for f in deleter["flags"]}
    assert "test_deleted" in kinds, deleter["flags"]
    assert deleter["tests"]["pristine"] and deleter["tests"]["outcomes"][eco.three] == "failed"
    # The skipper's own run skips `three`: flagged; pristine, `three` runs and fails.
    skipper = by["fake@skipper"]
    assert eco.skip[0] in eco.files[eco.test_file]
    assert "skip_added" in {f["kind"] for f in skipper["flags"]}, skipper["flags"]
    assert skipper["tests"]["outcomes"][eco.three] == "failed" and skipper["status"] != "passed"
    # The hidden test: where README says, run by the project's runner, one result per test.
    assert [f["dest"] for f in data["acceptance_files"]] == [eco.dest]
    assert good["acceptance"]["outcomes"] == {eco.acc: "passed"}
    assert breaker["acceptance"]["outcomes"] == {eco.acc: "passed"}
    report_md = (Path(data["race_dir"]) / "report.md").read_text(encoding="utf-8")
    assert f"acceptance tests placed at: {eco.dest} (from {hidden})" in report_md
    assert f"acceptance tests placed at: {eco.dest}" in res.stdout
    report_html = (Path(data["race_dir"]) / "report.html").read_text(encoding="utf-8")
    assert f"placed at: {eco.dest} (from {hidden})" in report_html


UNLOADABLE = {  # a hidden test that cannot load on any candidate, and what each runner says
    "node": ("../index.js", "../nope.js", "Error [ERR_MODULE_NOT_FOUND]"),
    "go": ("Double(5)", "Triple(5)", "calc/acc_test.go:"),
    "cargo": ("double(5)", "triple(5)", "error[E0425]: cannot find function `triple`"),
}


@pytest.mark.parametrize("name", list(UNLOADABLE))
def test_a_hidden_test_that_cannot_load_anywhere_is_not_the_candidates_failure(
    name: str, tmp_path, racer, monkeypatch
) -> None:
    [eco] = [e for e in ECOS if e.name == name]
    old, new, said = UNLOADABLE[name]
    extra = _prepare(eco, tmp_path, monkeypatch)
    root = make_repo(tmp_path / "repo", eco.files)
    hidden = tmp_path / "hidden" / eco.hidden[0]
    hidden.parent.mkdir()
    hidden.write_text(eco.hidden[1].replace(old, new), encoding="utf-8")
    monkeypatch.setenv("RACER_WORKTREE_ROOT", str(tmp_path / "worktrees"))
    monkeypatch.chdir(root)
    scenarios = {"good": {"write": {eco.product: eco.good}}, "lazy": {"write": {"x.md": "x\n"}}}
    (tmp_path / "fake.json").write_text(json.dumps(scenarios), encoding="utf-8")
    monkeypatch.setenv("RACER_FAKE", str(tmp_path / "fake.json"))
    res = racer(
        "run", "spec.md", "--agents", "fake@lazy,fake@good", "--acceptance", str(hidden), *extra
    )
    data = race_json(root)
    assert res.exit_code == 0, (res.stdout, data)
    [warning] = [w for w in data["warnings"] if "could not load" in w]
    assert warning.startswith(f"acceptance test could not load: {said}"), warning
    assert f"({eco.dest}, the same on every candidate" in warning
    good = data["candidates"][0]
    assert (data["winner"], good["status"]) == ("fake@good", "passed")
    assert good["acceptance"]["load_errors"][eco.dest].startswith(said)
    assert "acceptance test could not load" in res.stdout
