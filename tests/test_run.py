"""End-to-end races with the fake agent in real git repos: ranking, records, kills, views."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from helpers.repos import CHURNY, CORRECT, WRONG, Project, git, is_gone, race_json


def _race_json(project: Project) -> dict:  # type: ignore[type-arg]
    return race_json(project.root)


def test_three_contestants_rank_correct_first(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "wrong": {"write": {"calc.py": WRONG}, "say": "done, all tests pass"},
            "good": {
                "write": {"calc.py": CORRECT},
                "tokens": {"input": 100, "output": 7},
                "cost_usd": 0.01,
            },
            "lazy": {"say": "nothing to do"},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@wrong,fake@good,fake@lazy")
    assert res.exit_code == 0, res.stderr
    data = _race_json(project)
    assert data["schema"] == 2
    assert data["status"] == "finished"
    assert data["winner"] == "fake@good"
    names = [c["name"] for c in data["candidates"]]
    assert names == ["fake@good", "fake@wrong", "fake@lazy"]
    good, wrong, lazy = data["candidates"]
    assert (good["rank"], good["status"], good["passed"]) == (1, "passed", True)
    assert good["tests"]["passed"] == 2 and good["tests"]["failed"] == 0
    assert good["tests"]["outcomes"]
    assert good["diffstat"] == {"files": 1, "added": 1, "removed": 1, "paths": ["calc.py"]}
    assert good["tokens"] == {"input": 100, "output": 7, "cached": 0}
    assert good["cost_usd"] == 0.01
    assert wrong["status"] == "tests_failed" and wrong["tests"]["failed"] == 1
    assert any("tests fail" in r for r in wrong["reasons"])
    assert any("below fake@good" in r for r in wrong["reasons"])
    assert lazy["status"] == "no_changes"
    # the work is committed on each lane branch, with a message naming the contestant
    log = git(project.root, "log", "-1", "--format=%s", good["branch"])
    assert "fake@good" in log
    assert git(project.root, "show", f"{good['branch']}:calc.py") + "\n" == CORRECT
    # the worktrees live outside the repository
    assert Path(good["worktree"]).is_relative_to(project.worktrees)
    # the exact prompt is saved and contains the spec body
    prompt = Path(data["prompt"]).read_text()
    assert "Make `double(x)` return twice `x`." in prompt
    assert "report.md" in res.stdout
    assert (Path(data["race_dir"]) / "report.md").read_text().count("fake@good") >= 2


def test_smaller_diff_wins_when_both_pass(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {"churny": {"write": {"calc.py": CHURNY}}, "good": {"write": {"calc.py": CORRECT}}},
    )
    res = racer("run", "specs/double.md", "--agents", "fake@churny,fake@good")
    assert res.exit_code == 0, res.stderr
    cands = _race_json(project)["candidates"]
    assert [c["name"] for c in cands] == ["fake@good", "fake@churny"]
    assert any("smaller diff" in r for r in cands[1]["reasons"]), cands[1]["reasons"]


def test_fake_scenarios_file_is_relative_to_where_racer_runs(
    project: Project, racer, monkeypatch
) -> None:
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    monkeypatch.setenv("RACER_FAKE", "../scenarios.json")  # from the repo root, not the lane
    res = racer("run", "specs/double.md", "--agents", "fake@good")
    assert res.exit_code == 0, res.stderr
    assert _race_json(project)["candidates"][0]["tests"]["passed"] == 2


def test_ties_go_to_the_order_given(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    res = racer("run", "specs/double.md", "--agents", "fake*3")
    assert res.exit_code == 0, res.stderr
    cands = _race_json(project)["candidates"]
    assert [c["name"] for c in cands] == ["fake", "fake-2", "fake-3"]
    assert "listed later" in cands[1]["reasons"][-1]


def test_no_candidate_passes_exits_4(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, {"wrong": {"write": {"calc.py": WRONG}}})
    res = racer("run", "specs/double.md", "--agents", "fake@wrong")
    assert res.exit_code == 4
    assert _race_json(project)["winner"] is None
    assert "no candidate passed" in res.stdout


def test_crash_and_hang_with_children_are_contained(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "crash": {"write": {"partial.txt": "half\n"}, "exit": 3},
            "hang": {"write": {"calc.py": CORRECT}, "hang": True, "ignore_term": True},
            "good": {"write": {"calc.py": CORRECT}},
        },
    )
    res = racer(
        "run", "specs/double.md", "--agents", "fake@crash,fake@hang,fake@good", "--timeout", "3"
    )
    assert res.exit_code == 0, res.stderr
    data = _race_json(project)
    by = {c["name"]: c for c in data["candidates"]}
    assert by["fake@good"]["rank"] == 1
    assert by["fake@crash"]["status"] == "agent_failed" and by["fake@crash"]["exit_code"] == 3
    assert by["fake@hang"]["status"] == "timed_out" and by["fake@hang"]["timed_out"] is True
    # no work lost: the crashed and hung agents' edits are committed on their branches
    assert git(project.root, "show", f"{by['fake@crash']['branch']}:partial.txt") == "half"
    assert git(project.root, "show", f"{by['fake@hang']['branch']}:calc.py") + "\n" == CORRECT
    # the hung agent's child (ignoring SIGTERM) was killed with its process group
    log = Path(by["fake@hang"]["logs"]["agent"]).read_text()
    child = int(re.search(r"child pid (\d+)", log).group(1))  # type: ignore[union-attr]
    assert is_gone(child)


def test_setup_failure_fails_only_that_lane(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    (project.root / "racer.toml").write_text('setup = "test \\"$RACER_LANE\\" != fake-2"\n')
    git(project.root, "add", "racer.toml")
    git(project.root, "commit", "-qm", "config")
    res = racer("run", "specs/double.md", "--agents", "fake*2")
    assert res.exit_code == 0, res.stderr
    by = {c["name"]: c for c in _race_json(project)["candidates"]}
    assert by["fake"]["status"] == "passed"
    assert by["fake-2"]["status"] == "setup_failed"
    assert "setup" in by["fake-2"]["logs"] and Path(by["fake-2"]["logs"]["setup"]).exists()


def test_ignored_files_are_copied_into_worktrees(project: Project, racer, monkeypatch) -> None:
    (project.root / ".gitignore").write_text(
        "__pycache__/\n.pytest_cache/\n.env\nsecrets/\nbig.bin\n"
    )
    git(project.root, "commit", "-qam", "ignore")
    (project.root / ".env").write_text("TOKEN=1\n")
    (project.root / "secrets").mkdir()
    (project.root / "secrets" / "key.txt").write_text("k\n")
    (project.root / "big.bin").write_text("not copied\n")
    (project.root / ".worktreeinclude").write_text("secrets/\n")
    # the agent proves it saw the copied files by writing their content into a tracked file
    project.fake(monkeypatch, {"default": {"write": {"calc.py": CORRECT}}})
    res = racer("run", "specs/double.md", "--agents", "fake", "--copy", ".env")
    assert res.exit_code == 0, res.stderr
    wt = Path(_race_json(project)["candidates"][0]["worktree"])
    assert (wt / ".env").read_text() == "TOKEN=1\n"
    assert (wt / "secrets" / "key.txt").read_text() == "k\n"
    assert not (wt / "big.bin").exists()


def test_tests_start_as_soon_as_a_lane_is_done(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "fast": {"write": {"calc.py": CORRECT}},
            "slow": {"sleep": 4, "write": {"calc.py": CORRECT}},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@slow,fake@fast")
    assert res.exit_code == 0, res.stderr
    by = {c["name"]: c for c in _race_json(project)["candidates"]}
    fast_tests_done = Path(by["fake@fast"]["logs"]["tests"]).stat().st_mtime
    slow_agent_done = Path(by["fake@slow"]["logs"]["agent"]).stat().st_mtime
    assert fast_tests_done < slow_agent_done


def test_views_show_diff_ls_json(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {"good": {"write": {"calc.py": CORRECT}}, "wrong": {"write": {"calc.py": WRONG}}},
    )
    assert racer("run", "specs/double.md", "--agents", "fake@good,fake@wrong").exit_code == 0
    data = _race_json(project)
    shown = racer("show")
    assert shown.exit_code == 0 and "fake@good" in shown.stdout and "winner" in shown.stdout
    as_json = json.loads(racer("show", data["id"][:15], "--json").stdout)
    assert as_json == data
    d = racer("diff", "fake@wrong")
    assert d.exit_code == 0 and "+    return x * x" in d.stdout
    assert racer("diff", data["id"], "fake@good").stdout.count("return 2 * x") == 1
    listed = json.loads(racer("ls", "--json").stdout)
    assert listed[0]["id"] == data["id"] and listed[0]["winner"] == "fake@good"
    assert listed[0]["status"] == "finished"
    missing = racer("diff", "nobody")
    assert missing.exit_code == 1 and "no candidate 'nobody'" in missing.stderr


def test_run_as_subprocess_with_user_command_agent(project: Project, monkeypatch) -> None:
    # A user-defined command agent that reads the prompt file and writes the fix.
    script = project.root.parent / "agent.py"
    script.write_text(
        "import sys, pathlib\n"
        "prompt = pathlib.Path(sys.argv[1]).read_text()\n"
        "assert 'double' in prompt\n"
        f"pathlib.Path('calc.py').write_text({CORRECT!r})\n"
        "print('model was', sys.argv[2])\n"
    )
    (project.root / "racer.toml").write_text(
        f"[agents.mybot]\ncommand = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "
        '"{prompt_file}", "{model}"]\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "racer", "run", "specs/double.md", "--agents", "mybot@m1", "--json"],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    cand = data["candidates"][0]
    assert cand["name"] == "mybot@m1" and cand["status"] == "passed"
    assert "model was m1" in Path(cand["logs"]["agent"]).read_text()
    assert "mybot@m1: agent" in proc.stderr  # plain progress lines without a terminal


def test_many_lanes_get_their_worktrees_concurrently(project: Project, racer, monkeypatch) -> None:
    # Parallel `git worktree add` calls corrupt each other's admin entries; every lane must start.
    project.fake(monkeypatch, {"default": {"say": "nothing"}})
    res = racer("run", "specs/double.md", "--agents", "fake*8")
    assert res.exit_code == 4
    cands = _race_json(project)["candidates"]
    assert [c["status"] for c in cands] == ["no_changes"] * 8, [c["error"] for c in cands]
    assert all(Path(c["worktree"], "calc.py").is_file() for c in cands)


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_ctrl_c_stops_lanes_keeps_work_and_exits_130(project: Project, monkeypatch) -> None:
    import signal

    project.fake(
        monkeypatch, {"hang": {"write": {"calc.py": CORRECT}, "hang": True, "ignore_term": True}}
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "racer", "run", "specs/double.md", "--agents", "fake@hang"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    races = project.root / ".git" / "racer" / "races"

    def hanging() -> bool:
        logs = list(races.glob("*/logs/*.agent.log"))
        return bool(logs) and "child pid" in logs[0].read_text()

    _wait_for(hanging)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    data = _race_json(project)
    assert data["status"] == "interrupted"
    cand = data["candidates"][0]
    # the agent and its SIGTERM-ignoring child are gone; its work is committed on its branch
    log = Path(cand["logs"]["agent"]).read_text()
    assert is_gone(int(re.search(r"child pid (\d+)", log).group(1)))  # type: ignore[union-attr]
    assert git(project.root, "show", f"{cand['branch']}:calc.py") + "\n" == CORRECT
    shown = subprocess.run(
        [sys.executable, "-m", "racer", "show"], cwd=project.root, capture_output=True, text=True
    )
    assert shown.returncode == 0 and "interrupted" in shown.stdout
    # the interrupted lane's committed work is not thrown away by a plain clean
    cleaned = subprocess.run(
        [sys.executable, "-m", "racer", "clean"], cwd=project.root, capture_output=True, text=True
    )
    assert cleaned.returncode == 1 and "--force" in cleaned.stderr
    # ... and the race can be resumed: the agent runs again on top of its committed work
    project.fake(monkeypatch, {"hang": {"append": {"calc.py": "# resumed\n"}}})
    resumed = subprocess.run(
        [sys.executable, "-m", "racer", "resume"], cwd=project.root, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    data = _race_json(project)
    assert data["status"] == "finished" and data["winner"] == "fake@hang"
    assert len(data["candidates"][0]["attempts"]) == 2
    assert git(project.root, "show", f"{cand['branch']}:calc.py") + "\n" == CORRECT + "# resumed\n"


def test_base_ref_and_agents_from_the_spec(project: Project, racer, monkeypatch) -> None:
    first = git(project.root, "rev-parse", "HEAD")
    (project.root / "calc.py").write_text("def double(x):\n    return 0\n")
    (project.root / "specs" / "double.md").write_text(
        "---\ntitle: Fix double\nagents: fake@good\n---\nMake `double(x)` return twice `x`.\n"
    )
    git(project.root, "commit", "-qam", "later")
    project.fake(monkeypatch, {"good": {"write": {"calc.py": CORRECT}}})
    res = racer("run", "specs/double.md", "--base", first)
    assert res.exit_code == 0, res.stderr
    data = _race_json(project)
    assert data["base"] == {"commit": first, "branch": "main"}
    assert data["candidates"][0]["name"] == "fake@good"
    assert data["candidates"][0]["diffstat"]["added"] == 1  # measured against the older base


def test_agents_command_lists_registry(project: Project, racer) -> None:
    (project.root / "racer.toml").write_text(
        '[agents.mybot]\ncommand = ["no-such-bot-xyz", "{prompt}"]\n'
    )
    rows = {r["name"]: r for r in json.loads(racer("agents", "--json").stdout)}
    assert {"claude", "codex", "gemini", "fake", "mybot"} <= set(rows)
    assert rows["fake"]["installed"] is True and rows["fake"]["version"] == "racer-fake 1"
    assert rows["mybot"]["installed"] is False
    table = racer("agents")
    assert table.exit_code == 0 and "fake" in table.stdout


def test_demo_runs_offline_as_a_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "racer", "demo", "--dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert "winner: fake@minimal" in proc.stdout
    assert "racer merge fake@minimal" in proc.stdout
    project = tmp_path / "d" / "project"
    merged = subprocess.run(
        [sys.executable, "-m", "racer", "merge", "fake@minimal"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert merged.returncode == 0, merged.stderr
    assert "re.findall" in (project / "textkit" / "__init__.py").read_text()


def test_the_demo_s_reviewer_reviews_a_race_of_fewer_contestants(tmp_path: Path) -> None:
    """The scripted reviewer names the diffs it finds; in a race of two of the demo's agents it
    is shown one, and its finding about the other is left out (it made the review unusable)."""
    from racer.demo import create_demo

    project = create_demo(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "racer",
            "run",
            "specs/slugify.md",
            "--agents",
            "fake@minimal,fake@wrong",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert "review unusable" not in proc.stdout + proc.stderr
    assert "review by fake (reviewer, unknown): 1 finding, 0 reproduced" in proc.stdout
    assert "digits are dropped" in proc.stdout and "accented letters" not in proc.stdout


def test_planted_api_keys_never_reach_logs_record_or_reports(
    project: Project, racer, monkeypatch
) -> None:
    secret = "sk-ant-PLANTED-" + "q" * 32
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    (project.root / "racer.toml").write_text(
        '[agents.fake]\nenv = { MY_SERVICE_TOKEN = "tok-PLANTED-123456789" }\n'
    )
    project.fake(
        monkeypatch,
        {
            "leaky": {
                "print": [f"using key {secret}", "token tok-PLANTED-123456789"],
                "write": {"calc.py": CORRECT},
                "say": f"done with {secret}",
            }
        },
    )
    # the test command prints the environment too
    res = racer(
        "run", "specs/double.md", "--agents", "fake@leaky", "--test", "env; python -m pytest -q"
    )
    assert res.exit_code == 0, res.stderr
    race_dir = Path(_race_json(project)["race_dir"])
    for path in race_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert secret not in text, path
            assert "tok-PLANTED-123456789" not in text, path
    assert secret not in res.stdout + res.stderr
    log = Path(_race_json(project)["candidates"][0]["logs"]["agent"]).read_text()
    assert "using key ***" in log


def test_idle_agent_is_stopped_and_its_work_kept(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "quiet": {"write": {"calc.py": CORRECT}, "hang": True},
            "good": {"write": {"calc.py": CORRECT}, "sleep": 0.5},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@quiet,fake@good", "--idle-timeout", "2")
    assert res.exit_code == 0, res.stderr
    by = {c["name"]: c for c in _race_json(project)["candidates"]}
    assert by["fake@quiet"]["status"] == "timed_out"
    assert "idle timeout" in by["fake@quiet"]["error"]
    assert git(project.root, "show", f"{by['fake@quiet']['branch']}:calc.py") + "\n" == CORRECT
    assert "no output for 2.0 s" in Path(by["fake@quiet"]["logs"]["agent"]).read_text()


def test_race_timeout_stops_lanes_still_running(project: Project, racer, monkeypatch) -> None:
    project.fake(
        monkeypatch,
        {
            "slow": {"write": {"calc.py": CORRECT}, "hang": True},
            "good": {"write": {"calc.py": CORRECT}},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@slow,fake@good", "--race-timeout", "8")
    assert res.exit_code == 0, res.stderr
    data = _race_json(project)
    by = {c["name"]: c for c in data["candidates"]}
    assert data["status"] == "finished" and data["winner"] == "fake@good"
    assert by["fake@slow"]["status"] == "timed_out" and "race timed out" in by["fake@slow"]["error"]
    log = Path(by["fake@slow"]["logs"]["agent"]).read_text()
    assert is_gone(int(re.search(r"child pid (\d+)", log).group(1)))  # type: ignore[union-attr]
    assert git(project.root, "show", f"{by['fake@slow']['branch']}:calc.py") + "\n" == CORRECT


def test_each_lane_gets_its_own_free_port(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    script = tmp_path / "agent.sh"
    script.write_text('echo "$RACER_LANE $RACER_PORT $PORT" >> ' + str(tmp_path / "ports") + "\n")
    (project.root / "racer.toml").write_text(f'[agents.portbot]\ncommand = ["sh", "{script}"]\n')
    racer("run", "specs/double.md", "--agents", "portbot*4")
    rows = [line.split() for line in (tmp_path / "ports").read_text().splitlines()]
    assert len(rows) == 4
    assert all(r[1] == r[2] and int(r[1]) > 0 for r in rows)
    assert len({r[1] for r in rows}) == 4


def test_the_race_says_its_own_wall_time(project: Project, racer, monkeypatch) -> None:
    project.fake(monkeypatch, {"slow": {"write": {"calc.py": CORRECT}, "sleep": 2}})
    res = racer("run", "specs/double.md", "--agents", "fake@slow")
    assert res.exit_code == 0, res.stderr
    data = race_json(project.root)
    said = re.search(r"race time: ([\d.]+) s from start to verdict", res.stdout)
    assert said is not None, res.stdout[-1500:]
    assert float(said.group(1)) >= 2  # the agent alone slept 2 s
    md = (Path(data["race_dir"]) / "report.md").read_text()
    assert f"- race time: {said.group(1)} s" in md
