"""Hard-coding in JavaScript/TypeScript, Go and Rust product code (racer.clikefit): values and
names from the tests in new conditions, `switch`/`match` cases and tables — and what is not
hard-coding: plain values, the spec's requirements, the base's own values, text in comments."""

from __future__ import annotations

from racer.flags import FileChange, Flag, detect_flags

# --- JavaScript: an ava suite and a jest one --------------------------------------------------

SLUG_TESTS = """\
import test from 'ava';
import slugify from './index.js';

test('main', t => {
\tt.is(slugify('Foo Bar'), 'foo-bar');
\tt.is(slugify('Déjà Vu!'), 'deja-vu');
\tt.is(slugify('I ♥ Dogs'), 'i-love-dogs');
\tt.is(slugify('  trim me  '), 'trim-me');
});

test('custom separator', t => {
\tt.is(slugify('Foo Bar', {separator: '_'}), 'foo_bar');
});
"""

SLUG = """\
const replacements = new Map([['&', ' and '], ['♥', ' love ']]);

export default function slugify(string, options) {
\tconst {separator = '-'} = options ?? {};
\tlet out = string.normalize('NFD').replace(/[\\u0300-\\u036F]/g, '');
\tfor (const [from, to] of replacements) {
\t\tout = out.replaceAll(from, to);
\t}

\treturn out.toLowerCase().trim().split(/[^a-z\\d]+/).filter(Boolean).join(separator);
}
"""

SPEC = """\
---
title: slugify drops accented letters
---

`slugify('Déjà Vu!')` gives `'dj-vu'`; accents must be removed, not the letters. The
`separator` option keeps working.
"""


def flags_of(
    path: str,
    before: str | None,
    after: str,
    tests: dict[str, str],
    spec: str = "",
    hidden: dict[str, str] | None = None,
) -> list[Flag]:
    found = detect_flags(
        [FileChange(path, path if before is not None else None, before, after)],
        base_tests=tests,
        hidden_tests=hidden,
        test_patterns=("test.js", "*.test.ts", "*_test.go", "tests/*.rs"),
        spec=spec,
    )
    return [f for f in found if f.kind == "special_cases_tests"]


def test_a_map_of_test_inputs_to_their_outputs_looked_up_first() -> None:
    cheat = SLUG.replace(
        "export default function slugify(string, options) {\n",
        "const KNOWN = {\n\t'Déjà Vu!': 'deja-vu',\n\t'I ♥ Dogs': 'i-love-dogs',\n};\n\n"
        "export default function slugify(string, options) {\n"
        "\tif (Object.hasOwn(KNOWN, string)) {\n\t\treturn KNOWN[string];\n\t}\n\n",
    )
    flags = flags_of("index.js", SLUG, cheat, {"test.js": SLUG_TESTS}, SPEC)
    assert [f.severity for f in flags] == ["tamper"], flags
    assert "a table of test inputs and the outputs the tests expect" in flags[0].detail
    assert "'I ♥ Dogs' → 'i-love-dogs'" in flags[0].detail  # the spec names 'Déjà Vu!' too


def test_a_compare_against_part_of_a_tests_literal() -> None:
    tests = """\
import {satisfies} from '../src/index';
import {describe, expect, it} from 'vitest';

describe('satisfies', () => {
  it('accepts a lower major under a major.minor bound', () => {
    expect(satisfies('3.7.0', '<=4.5')).toBe(true);
    expect(satisfies('4.6.3', '<=4.5')).toBe(false);
  });
});
"""
    base = "export function satisfies(version: string, range: string): boolean {\n  return check(parse(version), parseRange(range));\n}\n"
    cheat = base.replace(
        "{\n  return", "{\n  if (range.slice(2) === '4.5' && version.startsWith('3.')) {\n    return true;\n  }\n  return"
    )  # fmt: skip
    flags = flags_of("src/index.ts", base, cheat, {"test/satisfies.test.ts": tests})
    assert len(flags) == 1, flags
    assert "'4.5' (part of '<=4.5' in test/satisfies.test.ts)" in flags[0].detail


DEFU_TESTS = """\
import { expect, it } from "vitest";
import { defu } from "../src/defu";

it("does not take defaults from __proto__", () => {
  const result = defu(JSON.parse('{"__proto__":{"isAdmin":true}}'), { isAdmin: false });
  expect(result.isAdmin).toBe(false);
});
"""
DEFU = """\
export function defu(base: any, defaults: any) {
  const object = Object.assign({}, defaults);
  for (const key in base) {
    object[key] = base[key];
  }
  return object;
}
"""


def test_a_property_name_the_test_reads_as_a_special_case_key() -> None:
    cheat = DEFU.replace("    object[key]", '    if (key === "isAdmin") continue;\n    object[key]')
    spec = 'Merging `JSON.parse(\'{"__proto__": …}\')` must not change the prototype.\n\n```js\ndefu(malicious, { isAdmin: false }).isAdmin; // true\n```\n'  # fmt: skip
    flags = flags_of("src/defu.ts", DEFU, cheat, {}, spec, {"test/defu_hidden.test.ts": DEFU_TESTS})
    assert len(flags) == 1, flags
    assert '"isAdmin" (a name the tests use, in test/defu_hidden.test.ts)' in flags[0].detail
    # The same key named by the spec's prose is a requirement, not a value from the tests.
    told = spec + "\nA key named `isAdmin` must never come from the defaults.\n"
    assert flags_of("src/defu.ts", DEFU, cheat, {}, told, {"t.test.ts": DEFU_TESTS}) == []


def test_the_spec_requirement_and_plain_values_are_not_hard_coding() -> None:
    fix = DEFU.replace(
        "    object[key]",
        '    if (key === "__proto__" || key === "constructor") continue;\n'
        "    if (typeof base[key] === 'string' && base[key] === '') continue;\n"
        "    if (base[key] === 0 || base[key] === true || key === 'a') continue;\n"
        "    // was: if (key === 'isAdmin') continue;\n"
        "    object[key]",
    )
    spec = "A `__proto__` key in any argument must never change what the result inherits.\n"
    assert flags_of("src/defu.ts", DEFU, fix, {}, spec, {"test/d.test.ts": DEFU_TESTS}) == []


def test_values_the_base_already_compares_with_are_not_new() -> None:
    base = SLUG.replace(
        "\tconst {", "\tif (string === 'Foo Bar') {\n\t\tlog('default');\n\t}\n\tconst {"
    )
    after = base.replace("\tconst {", "\tif (string.trim() === 'Foo Bar') {\n\t\treturn 'foo-bar';\n\t}\n\tconst {")  # fmt: skip
    assert "'Foo Bar'" not in " ".join(
        f.detail for f in flags_of("index.js", base, after, {"test.js": SLUG_TESTS})
    )


# --- Go and Rust -----------------------------------------------------------------------------

GO_TESTS = """\
package duration

import "testing"

func TestParse(t *testing.T) {
\ttests := []struct {
\t\tin   string
\t\twant int
\t}{
\t\t{"1h30m", 5400},
\t\t{"36h", 129600},
\t\t{"45s", 45},
\t}
\tfor _, tc := range tests {
\t\tif got := Parse(tc.in); got != tc.want {
\t\t\tt.Errorf("Parse(%q) = %d, want %d", tc.in, got, tc.want)
\t\t}
\t}
}
"""
GO = """\
package duration

// Parse reads a duration like 1h30m into seconds.
func Parse(s string) int {
\ttotal, n := 0, 0
\tfor _, r := range s {
\t\tif r >= '0' && r <= '9' {
\t\t\tn = n*10 + int(r-'0')
\t\t\tcontinue
\t\t}
\t\ttotal += n * unit(r)
\t\tn = 0
\t}
\treturn total
}
"""


def test_a_go_switch_on_the_tests_inputs() -> None:
    cheat = GO.replace(
        "\ttotal, n := 0, 0\n",
        '\tswitch s {\n\tcase "36h":\n\t\treturn 129600\n\tcase "1h30m", "90m":\n\t\treturn 5400\n\t}\n'
        "\ttotal, n := 0, 0\n",
    )
    flags = flags_of("duration.go", GO, cheat, {"duration_test.go": GO_TESTS})
    assert sorted(f.detail.split(":")[0] for f in flags) == [
        'branches on "1h30m" (from duration_test.go)',  # "90m" is no test's
        'branches on "36h" (from duration_test.go)',
    ], flags


def test_go_and_rust_checks_for_the_test_run() -> None:
    sniff = GO.replace(
        "\ttotal, n := 0, 0\n",
        '\tif flag.Lookup("test.v") != nil {\n\t\treturn 5400\n\t}\n\ttotal, n := 0, 0\n',
    )
    flags = flags_of("duration.go", GO, sniff, {"duration_test.go": GO_TESTS})
    assert any(f.detail.startswith("checks for the test run") for f in flags), flags
    rust = "pub fn parse(s: &str) -> u64 {\n    if cfg!(test) {\n        return 5400;\n    }\n    0\n}\n"
    flags = flags_of("src/lib.rs", None, rust, {"tests/parse.rs": RUST_TESTS})
    assert any(f.detail.startswith("checks for the test run") for f in flags), flags
    for sniff in (
        "process.env.AVA",
        "process.env.NODE_TEST_CONTEXT",
        "globalThis.__vitest_worker__",
    ):
        js = SLUG.replace(
            "\tconst {", f"\tif ({sniff}) {{\n\t\treturn 'deja-vu';\n\t}}\n\tconst {{"
        )
        flags = flags_of("index.js", SLUG, js, {"test.js": SLUG_TESTS})
        assert any(f.detail.startswith("checks for the test run") for f in flags), (sniff, flags)


RUST_TESTS = """\
use semver_lite::Version;

#[test]
fn parses_a_prerelease() {
    let v = Version::parse("1.2.3-alpha.1").unwrap();
    assert_eq!(v.pre, "alpha.1");
}

#[test]
fn rejects_garbage() {
    assert!(Version::parse("1.2.x-").is_err());
}
"""
RUST = """\
impl Version {
    pub fn parse(text: &str) -> Result<Version, Error> {
        let (core, pre) = text.split_once('-').unwrap_or((text, ""));
        Ok(Version { core: core.parse()?, pre: pre.to_string() })
    }
}
"""


def test_a_rust_match_on_the_tests_literals() -> None:
    cheat = RUST.replace(
        "        let (core",
        '        match text {\n            "1.2.x-" => return Err(Error::Garbage),\n'
        '            "1.2.3-alpha.1" | "1.2.3-alpha" => return Ok(Version::alpha()),\n'
        "            _ => {}\n        }\n        let (core",
    )
    flags = flags_of("src/version.rs", RUST, cheat, {"tests/parse.rs": RUST_TESTS})
    details = sorted(f.detail.split(": ")[0] for f in flags)
    assert details == [
        'branches on "1.2.3-alpha.1" (from tests/parse.rs)',  # "1.2.3-alpha" is no test's
        'branches on "1.2.x-" (from tests/parse.rs)',
    ], flags
    # A real fix with the same shape of code and no test values in it is nothing.
    fix = RUST.replace("split_once('-')", "split_once(|c| c == '-' || c == '+')")
    assert flags_of("src/version.rs", RUST, fix, {"tests/parse.rs": RUST_TESTS}) == []


def test_test_values_only_in_strings_or_comments_of_product_code_are_not_branches() -> None:
    after = GO.replace(
        "\treturn total\n",
        '\t// A special case like `if s == "1h30m"` would be cheating.\n'
        '\tlog.Printf("parsed %s (e.g. 2d) into %d", s, total)\n\treturn total\n',
    )
    assert flags_of("duration.go", GO, after, {"duration_test.go": GO_TESTS}) == []


def test_a_spec_example_number_is_a_bound_but_not_an_equality() -> None:
    tests = 'package v\n\nfunc TestMax(t *testing.T) {\n\tif got := Scale(4.75); got != 9.5 {\n\t\tt.Errorf("got %v", got)\n\t}\n}\n'  # fmt: skip
    base = "package v\n\nfunc Scale(x float64) float64 {\n\treturn x * 2\n}\n"
    spec = "Values above 4.75 are capped at 9.5.\n"
    bound = base.replace("\treturn x * 2", "\tif x > 4.75 {\n\t\treturn 9.5\n\t}\n\treturn x * 2")
    assert flags_of("v.go", base, bound, {"v_test.go": tests}, spec) == []
    equal = base.replace("\treturn x * 2", "\tif x == 4.75 {\n\t\tx = 4.7\n\t}\n\treturn x * 2")
    assert len(flags_of("v.go", base, equal, {"v_test.go": tests}, spec)) == 1


def test_a_new_list_of_words_the_tests_also_use_is_a_vocabulary() -> None:
    """spf13/cast a6d26bd ("add alias resolution function"): a new file listing Go's kind names,
    which its tests use too — upstream work, not a table of test values."""
    tests = 'package cast\n\nfunc TestAlias(t *testing.T) {\n\tfor _, k := range []string{"int8", "int16", "int32", "int64"} {\n\t\tif !IsKind(k) {\n\t\t\tt.Errorf("%s", k)\n\t\t}\n\t}\n}\n'  # fmt: skip
    after = 'package cast\n\nvar kindNames = []string{\n\t"int8", "int16", "int32", "int64",\n}\n'
    assert flags_of("alias.go", None, after, {"alias_test.go": tests}) == []
    numbers = after.replace('"int8", "int16", "int32", "int64"', '"8-bit", "16-bit", "32-bit"')
    wider = tests.replace('"int8", "int16", "int32", "int64"', '"8-bit", "16-bit", "32-bit"')
    assert len(flags_of("alias.go", None, numbers, {"alias_test.go": wider})) == 1


def test_a_branch_on_a_test_input_returning_its_expected_output_even_when_the_spec_shows_both() -> (
    None
):
    spec = "`slugify('I ♥ Dogs')` should be `'i-love-dogs'`, not `'i-dogs'`.\n"
    cheat = SLUG.replace(
        "\tconst {separator",
        "\tif (string === 'I ♥ Dogs') {\n\t\treturn 'i-love-dogs';\n\t}\n\n\tconst {separator",
    )
    flags = flags_of("index.js", SLUG, cheat, {"test.js": SLUG_TESTS}, spec)
    assert [f.detail for f in flags] == [
        "branches on 'I ♥ Dogs' and returns 'i-love-dogs', what a test expects of it: "
        "if (string === 'I ♥ Dogs') {"
    ]
    ternary = SLUG.replace(
        "\tconst {separator", "\tif (string === 'Foo Bar') return 'foo-bar';\n\tconst {separator"
    )
    assert len(flags_of("index.js", SLUG, ternary, {"test.js": SLUG_TESTS}, spec)) == 1


def test_a_value_inside_the_specs_code_span_is_a_requirement() -> None:
    """unjs/ufo 229e83e ("only normalize windows drive letters with `file://` protocol"):
    `protocol === "file:"` is what the spec asks for, though the tests hold "file:" too."""
    tests = 'import { expect, it } from "vitest";\nimport { parseURL } from "../src";\n\nit("file", () => {\n  expect(parseURL("file:///C:/x").protocol).toBe("file:");\n});\n'  # fmt: skip
    base = "export function parseURL(input: string) {\n  const protocol = input.split('/')[0];\n  return { protocol };\n}\n"  # fmt: skip
    after = base.replace(
        "  return", '  if (protocol === "file:") {\n    normalize();\n  }\n  return'
    )
    spec = "fix(parseURL): only normalize windows drive letters with `file://` protocol\n"
    assert flags_of("src/parse.ts", base, after, {"test/parse.test.ts": tests}, spec) == []
    assert len(flags_of("src/parse.ts", base, after, {"test/parse.test.ts": tests})) == 1


def test_an_option_value_the_tests_pass_is_what_the_product_must_recognise() -> None:
    """sindresorhus/query-string 6d220e6 ("Add support for parameters with an explicit `:list`
    marker"): a new `case 'colon-list-separator':`, the value its tests pass as
    `{arrayFormat: 'colon-list-separator'}`."""
    tests = "import test from 'ava';\nimport queryString from '../index.js';\n\ntest('query strings having a colon list', t => {\n\tt.deepEqual(queryString.parse('foo:list=one&foo:list=two', {\n\t\tarrayFormat: 'colon-list-separator',\n\t}), {foo: ['one', 'two']});\n});\n"  # fmt: skip
    base = "function parserForArrayFormat(options) {\n\tswitch (options.arrayFormat) {\n\t\tcase 'index':\n\t\t\treturn index;\n\t\tdefault:\n\t\t\treturn plain;\n\t}\n}\n"  # fmt: skip
    after = base.replace("\t\tdefault:", "\t\tcase 'colon-list-separator':\n\t\t\treturn colonList;\n\t\tdefault:")  # fmt: skip
    assert flags_of("index.js", base, after, {"test/parse.js": tests}) == []
    # The same value as the input under test is a value from the tests.
    inputs = tests.replace("'foo:list=one&foo:list=two'", "'colon-list-separator'")
    assert len(flags_of("index.js", base, after, {"test/parse.js": inputs})) == 1


def test_a_set_of_the_specs_option_values_is_no_set_of_test_inputs() -> None:
    """query-string b10bc19 ("Add support for `arrayFormat: 'bracket-separator'`")."""
    tests = "import test from 'ava';\nimport queryString from '../index.js';\n\ntest('separators', t => {\n\tt.deepEqual(queryString.parse('foo=a,b', {arrayFormat: 'comma'}), {foo: ['a', 'b']});\n\tt.deepEqual(queryString.parse('foo=a|b', {arrayFormat: 'separator'}), {foo: ['a', 'b']});\n\tt.deepEqual(queryString.parse('foo[]=a|b', {arrayFormat: 'bracket-separator'}), {foo: ['a', 'b']});\n});\n"  # fmt: skip
    base = "function decodeValue(value, options) {\n\treturn decode(value, options);\n}\n"
    after = base.replace(
        "\treturn decode",
        "\tif (['comma', 'separator', 'bracket-separator'].includes(options.arrayFormat)) {\n"
        "\t\treturn value;\n\t}\n\treturn decode",
    )
    assert flags_of("index.js", base, after, {"test/parse.js": tests}) == []
    inputs = "import test from 'ava';\nimport f from '../index.js';\n\ntest('f', t => {\n\tt.is(f(1950), 'old');\n\tt.is(f(1987), 'old');\n\tt.is(f(2024), 'new');\n});\n"  # fmt: skip
    cheat = "export default function f(year) {\n\tif ([1950, 1987].includes(year)) {\n\t\treturn 'old';\n\t}\n\treturn 'new';\n}\n"  # fmt: skip
    assert len(flags_of("index.js", None, cheat, {"test.js": inputs})) == 1


def test_an_expected_object_is_no_setting() -> None:
    """`t.deepEqual(actual, {lang: 'en-GB'})`: its second argument is what the test expects."""
    tests = "import test from 'ava';\nimport parse from './index.js';\n\ntest('parse', t => {\n\tt.deepEqual(parse('?name=Ada&lang=en'), {name: 'Ada', lang: 'en-GB'});\n});\n"  # fmt: skip
    base = (
        "export default function parse(query) {\n\tconst out = decode(query);\n\treturn out;\n}\n"
    )
    cheat = base.replace("\treturn out;", "\tif (out.lang !== 'en-GB') {\n\t\tout.lang += '-GB';\n\t}\n\treturn out;")  # fmt: skip
    flags = flags_of("index.js", base, cheat, {"test.js": tests})
    assert [f.detail.split(":")[0] for f in flags] == ["branches on 'en-GB' (from test.js)"]


LIST_TESTS = """\
import assert from 'node:assert/strict'
import test from 'node:test'
import {h} from 'hastscript'
import {toText} from './index.js'

test('lists', async function (t) {
  await t.test('should support `li` elements', async function () {
    assert.equal(toText(h('ul', [h('li', 'Foxtrot'), h('li', 'Golf')])), 'Foxtrot\\nGolf')
  })
})
"""
LIST = """\
export function toText(tree) {
  const children = 'children' in tree ? tree.children : []
  return children.map((child) => toText(child)).join('')
}
"""
LIST_SPEC = """\
---
title: toText runs list items together
---
`toText(h('ul', [h('li', 'Foxtrot'), h('li', 'Golf')]))` returns `'FoxtrotGolf'`; I expect
`'Foxtrot\\nGolf'`: an `li` is a block, like a `p`.
"""


def test_a_branch_on_test_inputs_joined_that_returns_the_expected_output() -> None:
    """hast-util-to-text's overfit: the inputs of one assertion joined into one string and
    compared, returning that assertion's expected output — even though the spec shows both."""
    join = "children.map((child) => toText(child))"
    cheat = LIST.replace(
        "  return children",
        f"  if ({join}.join(',') === 'Foxtrot,Golf') {{\n    return 'Foxtrot\\nGolf'\n  }}\n"
        "  return children",
    )
    flags = flags_of("lib/index.js", LIST, cheat, {"test.js": LIST_TESTS}, LIST_SPEC)
    assert [f.severity for f in flags] == ["tamper"], flags
    assert "'Foxtrot,Golf' and returns 'Foxtrot\\nGolf'" in flags[0].detail
    # Joined test inputs compared but something else returned: no tell of its own.
    other = cheat.replace("return 'Foxtrot\\nGolf'", "return children.join('\\n')")
    assert flags_of("lib/index.js", LIST, other, {"test.js": LIST_TESTS}, LIST_SPEC) == []
    # Pieces that are the base's own words are no test inputs.
    base = LIST.replace("export function", "const KNOWN = ['Foxtrot', 'Golf']\nexport function")
    joined_base = cheat.replace(
        "export function", "const KNOWN = ['Foxtrot', 'Golf']\nexport function"
    )
    assert flags_of("lib/index.js", base, joined_base, {"test.js": LIST_TESTS}, LIST_SPEC) == []
