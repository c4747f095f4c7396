"""The real agent CLIs (claude, codex, gemini, qwen, opencode, aider, copilot, kilo) against the
fake model server.

Each CLI runs as racer's adapter would run it, in a scratch git repo with a scratch HOME, and must
write the file, exit as documented and report the scripted final text and usage.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.agent_env import (
    AGENT_BIN,
    AGENTS,
    BYOK_AGENTS,
    CODEX_HOMES,
    DEFAULT_MODELS,
    KILO_PRICE,
    agent_setup,
    cli_path,
)
from helpers.fakemodel import FakeModelServer, Scenario
from helpers.repos import make_repo

from racer.agents import BUILTIN_AGENTS, AgentOutput, Invocation, LaunchContext

AGENT_TIMEOUT = 120
PROMPT = "Create hello.py with a hello() function that returns 'hello', then run it."
HELLO = "def hello():\n    return 'hello'\n"
FINAL = "Created hello.py. RACER_FAKE_DONE"
# Every conversation below reports 2400 input / 120 output tokens in total, split evenly over
# its model calls: the total proves each CLI sums per-call usage.
TOTAL_IN, TOTAL_OUT = 2400, 120


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    repo: Path
    requests: list[dict[str, Any]]

    def jsonl(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def explain(self) -> str:
        calls = [(r["status"], r.get("model"), r.get("k"), r.get("action")) for r in self.requests]
        return (
            f"exit {self.returncode} after {self.seconds:.1f}s; requests {calls}\n"
            f"--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-4000:]}"
        )


Drive = Callable[..., Run]


def require(name: str) -> str:
    exe = cli_path(name)
    if exe is None:
        message = f"{name} is not installed (bash scripts/install-agents.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must install the agent CLIs")
        pytest.skip(message)
    return exe


def adapter_invocation(name: str, model: str, prompt: str, extra: list[str]) -> Invocation:
    """copilot's and kilo's command line and environment, from racer's own adapter."""
    if name == "kilo":
        model = f"racer/{model}"  # the provider the kilo setup defines
    ctx = LaunchContext(prompt, Path("prompt.md"), model, Path.cwd(), extra_args=tuple(extra))
    return BUILTIN_AGENTS[name]().invocation(ctx)


def racer_argv(name: str, exe: str, model: str, prompt: str, extra: list[str]) -> list[str]:
    """What racer's adapters run, with the user's extra args (the prompt stays last)."""
    if name in BYOK_AGENTS:
        return list(adapter_invocation(name, model, prompt, extra).argv)
    if name == "claude":
        return [
            exe, "-p", prompt, "--output-format", "stream-json", "--verbose",
            "--permission-mode", "bypassPermissions", "--no-session-persistence",
            "--model", model, *extra,
        ]  # fmt: skip
    if name == "codex":
        sandbox = (
            ["--sandbox", "workspace-write"]
            if shutil.which("bwrap")
            else ["--dangerously-bypass-approvals-and-sandbox"]
        )
        return [
            exe, "exec", "--json", "--skip-git-repo-check", "--ephemeral", *sandbox,
            "--disable", "unbounded_connection_retries", "-m", model, *extra, prompt,
        ]  # fmt: skip
    if name == "gemini":
        return [
            exe, "-p", prompt, "--approval-mode", "yolo", "--output-format", "stream-json",
            "-m", model, *extra,
        ]  # fmt: skip
    if name == "qwen":
        return [
            exe, "-p", prompt, "--yolo", "--output-format", "json", "--auth-type", "openai",
            "-m", model, *extra,
        ]  # fmt: skip
    if name == "opencode":
        return [
            exe, "run", "--format", "json", "-m", f"anthropic/{model}", "--pure", "--auto",
            *extra, prompt,
        ]  # fmt: skip
    if name == "aider":
        return [
            exe, "--model", f"openai/{model}", "--message", prompt, "--yes-always",
            "--no-auto-commits", "--no-gitignore", "--no-check-update",
            "--no-show-release-notes", "--analytics-disable", "--no-pretty", "--no-stream",
            "--no-show-model-warnings", "--map-tokens", "0", "--edit-format", "whole", *extra,
        ]  # fmt: skip
    raise ValueError(name)


def racer_env(name: str) -> dict[str, str]:
    """Environment racer's adapters add on top of the user's."""
    if name == "claude" and os.geteuid() == 0:
        return {"IS_SANDBOX": "1"}  # else bypassPermissions exits 1 as root
    if name == "gemini":
        return {"GEMINI_CLI_TRUST_WORKSPACE": "true"}  # else exit 55 in an untrusted folder
    if name in BYOK_AGENTS:
        return dict(adapter_invocation(name, DEFAULT_MODELS[name], PROMPT, []).env)
    return {}


def run_cli(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str, float]:
    """stdin closed, own process group, the whole group killed on timeout."""
    start = time.monotonic()
    with subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=AGENT_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Agent CLIs spawn node workers and shells: kill the whole group.
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"{cmd[0]} timed out after {AGENT_TIMEOUT}s\n{out[-3000:]}\n{err[-3000:]}")
    return proc.returncode, out, err, time.monotonic() - start


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeModelServer]:
    with FakeModelServer(log_dir=tmp_path_factory.mktemp("fakemodel")) as srv:
        yield srv


@pytest.fixture
def drive(
    server: FakeModelServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Drive]:
    """drive(name, scenario, extra_env=None) -> Run: one real CLI against one fresh scenario."""
    codex_homes: list[Path] = []

    def run(name: str, scenario: Scenario, extra_env: dict[str, str] | None = None) -> Run:
        exe = require(name)
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        server.add(label, scenario)
        repo = make_repo(tmp_path / "repo", {"README.md": "# scratch\n"})
        home = tmp_path / "home"
        env_add, extra = agent_setup(name, server.base(label), home)
        if "CODEX_HOME" in env_add and Path(env_add["CODEX_HOME"]).is_relative_to(CODEX_HOMES):
            codex_homes.append(Path(env_add["CODEX_HOME"]))
        env = {
            "PATH": f"{AGENT_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "LANG": "C.UTF-8",
            # Keeps what the CLIs drop in the temp dir (gemini's error reports) with the test.
            "TMPDIR": str(tmp_path),
            **env_add,
            **racer_env(name),
            **(extra_env or {}),
        }
        cmd = racer_argv(name, exe, DEFAULT_MODELS[name], PROMPT, extra)
        code, out, err, seconds = run_cli(cmd, repo, env)
        return Run(code, out, err, seconds, repo, server.for_scenario(label))

    yield run
    for path in codex_homes:
        shutil.rmtree(path, ignore_errors=True)


# The shell step runs the written file, so it also proves the write landed before it.
SHELL_STEP: dict[str, Any] = {"shell": "python3 -c 'import hello; print(hello.hello())'"}
STEPS: dict[str, list[dict[str, Any]]] = {
    "claude": [SHELL_STEP],
    "codex": [SHELL_STEP],
    "gemini": [SHELL_STEP],
    "qwen": [SHELL_STEP],
    "opencode": [SHELL_STEP],
    "aider": [],  # one --message is one model call, edits come from the reply text
    "copilot": [SHELL_STEP],
    "kilo": [SHELL_STEP],
}


def model_calls(name: str, scenario: Scenario) -> int:
    return 1 if name == "aider" else len(scenario.steps) + 1


def hello_scenario(name: str) -> Scenario:
    steps = [{"write": {"path": "hello.py", "content": HELLO}}, *STEPS[name]]
    scenario = Scenario(steps=steps, final_text=FINAL)
    calls = model_calls(name, scenario)
    scenario.usage = {"input": TOTAL_IN // calls, "output": TOTAL_OUT // calls}
    return scenario


def check_output(name: str, run: Run) -> None:
    """The final text and the summed usage, read the way racer's adapter reads them."""
    if name == "claude":
        result = run.jsonl()[-1]
        assert result["type"] == "result" and result["is_error"] is False
        assert result["result"] == FINAL
        usage = result["usage"]
        assert (usage["input_tokens"], usage["output_tokens"]) == (TOTAL_IN, TOTAL_OUT)
        assert result["total_cost_usd"] > 0
    elif name == "codex":
        events = run.jsonl()
        messages = [
            e["item"]["text"] for e in events if e.get("item", {}).get("type") == "agent_message"
        ]
        assert messages[-1] == FINAL
        shells = [e["item"] for e in events if e.get("item", {}).get("type") == "command_execution"]
        assert any(s.get("exit_code") == 0 and "hello" in s["aggregated_output"] for s in shells)
        usage = next(e for e in reversed(events) if e["type"] == "turn.completed")["usage"]
        assert (usage["input_tokens"], usage["output_tokens"]) == (TOTAL_IN, TOTAL_OUT)
    elif name == "gemini":
        events = run.jsonl()
        text = "".join(
            e["content"] for e in events if e["type"] == "message" and e["role"] == "assistant"
        )
        assert text == FINAL
        result = events[-1]
        assert result["type"] == "result" and result["status"] == "success"
        stats = result["stats"]
        assert (stats["input_tokens"], stats["output_tokens"]) == (TOTAL_IN, TOTAL_OUT)
    elif name == "qwen":
        result = json.loads(run.stdout)[-1]  # one JSON array of Claude-style events
        assert result["type"] == "result" and result["is_error"] is False
        assert result["result"] == FINAL
        usage = result["usage"]
        assert (usage["input_tokens"], usage["output_tokens"]) == (TOTAL_IN, TOTAL_OUT)
        api = [m["api"] for m in result["stats"]["models"].values()]
        assert sum(a["totalErrors"] for a in api) == 0
    elif name == "opencode":
        events = run.jsonl()
        text = "".join(e["part"]["text"] for e in events if e["type"] == "text")
        assert text == FINAL
        steps = [e["part"] for e in events if e["type"] == "step_finish"]
        tokens = (
            sum(s["tokens"]["input"] for s in steps),
            sum(s["tokens"]["output"] for s in steps),
        )
        assert tokens == (TOTAL_IN, TOTAL_OUT)
        assert sum(s["cost"] for s in steps) > 0
    elif name in BYOK_AGENTS:
        check_byok_output(name, run)
    elif name == "aider":
        assert FINAL in run.stdout
        assert "Applied edit to hello.py" in run.stdout
        match = re.search(r"Tokens: (\S+) sent, (\S+) received\. Cost: \$(\S+) message", run.stdout)
        assert match, "no usage line"
        assert match.group(1, 2) == ("2.4k", "120")
        assert float(match.group(3)) > 0


def parsed(name: str, run: Run) -> AgentOutput:
    return BUILTIN_AGENTS[name]().parse_output(run.stdout + run.stderr, run.returncode)


def check_byok_output(name: str, run: Run) -> None:
    """copilot and kilo: the raw events, then what racer's adapter reads from them."""
    events = run.jsonl()
    if name == "copilot":
        texts = [e["data"]["content"] for e in events if e["type"] == "assistant.message"]
        assert texts[-1] == FINAL
        assert [e["exitCode"] for e in events if e["type"] == "result"] == [0]
        # The usage file, printed by racer's sh wrapper after copilot exited.
        usage = next(e["data"] for e in events if e["type"] == "racer.copilot_usage")
        counts = usage["modelMetrics"][DEFAULT_MODELS["copilot"]]["usage"]
        assert (counts["inputTokens"], counts["outputTokens"]) == (TOTAL_IN, TOTAL_OUT)
        assert usage["totalPremiumRequestCost"] == 0  # BYOK: no premium requests
    else:
        text = "".join(e["part"]["text"] for e in events if e["type"] == "text")
        assert text == FINAL
        steps = [e["part"] for e in events if e["type"] == "step_finish"]
        assert sum(s["cost"] for s in steps) == pytest.approx(
            (TOTAL_IN * KILO_PRICE["input"] + TOTAL_OUT * KILO_PRICE["output"]) / 1e6
        )
    out = parsed(name, run)
    assert out.error is None and out.final_message == FINAL
    assert out.tokens is not None and (out.tokens.input, out.tokens.output) == (TOTAL_IN, TOTAL_OUT)


@pytest.mark.parametrize("name", AGENTS + BYOK_AGENTS)
def test_cli_writes_file_and_reports_usage(name: str, drive: Drive) -> None:
    scenario = hello_scenario(name)
    run = drive(name, scenario)
    assert run.returncode == 0, run.explain()
    assert (run.repo / "hello.py").read_text(encoding="utf-8") == HELLO, run.explain()
    # Side requests (opencode's title) offer no tools; aider's one call offers none either.
    main = [r for r in run.requests if r.get("tools") or name == "aider"]
    assert [r["status"] for r in main] == [200] * model_calls(name, scenario), run.explain()
    if SHELL_STEP in scenario.steps:
        # The shell step's output came back to the model: the command really ran.
        assert "hello" in main[-1]["result"], run.explain()
    try:
        check_output(name, run)
    except (AssertionError, KeyError, IndexError, StopIteration, ValueError) as exc:
        raise AssertionError(f"{exc!r}\n{run.explain()}") from exc


ERROR_CASES = [(name, status) for name in ("claude", "codex", "gemini") for status in (401, 500)]


@pytest.mark.parametrize(("name", "status"), ERROR_CASES)
def test_cli_reports_api_error(name: str, status: int, drive: Drive) -> None:
    run = drive(
        name,
        Scenario(steps=[{"write": {"path": "hello.py", "content": HELLO}}], error_status=status),
    )
    assert not (run.repo / "hello.py").exists()
    # The retry opt-outs in agent_setup hold: one request, no backoff.
    assert [r["status"] for r in run.requests] == [status], run.explain()
    events = run.jsonl()
    try:
        if name == "claude":
            assert run.returncode == 1
            result = events[-1]
            # subtype stays "success" on an API error: is_error is the signal.
            assert result["type"] == "result" and result["is_error"] is True
            assert result["api_error_status"] == status
            assert f"API Error: {status}" in result["result"]
            if status == 401:
                assert result["result"].startswith("Failed to authenticate")
        elif name == "codex":
            assert run.returncode == 1
            assert events[-2]["type"] == "error"
            assert events[-1]["type"] == "turn.failed"
            if status == 401:
                assert "401 Unauthorized" in events[-1]["error"]["message"]
        elif name == "gemini":
            assert run.returncode == status % 256  # 401 -> 145, 500 -> 244
            result = events[-1]
            assert result["type"] == "result" and result["status"] == "error"
            assert f'"code":{status}' in result["error"]["message"]
    except (AssertionError, KeyError, IndexError) as exc:
        raise AssertionError(f"{exc!r}\n{run.explain()}") from exc


# How often each retries an error before it gives up (with the setups' own retry settings):
# copilot has no setting for it (~58 s of backoff on 429); KILO_SESSION_RETRY_LIMIT=1 for kilo.
BYOK_TRIES = {
    ("copilot", 401): 3,
    ("copilot", 429): 6,
    ("copilot", 500): 6,
    ("kilo", 401): 1,
    ("kilo", 429): 2,
    ("kilo", 500): 2,
}


@pytest.mark.parametrize(("name", "status"), sorted(BYOK_TRIES))
def test_byok_cli_reports_api_error(name: str, status: int, drive: Drive) -> None:
    """Exit 1, the HTTP status in the error event, and racer reads a failure (rate-limited on
    429, so racer's own retry and fallback policy takes over once the CLI gave up)."""
    run = drive(
        name,
        Scenario(steps=[{"write": {"path": "hello.py", "content": HELLO}}], error_status=status),
    )
    assert not (run.repo / "hello.py").exists()
    main = [r["status"] for r in run.requests if r.get("tools")]
    try:
        assert run.returncode == 1
        assert main == [status] * BYOK_TRIES[name, status]
        events = run.jsonl()
        if name == "copilot":
            error = next(e["data"] for e in events if e["type"] == "session.error")
            assert error["statusCode"] == status
            kinds = {401: "authentication", 429: "rate_limit", 500: "query"}
            assert error["errorType"] == kinds[status]
            assert [e["exitCode"] for e in events if e["type"] == "result"] == [1]
        else:
            error = next(e["error"] for e in events if e["type"] == "error")
            assert error["name"] == "APIError" and error["data"]["statusCode"] == status
        out = parsed(name, run)
        assert out.error and out.api_status == status
        assert out.rate_limited is (status == 429)
    except (AssertionError, KeyError, StopIteration) as exc:
        raise AssertionError(f"{exc!r}\n{run.explain()}") from exc


def test_copilot_without_output_is_a_failure() -> None:
    """github/copilot-cli#3189: `-p` may exit 1 having printed nothing; racer says so."""
    out = BUILTIN_AGENTS["copilot"]().parse_output("", 1)
    assert out.error is not None and "copilot-cli#3189" in out.error
    assert "exited 1" in out.error and not out.rate_limited
    # Exit 0 and no result event is no success either.
    assert BUILTIN_AGENTS["copilot"]().parse_output("", 0).error is not None


def test_claude_retries_a_429_once(drive: Drive) -> None:
    scenario = hello_scenario("claude")
    scenario.error_status, scenario.error_times = 429, 1
    run = drive("claude", scenario, {"CLAUDE_CODE_MAX_RETRIES": "2"})
    assert run.returncode == 0, run.explain()
    assert [r["status"] for r in run.requests] == [429, 200, 200, 200], run.explain()
    check_output("claude", run)


# --------------------------------------------------------------------------- the server itself


def post(url: str, body: object) -> tuple[int, dict[str, str], Any]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_server_gemini_side_calls(server: FakeModelServer) -> None:
    server.add("side", Scenario())
    base = server.base("side") + "/v1beta/models/gemini-x"
    schema = {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "complexity_score": {"type": "integer", "minimum": 1, "maximum": 100},
            "next_speaker": {"type": "string", "enum": ["user", "model"]},
        },
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema},
    }
    status, _, text = post(base + ":generateContent", body)
    assert status == 200
    answer = json.loads(json.loads(text)["candidates"][0]["content"]["parts"][0]["text"])
    assert answer == {"reasoning": "ok", "complexity_score": 1, "next_speaker": "user"}
    status, _, text = post(base + ":countTokens", {"contents": []})
    assert (status, json.loads(text)) == (200, {"totalTokens": 1200})


def test_server_error_shapes_and_counter(server: FakeModelServer) -> None:
    server.add("busy", Scenario(error_status=429, error_on="all", error_times=2))
    chat = server.base("busy") + "/v1/chat/completions"
    first = post(chat, {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert first[0] == 429 and first[1]["Retry-After"] == "0"
    assert first[2]["error"]["code"] == "rate_limit_exceeded"
    anthropic = post(server.base("busy") + "/v1/messages", {"model": "m", "messages": []})
    assert anthropic[0] == 429
    assert anthropic[2] == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "racer fake model: injected HTTP 429"},
    }
    third = post(chat, {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert third[0] == 200 and "OK" in third[2]  # error_times spent; no tools: a side answer
    server.add("down", Scenario(error_status=500, error_on="all"))
    gemini = post(server.base("down") + "/v1beta/models/g:generateContent", {"contents": []})
    assert gemini[0] == 500
    assert gemini[2] == {
        "error": {
            "code": 500,
            "message": "racer fake model: injected HTTP 500",
            "status": "INTERNAL",
        }
    }


def test_server_unknown_paths(server: FakeModelServer) -> None:
    server.add("known", Scenario())
    assert post(server.base("known") + "/v2/nothing", {})[0] == 404
    assert post(server.base("nobody") + "/v1/messages", {})[0] == 404
