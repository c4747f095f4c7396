#!/usr/bin/env python3
"""Reviewer benchmark: does racer's reviewer help on real work (scripts/realwork/), and can it be
fooled? Every task races five times, each in its own scratch repo, with the same candidates and
no hidden acceptance tests:

    none      no reviewer: the repo's tests are all the evidence (what a user without
              acceptance tests gets)
    oracle    --review fake@oracle: one finding per reviewed label whose test is the task's
              hidden acceptance test file (the upstream fix's tests)
    liar      a high-severity defect claimed in every label, its test passes everywhere
              (must be "not reproduced")
    broken    tests with a NameError and with an import of a module that does not exist
              (must be "broken test")
    advisory  findings without tests (must stay "advisory")

The adversarial reviewers must leave race 1's candidate order as it was. Prints a table per task,
then totals against the ideal (every winner correct) and oracle vs no reviewer side by side.

A second section (--no-own-tests alone) races agents that bring no tests: every candidate's patch
is stripped of its test files first (a patch left empty is a no-op), so "other candidates' tests"
cannot rank the wrong-but-plausible candidate down and only size and the like separate it from a
correct one, which is what a reviewer is for. There each task races three times: none, oracle and
liar. The default run does both sections and prints them side by side.

    python scripts/bench_review.py [--keep DIR] [--only ID] [--jobs N] [--no-own-tests]
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import realwork as rw  # the real-work races live with the tests

KINDS = ("none", "oracle", "liar", "broken", "advisory")
ADVERSARIAL = ("liar", "broken", "advisory")
BARE_KINDS = ("none", "oracle", "liar")  # the races of the no-own-tests section
BARE = "no own tests"  # TaskResult.mode of that section
TITLES = {
    "none": "no reviewer",
    "oracle": "oracle reviewer",
    "liar": "liar",
    "broken": "broken tests",
    "advisory": "advisory only",
}
EXPECTED = {"liar": "not reproduced", "broken": "broken test", "advisory": "advisory"}
REVIEW_TOP = 3  # racer's default review_top: it reviews at most this many passing candidates
NO_SUCH_MODULE = "racer_bench_no_such_module"


def short(name: str | None) -> str:
    return name.split("@", 1)[1] if name and "@" in name else str(name)


def ratio(n: int, d: int) -> str:
    return f"{n}/{d}"


# --- what the reviewers say -----------------------------------------------------------------------


def product_module(task: rw.Task) -> tuple[str, str]:
    """(module the hidden tests import from the project, its file in the base tree)."""
    base = task.path / "base"
    for src, _ in task.acceptance:
        for node in ast.walk(ast.parse(src.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                rel = name.replace(".", "/")
                for prefix in ("", "src/"):
                    for candidate in (f"{prefix}{rel}.py", f"{prefix}{rel}/__init__.py"):
                        if (base / candidate).is_file():
                            return name, candidate
    raise ValueError(f"{task.id}: the hidden tests import nothing from the project")


def oracle_path(label: str) -> str:
    return f"tests/test_review_hidden_{label.lower()}.py"


def hidden_text(task: rw.Task) -> str:
    return "\n\n".join(src.read_text(encoding="utf-8") for src, _ in task.acceptance)


def findings_for(kind: str, task: rw.Task, labels: Sequence[str]) -> list[dict[str, Any]]:
    module, file = product_module(task)
    out: list[dict[str, Any]] = []
    for label in labels:
        low = label.lower()
        if kind == "oracle":
            out.append(
                {
                    "candidate": label,
                    "file": file,
                    "line": 1,
                    "severity": "high",
                    "claim": "does not do what the task asks: the task's acceptance tests fail",
                    "test": {"path": oracle_path(label), "content": hidden_text(task)},
                }
            )
        elif kind == "liar":
            content = (
                "import importlib\n\n\n"
                f"def test_{low}_is_broken():\n"
                f"    assert importlib.import_module({module!r}) is not None\n"
            )
            out.append(
                {
                    "candidate": label,
                    "file": file,
                    "line": 1,
                    "severity": "high",
                    "claim": f"{module} corrupts its state on import: every caller is broken",
                    "test": {"path": f"tests/test_review_liar_{low}.py", "content": content},
                }
            )
        elif kind == "broken":
            name_error = (
                "import importlib\n\n\n"
                f"def test_{low}_loses_data():\n"
                f"    module = importlib.import_module({module!r})\n"
                "    assert undefined_helper(module)  # noqa: F821\n"
            )
            no_module = (
                f"from {NO_SUCH_MODULE} import reference_implementation\n\n\n"
                f"def test_{low}_matches_reference():\n"
                "    assert reference_implementation()\n"
            )
            for what, content in (("nameerror", name_error), ("nomodule", no_module)):
                out.append(
                    {
                        "candidate": label,
                        "file": file,
                        "line": 1,
                        "severity": "high",
                        "claim": f"loses data on every call ({what})",
                        "test": {"path": f"tests/test_review_{what}_{low}.py", "content": content},
                    }
                )
        elif kind == "advisory":
            out.append(
                {
                    "candidate": label,
                    "file": file,
                    "line": 1,
                    "severity": "high",
                    "claim": "off-by-one in the main loop: drops the last element",
                }
            )
    return out


def reviewer_scenario(kind: str, task: rw.Task, labels: Sequence[str]) -> dict[str, Any]:
    body = json.dumps(
        {"findings": findings_for(kind, task, labels), "summary": f"{kind} review"}, indent=1
    )
    return {"say": f"Review done.\n```json\n{body}\n```", "cost_usd": 0.0}


def preflight(task: rw.Task, labels: Sequence[str], where: Path) -> list[str]:
    """Problems with the reviewers' tests themselves, checked on the upstream fix: the oracle's
    files must pass from their paths (imports work there), the liar's too, the broken ones not."""
    real = next((c for c in task.contestants if c.kind == "real"), None)
    if real is None or real.diff is None or not labels:
        return []
    tree = where / "tree"
    shutil.copytree(task.path / "base", tree)
    subprocess.run(["git", "apply", "-"], input=real.diff, text=True, cwd=tree, check=True)
    problems = []
    test = task.test.replace("python ", f"{sys.executable} ", 1).split()
    for kind, must_pass in (("oracle", True), ("liar", True), ("broken", False)):
        paths = []
        for f in findings_for(kind, task, labels):
            target = tree / f["test"]["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f["test"]["content"], encoding="utf-8")
            paths.append(f["test"]["path"])
        proc = subprocess.run(
            [*test, "-p", "no:cacheprovider", *paths],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if (proc.returncode == 0) != must_pass:
            tail = " | ".join(proc.stdout.strip().splitlines()[-3:])
            problems.append(f"{kind} tests on the upstream fix: exit {proc.returncode}: {tail}")
        for path in paths:
            (tree / path).unlink()
    shutil.rmtree(tree, ignore_errors=True)
    return problems


# --- running and reading the races ----------------------------------------------------------------


@dataclass
class Race:
    kind: str
    seconds: float
    data: dict[str, Any]
    order: tuple[str, ...] = ()
    winner: str | None = None
    correct: bool = False
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TaskResult:
    task: rw.Task
    reviewed: tuple[str, ...]
    races: dict[str, Race]
    problems: list[str]
    mode: str = ""  # "" or BARE
    passed: tuple[str, ...] = ()  # every candidate that passed in race 1
    dropped: dict[str, tuple[str, ...]] = field(default_factory=dict)  # BARE: test files removed


def run_race(task: rw.Task, kind: str, where: Path, jobs: int, labels: Sequence[str]) -> Race:
    args: tuple[str, ...] = ("--jobs", str(jobs))
    scenarios = None
    if kind != "none":
        args += ("--review", f"fake@{kind}")
        scenarios = {kind: reviewer_scenario(kind, task, labels)}
    t0 = time.monotonic()
    data = rw.race(task, where, acceptance=False, args=args, scenarios=scenarios)
    seconds = time.monotonic() - t0
    correct = {c.name for c in task.contestants if c.correct}
    winner = short(data.get("winner")) if data.get("winner") else None
    review = data.get("review") or {}
    return Race(
        kind=kind,
        seconds=seconds,
        data=data,
        order=tuple(short(c["name"]) for c in data["candidates"]),
        winner=winner,
        correct=winner in correct,
        findings=list(review.get("findings") or []),
    )


def below_component(cand: dict[str, Any]) -> str:
    """The ranking component that put a candidate below the one above it (from its reasons)."""
    reason = cand["reasons"][-1] if cand.get("reasons") else ""
    if not reason.startswith("below ") or ": " not in reason:
        return "-"
    return reason.split(": ", 1)[1].split(" — ", 1)[0]


def moved_by(first: Race, r: Race) -> tuple[str, str] | None:
    """Where r's order first departs from race 1's: (the component that decided it there, the
    evidence: that candidate's reason and both candidates' agent times in the two races). The
    candidate race 1 had at the first differing place went down in r: what put it below the one
    now above it decided (for two neighbours swapping, that is the place after the departure)."""
    if r.order == first.order:
        return None
    i = next(i for i, (a, b) in enumerate(zip(first.order, r.order, strict=True)) if a != b)
    j = r.order.index(first.order[i])  # > i: everything above i is the same in both
    upper, lower = r.data["candidates"][j - 1], r.data["candidates"][j]
    before = {short(c["name"]): c for c in first.data["candidates"]}
    times = ", ".join(
        f"{short(c['name'])} agent {before[short(c['name'])]['duration_s']} s in race none,"
        f" {c['duration_s']} s here"
        for c in (upper, lower)
    )
    return below_component(lower), f"{short(lower['name'])}: {lower['reasons'][-1]!r}; {times}"


def check(
    task: rw.Task, reviewed: Sequence[str], races: dict[str, Race], mode: str = ""
) -> list[str]:
    """What racer did that it should not have: each line names the race and the evidence."""
    problems: list[str] = []
    first = races["none"]
    correct = {c.name for c in task.contestants if c.correct}
    for kind in KINDS[1:]:
        r = races.get(kind)
        if r is None:
            continue
        review = r.data.get("review") or {}
        where = f"{task.id}, race {kind}" + (f" ({mode})" if mode else "")
        if reviewed and review.get("status") != "done":
            problems.append(
                f"{where}: review status {review.get('status')!r}: {review.get('reason')}"
            )
            continue
        labelled = sorted(short(n) for n in (review.get("labels") or {}).values())
        if reviewed and labelled != sorted(reviewed):
            problems.append(f"{where}: reviewed {labelled}, race 1 passed {sorted(reviewed)}")
        if kind in ADVERSARIAL:
            moved = moved_by(first, r)
            if moved is not None:
                by = "BY THE REVIEW" if moved[0] == "reviewer's tests" else "not by the review"
                problems.append(
                    f"{where}: order changed ({by}: ranking component {moved[0]!r}):"
                    f" {' > '.join(first.order)} -> {' > '.join(r.order)};"
                    f" decided_by {r.data.get('decided_by')!r}; {moved[1]}"
                )
            for c in r.data["candidates"]:
                if below_component(c) == "reviewer's tests":
                    problems.append(f"{where}: {c['name']} ranked below by the reviewer's tests")
            if r.winner != first.winner:
                problems.append(f"{where}: winner changed: {first.winner} -> {r.winner}")
            for f in r.findings:
                if f["outcome"] != EXPECTED[kind]:
                    problems.append(
                        f"{where}: finding {f['label']} on {short(f['candidate'])}"
                        f" ({(f.get('test') or {}).get('path')}) is {f['outcome']!r},"
                        f" expected {EXPECTED[kind]!r}; results {f.get('results')}"
                        f", base {f.get('base')!r}"
                    )
                if f.get("separates"):
                    problems.append(f"{where}: finding {f['label']} separates candidates")
        else:
            moved = moved_by(first, r)
            if moved is not None and moved[0] != "reviewer's tests":
                problems.append(
                    f"{where}: order changed, not by the review (ranking component"
                    f" {moved[0]!r}): {' > '.join(first.order)} -> {' > '.join(r.order)};"
                    f" decided_by {r.data.get('decided_by')!r}; {moved[1]}"
                )
            for f in r.findings:
                name = short(f["candidate"])
                results = {short(k): v for k, v in (f.get("results") or {}).items()}
                wrong_runs = [
                    n for n, v in results.items() if n in correct and v in ("wrong", "missing")
                ]
                if name in correct and f["outcome"] == "reproduced":
                    problems.append(
                        f"{where}: the hidden tests reproduced a defect in correct {name}:"
                        f" results {results}"
                    )
                if wrong_runs:
                    problems.append(
                        f"{where}: hidden tests could not run on correct {wrong_runs}"
                        f" (finding {f['label']}, results {results}, base {f.get('base')!r})"
                    )
    return problems


def race_task(
    task: rw.Task, root: Path, jobs: int, kinds: Sequence[str] = KINDS, mode: str = ""
) -> TaskResult:
    """Race 1 without a reviewer, then the reviewers of `kinds` on the labels race 1 gives them
    (one per candidate that passed there, at most REVIEW_TOP). With mode BARE the candidates'
    patches lose their test files first."""
    dropped: dict[str, tuple[str, ...]] = {}
    if mode == BARE:
        task, dropped = rw.without_own_tests(task)
    races: dict[str, Race] = {}
    races["none"] = run_race(task, "none", root / "none", jobs, ())
    passed = tuple(short(c["name"]) for c in races["none"].data["candidates"] if c.get("passed"))
    reviewed = passed[:REVIEW_TOP]
    labels = [chr(ord("A") + i) for i in range(len(reviewed))]
    where = f"{task.id}" + (f" ({mode})" if mode else "")
    problems = [f"{where}: preflight: {p}" for p in preflight(task, labels, root / "preflight")]
    for kind in kinds[1:]:
        races[kind] = run_race(task, kind, root / kind, jobs, labels)
    problems += check(task, reviewed, races, mode)
    return TaskResult(task, reviewed, races, problems, mode, passed, dropped)


# --- printing -------------------------------------------------------------------------------------


def outcomes(r: Race) -> str:
    if r.kind == "none":
        return "-"
    review = r.data.get("review") or {}
    if review.get("status") != "done":
        return f"review {review.get('status')}: {review.get('reason')}"
    if not r.findings:
        return "no findings"
    parts = []
    for f in r.findings:
        mark = " (separates)" if f.get("separates") else ""
        parts.append(f"{f['label']}={short(f['candidate'])}: {f['outcome']}{mark}")
    return "; ".join(parts)


def wrong_note(res: TaskResult) -> str:
    """Whether the task's wrong-but-plausible candidates passed their tests in race 1."""
    notes = []
    for c in res.task.contestants:
        if c.kind != "wrong":
            continue
        if c.name in res.passed:
            notes.append(f"{c.name} passed its tests")
            continue
        cand = next(x for x in res.races["none"].data["candidates"] if short(x["name"]) == c.name)
        t = cand.get("tests") or {}
        why = (
            f"{t.get('passed')} passed, {t.get('failed')} failed, {t.get('errors')} errors;"
            f" broken {list(t.get('broken') or ())}"
            if t
            else "no test run"
        )
        notes.append(f"{c.name} DID NOT pass its tests (status {cand.get('status')}: {why})")
    return "; ".join(notes) or "no wrong candidate"


def print_task(res: TaskResult) -> None:
    task, first = res.task, res.races["none"]
    correct = sorted(c.name for c in task.contestants if c.correct)
    mode = f"  [{res.mode}]" if res.mode else ""
    print(f"\n{task.id} ({task.project})  correct: {', '.join(correct)}{mode}")
    if res.mode == BARE:
        emptied = [c.name for c in task.contestants if c.diff is None and res.dropped.get(c.name)]
        kept = [n for n, d in res.dropped.items() if not d]
        print(
            f"  test files dropped from {sum(bool(d) for d in res.dropped.values())} patches"
            f" (none in: {', '.join(kept) or '-'}; left empty, now a no-op: {', '.join(emptied) or '-'})"
        )
        print(f"  passed in race 1: {', '.join(res.passed) or '-'}; {wrong_note(res)}")
    print(f"  race 1 order: {' > '.join(first.order)}")
    print(f"  reviewed (passed in race 1, best {REVIEW_TOP}): {', '.join(res.reviewed) or '-'}")
    print(f"  {'race':<16}{'s':>6}  {'winner':<11}{'correct':<8}{'order':<16}findings")
    for kind in res.races:
        r = res.races[kind]
        moved = moved_by(first, r)
        same = "-" if kind == "none" else ("same" if moved is None else f"CHANGED ({moved[0]})")
        print(
            f"  {TITLES[kind]:<16}{r.seconds:>6.1f}  {r.winner!s:<11}"
            f"{'yes' if r.correct else 'NO':<8}{same + ' ':<16}{outcomes(r)}"
        )
        print(f"  {'':<16}decided by: {r.data.get('decided_by')} ({r.data.get('confidence')})")


def print_totals(results: Sequence[TaskResult], wall: float) -> list[str]:
    n = len(results)
    none = [r.races["none"] for r in results]
    oracle = [r.races["oracle"] for r in results]
    print("\nsummary")
    print(
        f"  top-1 correct: no reviewer {ratio(sum(r.correct for r in none), n)}, "
        f"oracle reviewer {ratio(sum(r.correct for r in oracle), n)} (ideal {n}/{n})"
    )
    fixed = sum(not a.correct and b.correct for a, b in zip(none, oracle, strict=True))
    spoiled = sum(a.correct and not b.correct for a, b in zip(none, oracle, strict=True))
    changed = sum(a.winner != b.winner for a, b in zip(none, oracle, strict=True))
    print(
        f"  oracle vs no reviewer: winner changed {ratio(changed, n)} "
        f"(wrong -> correct {fixed}, correct -> wrong {spoiled}); "
        f"still wrong with the oracle {ratio(sum(not r.correct for r in oracle), n)}"
    )
    by_review = sum(str(r.data.get("decided_by")).startswith("reviewer's test") for r in oracle)
    print(f"  #1 vs #2 decided by a reviewer's test (oracle): {ratio(by_review, n)}")
    high = [sum(r.data.get("confidence") == "high" for r in rs) for rs in (none, oracle)]
    print(f"  confidence high: no reviewer {ratio(high[0], n)}, oracle {ratio(high[1], n)}")
    everything = [r for res in results for r in res.races.values()]
    by_time = [
        f"{res.task.id}/{kind}"
        for res in results
        for kind, r in res.races.items()
        if str(r.data.get("decided_by")).startswith("time:")
    ]
    print(
        f"  #1 vs #2 decided by agent time (whole seconds), all races: "
        f"{ratio(len(by_time), len(everything))} {' '.join(by_time)}"
    )

    correct_of = {r.task.id: {c.name for c in r.task.contestants if c.correct} for r in results}
    rep_on_bad = rep_total = bad_total = bad_caught = good_total = good_rep = sep = 0
    for res in results:
        good = correct_of[res.task.id]
        for f in res.races["oracle"].findings:
            name = short(f["candidate"])
            reproduced = f["outcome"] == "reproduced"
            rep_total += reproduced
            sep += bool(f.get("separates"))
            if name in good:
                good_total += 1
                good_rep += reproduced
            else:
                bad_total += 1
                bad_caught += reproduced
                rep_on_bad += reproduced
    print(
        f"  oracle findings: {rep_total} reproduced of "
        f"{sum(len(r.findings) for r in oracle)}, {sep} separate candidates"
    )
    print(
        f"  reproduced findings that were on incorrect candidates: {ratio(rep_on_bad, rep_total)}"
    )
    print(f"  incorrect reviewed candidates caught by the oracle: {ratio(bad_caught, bad_total)}")
    print(f"  correct reviewed candidates wrongly reproduced: {ratio(good_rep, good_total)}")
    # What the oracle's separating findings were worth: what already had each named candidate
    # below the one above it in race 1, and what did in the oracle's race.
    already: dict[str, int] = {}
    decided = 0
    for res in results:
        first = {short(c["name"]): c for c in res.races["none"].data["candidates"]}
        then = {short(c["name"]): c for c in res.races["oracle"].data["candidates"]}
        for f in res.races["oracle"].findings:
            if f.get("separates"):
                name = short(f["candidate"])
                comp = below_component(first[name])
                already[comp] = already.get(comp, 0) + 1
                decided += below_component(then[name]) == "reviewer's tests"
    print(
        f"  separated candidates placed by the reviewer's tests in the oracle race: "
        f"{ratio(decided, sum(already.values()))}; in race 1 they were already below by: "
        + (", ".join(f"{k!r} {v}" for k, v in sorted(already.items())) or "-")
    )

    adv = [(res, res.races[k]) for res in results for k in ADVERSARIAL]
    moved = sum(r.order != res.races["none"].order for res, r in adv)
    won = sum(r.winner != res.races["none"].winner for res, r in adv)
    per_kind = ", ".join(
        f"{TITLES[k]} {ratio(sum(res.races[k].order != res.races['none'].order for res in results), n)}"
        for k in ADVERSARIAL
    )
    print(f"  adversarial reviewers that changed the order: {ratio(moved, len(adv))} ({per_kind})")
    causes: dict[str, int] = {}
    for res, r in adv:
        moved = moved_by(res.races["none"], r)
        if moved is not None:
            causes[moved[0]] = causes.get(moved[0], 0) + 1
    by_review = causes.pop("reviewer's tests", 0)
    others = ", ".join(f"{k!r} {v}" for k, v in sorted(causes.items())) or "none"
    print(
        f"    decided there by the reviewer's tests {ratio(by_review, len(adv))};"
        f" by other ranking components: {others}"
    )
    print(f"  adversarial reviewers that changed the winner: {ratio(won, len(adv))}")
    for k in ADVERSARIAL:
        fs = [f for res in results for f in res.races[k].findings]
        ok = sum(f["outcome"] == EXPECTED[k] for f in fs)
        print(f"  {TITLES[k]} findings {EXPECTED[k]!r}: {ratio(ok, len(fs))}")
    done = ", ".join(
        f"{TITLES[k]} {ratio(sum((r.races[k].data.get('review') or {}).get('status') == 'done' for r in results), n)}"
        for k in KINDS[1:]
    )
    print(f"  reviews usable (status done): {done}")
    means = ", ".join(
        f"{TITLES[k]} {sum(r.races[k].seconds for r in results) / n:.1f}" for k in KINDS
    )
    print(f"  mean seconds per race: {means}")
    print(f"  races: {n * len(KINDS)}, wall time {wall:.0f} s")
    return [p for res in results for p in res.problems]


def headline(results: Sequence[TaskResult]) -> dict[str, str]:
    """The numbers both sections report, by row: none vs oracle, and what the liar did."""
    n = len(results)
    none = [r.races["none"] for r in results]
    oracle = [r.races["oracle"] for r in results]
    liar = [r.races["liar"] for r in results]
    pairs = list(zip(none, oracle, strict=True))
    fixed = sum(not a.correct and b.correct for a, b in pairs)
    spoiled = sum(a.correct and not b.correct for a, b in pairs)
    changed = sum(a.winner != b.winner for a, b in pairs)
    by_review = sum(str(r.data.get("decided_by")).startswith("reviewer's test") for r in oracle)
    high = [sum(r.data.get("confidence") == "high" for r in rs) for rs in (none, oracle)]
    put_down = sum(
        a.winner is not None
        and b.winner != a.winner
        and below_component(next(c for c in b.data["candidates"] if short(c["name"]) == a.winner))
        == "reviewer's tests"
        for a, b in pairs
    )
    liar_moved = sum(b.order != a.order for a, b in zip(none, liar, strict=True))
    liar_won = sum(b.winner != a.winner for a, b in zip(none, liar, strict=True))
    return {
        "top-1 correct, no reviewer": f"{ratio(sum(r.correct for r in none), n)} (ideal {n}/{n})",
        "top-1 correct, oracle reviewer": f"{ratio(sum(r.correct for r in oracle), n)}"
        f" (ideal {n}/{n})",
        "winners the oracle changed": f"{ratio(changed, n)} (wrong -> correct {fixed},"
        f" correct -> wrong {spoiled})",
        "#1 vs #2 decided by the reviewer's tests": f"{ratio(by_review, n)} (oracle race)",
        "race 1's winner put down by the reviewer's tests": f"{ratio(put_down, n)} (oracle race)",
        "confidence high": f"no reviewer {ratio(high[0], n)}, oracle {ratio(high[1], n)}",
        "liar changed the order / winner": f"{ratio(liar_moved, n)} / {ratio(liar_won, n)}",
        "mean seconds per race": ", ".join(
            f"{k} {sum(r.races[k].seconds for r in results) / n:.1f}" for k in BARE_KINDS
        ),
    }


def print_bare_totals(results: Sequence[TaskResult], wall: float) -> list[str]:
    """The no-own-tests section's totals; returns the racer problems its checks found."""
    n = len(results)
    print(f"\nsummary ({BARE}: the candidates' test files stripped from their patches)")
    for row, value in headline(results).items():
        print(f"  {row}: {value}")
    wrong_passed = [
        res.task.id
        for res in results
        if all(c.name in res.passed for c in res.task.contestants if c.kind == "wrong")
    ]
    missing = [res.task.id for res in results if res.task.id not in wrong_passed]
    print(
        f"  wrong candidate passed its tests: {ratio(len(wrong_passed), n)}"
        + (f"; not in: {', '.join(missing)}" if missing else "")
    )
    winners: dict[str, int] = {}
    for res in results:
        w = res.races["none"].winner
        winners[str(w)] = winners.get(str(w), 0) + 1
    print(
        "  no-reviewer winners by candidate: "
        + ", ".join(f"{k} {v}" for k, v in sorted(winners.items(), key=lambda kv: -kv[1]))
    )
    decided: dict[str, int] = {}
    for res in results:
        d = str(res.races["none"].data.get("decided_by")).split(":", 1)[0]
        decided[d] = decided.get(d, 0) + 1
    print(
        "  no-reviewer #1 vs #2 decided by: "
        + ", ".join(f"{k!r} {v}" for k, v in sorted(decided.items(), key=lambda kv: -kv[1]))
    )
    reviewed_correct = sum(
        any(c.correct and c.name in res.reviewed for c in res.task.contestants) for res in results
    )
    print(
        f"  a correct candidate among the reviewed (race 1's best {REVIEW_TOP} passing): "
        f"{ratio(reviewed_correct, n)}"
    )
    correct_of = {r.task.id: {c.name for c in r.task.contestants if c.correct} for r in results}
    fs = [(res, f) for res in results for f in res.races["oracle"].findings]
    bad = [f for res, f in fs if short(f["candidate"]) not in correct_of[res.task.id]]
    good = [f for res, f in fs if short(f["candidate"]) in correct_of[res.task.id]]
    print(
        f"  oracle findings: {sum(f['outcome'] == 'reproduced' for _, f in fs)} reproduced of"
        f" {len(fs)}, {sum(bool(f.get('separates')) for _, f in fs)} separate candidates;"
        f" incorrect reviewed candidates caught {ratio(sum(f['outcome'] == 'reproduced' for f in bad), len(bad))};"
        f" correct ones wrongly reproduced {ratio(sum(f['outcome'] == 'reproduced' for f in good), len(good))}"
    )
    lf = [f for res in results for f in res.races["liar"].findings]
    print(
        f"  liar findings {EXPECTED['liar']!r}: "
        f"{ratio(sum(f['outcome'] == EXPECTED['liar'] for f in lf), len(lf))}"
    )
    done = ", ".join(
        f"{TITLES[k]} {ratio(sum((r.races[k].data.get('review') or {}).get('status') == 'done' for r in results), n)}"
        for k in BARE_KINDS[1:]
    )
    print(f"  reviews usable (status done): {done}")
    print(f"  races: {n * len(BARE_KINDS)}, wall time {wall:.0f} s")
    return [p for res in results for p in res.problems]


def print_side_by_side(own: Sequence[TaskResult], bare: Sequence[TaskResult]) -> None:
    left, right = headline(own), headline(bare)
    rows = max(len(k) for k in left) + 2
    width = max(len(v) for v in left.values()) + 2
    print("\nside by side")
    print(f"  {'':<{rows}}{'own tests kept':<{width}}{BARE}")
    for row in left:
        print(f"  {row:<{rows}}{left[row]:<{width}}{right[row]}")


def run_section(
    tasks: Sequence[rw.Task], root: Path, jobs: int, kinds: Sequence[str], mode: str
) -> list[TaskResult]:
    results = []
    for task in tasks:
        res = race_task(task, root / task.id, jobs, kinds, mode)
        results.append(res)
        print_task(res)
        sys.stdout.flush()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the race repos here and keep them")
    parser.add_argument("--only", action="append", help="race only these task ids")
    parser.add_argument("--jobs", type=int, default=2, help="racer --jobs (default 2)")
    parser.add_argument(
        "--no-own-tests",
        action="store_true",
        help="only the section whose candidates' patches are stripped of their test files"
        " (no reviewer, oracle, liar); the default runs both sections",
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="racer-bench-review-"))
    # Python tasks only: the scripted reviewers write pytest tests against a Python module.
    tasks = [t for t in rw.tasks() if t.python and (not args.only or t.id in args.only)]
    if not tasks:
        print(f"no task matches {args.only}", file=sys.stderr)
        return 2
    own: list[TaskResult] = []
    problems: list[str] = []
    try:
        if not args.no_own_tests:
            print(
                f"real-work tasks: {len(tasks)} from {len({t.project for t in tasks})} projects; "
                f"{len(KINDS)} races each, no hidden acceptance tests, --jobs {args.jobs}"
            )
            t0 = time.monotonic()
            own = run_section(tasks, root, args.jobs, KINDS, "")
            problems += print_totals(own, time.monotonic() - t0)
        print(
            f"\n=== {BARE}: every candidate's patch stripped of its test files; "
            f"{len(tasks)} tasks, {len(BARE_KINDS)} races each ({', '.join(BARE_KINDS)}), "
            f"no hidden acceptance tests, --jobs {args.jobs}"
        )
        t0 = time.monotonic()
        bare = run_section(tasks, root / "no-own-tests", args.jobs, BARE_KINDS, BARE)
        problems += print_bare_totals(bare, time.monotonic() - t0)
        if own:
            print_side_by_side(own, bare)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nracer problems: {len(problems) or 'none'}")
    for p in problems:
        print(f"  - {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
