"""Independent contestants, and --sandbox: an agent that goes looking for another's work finds
nothing through git; under bubblewrap it can write only its own lane and its own dirs."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.repos import CORRECT, Project, bwrap_works, git, race_json


def _cand(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["candidates"] if c["name"] == name)


SECRET = "SECRET-WORK-OF-FAST"


def test_a_contestant_cannot_see_another_through_git(project: Project, racer, monkeypatch) -> None:
    sibling = "../fake@fast"
    looked = "looked.txt"
    queries = [
        "git log --all --format='%H %s'",
        "git worktree list",
        "git for-each-ref",
        "git reflog --all",
        "git branch -a",
        "git stash list",
        "git grep -I -e " + SECRET + " $(git rev-list --all)",
    ]
    main = '"$(dirname "$(dirname "$(cat .git/objects/info/alternates)")")"'
    script = [
        # wait (via the file system, which --sandbox would hide) until fake@fast has committed
        f"for i in $(seq 300); do git -C {sibling} log --format=%s | grep -q 'racer: work' && break;"
        " sleep 0.1; done",
        f"git -C {sibling} rev-parse HEAD > fast-tip.txt",
        *(f"{{ {q}; }} >> {looked} 2>&1" for q in queries),
        *(f"{{ git -C {main} {q.removeprefix('git ')}; }} >> {looked} 2>&1" for q in queries),
        f"git -C {main} fsck --lost-found >> {looked} 2>&1",
    ]
    project.fake(
        monkeypatch,
        {
            "fast": {"write": {"calc.py": CORRECT, "fast.txt": SECRET + "\n"}},
            "looker": {"run": script, "write": {"calc.py": "def double(x):\n    return x + x\n"}},
        },
    )
    res = racer("run", "specs/double.md", "--agents", "fake@fast,fake@looker")
    assert res.exit_code == 0, res.stdout
    data = race_json(project.root)
    fast, looker = _cand(data, "fake@fast"), _cand(data, "fake@looker")
    wt = Path(looker["worktree"])
    fast_tip = (wt / "fast-tip.txt").read_text().strip()
    assert fast_tip == fast["commit"]  # the looker looked after fast's work was committed
    seen = (wt / looked).read_text()
    assert "worktree" in seen or "refs/heads" in seen  # the queries did run
    for trace in (fast_tip, fast["branch"], "fake@fast", SECRET):
        assert trace not in seen, trace
    # after the race, both lanes' work is in the main repository
    assert git(project.root, "show", f"{fast['branch']}:fast.txt") == SECRET


needs_bwrap = pytest.mark.skipif(
    not bwrap_works() and os.environ.get("CI") != "true",
    reason="bubblewrap cannot run here (CI=true makes this a failure)",
)


class _Echo:
    """A TCP server on 127.0.0.1 that answers "pong": is the network still there?"""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"pong\n")


@needs_bwrap
def test_sandbox_confines_writes_hides_lanes_and_keeps_network(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    home = Path(os.environ["HOME"])
    echo = _Echo()
    lanes = project.worktrees
    probe = (
        f"import socket,sys; s=socket.create_connection(('127.0.0.1', {echo.port}), timeout=5); "
        "sys.stdout.write(s.recv(10).decode())"
    )
    script = [
        f"echo x > {project.root}/calc.py && echo main=written || echo main=refused",
        f"echo x > {home}/pwned && echo home=written || echo home=refused",
        "echo x > ../fake@other/calc.py && echo other=written || echo other=refused",
        f"echo \"seen=$(ls {lanes}/*/ | tr '\\n' ' ')\"",
        'echo x > "$TMPDIR/scratch" && echo tmp=written || echo tmp=refused',
        f'python -c "{probe}" && echo net=ok',
    ]
    project.fake(
        monkeypatch,
        {
            "boxed": {"run": script, "write": {"calc.py": CORRECT}},
            "other": {"sleep": 2, "write": {"calc.py": "def double(x):\n    return x + x\n"}},
        },
    )
    before = (project.root / "calc.py").read_text()
    res = racer("run", "specs/double.md", "--agents", "fake@boxed,fake@other", "--sandbox")
    assert res.exit_code == 0, res.stdout
    data = race_json(project.root)
    boxed = _cand(data, "fake@boxed")
    log = Path(boxed["logs"]["agent"]).read_text()
    assert "main=refused" in log and "home=refused" in log and "other=refused" in log, log
    assert "tmp=written" in log and "net=ok" in log and "pong" in log, log
    seen = next(line for line in log.splitlines() if line.startswith("seen="))
    assert "fake@boxed" in seen and "fake@other" not in seen  # the other lane is not visible
    assert (project.root / "calc.py").read_text() == before
    assert not (home / "pwned").exists()
    other = _cand(data, "fake@other")
    assert (
        git(project.root, "show", f"{other['branch']}:calc.py")
        == "def double(x):\n    return x + x"
    )
    # its own work went through, and its tests ran (in the sandbox too) with per-test results
    assert boxed["status"] == "passed" and boxed["tests"]["junit"] is True


@needs_bwrap
def test_the_candidates_tests_run_in_the_sandbox_too(project: Project, racer, monkeypatch) -> None:
    home = Path(os.environ["HOME"])
    sneaky_test = (
        "from pathlib import Path\n\n\ndef test_escape():\n"
        f"    Path({str(home / 'from-test')!r}).write_text('x')\n"
    )
    project.fake(
        monkeypatch,
        {"sneaky": {"write": {"calc.py": CORRECT, "tests/test_sneaky.py": sneaky_test}}},
    )
    racer("run", "specs/double.md", "--agents", "fake@sneaky", "--sandbox")
    data = race_json(project.root)
    own = data["candidates"][0]["own_tests"]
    assert own["outcomes"]["tests.test_sneaky::test_escape"] == "failed"
    assert not (home / "from-test").exists()


def test_sandbox_without_bubblewrap_is_one_clear_error(
    project: Project, racer, monkeypatch, tmp_path: Path
) -> None:
    from racer import sandbox

    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(only_git))
    sandbox.check.cache_clear()
    res = racer("run", "specs/double.md", "--agents", "fake", "--sandbox")
    assert res.exit_code == 1
    assert "bubblewrap" in res.stderr and "Traceback" not in res.stderr
    assert not (project.root / ".git" / "racer").exists()  # nothing created
