"""Nothing a contestant writes into its lane's git runs outside its sandbox: racer's own git in a
lane (commit, diff, status, reset, checkout, fetch) after the agent, the scoring, the merge and
the clean run none of the programs an agent named. Marker files prove it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.repos import CORRECT, Project, race_json, require_bwrap


def plant(markers: Path) -> list[str]:
    """Shell steps a hostile agent takes in its lane: every way to make git run a program."""
    evil = "$PWD/.git/evil.sh"
    return [
        f"printf '#!/bin/sh\\ntouch {markers}/\"$1\"\\ncat\\n' > .git/evil.sh",
        f"printf '#!/bin/sh\\ntouch {markers}/process\\nexit 1\\n' > .git/evil-process.sh",
        "chmod +x .git/evil.sh .git/evil-process.sh",
        f"git config filter.evil.clean '{evil} clean'",
        f"git config filter.evil.smudge '{evil} smudge'",
        'git config filter.evil.process "$PWD/.git/evil-process.sh"',
        f"git config diff.evil.textconv '{evil} textconv'",
        f"git config diff.evil.command '{evil} diffcmd'",
        f"git config merge.evil.driver '{evil} merge %O %A %B'",
        f"git config core.pager '{evil} pager'",
        f"git config core.sshCommand '{evil} ssh'",
        f"git config credential.helper '!{evil} credential'",
        f"git config core.fsmonitor '{evil} fsmonitor'",
        f"printf '[core]\\n\\tfsmonitor = {markers}/include-ran\\n' > .git/inc.cfg",
        'git config include.path "$PWD/.git/inc.cfg"',
        f"printf '[core]\\n\\thooksPath = {markers}/includeif-ran\\n' > .git/inc2.cfg",
        "git config 'includeIf.gitdir:/.path' \"$PWD/.git/inc2.cfg\"",
        "mkdir -p .git/hooks .git/info",
        *(
            f"printf '#!/bin/sh\\ntouch {markers}/hook-{h}\\n' > .git/hooks/{h}"
            f" && chmod +x .git/hooks/{h}"
            for h in ("pre-commit", "post-commit", "post-checkout", "reference-transaction")
        ),
        "echo '* filter=evil diff=evil merge=evil' > .git/info/attributes",
        "echo '* filter=evil diff=evil merge=evil' > .gitattributes",
    ]


@pytest.mark.parametrize("sandbox", [False, True], ids=["plain", "sandbox"])
def test_planted_git_programs_never_run(
    project: Project, racer, monkeypatch, tmp_path: Path, sandbox: bool
) -> None:
    if sandbox:
        require_bwrap()
    markers = tmp_path / "markers"
    markers.mkdir()
    project.fake(
        monkeypatch,
        {"evil": {"run": plant(markers), "write": {"calc.py": CORRECT}}},
    )
    extra = ["--sandbox"] if sandbox else []
    res = racer("run", "specs/double.md", "--agents", "fake@evil,fake@evil", *extra)
    assert sorted(p.name for p in markers.iterdir()) == []
    data = race_json(project.root)
    cand = data["candidates"][0]
    assert res.exit_code in (0, 4), res.stderr
    assert cand["commit"] and ".gitattributes" in cand["diffstat"]["paths"], cand
    assert racer("resume").exit_code == 1  # a finished race: nothing to do, nothing run
    assert racer("merge", cand["name"], "--force").exit_code == 0
    assert sorted(p.name for p in markers.iterdir()) == []
    # the agent really planted them: its lane's config named the programs before racer sealed it
    log = Path(cand["logs"]["agent"]).read_text()
    assert "Permission denied" not in log and "Read-only" not in log, log[-2000:]
