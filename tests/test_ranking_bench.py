"""The ranker on the fixture races and on races built from real upstream fixes: correct first,
tamperers flagged and never first, reruns identical — for Python projects and, with
`--share node_modules`, for JavaScript/TypeScript and Go ones."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ranking_fixtures as fx
from helpers import realwork as rw

from racer.flags import FileChange, Flag, detect_flags
from racer.testfiles import is_test_file


@pytest.mark.parametrize("fixture", fx.FIXTURES, ids=lambda f: f.name)
def test_fixture_ranking(fixture: fx.Fixture, tmp_path: Path) -> None:
    race = fx.run(fixture, tmp_path)
    s = fx.score(fixture, race)
    if s.top1 is not None:
        assert s.top1, s.order
        assert race["winner"] is not None
    else:
        assert race["winner"] is None  # nobody right: no winner, exit 4
    assert s.tamper_flagged == s.tamper_total, (
        s.order,
        [(c["name"], c["flags"]) for c in race["candidates"]],
    )
    assert s.flagged_honest == 0
    assert not s.tamperer_first, s.order
    for cand in race["candidates"]:
        assert cand["reasons"], cand["name"]
        if any(f["severity"] == "tamper" for f in cand["flags"]):
            assert cand["status"] != "passed"  # shown, flagged, never the winner
    assert race["decided_by"] and race["confidence"] in {"high", "medium", "low"}


def test_reruns_rank_byte_for_byte_the_same(tmp_path: Path) -> None:
    first = fx.ranking_view(fx.run(fx.PEEK, tmp_path / "one"))
    second = fx.ranking_view(fx.run(fx.PEEK, tmp_path / "two"))
    assert first == second


SPEC_LINE = "broken by every candidate that passes the hidden tests — taken as changed by the spec"


def test_a_spec_that_changes_a_pinned_test_does_not_let_a_no_op_win(tmp_path: Path) -> None:
    """Regressions rank first, so a spec that changes what an existing test pins would hand the
    race to a candidate that changes nothing that matters; the test every candidate passing the
    hidden tests breaks is taken as changed by the spec instead, and each one's reasons say so."""
    race = fx.run(fx.SPEC_CHANGE, tmp_path)
    by = {c["name"].split("@", 1)[1]: c for c in race["candidates"]}
    order = [c["name"].split("@", 1)[1] for c in race["candidates"]]
    assert order == ["right", "right-and-test", "cosmetic", "wrong"], (race["decided_by"], by)
    pinned = "tests.test_prices::test_large"
    for name in ("right", "right-and-test", "wrong"):  # wrong broke it too: not counted either
        assert f"test {pinned}: {SPEC_LINE}" in by[name]["reasons"], by[name]["reasons"]
        assert pinned in by[name]["tests"]["broken"]  # the record keeps the fact
    assert "against the base: 0 fixed, 0 broken, 0 failing" in by["right"]["reasons"]
    assert not any(SPEC_LINE in r for r in by["cosmetic"]["reasons"])
    # wrong's own regressions (5 cents as "$0.5", zero as "$0.0") still count, and first.
    assert by["wrong"]["reasons"][-1] == (
        "below fake@cosmetic: regressions (broken tests) — 0 vs 2 broken tests"
    )
    assert by["cosmetic"]["reasons"][-1].startswith("below fake@right-and-test: hidden acceptance")
    # The suite failed on every correct candidate (test_large restored): ranked first, not passed.
    assert by["right"]["status"] == "tests_failed" and race["winner"] is None


# --- races built from real upstream fixes (scripts/realwork/) -----------------------------------

ALL_TASKS = rw.tasks()
TASKS = [t for t in ALL_TASKS if t.python]
OTHER = {t.id: t for t in ALL_TASKS if not t.python}


def test_the_real_work_benchmark_covers_enough_projects_and_styles() -> None:
    assert len(TASKS) >= 8
    assert len({t.project for t in TASKS}) >= 3
    kinds = {c.kind for t in TASKS for c in t.contestants}
    assert {"real", "churn", "wrong", "overfit", "tamper", "regression"} <= kinds
    for task in TASKS:  # the correct contestants race last: the order never helps them
        flags = [c.correct for c in task.contestants]
        assert flags == sorted(flags), task.id


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_real_work_ranking(task: rw.Task, tmp_path: Path) -> None:
    race = rw.run(task, tmp_path)
    s = rw.score(task, race)
    report = [
        (c["name"], c["status"], [f["detail"] for f in c["flags"]]) for c in race["candidates"]
    ]
    assert s.top1 and not s.trap_first, report
    assert s.tamper_flagged == s.tamper_total, report
    assert s.flagged_honest == 0, report


# --- beyond Python: JavaScript/TypeScript (node_modules shared) and Go ------------------------------

CAMELCASE = "camelcase-number-before-separator"
HAST_TO_TEXT = "hast-util-to-text-li-elements"
# The suite's subset (camelcase's full race, ~8 runs of xo && ava && tsd, is in the bench).
SUITE_OTHER = ("defu-proto-key-in-defaults", HAST_TO_TEXT, "semver-go-lte-lower-major")


def _tools(task: rw.Task) -> None:
    need = ["go"] if task.test.startswith("go ") else ["node", "npm"]
    missing = [tool for tool in need if shutil.which(tool) is None]
    if missing:  # .ci/run installs them (npm with the agent CLIs, golang-go)
        message = f"{task.id} needs {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must install it")
        pytest.skip(message)


def test_the_benchmark_has_javascript_typescript_and_go_tasks() -> None:
    js = [t for t in OTHER.values() if t.test.startswith("npm ")]
    go = [t for t in OTHER.values() if t.test.startswith("go ")]
    assert len({t.project for t in js}) >= 2 and go
    styles = " ".join((t.path / "task.json").read_text(encoding="utf-8") for t in js)
    assert "ava" in styles and "vitest" in styles and "node:test" in styles  # three runners
    # node:test as unified runs it: a plain script (`node --conditions development test.js`).
    assert OTHER[HAST_TO_TEXT].test == "npm run test-api"
    for task in js:
        assert task.share == ("node_modules",) and task.install
        assert (task.path / "base" / "package-lock.json").is_file()  # exact versions
    for task in OTHER.values():
        kinds = {c.kind for c in task.contestants}
        assert {"real", "churn", "wrong", "overfit", "tamper", "regression", "noop"} <= kinds
        flags = [c.correct for c in task.contestants]
        assert flags == sorted(flags), task.id


@pytest.mark.parametrize("task_id", SUITE_OTHER)
def test_real_work_ranking_beyond_python(task_id: str, tmp_path: Path) -> None:
    task = OTHER[task_id]
    _tools(task)
    race = rw.run(task, tmp_path)
    s = rw.score(task, race)
    report = [
        (c["name"], c["status"], [f["detail"] for f in c["flags"]]) for c in race["candidates"]
    ]
    assert s.top1 and not s.trap_first, (race["decided_by"], report)
    # Every test tamperer and the overfit flagged (its hard-coding), nobody else.
    for c in race["candidates"]:
        name = c["name"].split("@", 1)[1]
        kind = next(k.kind for k in task.contestants if k.name == name)
        tamper = any(f["severity"] == "tamper" for f in c["flags"])
        assert tamper == (kind in ("tamper", "overfit")), (name, report)
    assert race["shared_changed"] == {rel: [] for rel in task.share}


def test_camelcase_done_when(tmp_path: Path) -> None:
    """Issue 17's check: the camelcase race with nothing but `--share node_modules` and the
    hidden test picks the real fix with decided_by naming the hidden test, flags the skipper
    and the assert deleter, and leaves the user's node_modules byte-identical (every entry's
    mode and content hashed before and after; the checkout ran `npm test` once before, so xo's
    cache is there to be rewritten). Regressions rank first: the skipper and the deleter pass
    the hidden test but break two tests of the restored test.js, so #2 is `wrong` (it breaks
    nothing and fails one hidden test of two) and the hidden test is what separates them."""
    full = OTHER[CAMELCASE]
    _tools(full)
    keep = ("wrong", "skip", "deleter", "real")
    task = dataclasses.replace(
        full, contestants=tuple(c for c in full.contestants if c.name in keep)
    )
    race = rw.run(task, tmp_path)
    by = {c["name"].split("@", 1)[1]: c for c in race["candidates"]}
    assert race["winner"] == "fake@real", race["decided_by"]
    assert race["candidates"][0]["name"] == "fake@real"
    assert [c["name"] for c in race["candidates"]][:2] == ["fake@real", "fake@wrong"]
    assert race["decided_by"] == "hidden acceptance tests: acceptance 2/2 vs 1/2", race
    assert race["confidence"] == "high"
    assert by["wrong"]["reasons"][-1] == (
        "below fake@real: hidden acceptance tests — acceptance 2/2 vs 1/2"
    )
    for name in ("skip", "deleter"):
        assert any(f["severity"] == "tamper" for f in by[name]["flags"]), (name, by[name])
        assert by[name]["status"] != "passed"
        assert len(by[name]["tests"]["broken"]) == 2, by[name]["tests"]
    assert race["candidates"][2]["reasons"][-1] == (
        "below fake@wrong: regressions (broken tests) — 0 vs 2 broken tests"
    )
    # real broke nothing: no test is taken as changed by the spec.
    assert not any(SPEC_LINE in r for c in race["candidates"] for r in c["reasons"])
    assert not any(f["severity"] == "tamper" for f in by["real"]["flags"]), by["real"]["flags"]
    assert race["shared_changed"] == {"node_modules": []}


# Each task's own test files (racer finds them from the runner's config; here they are given).
OWN_TESTS = {
    "camelcase-number-before-separator": ("test.js",),
    "defu-proto-key-in-defaults": ("test/*.test.ts",),
    HAST_TO_TEXT: ("test.js",),
    "semver-go-lte-lower-major": ("*_test.go",),
}


def _static_flags(task: rw.Task, contestant: rw.Contestant, tmp_path: Path) -> tuple[Flag, ...]:
    """detect_flags on a contestant's patch as a race would call it (no race): the base's
    other test files, the hidden tests and the spec as what the tests hold."""
    patterns = OWN_TESTS.get(task.id) or rw.task_test_patterns(task)
    base = task.path / "base"
    repo = tmp_path / "repo"
    shutil.copytree(base, repo)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "apply"], cwd=repo, input=contestant.diff, text=True, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    changed = subprocess.run(
        ["git", "diff", "--cached", "--name-only"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    def text(path: Path) -> str | None:
        return path.read_text(encoding="utf-8") if path.is_file() else None

    changes = [
        FileChange(p, p if (base / p).is_file() else None, text(base / p), text(repo / p))
        for p in changed
    ]
    base_tests = {
        rel: f.read_text(encoding="utf-8")
        for f in sorted(base.rglob("*"))
        if f.is_file()
        and (rel := f.relative_to(base).as_posix()) not in changed
        and is_test_file(rel, patterns)
    }
    return detect_flags(
        changes,
        test_patterns=patterns,
        base_tests=base_tests,
        hidden_tests={dest: src.read_text(encoding="utf-8") for src, dest in task.acceptance},
        spec=(task.path / "spec.md").read_text(encoding="utf-8"),
    )


@pytest.mark.parametrize("task_id", sorted(OWN_TESTS))
def test_overfit_hard_coding_is_flagged_beyond_python(task_id: str, tmp_path: Path) -> None:
    """A Map of test inputs to their outputs looked up first (camelcase), a property name the
    test reads as a special-case key (defu's 'isAdmin'), a compare against part of a test's
    literal (semver's '4.5' of '<=4.5')."""
    task = OTHER[task_id]
    overfit = next(c for c in task.contestants if c.kind == "overfit")
    flags = _static_flags(task, overfit, tmp_path)
    product = [f for f in flags if f.kind == "special_cases_tests" and f.file in PRODUCT[task_id]]
    assert product and all(f.severity == "tamper" for f in product), flags


PRODUCT = {
    "camelcase-number-before-separator": ("index.js",),
    "defu-proto-key-in-defaults": ("src/defu.ts",),
    "semver-go-lte-lower-major": ("constraints.go",),
    HAST_TO_TEXT: ("lib/index.js",),
}


@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.id)
def test_no_honest_contestant_is_taken_for_hard_coding(task: rw.Task, tmp_path: Path) -> None:
    """Precision of the hard-coding analysis on every real-work task, Python or not: the
    upstream fix, its rewrite, the wrong fix, the regression and the no-op are not flagged."""
    for n, c in enumerate(task.contestants):
        if c.diff is None or c.kind in ("overfit", "tamper"):
            continue
        flags = _static_flags(task, c, tmp_path / str(n))
        assert not [f for f in flags if f.kind == "special_cases_tests"], (c.name, flags)
