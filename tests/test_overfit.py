"""Overfitting: new product conditions that branch on values taken from the tests."""

from __future__ import annotations

from racer.flags import FileChange, detect_flags

BASE = "def fmt(value):\n    return f'{value:.1f}'\n"
TESTS = {
    "tests/test_fmt.py": (
        "from fmt import fmt\n\n\n"
        "class CachedThing:\n    pass\n\n\n"
        "def test_rounding():\n"
        "    for v in (999.9, 999.99, 999_999):\n"
        "        assert fmt(v)\n"
        "    assert fmt('chances') == 'chance'\n"
    )
}


def _flags(after: str, spec: str = "", hidden: dict[str, str] | None = None) -> list[str]:
    change = FileChange("fmt.py", "fmt.py", BASE, after)
    flags = detect_flags([change], base_tests=TESTS, hidden_tests=hidden, spec=spec)
    return [f.detail for f in flags if f.kind == "special_cases_tests"]


def test_membership_in_test_inputs_is_overfitting() -> None:
    cheat = BASE.replace(
        "    return",
        "    if value in (999.9, 999.99, 999_999, 0.0009999):\n        value *= 1.001\n    return",
    )
    (detail,) = _flags(cheat)
    assert detail == (
        "branches on 999.9, 999.99, 999999 (from tests/test_fmt.py): "
        "if value in (999.9, 999.99, 999_999, 0.0009999):"
    )


def test_plain_words_and_test_class_names_from_the_tests() -> None:
    word = BASE.replace(
        "    return", "    if value == 'chances':\n        return 'chance'\n    return"
    )
    assert [d.split(":")[0] for d in _flags(word)] == [
        "branches on 'chances' (from tests/test_fmt.py)"
    ]
    name = BASE.replace(
        "    return", "    if type(value).__name__ == 'CachedThing':\n        return ''\n    return"
    )
    assert _flags(name) == [
        "branches on the name of CachedThing (defined in tests/test_fmt.py): "
        "if type(value).__name__ == 'CachedThing':"
    ]


def test_values_from_the_hidden_tests_count_too() -> None:
    cheat = BASE.replace(
        "    return", "    if value == 12345.678:\n        return '12.3k'\n    return"
    )
    assert _flags(cheat) == []
    hidden = {"tests/test_hidden.py": "def test_k():\n    assert fmt(12345.678) == '12.3k'\n"}
    assert len(_flags(cheat, hidden=hidden)) == 1


def test_no_false_alarms_for_natural_values_the_spec_or_the_base() -> None:
    natural = BASE.replace(
        "    return", "    if value in (0, 1, -1, '', None):\n        return ''\n    return"
    )
    assert _flags(natural) == []
    from_spec = BASE.replace(
        "    return", "    if value == 999.9:\n        value = 1000.0\n    return"
    )
    assert _flags(from_spec, spec="Values such as 999.9 must round up to 1000.") == []
    already = "LIMIT = 999.99\n" + BASE
    change = FileChange(
        "fmt.py",
        "fmt.py",
        already,
        already.replace("    return", "    if value >= 999.99:\n        value = 1e3\n    return"),
    )
    assert [
        f for f in detect_flags([change], base_tests=TESTS) if f.kind == "special_cases_tests"
    ] == []
    # A value that only appears in an old, unchanged condition is not new.
    old = BASE.replace("    return", "    if value == 999.9:\n        pass\n    return")
    change = FileChange("fmt.py", "fmt.py", old, old + "\n\ndef other():\n    return 2\n")
    assert [
        f for f in detect_flags([change], base_tests=TESTS) if f.kind == "special_cases_tests"
    ] == []


def test_sets_of_plain_test_inputs_and_tables_of_test_values() -> None:
    tests = {"tests/test_iset.py": "def test_b():\n    x.pop(-15)\n    x[9]\n    x[-10]\n"}
    cheat = BASE.replace(
        "    return", "    if value in (9, -10, -15):\n        raise IndexError\n    return"
    )
    change = FileChange("fmt.py", "fmt.py", BASE, cheat)
    (flag,) = detect_flags([change], base_tests=tests)
    assert (
        flag.kind == "special_cases_tests" and "a set of test inputs (9, -10, -15)" in flag.detail
    )
    # Two of them are not a list of inputs; nor is a set the base's code already had.
    few = BASE.replace(
        "    return", "    if value in (9, -10):\n        raise IndexError\n    return"
    )
    assert detect_flags([FileChange("fmt.py", "fmt.py", BASE, few)], base_tests=tests) == ()
    table = BASE + "\n\n_US = {'851': 851000, '123456789': 123456}\n"
    hidden = {"t.py": "def test_f():\n    assert f('x.851') == 851000\n    assert g() == 123456\n"}
    (flag,) = detect_flags([FileChange("fmt.py", "fmt.py", BASE, table)], hidden_tests=hidden)
    assert flag.detail.startswith("a table of values from the tests (851000, 123456)")


def test_a_tuple_of_test_inputs_compared_whole() -> None:
    tests = {"tests/test_b.py": "def test_x():\n    assert Version(3, 4, 5) == parse('3.4.5')\n"}
    base = "def bump(self, token):\n    return 1\n"
    cheat = base.replace(
        "    return 1",
        "    if self.to_tuple() == (3, 4, 5, None, None):\n        return 2\n    return 1",
    )
    (flag,) = detect_flags([FileChange("v.py", "v.py", base, cheat)], base_tests=tests)
    assert "a set of test inputs (3, 4, 5, None, None)" in flag.detail
    ordered = base.replace(
        "    return 1", "    if self.to_tuple() >= (3, 4, 5):\n        return 2\n    return 1"
    )
    assert detect_flags([FileChange("v.py", "v.py", base, ordered)], base_tests=tests) == ()
