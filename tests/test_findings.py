"""The reviewer's and test writer's JSON contract (racer.findings), pure functions only; and
racer.reviewing.file_results, which turns JUnit cases into per-file results."""

from __future__ import annotations

import json
import re
import string
import time
from typing import Any

import pytest

from racer.findings import (
    FAILED,
    MAX_FINDINGS,
    MAX_TEST_BYTES,
    MISSING,
    PASSED,
    REVIEW_DIR,
    WRONG,
    ContractError,
    generated_results,
    labels_for,
    last_object_with,
    line_in_diff,
    parse_review,
    parse_tests,
    review_prompt,
    safe_path,
    verify_finding,
)
from racer.report import Finding, ReviewTest
from racer.reviewing import file_results
from racer.status import Verification
from racer.testfiles import DEFAULT_TEST_PATTERNS

PATTERNS = DEFAULT_TEST_PATTERNS
LABELS = {"A": "alpha", "B": "beta"}
TEST = {"path": "tests/test_review_div.py", "content": "def test_x():\n    assert 1 / 2 == 0.5\n"}


def finding(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "candidate": "A",
        "file": "calc/ops.py",
        "line": 9,
        "severity": "high",
        "claim": "floors",
        "test": dict(TEST),
    }
    raw.update(over)
    return {k: v for k, v in raw.items() if v is not ...}


def review(*items: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"findings": list(items), **extra})


def contract_error(text: str) -> str:
    with pytest.raises(ContractError) as info:
        parse_review(text, LABELS, PATTERNS)
    return str(info.value)


# --- labels ------------------------------------------------------------------------------------


def test_labels_are_a_stable_permutation_of_the_names() -> None:
    names = ["claude", "codex", "gemini", "qwen"]
    labels = labels_for("race-1", names)
    assert list(labels) == ["A", "B", "C", "D"]
    assert sorted(labels.values()) == sorted(names)
    assert labels_for("race-1", names) == labels
    assert labels_for("race-1", list(reversed(names))) == labels  # the input order is not shown


def test_labels_differ_across_race_ids() -> None:
    names = ["claude", "codex", "gemini"]
    assert list(labels_for("r1", names).values()) == ["gemini", "codex", "claude"]
    assert list(labels_for("r2", names).values()) == ["codex", "gemini", "claude"]


def test_at_most_26_labels() -> None:
    labels = labels_for("r", [f"n{i:02}" for i in range(30)])
    assert list(labels) == list(string.ascii_uppercase)
    assert len(set(labels.values())) == 26
    assert labels_for("r", []) == {}


# --- finding the JSON object -------------------------------------------------------------------


def test_a_bare_object_in_prose() -> None:
    text = 'I looked.\n{"findings": [1], "summary": "s"}\nDone.'
    assert last_object_with(text, "findings") == {"findings": [1], "summary": "s"}


def test_a_fenced_object() -> None:
    text = 'Here:\n```json\n{"findings": [2]}\n```\n'
    assert last_object_with(text, "findings") == {"findings": [2]}


def test_the_last_of_two_objects_with_the_key() -> None:
    text = 'draft {"findings": [1]} final {"findings": [2]}'
    assert last_object_with(text, "findings") == {"findings": [2]}


def test_a_later_bare_object_beats_an_earlier_fenced_one() -> None:
    text = '```json\n{"findings": [1]}\n```\nActually: {"findings": [2]}'
    assert last_object_with(text, "findings") == {"findings": [2]}


def test_a_later_fenced_object_beats_an_earlier_bare_one() -> None:
    text = '{"findings": [1]}\n```json\n{"findings": [2]}\n```'
    assert last_object_with(text, "findings") == {"findings": [2]}


def test_objects_without_the_key_are_ignored() -> None:
    text = '{"findings": [1]} and later {"other": 2} and {"tests": []}'
    assert last_object_with(text, "findings") == {"findings": [1]}
    assert last_object_with(text, "missing") is None
    assert last_object_with("no json at all", "findings") is None


def test_an_object_escaped_inside_a_json_string_is_not_the_answer() -> None:
    inner = 'EXPECTED = {"findings": ["fake"]}\n'
    answer = {"findings": [{"test": {"path": "tests/test_x.py", "content": inner}}]}
    for text in (json.dumps(answer), f"```json\n{json.dumps(answer, indent=2)}\n```"):
        assert last_object_with(text, "findings") == answer


@pytest.mark.parametrize("fenced", [False, True])
def test_an_object_nested_in_the_answer_is_not_the_answer(fenced: bool) -> None:
    answer = {"findings": [{"candidate": "A"}], "notes": {"findings": []}}
    body = json.dumps(answer, indent=2)
    text = f"```json\n{body}\n```" if fenced else f"Result:\n{body}\n"
    assert last_object_with(text, "findings") == answer


def test_an_object_after_a_colon_is_found() -> None:
    # Preceded by ":", it might be nested: the earlier braces are checked, none encloses it.
    text = 'My {"draft": 1} answer: {"findings": [3]}'
    assert last_object_with(text, "findings") == {"findings": [3]}


@pytest.mark.parametrize(
    "garbage",
    [
        "{" * 200_000,
        "{ x } {" * 50_000,
        '{"findings": ' * 100_000,  # deeper than the decoder's recursion limit
        '{"findings": [' * 100_000,
        "x\n" * 1_000_000 + "{" * 5000,
        "```json\n" + "[" * 100_000 + "\n```",
    ],
)
def test_garbage_gives_none_not_an_exception(garbage: str) -> None:
    began = time.monotonic()
    assert last_object_with(garbage, "findings") is None
    print(f"{len(garbage)} characters in {time.monotonic() - began:.2f} s")  # informal


def test_deep_garbage_is_a_contract_error_not_a_crash() -> None:
    assert "no JSON object" in contract_error('{"findings": [' * 100_000)


# --- parse_review --------------------------------------------------------------------------------


def test_a_valid_review() -> None:
    text = "Review done.\n```json\n" + review(
        finding(),
        finding(candidate="b", test=None, line=None, severity="LOW", claim="one\n  two\tthree"),
        summary="all\nin one line",
    )
    found, summary = parse_review(text + "\n```", LABELS, PATTERNS)
    first, second = found
    assert (first.label, first.candidate, first.severity) == ("A", "alpha", "high")
    assert (first.file, first.line, first.claim) == ("calc/ops.py", 9, "floors")
    assert first.test == ReviewTest(TEST["path"], TEST["content"])
    assert first.outcome == Verification.NOT_RUN
    # A lowercase label is accepted; a finding without a test is advice.
    assert (second.label, second.candidate, second.severity) == ("B", "beta", "low")
    assert second.test is None and second.line is None
    assert second.outcome == Verification.ADVISORY
    assert second.claim == "one two three"
    assert summary == "all in one line"


def test_no_findings_is_a_fine_answer() -> None:
    assert parse_review('{"findings": []}', LABELS, PATTERNS) == ((), None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Looks good to me.", 'no JSON object with "findings"'),
        ('{"summary": "x"}', 'no JSON object with "findings"'),
        ('{"findings": {"candidate": "A"}}', '"findings" must be a list'),
        ('{"findings": "none"}', '"findings" must be a list'),
        ('{"findings": [1]}', "findings[0] must be an object"),
    ],
)
def test_a_review_without_a_findings_list(text: str, message: str) -> None:
    assert message in contract_error(text)


def test_more_than_ten_findings() -> None:
    items = [finding(test=None) for _ in range(MAX_FINDINGS)]
    assert len(parse_review(review(*items), LABELS, PATTERNS)[0]) == MAX_FINDINGS
    assert "at most 10" in contract_error(review(*items, finding(test=None)))


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"candidate": "C"}, "candidate must be one of A, B, got 'C'"),
        ({"candidate": "alpha"}, "candidate must be one of"),  # a name is not a label
        ({"candidate": 1}, "candidate must be one of"),
        ({"candidate": ...}, "candidate must be one of"),
        ({"severity": "critical"}, "severity must be high, medium or low"),
        ({"severity": ...}, "severity must be"),
        ({"line": 0}, "line must be a line number"),
        ({"line": -3}, "line must be a line number"),
        ({"line": "3"}, "line must be a line number"),
        ({"line": True}, "line must be a line number"),
        ({"line": 2.5}, "line must be a line number"),
        ({"claim": ...}, "findings[0].claim must be a non-empty string"),
        ({"claim": "  \n "}, "claim must be a non-empty string"),
        ({"claim": 3}, "claim must be a non-empty string"),
        ({"file": ...}, "findings[0].file must be a non-empty string"),
        ({"file": "/etc/passwd"}, "outside the repository"),
        ({"test": "tests/test_x.py"}, "findings[0].test must be an object"),
    ],
)
def test_a_bad_finding(over: dict[str, Any], message: str) -> None:
    assert message in contract_error(review(finding(**over)))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/tmp/tests/test_x.py", "outside the repository"),
        ("../tests/test_x.py", "outside the repository"),
        ("tests/../../test_x.py", "outside the repository"),
        (".git/x", "inside .git"),
        (".git/hooks/test_x.py", "inside .git"),
        ("a/.git/b", "inside .git"),
        ("tests/../.git/test_x.py", "inside .git"),
        (".GIT/hooks/test_x.py", "inside .git"),  # the same directory on macOS
        ("calc/ops.py", "is not a test file"),
        ("", "must be a non-empty string"),
        (None, "must be a non-empty string"),
    ],
)
def test_a_bad_test_path(path: object, message: str) -> None:
    text = review(finding(test={"path": path, "content": TEST["content"]}))
    assert message in contract_error(text)


def test_test_content_is_required_and_at_most_64_kb() -> None:
    def with_content(content: object) -> str:
        return review(finding(test={"path": TEST["path"], "content": content}))

    assert "content must be the test file's text" in contract_error(with_content(""))
    assert "content must be the test file's text" in contract_error(with_content(None))
    fits = "#" * (MAX_TEST_BYTES - 1) + "\n"
    assert parse_review(with_content(fits), LABELS, PATTERNS)[0][0].test is not None
    assert "over 64 KB" in contract_error(with_content(fits + "x"))
    # Bytes, not characters: 30 000 three-byte characters are over 64 KB.
    assert "over 64 KB" in contract_error(with_content("# " + "é" * 40_000))


def test_two_tests_with_the_same_path() -> None:
    same = {"path": "./tests//test_review_div.py", "content": "def test_y():\n    pass\n"}
    text = review(finding(), finding(candidate="B", test=same))
    assert "same path" in contract_error(text)


def test_a_test_path_is_normalised() -> None:
    test = {"path": " tests\\sub/./test_review_x.py ", "content": "x = 1\n"}
    found, _ = parse_review(review(finding(test=test)), LABELS, PATTERNS)
    assert found[0].test is not None and found[0].test.path == "tests/sub/test_review_x.py"


def test_a_long_claim_is_cut() -> None:
    found, _ = parse_review(review(finding(claim="x " * 5000)), LABELS, PATTERNS)
    assert len(found[0].claim) == 2000 and "\n" not in found[0].claim


def test_the_last_review_object_wins() -> None:
    text = review(finding(claim="draft")) + "\n\nFinal:\n" + review(finding(claim="final"))
    assert parse_review(text, LABELS, PATTERNS)[0][0].claim == "final"


# --- parse_tests ---------------------------------------------------------------------------------


def test_a_valid_test_writer_answer() -> None:
    text = "```json\n" + json.dumps({"tests": [TEST, {"path": "test_b.py", "content": "x"}]})
    tests = parse_tests(text + "\n```", PATTERNS)
    assert tests == (ReviewTest(TEST["path"], TEST["content"]), ReviewTest("test_b.py", "x"))
    assert parse_tests('{"tests": []}', PATTERNS) == ()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("no json", 'no JSON object with "tests"'),
        ({"findings": []}, 'no JSON object with "tests"'),
        ({"tests": {"path": "tests/test_a.py"}}, '"tests" must be a list'),
        ({"tests": [dict(TEST)] * 11}, "11 test files: the contract allows at most 10"),
        ({"tests": ["tests/test_a.py"]}, "tests[0] must be an object"),
        ({"tests": [{"path": "calc/ops.py", "content": "x"}]}, "is not a test file"),
        ({"tests": [{"path": "/tests/test_a.py", "content": "x"}]}, "outside the repository"),
        ({"tests": [{"path": "tests/../../x/test_a.py", "content": "x"}]}, "outside"),
        ({"tests": [{"path": "a/.git/test_a.py", "content": "x"}]}, "inside .git"),
        ({"tests": [{"path": "tests/test_a.py"}]}, "content must be the test file's text"),
        ({"tests": [{"path": "tests/test_a.py", "content": "x" * 65537}]}, "over 64 KB"),
        ({"tests": [dict(TEST), dict(TEST)]}, "two test files have the same path"),
    ],
)
def test_a_bad_test_writer_answer(answer: object, message: str) -> None:
    text = answer if isinstance(answer, str) else json.dumps(answer)
    with pytest.raises(ContractError, match=re.escape(message)):
        parse_tests(text, PATTERNS)


def test_custom_test_patterns_decide_what_a_test_file_is() -> None:
    text = json.dumps({"tests": [{"path": "checks/check_a.py", "content": "x"}]})
    assert parse_tests(text, ["checks/**"])[0].path == "checks/check_a.py"
    with pytest.raises(ContractError, match="not a test file"):
        parse_tests(text, PATTERNS)


# --- safe_path -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tests/test_a.py", "tests/test_a.py"),
        ("./tests//test_a.py", "tests/test_a.py"),
        ("tests/sub/../test_a.py", "tests/test_a.py"),
        ("tests\\test_a.py", "tests/test_a.py"),
        ("  tests/test_a.py\n", "tests/test_a.py"),
        ("a.git/b", "a.git/b"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        (".gitignore", ".gitignore"),
    ],
)
def test_safe_path_accepts(value: str, expected: str) -> None:
    assert safe_path(value, "p") == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        None,
        3,
        ["tests/test_a.py"],
        "/abs/test_a.py",
        "\\abs\\test_a.py",
        "..",
        "../x",
        "a/../../x",
        ".",
        "a/..",
        ".git",
        ".git/config",
        "a/.git/b",
        "x/../.git/config",
        ".Git/config",
        "tests/a\x00b.py",
        "tests/a\nb.py",
    ],
)
def test_safe_path_rejects(value: object) -> None:
    with pytest.raises(ContractError, match=r"^p "):
        safe_path(value, "p")


# --- verify_finding ------------------------------------------------------------------------------


def made(candidate: str = "alpha", test: bool = True) -> Finding:
    return Finding(
        label="A",
        candidate=candidate,
        file="calc/ops.py",
        line=9,
        severity="high",
        claim="floors",
        test=ReviewTest(TEST["path"], TEST["content"]) if test else None,
        outcome=Verification.NOT_RUN if test else Verification.ADVISORY,
    )


@pytest.mark.parametrize(
    ("results", "base", "outcome", "separates"),
    [
        ({"alpha": FAILED, "beta": PASSED}, FAILED, Verification.REPRODUCED, True),
        ({"alpha": FAILED, "beta": PASSED}, PASSED, Verification.REPRODUCED, True),
        ({"alpha": FAILED, "beta": FAILED}, FAILED, Verification.REPRODUCED, False),
        ({"alpha": FAILED, "beta": WRONG}, WRONG, Verification.REPRODUCED, False),
        ({"alpha": FAILED}, MISSING, Verification.REPRODUCED, False),
        ({"alpha": PASSED, "beta": FAILED}, FAILED, Verification.NOT_REPRODUCED, False),
        ({"alpha": PASSED, "beta": PASSED}, PASSED, Verification.NOT_REPRODUCED, False),
        # it cannot even run on alpha (say, it imports beta's own helper): shown, never ranked
        ({"alpha": WRONG, "beta": PASSED}, WRONG, Verification.REPRODUCED, False),
        ({"alpha": WRONG, "beta": WRONG}, WRONG, Verification.BROKEN_TEST, False),
        ({"alpha": WRONG, "beta": MISSING}, MISSING, Verification.BROKEN_TEST, False),
        ({"alpha": MISSING, "beta": PASSED}, FAILED, Verification.NOT_RUN, False),
        ({"beta": FAILED}, FAILED, Verification.NOT_RUN, False),
    ],
)
def test_verify_finding(
    results: dict[str, str], base: str, outcome: Verification, separates: bool
) -> None:
    done = verify_finding(made(), results, base)
    assert (done.outcome, done.separates) == (outcome, separates)
    assert done.results == results and done.base == base
    assert done.results is not results  # a copy: the record owns it


def test_an_advisory_finding_is_left_alone() -> None:
    advice = made(test=False)
    assert verify_finding(advice, {"alpha": FAILED, "beta": PASSED}, FAILED) is advice


# --- generated_results ---------------------------------------------------------------------------

GEN = ReviewTest("tests/test_accept_div.py", "x")
M = "tests.test_accept_div"


def test_generated_counts_only_what_fails_on_the_base_and_some_candidate_passes() -> None:
    base = {f"{M}::test_new": "failed", f"{M}::test_err": "error", f"{M}::test_old": "passed"}
    base[f"{M}::test_nobody"] = "failed"
    runs = {
        "alpha": {
            f"{M}::test_new": "passed",
            f"{M}::test_err": "passed",
            f"{M}::test_old": "passed",
            f"{M}::test_nobody": "failed",
        },
        "beta": {
            f"{M}::test_new": "failed",
            f"{M}::test_err": "passed",
            f"{M}::test_old": "failed",
            f"{M}::test_nobody": "error",
        },
    }
    g = generated_results(GEN, base, runs)
    assert (g.path, g.content) == (GEN.path, GEN.content)
    assert g.counted == (f"{M}::test_err", f"{M}::test_new")
    assert g.discounted == (f"{M}::test_nobody",)
    assert g.passes_on_base == (f"{M}::test_old",)
    assert g.passed == {"alpha": 2, "beta": 1}


def test_a_module_that_does_not_collect_on_the_base_makes_every_id_new() -> None:
    runs = {
        "alpha": {f"{M}::test_a": "passed", f"{M}::test_b": "passed"},
        "beta": {M: "error"},  # beta's tree did not collect it either
    }
    for outcome in ("error", "failed"):
        g = generated_results(GEN, {M: outcome}, runs)
        assert g.counted == (f"{M}::test_a", f"{M}::test_b")
        assert g.passed == {"alpha": 2, "beta": 0}
        assert g.discounted == () and g.passes_on_base == ()


def test_ids_the_base_never_ran_do_not_count() -> None:
    runs = {"alpha": {f"{M}::test_a": "passed"}}
    g = generated_results(GEN, {}, runs)
    assert g.counted == g.discounted == g.passes_on_base == ()
    assert g.passed == {"alpha": 0}
    skipped = generated_results(GEN, {M: "skipped"}, runs)  # not a collection error
    assert skipped.counted == ()


def test_a_base_that_collects_nothing_does_not_make_passing_ids_new() -> None:
    base = {M: "error", f"{M}::test_old": "passed"}
    runs = {"alpha": {f"{M}::test_old": "passed", f"{M}::test_new": "passed"}}
    g = generated_results(GEN, base, runs)
    assert g.counted == (f"{M}::test_new",)
    assert g.passes_on_base == (f"{M}::test_old",)


# --- review_prompt -------------------------------------------------------------------------------

DIFF = """diff --git a/calc/ops.py b/calc/ops.py
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,2 @@
 def safe_div(a, b):
-    return a // b
+    return a / b
"""


def test_the_prompt_shows_each_labelled_diff_and_no_name() -> None:
    labels = labels_for("race-7", ["claude-opus", "codex-gpt5"])
    diffs = {label: DIFF.replace("a / b", f"a / b  # {label}") for label in labels}
    prompt = review_prompt("Divide", "safe_div must divide truly.", diffs)
    assert "# Task: Divide" in prompt and "safe_div must divide truly." in prompt
    for label in labels:
        section = prompt.split(f"## Candidate {label}\n", 1)[1].split("## Candidate", 1)[0]
        assert f"# {label}\n" in section and "```diff\n" in section
    for name in labels.values():
        assert name not in prompt
    assert "cut at" not in prompt
    assert "labelled A, B." in prompt


def test_long_diffs_are_cut_with_a_note() -> None:
    big = DIFF + "+" + "y" * 1_000_000 + "\n"
    prompt = review_prompt("T", "body", {"A": DIFF, "B": big, "C": big})
    assert len(prompt) < 100_000
    assert f"whole diff is in {REVIEW_DIR}/B.diff" in prompt
    assert f"whole diff is in {REVIEW_DIR}/C.diff" in prompt
    assert f"{REVIEW_DIR}/A.diff" not in prompt


def test_three_huge_diffs_stay_under_the_argv_limit() -> None:
    ascii_diff = "+" + "y" * 1_000_000
    wide = "+" + "日本語" * 400_000  # three bytes a character
    for diff in (ascii_diff, wide):
        prompt = review_prompt("T", "body", {"A": diff, "B": diff, "C": diff})
        assert len(prompt) < 100_000
        # Linux's MAX_ARG_STRLEN (128 KiB) counts bytes.
        assert len(prompt.encode("utf-8")) < 128 * 1024
        assert prompt.count("(cut at ") == 3


# --- line_in_diff --------------------------------------------------------------------------------

TWO_FILES = """diff --git a/calc/ops.py b/calc/ops.py
index 1111111..2222222 100644
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,5 @@
 def safe_div(a, b):
-    return a // b
+    if b == 0:
+        return None
+    return a / b
 # tail
@@ -10,2 +11,2 @@ def other():
-    return 1
+    return 2
     # end
diff --git a/calc/new.py b/calc/new.py
new file mode 100644
--- /dev/null
+++ b/calc/new.py
@@ -0,0 +1,2 @@
+X = 1\r
+Y = 2
"""


@pytest.mark.parametrize(
    ("path", "line", "text"),
    [
        ("calc/ops.py", 1, "def safe_div(a, b):"),
        ("calc/ops.py", 2, "    if b == 0:"),
        ("calc/ops.py", 4, "    return a / b"),
        ("calc/ops.py", 5, "# tail"),
        ("calc/ops.py", 11, "    return 2"),
        ("calc/ops.py", 12, "    # end"),
        ("calc/ops.py", 6, None),  # between hunks: the diff does not show it
        ("calc/ops.py", 99, None),
        ("calc/ops.py", 0, None),
        ("calc/ops.py", None, None),
        ("calc/new.py", 1, "X = 1"),
        ("calc/new.py", 2, "Y = 2"),
        ("calc/other.py", 1, None),
        ("ops.py", 1, None),
    ],
)
def test_line_in_diff(path: str, line: int | None, text: str | None) -> None:
    assert line_in_diff(TWO_FILES, path, line) == text


@pytest.mark.parametrize(
    "diff", ["", "garbage", "@@ -x +y @@\n", "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n"]
)
def test_line_in_an_unreadable_diff_is_none(diff: str) -> None:
    assert line_in_diff(diff, "x", 1) is None


# --- reviewing.file_results ----------------------------------------------------------------------

RA, RB = "tests/test_review_a.py", "tests/test_review_b.py"
MA, MB = "tests.test_review_a", "tests.test_review_b"


def test_file_results_per_file() -> None:
    cases = [
        (f"{MA}::test_x", "passed", ""),
        (f"{MA}::test_y", "passed", ""),
        (f"{MB}::test_x", "passed", ""),
        (f"{MB}::test_y", "failed", "AssertionError: assert 3 == 3.5"),
    ]
    assert file_results(cases, [RA, RB]) == {RA: PASSED, RB: FAILED}


def test_file_results_missing_and_skipped() -> None:
    cases = [(f"{MA}::test_x", "skipped", ""), ("tests.test_other::test_x", "failed", "")]
    assert file_results(cases, [RA, RB]) == {RA: MISSING, RB: MISSING}
    assert file_results([], [RA]) == {RA: MISSING}


def test_a_collection_error_is_a_wrong_test() -> None:
    cases = [(MA, "error", "ImportError while importing test module"), (f"{MB}::t", "passed", "")]
    assert file_results(cases, [RA, RB]) == {RA: WRONG, RB: PASSED}
    # Any outcome but passed on the module id itself: it did not collect.
    assert file_results([(MA, "failed", "")], [RA]) == {RA: WRONG}


@pytest.mark.parametrize(
    "message",
    [
        "NameError: name 'safe_div' is not defined",
        "ModuleNotFoundError: No module named 'calc.opz'",
        "fixture 'tmp_dir' not found",
        "SyntaxError: invalid syntax",
    ],
)
def test_a_test_that_cannot_run_is_wrong(message: str) -> None:
    cases = [(f"{MA}::test_x", "passed", ""), (f"{MA}::test_y", "error", message)]
    assert file_results(cases, [RA]) == {RA: WRONG}


def test_a_name_error_in_a_passing_test_is_no_error() -> None:
    assert file_results([(f"{MA}::test_x", "passed", "NameError")], [RA]) == {RA: PASSED}


def test_file_results_class_ids_and_similar_module_names() -> None:
    cases = [
        (f"{MA}.TestDiv::test_x", "failed", "assert 3 == 3.5"),
        ("tests.test_review_ab::test_x", "failed", "NameError"),  # another module
    ]
    assert file_results(cases, [RA]) == {RA: FAILED}


def test_only_a_failure_that_starts_with_the_error_is_a_test_that_cannot_run() -> None:
    failed = [(f"{MA}::test_x", "failed", "NameError: name 'safe_div' is not defined")]
    assert file_results(failed, [RA]) == {RA: WRONG}
    about = [(f"{MA}::test_x", "failed", "AssertionError: assert 'NameError' in 'fixture list'")]
    assert file_results(about, [RA]) == {RA: FAILED}
