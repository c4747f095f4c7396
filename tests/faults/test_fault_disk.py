"""A disk that fills up in the middle of a race (issue: hostile contestants and bad days).

Each case runs racer on a real 80 MB tmpfs mounted in a private user + mount namespace
(`unshare -rm`), so the disk really fills: an agent writes random data until the file system
says ENOSPC, as an agent caching a model or building a bundle would. What must hold: one line
and exit 75, the record says `interrupted (disk full)`, the lanes' committed work is kept, and
once space is freed `racer resume` finishes the race and `racer clean --force` gives the space
back (a lane holding uncommitted files is deleted, not kept as a spare).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.repos import CORRECT, Project

_RUNNING = ("pending", "worktree", "setup", "waiting", "agent", "queued", "testing")


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null || "
            'mount -t tmpfs -o size=1m tmpfs "$0"',
            "/tmp",
        ],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _namespaces_work(), reason="needs unshare -rm and a tmpfs mount in a user namespace"
)


def _scenarios(project: Project, flag: Path) -> None:
    wait_small = textwrap.dedent(
        f"""
        import glob, json, time
        for _ in range(600):
            rec = json.load(open(glob.glob("../../../repo/.git/racer/races/*/race.json")[0]))
            small = [c for c in rec["candidates"] if c["name"] == "fake@small"][0]
            if small["status"] not in {json.dumps(list(_RUNNING))}:
                break
            time.sleep(0.1)
        """
    )
    fill = (
        f"[ -e {flag} ] && exit 0; touch {flag}; "
        f"{sys.executable} -c '{wait_small}'; "
        "head -c 300M /dev/urandom > ../../../filler 2>/dev/null; true"
    )
    scenarios = {
        "fill": {
            "run": [
                f"printf '%s' '{CORRECT}' > calc.py",
                "head -c 3M /dev/urandom > big.bin",
                fill,
            ],
            "say": "filled",
        },
        "small": {"write": {"calc.py": CORRECT}, "say": "small"},
    }
    path = project.root.parent / "scenarios.json"
    path.write_text(json.dumps(scenarios), encoding="utf-8")


def _run_on_small_disk(project: Project, tmp_path: Path, then: str) -> Path:
    """Copy the project onto a fresh 80 MB tmpfs, race there until the disk fills, free the
    space, then run `then` (racer arguments); outputs are saved under the returned dir."""
    out = tmp_path / "out"
    out.mkdir()
    disk = tmp_path / "disk"
    disk.mkdir()
    _scenarios(project, out / "filled")
    # Lanes sit at <disk>/wt/<race>/<lane>: the agent's "../../../" is <disk>.
    script = textwrap.dedent(
        f"""
        set -u
        mount -t tmpfs -o size=80m tmpfs {disk}
        cp -a {project.root} {disk}/repo
        cd {disk}/repo
        export RACER_WORKTREE_ROOT={disk}/wt RACER_FAKE={project.root.parent}/scenarios.json
        racer() {{ {sys.executable} -m racer "$@"; }}
        racer run specs/double.md --agents fake@small,fake@fill >{out}/run.out 2>{out}/run.err
        echo $? >{out}/run.rc
        cp .git/racer/races/*/race.json {out}/interrupted.json
        racer ls --json >{out}/ls.out 2>&1
        df --output=avail -B1 {disk} | tail -1 >{out}/avail-full
        rm -f {disk}/filler
        df --output=avail -B1 {disk} | tail -1 >{out}/avail-freed
        racer {then} >{out}/then.out 2>{out}/then.err
        echo $? >{out}/then.rc
        cp .git/racer/races/*/race.json {out}/after.json
        for i in $(seq 100); do  # discarded checkouts are deleted in the background
            [ -z "$(find {disk}/wt -name big.bin 2>/dev/null)" ] && break
            sleep 0.1
        done
        find {disk}/wt -name big.bin >{out}/big-left 2>&1
        fill=$(git for-each-ref --format="%(refname)" "refs/heads/racer/*/fake@fill")
        git show "$fill:big.bin" 2>/dev/null | wc -c >{out}/big-committed
        df --output=avail -B1 {disk} | tail -1 >{out}/avail-after
        """
    )
    subprocess.run(["unshare", "-rm", "bash", "-c", script], check=True, timeout=300)
    return out


def _text(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def _interrupted_by_a_full_disk(out: Path) -> dict[str, dict[str, object]]:
    lines = _text(out, "run.err").strip().splitlines()
    assert _text(out, "run.rc").strip() == "75", (lines, _text(out, "run.out")[-2000:])
    assert len(lines) == 1 and "no space left on the disk" in lines[0], lines
    assert "Traceback" not in _text(out, "run.err")
    record = json.loads(_text(out, "interrupted.json"))
    assert (record["status"], record["interruption"]) == ("interrupted", "disk full")
    assert json.loads(_text(out, "ls.out"))[0]["status"] == "interrupted (disk full)"
    assert (
        int(_text(out, "avail-full")) < 2 * 2**20
    )  # full, but for the 1 MB reserve racer gave back
    return {c["name"]: c for c in record["candidates"]}


def test_a_full_disk_interrupts_the_race_and_resume_finishes_it(
    project: Project, tmp_path: Path
) -> None:
    out = _run_on_small_disk(project, tmp_path, "resume")
    before = _interrupted_by_a_full_disk(out)
    small = before["fake@small"]
    assert small["status"] == "ok" and small["commit"], small  # finished before the disk filled
    assert before["fake@fill"]["status"] in _RUNNING, before["fake@fill"]

    assert _text(out, "then.rc").strip() == "0", (_text(out, "then.err"), _text(out, "then.out"))
    after = json.loads(_text(out, "after.json"))
    assert after["status"] == "finished" and after["interruption"] is None
    cands = {c["name"]: c for c in after["candidates"]}
    assert cands["fake@small"]["commit"] == small["commit"]  # its work was kept, not redone
    assert cands["fake@small"]["status"] == cands["fake@fill"]["status"] == "passed"
    # The partial work of the lane whose commit failed was committed once space came back.
    assert int(_text(out, "big-committed")) == 3 * 2**20


def test_clean_gives_the_space_back_after_a_full_disk(project: Project, tmp_path: Path) -> None:
    out = _run_on_small_disk(project, tmp_path, "clean --force")
    _interrupted_by_a_full_disk(out)
    assert _text(out, "then.rc").strip() == "0", _text(out, "then.err")
    assert json.loads(_text(out, "after.json"))["cleaned"] is True
    # The lane with 3 MB it never committed was deleted, not moved into the pool of spares.
    assert _text(out, "big-left").strip() == ""
    assert int(_text(out, "avail-after")) >= int(_text(out, "avail-freed")) + 3 * 2**20
