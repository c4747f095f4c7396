"""The bubblewrap sandbox's command line: hidden lanes, writable worktree and agent homes."""

from __future__ import annotations

from pathlib import Path

import pytest

from racer.sandbox import Sandbox, home_paths


def test_sandbox_command_line(tmp_path: Path) -> None:
    from racer import sandbox

    if sandbox.shutil.which("bwrap") is None:
        pytest.skip("bwrap not installed")
    wt = tmp_path / "lanes" / "r1" / "a"
    (wt / ".git").mkdir(parents=True)
    hidden = tmp_path / "lanes"
    home = tmp_path / "home"
    writable = home_paths(
        {"HOME": str(home), "CODEX_HOME": str(tmp_path / "cx")}, (".claude",), ("CODEX_HOME",)
    )
    assert (home / ".claude").is_dir() and (tmp_path / "cx").is_dir()
    box = Sandbox(worktree=wt, hide=(hidden,), writable=(*writable, tmp_path), readable=())
    argv = box.wrap(("agent", "--flag"))
    assert argv[-3:] == ("--", "agent", "--flag")
    joined = " ".join(argv)
    assert f"--tmpfs {hidden}" in joined and f"--bind {wt} {wt}" in joined
    assert f"--bind {home / '.claude'}" in joined
    assert f"--bind {tmp_path} " not in joined  # it holds the hidden dir: never writable
    assert "--unshare-net" not in argv  # the agent keeps its API
    assert joined.index("--tmpfs") < joined.index(f"--bind {wt}")
