"""Assertion tamper detection beyond Python: JavaScript/TypeScript (ava, jest, node:test), Go
(testing, table tests, testify) and Rust (libtest), on test files written the way real projects
write them — and the lexer that keeps strings, templates, regexes and comments out of it."""

from __future__ import annotations

import pytest

from racer import clike
from racer.flags import FileChange, Flag, detect_flags
from racer.lexer import tokenize

AVA = """\
import test from 'ava';
import kebab from './index.js';

test('kebab', t => {
\tt.is(kebab('fooBar'), 'foo-bar');
\tt.is(kebab('FooBar'), 'foo-bar');
\tt.is(kebab('foo bar'), 'foo-bar');
\tt.is(kebab('foo_bar'), 'foo-bar');
\tt.is(kebab('foo.bar'), 'foo-bar');
\tt.is(kebab('XMLHttp'), 'xml-http');
\tt.is(kebab('ajaxXMLHttp'), 'ajax-xml-http');
\tt.is(kebab('a1B2'), 'a1-b2');
\tt.is(kebab('--foo--'), 'foo');
\tt.is(kebab('__foo__'), '__foo');
\tt.is(kebab('fooÈBar'), 'foo-è-bar');
\tt.is(kebab(''), '');
\tt.is(kebab('-'), '');
\tt.is(kebab(['foo', 'bar']), 'foo-bar');
\tt.is(kebab(['foo', '-bar']), 'foo-bar');
\tt.is(kebab('F'), 'f');
\tt.is(kebab('FOO'), 'foo');
});

test('kebab with a separator', t => {
\tt.is(kebab('fooBar', {separator: '_'}), 'foo_bar');
\tt.deepEqual(kebab.split('fooBar'), ['foo', 'bar']);
\tt.true(kebab.isKebab('foo-bar'));
});

test('invalid input', t => {
\tt.throws(() => {
\t\tkebab(1);
\t}, {
\t\tmessage: /Expected the input to be `string \\| string\\[\\]`/,
\t});
});
"""

JEST = """\
const {render} = require('../src/template');

describe('render', () => {
  it.each([
    ['Hello {name}', {name: 'Ada'}, 'Hello Ada'],
    ['{a}{b}', {a: 1, b: 2}, '12'],
  ])('renders %s', (template, data, expected) => {
    expect(render(template, data)).toBe(expected);
  });

  test('escapes html', () => {
    expect(
      render('{x}', {x: '<b>'}, {escape: true}),
    ).toEqual('&lt;b&gt;');
    expect(render('{x}', {x: null})).toBe('');
  });
});
"""

NODE_TEST = """\
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parse} from '../lib/parse.js';

test('parses a duration', () => {
  assert.strictEqual(parse('1h'), 3600);
  assert.deepStrictEqual(parse.all('1h 2m'), [3600, 120]);
});
"""

GO = """\
package slug

import (
\t"reflect"
\t"testing"
)

func TestMake(t *testing.T) {
\ttests := []struct {
\t\tname string
\t\tin   string
\t\twant string
\t}{
\t\t{"ascii", "Hello World", "hello-world"},
\t\t{"accents", "Crème Brûlée", "creme-brulee"},
\t\t{name: "symbols", in: "a & b", want: "a-and-b"},
\t}
\tfor _, tt := range tests {
\t\tt.Run(tt.name, func(t *testing.T) {
\t\t\tif got := Make(tt.in); got != tt.want {
\t\t\t\tt.Errorf("Make(%q) = %q, want %q", tt.in, got, tt.want)
\t\t\t}
\t\t})
\t}
}

func TestSplit(t *testing.T) {
\tgot, err := Split("a-b")
\tif err != nil {
\t\tt.Fatalf("Split: %v", err)
\t}
\twant := []string{"a", "b"}
\tif !reflect.DeepEqual(got, want) {
\t\tt.Errorf("Split = %v, want %v", got, want)
\t}
}
"""

RUST = """\
use crate::parse;

#[test]
fn parses_numbers() {
    assert_eq!(parse("42"), Ok(42));
    assert_eq!(
        parse(r#"0x1F"#),
        Ok(31),
    );
    assert!(parse("").is_err());
}

#[test]
#[should_panic(expected = "overflow")]
fn rejects_overflow() {
    parse("99999999999").unwrap();
}
"""


def flags_for(path: str, before: str, after: str) -> tuple[Flag, ...]:
    return detect_flags([FileChange(path, path, before, after)], test_patterns=(path,))


def kinds(flags: tuple[Flag, ...]) -> list[str]:
    return [f.kind for f in flags]


# --- JavaScript / TypeScript -------------------------------------------------------------------


def test_fifteen_deleted_ava_asserts_are_flagged() -> None:
    lines = AVA.splitlines(keepends=True)
    gone = [line for line in lines if "t.is(kebab(" in line][:15]
    after = "".join(line for line in lines if line not in gone)
    flags = flags_for("test.js", AVA, after)
    assert set(kinds(flags)) == {"assert_weakened"}
    assert len(flags) == 8  # 7 shown, then one "… and 8 more": 15 in all
    assert flags[-1].detail == "… and 8 more"
    assert all(f.severity == "tamper" for f in flags)
    assert "assert removed from kebab: t.is(kebab(" in flags[0].detail


@pytest.mark.parametrize(
    "after",
    [
        AVA.replace("test('kebab with a separator'", "test.skip('kebab with a separator'"),
        AVA.replace("test('invalid input'", "test.todo('invalid input');\ntest('invalid'"),
        AVA.replace(
            "t => {\n\tt.is(kebab('fooBar')", "t => {\n\tt.skip();\n\tt.is(kebab('fooBar')"
        ),
        JEST.replace("test('escapes html'", "xtest('escapes html'"),
        JEST.replace("test('escapes html', () =>", "test('escapes html', {skip: true}, () =>"),
    ],
    ids=["test.skip", "test.todo", "t.skip", "xtest", "skip-option"],
)
def test_skips_are_flagged(after: str) -> None:
    before = JEST if "render" in after else AVA
    flags = flags_for("test.js", before, after)
    assert "skip_added" in kinds(flags), flags
    assert "test_deleted" not in kinds(flags)


def test_a_new_test_and_a_renamed_one_are_not_tampering() -> None:
    added = AVA + "\ntest('kebab keeps digits', t => {\n\tt.is(kebab('a1b'), 'a1b');\n});\n"
    assert flags_for("test.js", AVA, added) == ()
    renamed = AVA.replace("test('kebab with a separator'", "test('kebab with a custom separator'")
    assert flags_for("test.js", AVA, renamed) == ()


def test_a_renamed_test_that_lost_asserts_is_flagged_for_those() -> None:
    after = AVA.replace("test('kebab with a separator'", "test('separators'").replace(
        "\tt.true(kebab.isKebab('foo-bar'));\n", ""
    )
    flags = flags_for("test.js", AVA, after)
    assert [(f.kind, f.detail) for f in flags] == [
        (
            "assert_weakened",
            "assert removed from kebab with a separator (now separators): "
            "t.true(kebab.isKebab('foo-bar'))",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("t.is(kebab('FooBar'), 'foo-bar')", "t.truthy(kebab('FooBar'))", "assert_weakened"),
        ("t.deepEqual(kebab.split('fooBar'), ['foo', 'bar'])", "t.pass()", "assert_weakened"),
        ("t.true(kebab.isKebab('foo-bar'))", "t.true(true)", "assert_weakened"),
        ("t.is(kebab('XMLHttp'), 'xml-http')", "t.is(kebab('XMLHttp'), 'x-m-l-http')", "expected_changed"),
    ],
    ids=["is-to-truthy", "deepEqual-to-pass", "trivially-true", "literal"],
)  # fmt: skip
def test_weakened_or_changed_ava_asserts(old: str, new: str, kind: str) -> None:
    assert old in AVA
    flags = flags_for("test.js", AVA, AVA.replace(old, new))
    assert kinds(flags) == [kind], flags


def test_a_multi_line_expect_is_one_assertion() -> None:
    after = JEST.replace(
        "    expect(\n      render('{x}', {x: '<b>'}, {escape: true}),\n    ).toEqual('&lt;b&gt;');\n",
        "",
    )
    (flag,) = flags_for("src/template.test.js", JEST, after)
    assert flag.detail == (
        "assert removed from escapes html: "
        "expect(render('{x}', {x: '<b>'}, {escape: true})).toEqual('&lt;b&gt;')"
    )
    relaid = JEST.replace(
        "    expect(\n      render('{x}', {x: '<b>'}, {escape: true}),\n    ).toEqual",
        "    expect(render('{x}', {x: '<b>'}, {escape: true})).toEqual",
    )
    assert flags_for("src/template.test.js", JEST, relaid) == ()


def test_jest_each_rows_are_cases() -> None:
    changed = JEST.replace("'Hello Ada'],", "'Hello, Ada'],")
    flags = flags_for("src/template.test.js", JEST, changed)
    assert kinds(flags) == ["expected_changed"]
    assert "parametrized case in renders %s" in flags[0].detail
    removed = JEST.replace("    ['{a}{b}', {a: 1, b: 2}, '12'],\n", "")
    assert kinds(flags_for("src/template.test.js", JEST, removed)) == ["test_deleted"]


def test_node_assert_weakened() -> None:
    after = NODE_TEST.replace("assert.strictEqual(parse('1h'), 3600)", "assert.ok(parse('1h'))")
    assert kinds(flags_for("test/parse.test.js", NODE_TEST, after)) == ["assert_weakened"]


def test_text_that_only_looks_like_tests_is_not_read_as_code() -> None:
    extra = (
        "\n// test.skip('later', t => {});  t.is(a, b)\n"
        "/* it.only('x') */\n"
        "const note = `pending: ${names.map(n => `it.skip(${n})`).join()} test.only(`;\n"
        "const pattern = /t\\.skip\\(|test\\.only\\(/g;\n"
        "const ratio = total / count / 2;\n"
        "test('mentions test.skip( in its name', t => {\n\tt.is(kebab('x.skip('), 'x-skip(');\n});\n"
    )
    assert flags_for("test.js", AVA, AVA + extra) == ()


# --- Go ------------------------------------------------------------------------------------------


def test_go_removed_check_and_skip() -> None:
    removed = GO.replace(
        '\tif !reflect.DeepEqual(got, want) {\n\t\tt.Errorf("Split = %v, want %v", got, want)\n\t}\n',
        "\t_ = want\n",
    )
    (flag,) = flags_for("slug_test.go", GO, removed)
    assert (flag.kind, flag.detail) == (
        "assert_weakened",
        "assert removed from TestSplit: if !reflect.DeepEqual(got, want) { t.Errorf }",
    )
    skipped = GO.replace(
        "func TestSplit(t *testing.T) {\n", "func TestSplit(t *testing.T) {\n\tt.SkipNow()\n"
    )
    assert kinds(flags_for("slug_test.go", GO, skipped)) == ["skip_added"]


def test_go_table_rows_changed_or_removed() -> None:
    changed = GO.replace('"Crème Brûlée", "creme-brulee"', '"Crème Brûlée", "crème-brûlée"')
    (flag,) = flags_for("slug_test.go", GO, changed)
    assert flag.kind == "expected_changed"
    assert flag.detail.startswith('parametrized case in TestMake: {"accents"')
    removed = GO.replace('\t\t{name: "symbols", in: "a & b", want: "a-and-b"},\n', "")
    (flag,) = flags_for("slug_test.go", GO, removed)
    assert flag.kind == "test_deleted" and "symbols" in flag.detail


def test_go_weakened_comparison_and_changed_want() -> None:
    weaker = GO.replace("if !reflect.DeepEqual(got, want) {", "if got == nil {")
    assert kinds(flags_for("slug_test.go", GO, weaker)) == ["assert_weakened"]
    want = GO.replace('want := []string{"a", "b"}', 'want := []string{"a-b"}')
    assert kinds(flags_for("slug_test.go", GO, want)) == ["expected_changed"]


def test_go_new_test_and_rename_are_fine() -> None:
    more = (
        GO
        + '\nfunc TestEmpty(t *testing.T) {\n\tif got := Make(""); got != "" {\n\t\tt.Errorf("got %q", got)\n\t}\n}\n'
    )
    assert flags_for("slug_test.go", GO, more) == ()
    assert flags_for("slug_test.go", GO, GO.replace("TestSplit", "TestSplitWords")) == ()


# --- Rust ----------------------------------------------------------------------------------------


def test_rust_ignore_removed_assert_and_changed_literal() -> None:
    ignored = RUST.replace("#[test]\nfn parses_numbers", "#[test]\n#[ignore]\nfn parses_numbers")
    assert kinds(flags_for("tests/parse.rs", RUST, ignored)) == ["skip_added"]
    gone = RUST.replace('    assert!(parse("").is_err());\n', "")
    (flag,) = flags_for("tests/parse.rs", RUST, gone)
    assert flag.detail == 'assert removed from parses_numbers: assert!(parse("").is_err())'
    literal = RUST.replace("Ok(31)", "Ok(30)")
    assert kinds(flags_for("tests/parse.rs", RUST, literal)) == ["expected_changed"]
    weaker = RUST.replace('assert_eq!(parse("42"), Ok(42));', 'assert!(parse("42").is_ok());')
    assert kinds(flags_for("tests/parse.rs", RUST, weaker)) == ["assert_weakened"]


def test_rust_should_panic_added_or_removed() -> None:
    added = RUST.replace(
        "#[test]\nfn parses_numbers", "#[test]\n#[should_panic]\nfn parses_numbers"
    )
    (flag,) = flags_for("tests/parse.rs", RUST, added)
    assert (flag.kind, flag.detail) == (
        "assert_weakened",
        "#[should_panic] added to parses_numbers: it passes if it panics",
    )
    removed = RUST.replace('#[should_panic(expected = "overflow")]\n', "")
    assert "assert_weakened" in kinds(flags_for("tests/parse.rs", RUST, removed))


def test_rust_text_and_layout_are_not_tampering() -> None:
    extra = (
        "\n/* #[ignore] /* nested */ still a comment #[ignore] */\n"
        'const DOC: &str = r#"#[ignore] assert_eq!(1, 2)"#;\n'
        "fn helper<'a>(s: &'a str) -> char { '#' }\n"
    )
    assert flags_for("tests/parse.rs", RUST, RUST + extra) == ()
    relaid = RUST.replace(
        'assert_eq!(\n        parse(r#"0x1F"#),\n        Ok(31),\n    );',
        'assert_eq!(parse(r#"0x1F"#), Ok(31));',
    )
    assert flags_for("tests/parse.rs", RUST, relaid) == ()


# --- the lexer -----------------------------------------------------------------------------------


def test_lexer_reads_templates_regexes_and_raw_strings_whole() -> None:
    js = "a = `x ${`in ${y}`} }` / 2; r = /[/]\\//g.test(s) ? b / c : d; // t.is()"
    texts = [(t.kind, t.text) for t in tokenize(js, "js")]
    assert ("str", "`x ${`in ${y}`} }`") in texts
    assert ("re", "/[/]\\//g") in texts
    assert ("op", "/") in texts and not any("t.is" in t for _, t in texts)
    rust = 'let s = r##"a "# b"##; let c = \'"\'; fn f<\'a>() {}'
    kinds_texts = [(t.kind, t.text) for t in tokenize(rust, "rust")]
    assert ("str", 'r##"a "# b"##') in kinds_texts and ("str", "'\"'") in kinds_texts
    assert ("id", "'a") in kinds_texts
    go = 'x := `raw \\` + "s\\"t"'
    assert [t.text for t in tokenize(go, "go")] == ["x", ":=", "`raw \\`", "+", '"s\\"t"']


def test_units_of_an_unfinished_file_do_not_fail() -> None:
    for lang, text in (("js", "test('x', t => { t.is(`a ${"), ("go", "func TestX(t *testing.T) { if a != b {"), ("rust", "#[test]\nfn x() { assert_eq!(r#\"")):  # fmt: skip
        assert clike.units(lang, text)[0].name == "<module>"


def test_product_code_returning_what_an_ava_assert_expects_is_hard_coding() -> None:
    cheat = (
        "export default function kebab(input) {\n"
        "\tif (input === 'ajaxXMLHttp') return 'ajax-xml-http';\n"
        "\treturn input.toLowerCase();\n}\n"
    )
    flags = detect_flags(
        [FileChange("index.js", None, None, cheat)],
        base_tests={"test.js": AVA},
        test_patterns=("test.js",),
    )
    assert [f.kind for f in flags] == ["special_cases_tests"]
    assert "'ajax-xml-http'" in flags[0].detail


QUICKTEST = """\
package cast

import (
\t"testing"

\tqt "github.com/frankban/quicktest"
)

func TestToUint(t *testing.T) {
\tc := qt.New(t)
\tv, err := ToUintE("8")
\tc.Assert(err, qt.IsNil)
\tc.Assert(v, qt.Equals, uint(8))
}
"""


def test_go_assertion_libraries_are_asserts() -> None:
    weaker = QUICKTEST.replace("c.Assert(v, qt.Equals, uint(8))", "c.Assert(v, qt.IsNotNil)")
    assert kinds(flags_for("cast_test.go", QUICKTEST, weaker)) == ["assert_weakened"]
    gone = QUICKTEST.replace("\tc.Assert(err, qt.IsNil)\n", "")
    assert kinds(flags_for("cast_test.go", QUICKTEST, gone)) == ["assert_weakened"]


def test_chai_property_assertions_are_asserts() -> None:
    before = "describe('x', () => {\n  it('works', () => {\n    expect(run()).to.be.true;\n    expect(out).to.equal('done');\n  });\n});\n"
    after = before.replace("    expect(run()).to.be.true;\n", "")
    assert [f.detail for f in flags_for("test/x.spec.js", before, after)] == [
        "assert removed from works: expect(run()).to.be.true"
    ]
