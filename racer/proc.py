"""The one place racer spawns processes: a ProcRequest in, a ProcOutcome out.

Output streams to a log file and a line callback; timeouts and cancellation kill the whole group.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

# anyio is imported by the async functions that use it: the synchronous doors (run_captured,
# run_capture) serve commands such as `racer show`, which must not pay for an event loop library.
if TYPE_CHECKING:
    import anyio
    from anyio.abc import ByteReceiveStream, Process

# The variables that tell git which repository, index and object store to use. Set by a hook or
# by `git rebase -x`, they would point every child's git at racer's repo instead of its worktree.
# Config variables (GIT_CONFIG_*) are kept on purpose: they carry the user's intent.
GIT_ENV_VARS: tuple[str, ...] = (
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
)

MAX_LINE_CHARS = 2000
# Bytes kept of a line still waiting for its newline: enough for MAX_LINE_CHARS characters of any
# UTF-8 text, so a child printing 100 MB without a newline costs 8 KB, not 100 MB.
_MAX_LINE_BYTES = 4 * MAX_LINE_CHARS + 4
_CHUNK_BYTES = 64 * 1024
# How long to keep reading after the leader is gone (its group was SIGKILLed, so only a process
# that left the group with setsid can still hold the pipe open).
_DRAIN_S = 2.0
_POLL_S = 0.05
_REDACTED = "***"
# Word characters only, so on its own it needs no shell quoting.
_PLACEHOLDER = "RACERREDACTEDSECRET"


def child_env(base: Mapping[str, str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of base without GIT_ENV_VARS, then extra applied (extra may set them back)."""
    env = {key: value for key, value in base.items() if key not in GIT_ENV_VARS}
    if extra:
        env.update(extra)
    return env


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace each secret of 4 or more characters in text with ***; shorter ones are ignored."""
    return _replace_secrets(text, secrets, _REDACTED)


def redact_file(src: Path, dest: Path, secrets: Iterable[str], chunk: int = 1 << 20) -> None:
    """Copy src to dest with each secret replaced by ***, a chunk at a time (bytes as they are:
    a diff of any size or encoding, never whole in memory). A secret split across two chunks is
    caught: the last len(longest) - 1 bytes wait for the next chunk."""
    needles = sorted({s.encode() for s in secrets if len(s) >= 4}, key=len, reverse=True)
    keep = max((len(n) for n in needles), default=1) - 1
    mark = _REDACTED.encode()
    with src.open("rb") as fin, dest.open("wb") as fout:
        held = b""
        while block := fin.read(chunk):
            held += block
            for needle in needles:
                held = held.replace(needle, mark)
            cut = max(0, len(held) - keep)
            fout.write(held[:cut])
            held = held[cut:]
        fout.write(held)


def _replace_secrets(text: str, secrets: Iterable[str], replacement: str) -> str:
    # Longest first, so a secret that contains another one is hidden whole.
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, replacement)
    return text


@dataclass(frozen=True)
class ProcRequest:
    """Everything needed to run one process; printable with its secrets redacted."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(repr=False)  # the complete child environment; holds API keys
    log_path: Path
    timeout: float | None = None
    secrets: tuple[str, ...] = ()
    idle_timeout: float | None = None  # no output for this long: killed like a timeout

    def __post_init__(self) -> None:
        if not self.argv:
            raise ValueError("ProcRequest.argv must not be empty")

    def display(self) -> str:
        """The command line as a shell would take it, with the secrets replaced by ***."""
        # Redact before quoting (a secret holding a quote would not survive shlex.quote intact),
        # with a placeholder that quotes like the secret it replaces, not like "***" would.
        marked = [_replace_secrets(arg, self.secrets, _PLACEHOLDER) for arg in self.argv]
        return shlex.join(marked).replace(_PLACEHOLDER, _REDACTED)


@dataclass(frozen=True)
class ProcOutcome:
    """How a process ended; failures to start are values here too (exit_code None, error set)."""

    exit_code: int | None  # negative: killed by that signal; None: it never started
    duration_s: float
    timed_out: bool
    log_path: Path
    pid: int | None  # also the process-group id: each process runs in its own session
    error: str | None = None
    idle: bool = False  # timed out because it printed nothing for idle_timeout seconds

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


async def run_process(
    request: ProcRequest,
    on_line: Callable[[str], None] | None = None,
    *,
    grace: float = 3.0,
    on_start: Callable[[int], None] | None = None,
) -> ProcOutcome:
    """Run request to completion, streaming its merged stdout+stderr to the log and on_line.

    On timeout or cancellation the whole process group gets SIGTERM, then SIGKILL after grace
    seconds; a cancellation is re-raised once the group is dead.
    """
    import anyio

    request.log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with request.log_path.open("ab") as log:
        try:
            process = await anyio.open_process(
                list(request.argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=request.cwd,
                # PWD as a shell would set it: some CLIs (opencode) take it as their project
                # directory, and an inherited one points at racer's own cwd.
                env={**request.env, "PWD": str(request.cwd)},
                start_new_session=True,
            )
        except OSError as exc:
            error = _spawn_error(request, exc)
            log.write(f"racer: {error}\n".encode())
            return ProcOutcome(
                exit_code=None,
                duration_s=time.monotonic() - started,
                timed_out=False,
                log_path=request.log_path,
                pid=None,
                error=error,
            )
        timed_out, idle, fired = await _supervise(process, request, log, on_line, grace, on_start)
    # A run that timed out took as long as its timeout said: the kill ladder is racer's time.
    ended = fired if fired is not None else time.monotonic()
    return ProcOutcome(
        exit_code=process.returncode,
        duration_s=ended - started,
        timed_out=timed_out,
        log_path=request.log_path,
        pid=process.pid,
        idle=idle,
    )


async def kill_group(pid: int, grace: float = 3.0) -> None:
    """SIGTERM the process group pid, wait up to grace seconds for it to exit, then SIGKILL it.

    Shielded from cancellation, so a cancelled caller still leaves no process behind.
    """
    import anyio

    with anyio.CancelScope(shield=True):
        if not signal_group(pid, signal.SIGTERM):
            return
        with anyio.move_on_after(grace):
            while _group_running(pid):
                await anyio.sleep(_POLL_S)
        # Sent even when the group looks done: it costs nothing to zombies, and it covers a
        # /proc that misreports the group.
        signal_group(pid, signal.SIGKILL)


def run_capture(
    argv: Sequence[str],
    *,
    timeout: float = 15.0,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int | None, str]:
    """Run a short command synchronously (e.g. `claude --version`): (exit code, merged output).

    For quick queries outside a race: output is held in memory, not logged. The exit code is
    None when the command could not start (the output is then the reason) or timed out.
    """
    try:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=child_env(os.environ if env is None else env),
            start_new_session=True,
        )
    except OSError as exc:
        return None, str(exc)
    code: int | None
    try:
        output, _ = child.communicate(timeout=timeout)
        code = child.returncode
    except subprocess.TimeoutExpired:
        signal_group(child.pid, signal.SIGKILL)
        output, _ = child.communicate()
        code = None
    signal_group(child.pid, signal.SIGKILL)  # anything it left running
    return code, output.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Captured:
    """What a short synchronous command printed (see run_captured)."""

    returncode: int | None  # None: it could not start (stderr says why) or timed out
    stdout: str
    stderr: str
    timed_out: bool = False


def run_captured(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    input: str | None = None,
    timeout: float = 600.0,
    stdout_to: Path | None = None,
) -> Captured:
    """Run a command to completion with its stdout and stderr apart (git plumbing, probes).

    Same contract as every racer child: env scrubbed, stdin closed unless `input` is given,
    its own process group, killed as a group when it overruns `timeout`. With `stdout_to`, its
    output goes straight into that file (a diff of any size never passes through memory).
    """
    try:
        sink = stdout_to.open("wb") if stdout_to is not None else None
    except OSError as exc:
        return Captured(None, "", f"cannot write {stdout_to}: {exc.strerror}")
    try:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=sink if sink is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=child_env(env),
            start_new_session=True,
        )
    except OSError as exc:
        return Captured(None, "", str(exc))
    finally:
        if sink is not None:
            sink.close()  # the child holds its own descriptor
    data = input.encode() if input is not None else None
    timed_out = False
    try:
        out, err = child.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        timed_out = True
    signal_group(child.pid, signal.SIGKILL)  # anything it left running
    # File contents and names need not be UTF-8.
    return Captured(
        None if timed_out else child.returncode,
        (out or b"").decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
        timed_out,
    )


# The nice of work done behind the lanes: racer.basefill's disk base, the verdict's reads.
BEHIND = 10


def lower_this_thread(nice: int = BEHIND) -> None:
    """Lower the calling thread's CPU priority by `nice`, and that of the processes it starts
    from now on: Linux keeps a nice value per thread, and a child takes its parent thread's.
    For work nothing waits for yet, on 2 cores shared with the lanes' checkouts, agents, tests."""
    # Not Linux, or not allowed: the same work at the same priority.
    with contextlib.suppress(OSError, AttributeError):
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + nice))


def spawn_detached(argv: Sequence[str], cwd: Path | None = None) -> None:
    """Start a command that outlives racer (a background delete), its output discarded."""
    # sh starts it in the background and exits at once: the command is then owned by init.
    subprocess.run(
        ["/bin/sh", "-c", '"$@" &', "sh", *argv],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=False,
    )


async def _supervise(
    process: Process,
    request: ProcRequest,
    log: BinaryIO,
    on_line: Callable[[str], None] | None,
    grace: float,
    on_start: Callable[[int], None] | None,
) -> tuple[bool, bool, float | None]:
    """Wait for process while pumping its output; returns (timed out, of which: idle, when the
    timeout fired)."""
    import anyio

    if process.stdout is None:  # pragma: no cover - run_process always asks for a pipe
        raise RuntimeError("process has no stdout pipe")
    pump = _Pump(process.stdout, log, on_line, request.secrets)
    timed_out = idle = False
    fired: float | None = None
    try:
        if on_start is not None:
            on_start(process.pid)
        async with anyio.create_task_group() as tg:
            tg.start_soon(pump.run, tg.cancel_scope)
            limit = math.inf if request.timeout is None else request.timeout
            with anyio.move_on_after(limit) as deadline:
                if request.idle_timeout:
                    async with anyio.create_task_group() as watch:
                        watch.start_soon(_watch_idle, pump, request.idle_timeout, deadline)
                        await process.wait()
                        watch.cancel_scope.cancel()
                else:
                    await process.wait()
            idle = pump.idle
            if deadline.cancelled_caught:
                timed_out, fired = True, time.monotonic()
                await _terminate(process, grace)
            else:
                # Children the leader left behind would hold the pipe open forever.
                signal_group(process.pid, signal.SIGKILL)
            with anyio.move_on_after(_DRAIN_S):
                await pump.done.wait()
            tg.cancel_scope.cancel()
        if pump.failure is not None:
            raise pump.failure
        if timed_out:
            why = (
                f"no output for {request.idle_timeout} s"
                if idle
                else f"timed out after {request.timeout} s"
            )
            log.write(f"racer: {why}; process group killed\n".encode())
    except BaseException:
        # Cancelled from outside (Ctrl-C) or a callback raised: leave nothing running.
        with anyio.CancelScope(shield=True):
            await _terminate(process, grace)
            await process.aclose()
        raise
    await process.aclose()
    return timed_out, idle, fired


async def _watch_idle(pump: _Pump, limit: float, deadline: anyio.CancelScope) -> None:
    import anyio

    while True:
        await anyio.sleep(min(1.0, limit / 4))
        if time.monotonic() - pump.last_output > limit:
            pump.idle = True
            deadline.cancel()
            return


async def _terminate(process: Process, grace: float) -> None:
    import anyio

    async with anyio.create_task_group() as tg:
        # Reap the leader meanwhile: some backends reap only inside wait(), and an unreaped
        # zombie leader would make the group look alive for the whole grace period.
        tg.start_soon(process.wait)
        await kill_group(process.pid, grace)


def signal_group(pid: int, sig: int) -> bool:
    """Send sig to the group; False when the group no longer exists."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # macOS answers EPERM for a group of zombies; either way nothing of ours is left to signal.
        return False
    return True


def _group_running(pgid: int) -> bool:
    """Whether a member of the group is still running; zombies awaiting their reaper don't count.

    Killed orphans belong to init, which may reap them late (once a second) or never (a container
    whose PID 1 is not an init): counting them would make every kill wait out its grace period.
    """
    if not signal_group(pgid, 0):
        return False
    if not _proc_fs_is_ours():
        return True
    with os.scandir("/proc") as entries:
        for entry in entries:
            if entry.name.isdigit():
                fields = proc_stat(entry.name)
                # After the command name: state, ppid, pgrp, ...
                if fields is not None and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                    return True
    return False


@functools.cache
def _proc_fs_is_ours() -> bool:
    """Whether /proc exists and shows this process's pid namespace."""
    fields = proc_stat("self")
    return fields is not None and fields[2] == str(os.getpgrp())


def proc_stat(pid: str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None if it is gone."""
    try:
        stat = Path("/proc", pid, "stat").read_bytes()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; it ends at the last ")".
    return stat.rpartition(b")")[2].decode("ascii", errors="replace").split()


def _spawn_error(request: ProcRequest, exc: OSError) -> str:
    program = request.argv[0]
    if exc.filename is not None and os.fspath(exc.filename) == os.fspath(request.cwd):
        return f"working directory not found: {request.cwd}"
    if isinstance(exc, FileNotFoundError):
        return f"executable not found: {program}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {program}"
    return f"could not start {program}: {exc.strerror or exc}"


class _Pump:
    """Copies the pipe to the log as it arrives and hands complete lines to on_line."""

    def __init__(
        self,
        stream: ByteReceiveStream,
        log: BinaryIO,
        on_line: Callable[[str], None] | None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        import anyio

        self._stream = stream
        self._log = log
        self._on_line = on_line
        self._partial = bytearray()
        self._secrets = tuple(s for s in secrets if len(s) >= 4)
        self.last_output = time.monotonic()
        self.idle = False
        self._redactor = _Redactor(self._secrets) if self._secrets else None
        self.done = anyio.Event()
        self.failure: Exception | None = None

    async def run(self, scope: anyio.CancelScope) -> None:
        import anyio

        try:
            while True:
                try:
                    chunk = await self._stream.receive(_CHUNK_BYTES)
                except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                    break
                self.last_output = time.monotonic()
                self._log.write(self._redactor.feed(chunk) if self._redactor else chunk)
                self._log.flush()
                self._feed(chunk)
            if self._partial:
                self._emit()
        except Exception as exc:
            # A failing on_line or log write: stop the run, and let _supervise re-raise it after
            # cleanup rather than have the task group wrap it in an ExceptionGroup.
            self.failure = exc
            scope.cancel()
        finally:
            if self._redactor:
                # Also when cancelled: the held-back tail is output too.
                self._log.write(self._redactor.flush())
                self._log.flush()
            self.done.set()

    def _feed(self, chunk: bytes) -> None:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            self._keep(chunk, start, end)
            self._emit()
            start = end + 1
        self._keep(chunk, start, len(chunk))

    def _keep(self, chunk: bytes, start: int, end: int) -> None:
        room = _MAX_LINE_BYTES - len(self._partial)
        if room > 0:
            self._partial += chunk[start : min(end, start + room)]

    def _emit(self) -> None:
        line = self._partial.decode("utf-8", errors="replace").rstrip("\r\n")
        self._partial.clear()
        if self._secrets:
            line = redact(line, self._secrets)
        if self._on_line is not None:
            self._on_line(line[:MAX_LINE_CHARS])


class _Redactor:
    """Replaces secrets in a byte stream, even when one is split across two chunks: it holds
    back only a tail that could be the start of a secret, so the log stays live."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self._secrets = sorted({s.encode() for s in secrets}, key=len, reverse=True)
        self._keep = max(len(s) for s in self._secrets) - 1
        self._held = b""

    def _replace(self, data: bytes) -> bytes:
        for secret in self._secrets:
            data = data.replace(secret, _REDACTED.encode())
        return data

    def feed(self, chunk: bytes) -> bytes:
        data = self._replace(self._held + chunk)
        hold = 0
        for k in range(min(self._keep, len(data)), 0, -1):
            tail = data[-k:]
            if any(s.startswith(tail) for s in self._secrets):
                hold = k
                break
        self._held = data[len(data) - hold :]
        return data[: len(data) - hold]

    def flush(self) -> bytes:
        data, self._held = self._replace(self._held), b""
        return data


SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values of variables whose names say they hold secrets (API keys, tokens), 8+ chars."""
    return tuple(sorted({v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= 8}))
