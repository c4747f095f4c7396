"""Tests for racer.proc against real child processes (sys.executable -c scripts).

Kill tests check process ids afterwards; nothing here mocks a process.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import anyio
import pytest
from helpers.repos import is_gone

from racer.proc import (
    GIT_ENV_VARS,
    MAX_LINE_CHARS,
    ProcOutcome,
    ProcRequest,
    child_env,
    kill_group,
    redact,
    run_capture,
    run_process,
)

pytestmark = pytest.mark.anyio

# A grandchild that ignores SIGTERM and holds the inherited stdout, like a stubborn node server.
GRANDCHILD = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("grandchild ready", flush=True)
time.sleep(60)
"""

PARENT_OF_STUBBORN = f"""
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {GRANDCHILD!r}])
print("grandchild", child.pid, flush=True)
time.sleep(60)
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def request_for(tmp_path: Path, script: str, **kwargs: object) -> ProcRequest:
    return ProcRequest(
        argv=(sys.executable, "-c", script),
        cwd=tmp_path,
        env=child_env(os.environ),
        log_path=tmp_path / "logs" / "run.log",
        **kwargs,  # type: ignore[arg-type]  # timeout/secrets, typed by ProcRequest itself
    )


async def run(request: ProcRequest, **kwargs: object) -> tuple[ProcOutcome, list[str]]:
    lines: list[str] = []
    with anyio.fail_after(30):  # a regression should fail the test, not hang the suite
        outcome = await run_process(request, lines.append, **kwargs)  # type: ignore[arg-type]
    return outcome, lines


def pid_after(lines: list[str], word: str) -> int:
    return next(int(line.split()[1]) for line in lines if line.startswith(word + " "))


def wait_gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while not is_gone(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # don't leak it into the rest of the suite
            return False
        time.sleep(0.05)
    return True


async def test_output_reaches_log_and_on_line_in_order(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "print('one', flush=True)\n"
        "sys.stderr.write('two\\n'); sys.stderr.flush()\n"
        "print('three', flush=True)\n"
    )
    outcome, lines = await run(request_for(tmp_path, script))
    assert outcome.ok
    assert lines == ["one", "two", "three"]
    assert outcome.log_path.read_bytes() == b"one\ntwo\nthree\n"


async def test_lines_split_across_writes_crlf_bad_utf8_and_no_final_newline(
    tmp_path: Path,
) -> None:
    script = (
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "for part in [b'ab', b'c\\nd\\r\\n', b'\\xff\\n', b'tail']:\n"
        "    out.write(part); out.flush(); time.sleep(0.05)\n"
    )
    outcome, lines = await run(request_for(tmp_path, script))
    assert lines == ["abc", "d", "\ufffd", "tail"]
    assert outcome.log_path.read_bytes() == b"abc\nd\r\n\xff\ntail"


async def test_log_is_appended_to(tmp_path: Path) -> None:
    request = request_for(tmp_path, "print('again')")
    await run(request)
    await run(request)
    assert request.log_path.read_text() == "again\nagain\n"


async def test_huge_output_without_newline_is_logged_whole_and_line_truncated(
    tmp_path: Path,
) -> None:
    size = 20 * 1024 * 1024
    script = f"import sys\nsys.stdout.write('x' * {size})\nsys.stdout.write('\\nend\\n')\n"
    outcome, lines = await run(request_for(tmp_path, script))
    assert outcome.ok
    assert outcome.log_path.stat().st_size == size + len("\nend\n")
    assert lines == ["x" * MAX_LINE_CHARS, "end"]


@pytest.mark.parametrize("code", [0, 1, 7])
async def test_exit_codes(tmp_path: Path, code: int) -> None:
    outcome, _ = await run(request_for(tmp_path, f"raise SystemExit({code})"))
    assert outcome.exit_code == code
    assert outcome.ok is (code == 0)
    assert not outcome.timed_out
    assert outcome.error is None
    assert outcome.pid is not None
    assert outcome.duration_s >= 0


async def test_killed_by_signal_is_a_negative_exit_code(tmp_path: Path) -> None:
    script = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    outcome, _ = await run(request_for(tmp_path, script))
    assert outcome.exit_code == -signal.SIGKILL
    assert not outcome.ok


async def test_stdin_is_closed(tmp_path: Path) -> None:
    script = "import sys\nprint(repr(sys.stdin.read()))"
    outcome, lines = await run(request_for(tmp_path, script, timeout=10))
    assert not outcome.timed_out
    assert lines == ["''"]


async def test_runs_in_cwd_with_the_given_env(tmp_path: Path) -> None:
    script = "import os\nprint(os.getcwd())\nprint(os.environ.get('RACER_PROBE'))"
    request = ProcRequest(
        argv=(sys.executable, "-c", script),
        cwd=tmp_path,
        env=child_env(os.environ, {"RACER_PROBE": "here"}),
        log_path=tmp_path / "run.log",
    )
    _, lines = await run(request)
    assert lines == [str(tmp_path.resolve()), "here"]


async def test_on_start_gets_the_pid(tmp_path: Path) -> None:
    started: list[int] = []
    outcome, _ = await run(request_for(tmp_path, "pass"), on_start=started.append)
    assert started == [outcome.pid]


async def test_timeout_kills_the_group_including_a_stubborn_grandchild(tmp_path: Path) -> None:
    request = request_for(tmp_path, PARENT_OF_STUBBORN, timeout=1.5)
    outcome, lines = await run(request, grace=0.5)
    assert outcome.timed_out
    assert not outcome.ok
    assert outcome.exit_code == -signal.SIGTERM
    assert "grandchild ready" in lines  # it really was ignoring SIGTERM when the timeout hit
    assert outcome.pid is not None
    assert wait_gone(outcome.pid)
    assert wait_gone(pid_after(lines, "grandchild"))
    assert "timed out after 1.5 s" in outcome.log_path.read_text()


async def test_output_written_during_the_grace_period_is_kept(tmp_path: Path) -> None:
    script = (
        "import signal, sys, time\n"
        "def bye(*_):\n"
        "    print('cleaning up', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    outcome, lines = await run(request_for(tmp_path, script, timeout=1), grace=5)
    assert outcome.timed_out
    assert outcome.exit_code == 0
    assert not outcome.ok  # exit 0 after a timeout is still a timeout
    assert lines == ["started", "cleaning up"]


async def test_grandchild_outliving_a_successful_leader_does_not_hang(tmp_path: Path) -> None:
    script = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('grandchild', child.pid, flush=True)\n"
    )
    outcome, lines = await run(request_for(tmp_path, script))
    assert outcome.ok
    assert outcome.duration_s < 10
    assert wait_gone(pid_after(lines, "grandchild"))


async def test_cancellation_kills_the_group_and_propagates(tmp_path: Path) -> None:
    lines: list[str] = []
    started: list[int] = []

    with anyio.move_on_after(20) as scope:

        def on_line(line: str) -> None:
            lines.append(line)
            if line == "grandchild ready":
                scope.cancel()  # like Ctrl-C cancelling the race's task group

        await run_process(
            request_for(tmp_path, PARENT_OF_STUBBORN),
            on_line,
            grace=0.5,
            on_start=started.append,
        )
        pytest.fail("run_process returned instead of propagating the cancellation")
    assert scope.cancelled_caught
    assert "grandchild ready" in lines
    assert wait_gone(started[0])
    assert wait_gone(pid_after(lines, "grandchild"))


async def test_exception_in_on_line_propagates_unwrapped_and_kills_the_child(
    tmp_path: Path,
) -> None:
    started: list[int] = []

    def explode(line: str) -> None:
        raise RuntimeError(f"bad line {line}")

    script = "import time\nprint('hello', flush=True)\ntime.sleep(60)"
    with anyio.fail_after(30), pytest.raises(RuntimeError, match="bad line hello"):
        await run_process(request_for(tmp_path, script), explode, on_start=started.append)
    assert wait_gone(started[0])


async def test_missing_executable_is_an_error_value(tmp_path: Path) -> None:
    request = ProcRequest(
        argv=("racer-no-such-program", "--help"),
        cwd=tmp_path,
        env=child_env(os.environ),
        log_path=tmp_path / "run.log",
    )
    outcome, lines = await run(request)
    assert outcome.exit_code is None
    assert outcome.pid is None
    assert not outcome.ok
    assert outcome.error == "executable not found: racer-no-such-program"
    assert "executable not found: racer-no-such-program" in request.log_path.read_text()
    assert lines == []


async def test_missing_cwd_is_an_error_value(tmp_path: Path) -> None:
    request = ProcRequest(
        argv=(sys.executable, "-c", "pass"),
        cwd=tmp_path / "gone",
        env=child_env(os.environ),
        log_path=tmp_path / "run.log",
    )
    outcome, _ = await run(request)
    assert outcome.exit_code is None
    assert outcome.error == f"working directory not found: {tmp_path / 'gone'}"


async def test_kill_group_of_a_finished_process_is_a_no_op(tmp_path: Path) -> None:
    outcome, _ = await run(request_for(tmp_path, "pass"))
    assert outcome.pid is not None
    with anyio.fail_after(5):
        await kill_group(outcome.pid, grace=1)


def test_child_env_scrubs_git_location_vars() -> None:
    base = {"PATH": "/bin", "GIT_DIR": "/repo/.git", "GIT_INDEX_FILE": "/i", "GIT_AUTHOR_NAME": "A"}
    env = child_env(base, {"EXTRA": "1"})
    assert env == {"PATH": "/bin", "GIT_AUTHOR_NAME": "A", "EXTRA": "1"}
    assert base["GIT_DIR"] == "/repo/.git"  # the caller's mapping is left alone
    assert {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"} <= set(GIT_ENV_VARS)


async def test_child_does_not_see_git_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", "/somewhere/else/.git")
    script = "import os\nprint(os.environ.get('GIT_DIR', 'unset'))"
    _, lines = await run(request_for(tmp_path, script))
    assert lines == ["unset"]


def test_redact() -> None:
    assert redact("key=sk-abcdef and sk-abcdef", ["sk-abcdef"]) == "key=*** and ***"
    assert redact("abc", ["abc", ""]) == "abc"  # too short to redact safely
    assert redact("token-long", ["token", "token-long"]) == "***"


def test_display_quotes_like_a_shell_and_redacts(tmp_path: Path) -> None:
    request = ProcRequest(
        argv=("agent", "--key", "sk-secret1", "say hi", "--auth=it's-sk-secret1"),
        cwd=tmp_path,
        env={},
        log_path=tmp_path / "run.log",
        secrets=("sk-secret1",),
    )
    shown = request.display()
    assert shown == "agent --key *** 'say hi' '--auth=it'\"'\"'s-***'"


def test_repr_leaves_out_the_environment(tmp_path: Path) -> None:
    request = ProcRequest(
        argv=("agent",), cwd=tmp_path, env={"API_KEY": "sk-secret1"}, log_path=tmp_path / "l"
    )
    assert "sk-secret1" not in repr(request)


def test_run_capture() -> None:
    script = "import sys\nprint('v1.2')\nsys.stderr.write('warn\\n')\nsys.exit(3)"
    assert run_capture([sys.executable, "-c", script]) == (3, "v1.2\nwarn\n")


def test_run_capture_timeout_and_missing_executable() -> None:
    code, _ = run_capture([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert code is None
    code, text = run_capture(["racer-no-such-program"])
    assert code is None
    assert "racer-no-such-program" in text


async def test_pwd_is_the_working_directory(tmp_path: Path) -> None:
    # opencode takes $PWD as its project dir: an inherited one sent its writes to racer's cwd.
    log = tmp_path / "log"
    req = ProcRequest(
        argv=(sys.executable, "-c", "import os; print(os.environ['PWD'])"),
        cwd=tmp_path,
        env=child_env(os.environ, {"PWD": "/somewhere/else"}),
        log_path=log,
    )
    outcome = await run_process(req)
    assert outcome.ok
    assert log.read_text().strip() == str(tmp_path)


async def test_secrets_are_redacted_in_the_log_and_lines_even_across_chunks(tmp_path: Path) -> None:
    secret = "sk-PLANTED-" + "x" * 40
    # Print the secret split over two writes with a pause, so it arrives in two chunks.
    code = (
        "import sys, time; s = sys.argv[1]; "
        "sys.stdout.write('key=' + s[:20]); sys.stdout.flush(); time.sleep(0.3); "
        "sys.stdout.write(s[20:] + ' end\\n'); sys.stdout.flush()"
    )
    lines: list[str] = []
    req = ProcRequest(
        argv=(sys.executable, "-c", code, secret),
        cwd=tmp_path,
        env=child_env(os.environ),
        log_path=tmp_path / "log",
        secrets=(secret,),
    )
    assert (await run_process(req, lines.append)).ok
    text = (tmp_path / "log").read_text()
    assert secret not in text and secret[:20] not in text
    assert text == "key=*** end\n"
    assert lines == ["key=*** end"]


async def test_redaction_keeps_the_log_live(tmp_path: Path) -> None:
    # Output that cannot start a secret is written at once (nothing held back for later).
    code = "import sys, time; print('working', flush=True); time.sleep(30)"
    req = ProcRequest(
        argv=(sys.executable, "-c", code),
        cwd=tmp_path,
        env=child_env(os.environ),
        log_path=tmp_path / "log",
        secrets=("sk-" + "z" * 40,),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_process, req)
        for _ in range(100):
            await anyio.sleep(0.1)
            if (tmp_path / "log").exists() and "working" in (tmp_path / "log").read_text():
                break
        assert (tmp_path / "log").read_text() == "working\n"
        tg.cancel_scope.cancel()


def test_work_behind_the_lanes_runs_at_a_lower_priority_and_so_do_its_children() -> None:
    """racer.context.background(behind=True): a thread of its own at nice BEHIND, whose git
    (or any child) starts at that nice too; the rest of racer keeps its own."""
    import subprocess
    import threading

    from racer.context import background
    from racer.proc import BEHIND

    def niceness() -> tuple[int, str]:
        me = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child = subprocess.run(["nice"], capture_output=True, text=True, check=True).stdout
        return me, child.strip()

    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert background(niceness, behind=True).result(timeout=30) == (
        mine + BEHIND,
        str(mine + BEHIND),
    )
    assert background(niceness).result(timeout=30) == (mine, str(mine))
    assert niceness() == (mine, str(mine))
