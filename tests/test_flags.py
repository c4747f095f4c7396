"""Tamper and scope flags: each failure mode from RANKING.md caught, and natural changes left alone."""

from __future__ import annotations

import pytest

from racer.flags import (
    DEFAULT_TEST_PATTERNS,
    FileChange,
    Flag,
    detect_flags,
    is_test_file,
    is_test_infra,
)


def edit(path: str, before: str, after: str) -> FileChange:
    return FileChange(path, path, before, after)


def add(path: str, text: str) -> FileChange:
    return FileChange(path, None, None, text)


def delete(path: str, text: str) -> FileChange:
    return FileChange(path, path, text, None)


def kinds(flags: tuple[Flag, ...]) -> list[tuple[str, str]]:
    return [(f.kind, f.file) for f in flags]


def details(flags: tuple[Flag, ...], kind: str) -> list[str]:
    return [f.detail for f in flags if f.kind == kind]


PY_TEST = """\
import pytest
from app import double, slug


def test_double():
    assert double(3) == 6
    assert double(0) == 0


def test_slug():
    assert slug("Hello World") == "hello-world"


class TestCase:
    def test_method(self):
        self.assertEqual(double(2), 4)


@pytest.mark.parametrize(("x", "want"), [(1, 2), (2, 4)])
def test_table(x, want):
    expected = want
    assert double(x) == expected
"""

JS_TEST = """\
import { add, greet } from "../src/math";

describe("math", () => {
  it("adds", () => {
    expect(add(1, 2)).toBe(3);
    expect(add(20, 22)).toBe(42);
  });
  test("greets", () => {
    expect(greet("bob")).toEqual("Hello, bob!");
  });
  it("adds zero", () => expect(add(0, 0)).toBe(0));
});
"""

GO_TEST = """\
package calc

import "testing"

func TestDouble(t *testing.T) {
\tif got := Double(3); got != 6 {
\t\tt.Errorf("Double(3) = %d", got)
\t}
}

func TestTriple(t *testing.T) {
\tif Triple(2) != 6 {
\t\tt.Fatal("bad")
\t}
}
"""


# --- paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_app.py",
        "pkg/tests/helpers.py",
        "test_app.py",
        "src/app_test.py",
        "calc/calc_test.go",
        "src/math.test.ts",
        "web/Button.spec.jsx",
        "src/__tests__/Button.js",
        "spec/models/user_spec.rb",
        "module/src/test/java/AppTest.java",
    ],
)
def test_test_files_are_recognised(path: str) -> None:
    assert is_test_file(path)


@pytest.mark.parametrize(
    "path", ["app.py", "src/testing_utils.py", "src/contest.py", "latest/app.py", "tests"]
)
def test_product_files_are_not_tests(path: str) -> None:
    assert not is_test_file(path)


def test_custom_patterns_replace_the_defaults() -> None:
    assert is_test_file("checks/run.py", ["checks/**"])
    assert not is_test_file("tests/test_app.py", ["checks/**"])
    assert "tests/**" in DEFAULT_TEST_PATTERNS


@pytest.mark.parametrize(
    "path",
    [
        "conftest.py",
        "src/pkg/conftest.py",
        "pytest.ini",
        "tox.ini",
        "noxfile.py",
        "jest.config.ts",
        "vitest.config.mjs",
        ".mocharc.yml",
        ".coveragerc",
        "codecov.yml",
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        ".circleci/config.yml",
        "Jenkinsfile",
    ],
)
def test_test_infrastructure_by_path(path: str) -> None:
    assert is_test_infra(path, "a = 1\n", "a = 2\n")


def test_pyproject_is_infra_only_when_its_test_sections_change() -> None:
    base = '[project]\nname = "x"\nversion = "1"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    bumped = base.replace('version = "1"', 'version = "2"')
    reconfigured = base.replace('"-q"', "\"-q -k 'not slow'\"")
    assert not is_test_infra("pyproject.toml", base, bumped)
    assert is_test_infra("pyproject.toml", base, reconfigured)
    coverage = base + "\n[tool.coverage.report]\nfail_under = 10\n"
    assert is_test_infra("pyproject.toml", base, coverage)
    assert not is_test_infra("pyproject.toml", None, None)  # binary/unknown: no evidence


def test_package_json_is_infra_only_when_jest_or_test_script_change() -> None:
    base = '{"name": "x", "version": "1.0.0", "scripts": {"test": "jest", "build": "tsc"}}'
    assert not is_test_infra("package.json", base, base.replace("1.0.0", "1.1.0"))
    assert not is_test_infra("package.json", base, base.replace('"tsc"', '"tsc -b"'))
    assert is_test_infra("package.json", base, base.replace('"jest"', '"jest --silent || true"'))
    assert is_test_infra("package.json", base, base[:-1] + ', "jest": {"bail": false}}')


def test_setup_cfg_is_infra_only_for_pytest_and_coverage_sections() -> None:
    base = "[metadata]\nname = x\n\n[tool:pytest]\naddopts = -q\n"
    assert not is_test_infra("setup.cfg", base, base.replace("name = x", "name = y"))
    assert is_test_infra("setup.cfg", base, base.replace("-q", "-q --deselect t.py::x"))


# --- tampering with tests ------------------------------------------------------------------------


def test_deleting_a_test_file_is_tamper() -> None:
    flags = detect_flags([delete("tests/test_app.py", PY_TEST)])
    assert kinds(flags) == [("test_deleted", "tests/test_app.py")]
    assert flags[0].severity == "tamper"
    assert flags[0].detail == "test file deleted (4 tests)"


def test_removed_test_functions_are_named() -> None:
    after = PY_TEST.replace(
        'def test_slug():\n    assert slug("Hello World") == "hello-world"\n', ""
    )
    flags = detect_flags([edit("tests/test_app.py", PY_TEST, after)])
    assert details(flags, "test_deleted") == ["test removed: test_slug"]
    assert details(flags, "assert_weakened") == []  # its asserts went with it: one flag, not two


def test_removed_js_test_block() -> None:
    after = JS_TEST.replace('  it("adds zero", () => expect(add(0, 0)).toBe(0));\n', "")
    flags = detect_flags([edit("test/math.test.js", JS_TEST, after)])
    assert [(f.kind, f.detail) for f in flags] == [("test_deleted", "test removed: adds zero")]


def test_moving_a_test_out_of_the_test_patterns_counts_as_deletion() -> None:
    flags = detect_flags([FileChange("attic/app_checks.py", "tests/test_app.py", PY_TEST, PY_TEST)])
    assert kinds(flags) == [("test_deleted", "attic/app_checks.py")]


def test_renaming_a_test_file_within_the_patterns_is_fine() -> None:
    assert (
        detect_flags([FileChange("tests/test_new.py", "tests/test_app.py", PY_TEST, PY_TEST)]) == ()
    )


def test_parametrized_case_removed_or_changed() -> None:
    after = PY_TEST.replace("[(1, 2), (2, 4)]", "[(1, 2)]")
    flags = detect_flags([edit("tests/test_app.py", PY_TEST, after)])
    assert details(flags, "test_deleted") == ["parametrized case removed from test_table: (2, 4)"]
    after = PY_TEST.replace("[(1, 2), (2, 4)]", "[(1, 2), (2, 5)]")
    flags = detect_flags([edit("tests/test_app.py", PY_TEST, after)])
    assert details(flags, "expected_changed") == [
        "parametrized case in test_table: (2, 4) → (2, 5)"
    ]


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        ("tests/test_app.py", PY_TEST, PY_TEST.replace("def test_slug", "@pytest.mark.skip\ndef test_slug")),
        ("tests/test_app.py", PY_TEST, PY_TEST.replace("    assert double(3)", "    pytest.xfail('later')\n    assert double(3)")),
        ("tests/test_app.py", PY_TEST, PY_TEST.replace("def test_double():", "@unittest.skipIf(True, 'x')\ndef test_double():")),
        ("test/math.test.js", JS_TEST, JS_TEST.replace('it("adds",', 'it.skip("adds",')),
        ("test/math.test.js", JS_TEST, JS_TEST.replace('describe("math"', 'describe.only("math"')),
        ("test/math.test.js", JS_TEST, JS_TEST.replace('it("adds",', 'xit("adds",')),
        ("calc/calc_test.go", GO_TEST, GO_TEST.replace("func TestDouble(t *testing.T) {\n", 'func TestDouble(t *testing.T) {\n\tt.Skip("flaky")\n')),
        ("tests/lib.rs", "#[test]\nfn works() {\n    assert_eq!(f(), 2);\n}\n", "#[test]\n#[ignore]\nfn works() {\n    assert_eq!(f(), 2);\n}\n"),
    ],
    ids=["pytest-mark", "pytest-xfail", "unittest-skip", "it-skip", "describe-only", "xit", "go-skip", "rust-ignore"],
)  # fmt: skip
def test_skips_and_focus_are_tamper(path: str, before: str, after: str) -> None:
    flags = detect_flags([edit(path, before, after)])
    assert [f.kind for f in flags] == ["skip_added"], flags
    assert flags[0].severity == "tamper"


def test_focus_is_explained() -> None:
    after = JS_TEST.replace('it("adds",', 'it.only("adds",')
    (flag,) = detect_flags([edit("test/math.test.js", JS_TEST, after)])
    assert flag.detail.startswith("focus added (other tests stop running): it.only(")


def test_a_skip_that_was_already_there_is_not_new() -> None:
    before = PY_TEST.replace("def test_slug", "@pytest.mark.skip\ndef test_slug")
    after = (
        before.replace("hello-world", "hello-world")
        + "\n\ndef test_more():\n    assert double(5) == 10\n"
    )
    assert detect_flags([edit("tests/test_app.py", before, after)]) == ()


def test_skip_words_in_product_code_are_not_skips() -> None:
    product = "def page(items):\n    return items.skip(10)\n"
    assert detect_flags([edit("src/pager.js", "", product)]) == ()


def test_removing_an_assert_is_weakening() -> None:
    after = PY_TEST.replace("    assert double(0) == 0\n", "")
    flags = detect_flags([edit("tests/test_app.py", PY_TEST, after)])
    assert [(f.kind, f.detail) for f in flags] == [
        ("assert_weakened", "assert removed from test_double: assert double(0) == 0")
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('assert slug("Hello World") == "hello-world"', 'assert slug("Hello World")'),
        ('assert slug("Hello World") == "hello-world"', 'assert slug("Hello World") is not None'),
        ('assert slug("Hello World") == "hello-world"', "assert True"),
        ("self.assertEqual(double(2), 4)", "self.assertTrue(double(2))"),
    ],
)
def test_replacing_an_assert_with_a_weaker_one(old: str, new: str) -> None:
    flags = detect_flags([edit("tests/test_app.py", PY_TEST, PY_TEST.replace(old, new))])
    assert [f.kind for f in flags] == ["assert_weakened"]
    assert "→" in flags[0].detail


def test_js_matcher_weakened_and_expect_removed() -> None:
    after = JS_TEST.replace('.toEqual("Hello, bob!")', ".toBeTruthy()").replace(
        "    expect(add(20, 22)).toBe(42);\n", ""
    )
    flags = detect_flags([edit("test/math.test.js", JS_TEST, after)])
    assert details(flags, "assert_weakened") == [
        "assert removed from adds: expect(add(20, 22)).toBe(42)",
        'weakened in greets: expect(greet("bob")).toEqual("Hello, bob!") → expect(greet("bob")).toBeTruthy()',
    ]


def test_strengthening_or_adding_asserts_is_not_flagged() -> None:
    after = PY_TEST.replace(
        "    assert double(0) == 0\n", "    assert double(0) == 0\n    assert double(-1) == -2\n"
    )
    assert detect_flags([edit("tests/test_app.py", PY_TEST, after)]) == ()
    stronger = PY_TEST.replace(
        "self.assertEqual(double(2), 4)", "self.assertEqual(double(2), 4, msg='two')"
    )
    assert detect_flags([edit("tests/test_app.py", PY_TEST, stronger)]) == ()


def test_reformatting_a_test_is_not_tampering() -> None:
    after = PY_TEST.replace("assert double(3) == 6", "assert (double(3)\n            == 6)")
    flags = detect_flags([edit("tests/test_app.py", PY_TEST, after)])
    assert [f.kind for f in flags if f.severity == "tamper"] == []


@pytest.mark.parametrize(
    ("path", "before", "old", "new"),
    [
        ("tests/test_app.py", PY_TEST, "assert double(3) == 6", "assert double(3) == 9"),
        ("tests/test_app.py", PY_TEST, '== "hello-world"', '== "hello world"'),
        ("test/math.test.js", JS_TEST, "toBe(3)", "toBe(4)"),
        ("calc/calc_test.go", GO_TEST, "got != 6", "got != 7"),
    ],
    ids=["py-number", "py-string", "js", "go"],
)
def test_changed_expected_literals(path: str, before: str, old: str, new: str) -> None:
    flags = detect_flags([edit(path, before, before.replace(old, new))])
    assert [f.kind for f in flags] == ["expected_changed"], flags
    detail = flags[0].detail.replace("'", '"')
    assert old.split()[-1] in detail and new.split()[-1] in detail


def test_rewriting_an_expectation_without_literals_is_not_a_changed_value() -> None:
    after = PY_TEST.replace("expected = want", "expected = want + 0")
    assert detect_flags([edit("tests/test_app.py", PY_TEST, after)]) == ()


def test_expected_data_changed() -> None:
    before = "def test_total():\n    expected = 42\n    assert total() == expected\n"
    flags = detect_flags([edit("tests/test_total.py", before, before.replace("42", "41"))])
    assert details(flags, "expected_changed") == [
        "expected data changed in test_total: expected = 42 → expected = 41"
    ]


def test_new_test_files_are_not_tamper() -> None:
    new = "import pytest\n\n@pytest.mark.skip\ndef test_new():\n    assert True\n"
    assert detect_flags([add("tests/test_new.py", new)]) == ()


def test_unparsable_python_tests_fall_back_to_lines() -> None:
    before = "def test_a():\n    assert f(1) == 10\n    assert f(2) == 20\n\ndef test_b(:\n"
    after = "def test_a():\n    assert f(1) == 10\n\ndef test_b(:\n"
    flags = detect_flags([edit("tests/test_broken.py", before, after)])
    assert details(flags, "assert_weakened") == ["assert removed from test_a: assert f(2) == 20"]


# --- test infrastructure -------------------------------------------------------------------------


def test_conftest_and_ci_are_test_infra_only() -> None:
    flags = detect_flags(
        [
            add("tests/conftest.py", "collect_ignore = ['test_app.py']\n"),
            edit(".github/workflows/ci.yml", "run: pytest\n", "run: pytest || true\n"),
        ]
    )
    assert kinds(flags) == [
        ("test_infra_edited", ".github/workflows/ci.yml"),
        ("test_infra_edited", "tests/conftest.py"),
    ]
    assert all(f.severity == "tamper" for f in flags)


def test_pyproject_with_test_and_dependency_changes() -> None:
    before = '[project]\nname = "x"\ndependencies = ["a>=1"]\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    after = before.replace('["a>=1"]', '["a>=2", "requests"]').replace('"-q"', '"-q -x"')
    flags = detect_flags([edit("pyproject.toml", before, after)])
    assert [(f.kind, f.detail) for f in flags] == [
        ("test_infra_edited", "test config changed: [tool.pytest]"),
        ("dependency", "dependencies changed: +requests, ~a"),
    ]


# --- special-casing tests in product code --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("app.py", '    if os.environ.get("PYTEST_CURRENT_TEST"):'),
        ("app.py", '    if "pytest" in sys.modules:'),
        ("app.py", "    if any('pytest' in a for a in sys.argv):"),
        ("src/math.js", "  if (process.env.JEST_WORKER_ID) return 3;"),
        ("src/math.js", "  if (process.env.NODE_ENV === 'test') return 3;"),
    ],
)
def test_product_code_sniffing_for_tests(path: str, line: str) -> None:
    flags = detect_flags(
        [edit(path, "def f():\n    return 1\n", f"def f():\n{line}\n    return 1\n")]
    )
    assert [f.kind for f in flags] == ["special_cases_tests"]
    assert flags[0].severity == "tamper"


PRODUCT = "def slug(s):\n    return s.lower().replace(' ', '-')\n"


def test_hard_coded_expected_output() -> None:
    cheat = 'def slug(s):\n    if s == "Hello World":\n        return "hello-world"\n    return s\n'
    flags = detect_flags(
        [edit("app.py", PRODUCT, cheat)], base_tests={"tests/test_app.py": PY_TEST}
    )
    # The input it branches on and the output it returns both come from the tests.
    assert [f.detail for f in flags] == [
        "branches on 'Hello World' (from tests/test_app.py): if s == \"Hello World\":",
        'hard-coded expected output "hello-world" (from tests/test_app.py): return "hello-world"',
    ]


def test_hard_coded_number_from_js_expectations() -> None:
    cheat = "export function add(a, b) {\n  if (a === 20) return 42;\n  return a + b;\n}\n"
    flags = detect_flags(
        [edit("src/math.js", "", cheat)], base_tests={"test/math.test.js": JS_TEST}
    )
    assert [f.kind for f in flags] == ["special_cases_tests"]
    assert "42" in flags[0].detail


def test_natural_literals_are_not_hard_coding() -> None:
    tests = 'def test_fb():\n    assert fizzbuzz(15) == "FizzBuzz"\n    assert clamp(150) == 100\n'
    product = (
        "def fizzbuzz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n    return str(n)\n"
        "def clamp(x):\n    return min(x, 100)\n"
    )
    assert detect_flags([edit("fb.py", "", product)], base_tests={"tests/test_fb.py": tests}) == ()


def test_literal_already_in_product_code_or_not_returned_is_fine() -> None:
    tests = {"tests/test_app.py": PY_TEST}
    base = 'GREETING = "hello-world"\n'
    after = base + "def slug(s):\n    if s:\n        return GREETING\n    return 'hello-world'\n"
    assert detect_flags([edit("app.py", base, after)], base_tests=tests) == ()
    logged = 'import logging\nlogging.info("hello-world")\n'
    assert detect_flags([edit("log.py", "", logged)], base_tests=tests) == ()


def test_expected_literals_come_from_changed_tests_too() -> None:
    cheat = 'def slug(s):\n    return "hello-world"\n'
    flags = detect_flags(
        [edit("tests/test_app.py", PY_TEST, PY_TEST), edit("app.py", PRODUCT, cheat)]
    )
    assert [f.kind for f in flags] == ["special_cases_tests"]


# --- scope -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["package-lock.json", "web/yarn.lock", "poetry.lock", "uv.lock", "Cargo.lock", "go.sum"]
)
def test_lockfiles(path: str) -> None:
    flags = detect_flags([edit(path, "a\n", "b\n")])
    assert [(f.kind, f.severity) for f in flags] == [("lockfile", "scope")]
    assert detect_flags([edit(path, "a\n", "a \n")])[0].kind == "lockfile"  # no formatting noise


@pytest.mark.parametrize(
    ("path", "before", "after", "detail"),
    [
        ("requirements.txt", "flask==2.0\n", "flask==2.1\nrequests\n", "+requests, ~flask"),
        ("requirements-dev.txt", "pytest\n", "", "-pytest"),
        (
            "package.json",
            '{"dependencies": {"a": "1"}}',
            '{"dependencies": {"a": "1"}, "devDependencies": {"b": "2"}}',
            "+b [devDependencies]",
        ),
        (
            "go.mod",
            "module x\n\nrequire (\n\tgithub.com/a/b v1.0.0\n)\n",
            "module x\n\nrequire (\n\tgithub.com/a/b v1.1.0\n\tgithub.com/c/d v0.1.0\n)\n",
            "+github.com/c/d, ~github.com/a/b",
        ),
        ("Cargo.toml", '[dependencies]\nserde = "1"\n', '[dependencies]\nserde = "1"\nrand = "0.8"\n', "+rand"),
        (
            "pyproject.toml",
            '[tool.poetry.dependencies]\npython = "^3.11"\n',
            '[tool.poetry.dependencies]\npython = "^3.11"\nhttpx = "*"\n',
            "+httpx",
        ),
    ],
)  # fmt: skip
def test_dependency_changes(path: str, before: str, after: str, detail: str) -> None:
    flags = detect_flags([edit(path, before, after)])
    assert [(f.kind, f.detail) for f in flags] == [
        ("dependency", f"dependencies changed: {detail}")
    ]


def test_manifest_edits_without_dependency_changes_are_quiet() -> None:
    before = '{"name": "x", "version": "1.0.0", "dependencies": {"a": "1"}}'
    assert detect_flags([edit("package.json", before, before.replace("1.0.0", "1.0.1"))]) == ()


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("app.py", "import os  # noqa: F401"),
        ("app.py", "x: int = f()  # type: ignore[assignment]"),
        ("app.py", "def f(a):  # pylint: disable=unused-argument"),
        ("src/a.ts", "// eslint-disable-next-line no-console"),
        ("src/a.ts", "// @ts-ignore"),
        ("src/lib.rs", "#[allow(dead_code)]"),
        ("main.go", "x := f() //nolint"),
    ],
)
def test_lint_suppressions(path: str, line: str) -> None:
    flags = detect_flags([edit(path, "", line + "\n")])
    assert [(f.kind, f.severity) for f in flags] == [("lint_suppression", "scope")]


def test_lint_config_changes() -> None:
    before = '[tool.ruff]\nline-length = 100\n\n[tool.ruff.lint]\nselect = ["E", "F"]\n'
    flags = detect_flags([edit("pyproject.toml", before, before.replace('"E", ', ""))])
    assert [(f.kind, f.detail) for f in flags] == [
        ("lint_suppression", "lint config changed: [tool.ruff]")
    ]


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("app.py", "    print(x)"),
        ("app.py", "    breakpoint()"),
        ("app.py", "    import pdb; pdb.set_trace()"),
        ("src/a.ts", "  console.log(x);"),
        ("src/lib.rs", "    dbg!(x);"),
        ("main.go", "\tfmt.Println(x)"),
    ],
)
def test_debug_output_in_product_code(path: str, line: str) -> None:
    flags = detect_flags([edit(path, "", line + "\n")])
    assert [f.kind for f in flags] == ["debug_print"]


def test_prints_in_tests_and_comments_are_fine() -> None:
    after = PY_TEST.replace(
        "    assert double(0) == 0\n", "    assert double(0) == 0\n    print('dbg')\n"
    )
    assert detect_flags([edit("tests/test_app.py", PY_TEST, after)]) == ()
    assert detect_flags([edit("app.py", "", "# print(x) was here\n")]) == ()


def test_unique_file_needs_the_others() -> None:
    changes = [
        edit("app.py", "a = 1\n", "a = 2\n"),
        edit("extra.py", "b = 1\n", "b = 2\n"),
        add("tests/test_mine.py", "def test_x():\n    assert True\n"),
    ]
    assert detect_flags(changes) == ()
    assert detect_flags(changes, touched_by_others=set()) == ()
    flags = detect_flags(changes, touched_by_others={"app.py", "tests/test_theirs.py"})
    assert [(f.kind, f.file) for f in flags] == [("unique_file", "extra.py")]


def test_formatting_only_file_and_hunk() -> None:
    flags = detect_flags(
        [edit("util.py", "def f(a,b):\n    return a+b\n", "def f(a, b):\n    return a + b\n")]
    )
    assert [(f.kind, f.detail) for f in flags] == [
        ("formatting_only", "whole change is whitespace/formatting only")
    ]
    before = "".join(f"x{i} = {i}\n" for i in range(30))
    after = before.replace("x2 = 2", "x2  =  2").replace("x25 = 25", "x25 = 26")
    flags = detect_flags([edit("consts.py", before, after)])
    assert [(f.kind, f.detail) for f in flags] == [
        ("formatting_only", "1 of 2 hunks only reformat (line 3)")
    ]


# --- the whole result ----------------------------------------------------------------------------


def test_sorted_tamper_first_deduplicated_and_order_independent() -> None:
    changes = [
        edit("app.py", PRODUCT, PRODUCT + "print('x')  # noqa\nprint('x')  # noqa\n"),
        delete("tests/test_app.py", PY_TEST),
        edit("poetry.lock", "a", "b"),
        add("conftest.py", "import pytest\n"),
    ]
    flags = detect_flags(changes)
    assert flags == detect_flags(list(reversed(changes)))
    assert [f.severity for f in flags] == ["tamper", "tamper", "scope", "scope", "scope"]
    assert len(set(flags)) == len(flags)
    assert [f.kind for f in flags] == [
        "test_infra_edited",
        "test_deleted",
        "debug_print",
        "lint_suppression",
        "lockfile",
    ]


def test_flood_of_one_kind_is_capped() -> None:
    after = "".join(f"print({i})\n" for i in range(30))
    flags = detect_flags([edit("noisy.py", "", after)])
    assert len(flags) == 8
    assert flags[-1].detail == "… and 23 more"


def test_binary_and_empty_changes_do_not_crash() -> None:
    changes = [
        FileChange("logo.png", "logo.png", None, None),
        FileChange("tests/data.bin", None, None, None),
        edit("empty.py", "", ""),
    ]
    assert detect_flags(changes) == ()
    assert detect_flags([]) == ()


def test_python_that_warns_is_read_quietly(recwarn: pytest.WarningsRecorder) -> None:
    before = 'import re\n\ndef test_re():\n    assert re.match("\\d+", "12") is not None\n'
    after = before + '\n\ndef test_more():\n    assert re.match("\\w+", "ab")\n'
    assert detect_flags([edit("tests/test_re.py", before, after)]) == ()
    assert len(recwarn) == 0
