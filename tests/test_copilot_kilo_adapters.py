"""The copilot and kilo adapters on output captured from the real CLIs (Copilot CLI 1.0.102,
Kilo Code CLI 7.7.7, trimmed), and the pinned versions racer's hints and install script share.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from racer.agents import BUILTIN_AGENTS
from racer.agents.base import LaunchContext
from racer.agents.copilot import USAGE_EVENT, CopilotAgent
from racer.agents.kilo import KiloAgent
from racer.agents.pins import PINS

ROOT = Path(__file__).resolve().parents[1]


def _ctx(model: str | None) -> LaunchContext:
    return LaunchContext("do it", Path("/p"), model, Path("/wt"), extra_args=("--x",))


# One model call each: the final message, then the result line (real, trimmed).
COPILOT_OK = (
    '{"type":"assistant.message","data":{"messageId":"m1","model":"gpt-4o","content":"",'
    '"toolRequests":[{"toolCallId":"c1","name":"bash","arguments":{"command":"ls"}}]}}\n'
    '{"type":"tool.execution_start","data":{"toolCallId":"c1","toolName":"bash",'
    '"arguments":{"command":"python3 -c \'import hello\'","description":"d"}}}\n'
    '{"type":"assistant.message","data":{"messageId":"m2","model":"gpt-4o",'
    '"content":"HELLO_FROM_FAKE","toolRequests":[]}}\n'
    '{"type":"result","timestamp":"t","sessionId":"s","exitCode":0,"usage":{"premiumRequests":0,'
    '"totalApiDurationMs":203,"sessionDurationMs":1480,"codeChanges":{"linesAdded":0,'
    '"linesRemoved":0,"filesModified":[]}}}\n'
)
USAGE_FILE = {
    "totalPremiumRequestCost": 0,
    "modelMetrics": {
        "gpt-4o": {
            "requests": {"count": 1, "cost": 0},
            "usage": {
                "inputTokens": 11,
                "outputTokens": 3,
                "cacheReadTokens": 2,
                "cacheWriteTokens": 0,
            },
        }
    },
    "currentModel": "gpt-4o",
}
COPILOT_429 = (
    '{"type":"model.call_failure","data":{"model":"gpt-4o","statusCode":429,"retryAttempt":5,'
    '"errorMessage":"{\\"message\\":\\"rate limited (fake)\\"}"}}\n'
    '{"type":"assistant.turn_retry","data":{"turnId":"0","model":"gpt-4o","reason":"rate_limit"}}\n'
    '{"type":"session.error","data":{"errorType":"rate_limit","message":"Failed to get response'
    " from the AI model; retried 5 times (total retry wait time: 58.52 seconds) Last error: 429"
    ' rate limited (fake)","statusCode":429}}\n'
    '{"type":"result","timestamp":"t","sessionId":"s","exitCode":1,"usage":{"premiumRequests":0}}\n'
)


def usage_line(data: object) -> str:
    return json.dumps({"type": USAGE_EVENT, "data": data}) + "\n"


def test_copilot_invocation_runs_copilot_under_sh_and_reports_its_usage_file() -> None:
    inv = CopilotAgent().invocation(_ctx("gpt-4.1"))
    assert inv.argv[:2] == ("sh", "-c") and inv.argv[3:6] == ("copilot", "-p", "do it")
    assert "--allow-all-tools" in inv.argv and "--no-ask-user" in inv.argv
    assert inv.argv[inv.argv.index("--model") + 1] == "gpt-4.1" and inv.argv[-1] == "--x"
    assert "COPILOT_ALLOW_ALL" not in inv.env
    assert "--model" not in CopilotAgent().invocation(_ctx(None)).argv


def test_copilot_wrapper_keeps_the_exit_code_and_prints_the_usage_file(tmp_path: Path) -> None:
    """The sh line with a stand-in copilot that writes its usage file by rename, as copilot
    does, and exits 3."""
    fake = tmp_path / "copilot"
    fake.write_text(
        "#!/bin/sh\n"
        'while [ "$1" != --usage-output-file ]; do shift; done\n'
        'printf \'{\\n  "modelMetrics": {"m": {"usage": {"inputTokens": 5}}}\\n}\\n\' > "$2.new"\n'
        'mv "$2.new" "$2"; echo \'{"type":"result","exitCode":3}\'; exit 3\n'
    )
    fake.chmod(0o755)
    argv = list(CopilotAgent().invocation(_ctx(None)).argv)
    argv[3] = str(fake)
    done = subprocess.run(
        argv, env={"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert done.returncode == 3
    last = json.loads(done.stdout.splitlines()[-1])
    assert last == {
        "type": USAGE_EVENT,
        "data": {"modelMetrics": {"m": {"usage": {"inputTokens": 5}}}},
    }
    assert [p.name for p in tmp_path.iterdir()] == ["copilot"]  # the usage file is gone
    out = CopilotAgent().parse_output(done.stdout, done.returncode)
    assert out.error == "copilot exited 3" and out.tokens is not None and out.tokens.input == 5


def test_copilot_output_final_text_tokens_model() -> None:
    out = CopilotAgent().parse_output(COPILOT_OK + usage_line(USAGE_FILE), 0)
    assert out.error is None and out.final_message == "HELLO_FROM_FAKE"
    assert out.tokens is not None and (out.tokens.input, out.tokens.output) == (11, 3)
    assert out.tokens.cached == 2 and out.model == "gpt-4o" and out.cost_usd is None
    assert out.warnings == ()
    billed = {**USAGE_FILE, "totalPremiumRequestCost": 2}
    assert (
        "2 GitHub Copilot premium request"
        in CopilotAgent().parse_output(COPILOT_OK + usage_line(billed), 0).warnings[0]
    )
    # tokens arrive once, at exit: that line is what --max-cost can count
    assert CopilotAgent().spend(usage_line(USAGE_FILE).strip())[1] is not None
    assert CopilotAgent().spend(COPILOT_OK.splitlines()[0]) == (None, None)


def test_copilot_rate_limit_and_errors() -> None:
    out = CopilotAgent().parse_output(COPILOT_429, 1)
    assert out.rate_limited and out.api_status == 429 and "retried 5 times" in (out.error or "")
    auth = (
        '{"type":"session.error","data":{"errorType":"authentication","message":"Authentication'
        ' failed with provider at http://127.0.0.1:1/v1 (HTTP 401).","statusCode":401}}\n'
    )
    out = CopilotAgent().parse_output(auth + '{"type":"result","exitCode":1}\n', 1)
    assert out.api_status == 401 and not out.rate_limited and "Authentication failed" in out.error
    # stopped before its session: the last line says why
    said = "BYOK providers require an explicit model. Run `copilot help providers` for details."
    assert CopilotAgent().parse_output(said + "\n", 1).error == said
    # github/copilot-cli#3189: exit 1 and nothing printed (but racer's usage line)
    out = CopilotAgent().parse_output(usage_line({"modelMetrics": {}}), 1)
    assert out.error is not None and "copilot-cli#3189" in out.error


def test_copilot_progress_lines() -> None:
    lines = COPILOT_OK.splitlines()
    assert CopilotAgent().progress(lines[1]) == "bash python3 -c 'import hello'"
    assert CopilotAgent().progress(lines[2]) == "HELLO_FROM_FAKE"
    assert CopilotAgent().progress(COPILOT_429.splitlines()[1]) == "copilot retries (rate_limit)"


KILO_STEP = (
    '{"type":"step_finish","part":{"type":"step-finish","reason":"stop","cost":%s,'
    '"tokens":{"total":840,"input":800,"output":40,"reasoning":0,"cache":{"read":0,"write":0}}}}\n'
)


def test_kilo_invocation_merges_racer_permissions_into_kilo_config() -> None:
    ctx = LaunchContext(
        "do it",
        Path("/p"),
        "racer/m",
        Path("/wt"),
        extra_env={"KILO_CONFIG_CONTENT": '{"provider": {"racer": {}}, "share": "manual"}'},
    )
    inv = KiloAgent().invocation(ctx)
    assert inv.argv == ("kilo", "run", "--format", "json", "--auto", "-m", "racer/m", "do it")
    config = json.loads(inv.env["KILO_CONFIG_CONTENT"])
    assert config["permission"]["webfetch"] == "deny" and config["provider"] == {"racer": {}}
    assert config["share"] == "manual"  # the user's settings win
    assert inv.env["KILO_DISABLE_AUTOUPDATE"] == "1" and "OPENCODE_CONFIG_CONTENT" not in inv.env


def test_kilo_output_cost_and_errors() -> None:
    text = '{"type":"text","part":{"type":"text","text":"Created hello.py."}}\n'
    out = KiloAgent().parse_output(text + KILO_STEP % "0.0042", 0)
    assert out.final_message == "Created hello.py." and out.cost_usd == 0.0042
    assert out.tokens is not None and (out.tokens.input, out.tokens.output) == (800, 40)
    # $0 for a model kilo has no price for is "unknown": racer estimates instead
    assert KiloAgent().parse_output(text + KILO_STEP % "0", 0).cost_usd is None
    error = (
        '{"type":"error","error":{"name":"APIError","data":{"message":"racer fake model:'
        ' injected HTTP 429","statusCode":429,"isRetryable":true}}}\n'
    )
    out = KiloAgent().parse_output(error, 1)
    assert out.rate_limited and out.api_status == 429
    assert KiloAgent().parse_output("", 2).error == "kilo exited 2"


def test_instructions_files_are_ones_the_clis_read() -> None:
    # `copilot instruction list` lists AGENTS.md (with .github/copilot-instructions.md, CLAUDE.md
    # and GEMINI.md); kilo sent AGENTS.md's text to the model. A root file racer can always place.
    assert CopilotAgent.instructions_file == "AGENTS.md" == KiloAgent.instructions_file


@pytest.mark.parametrize("name", sorted(PINS))
def test_install_hints_name_the_pinned_version(name: str) -> None:
    hint = BUILTIN_AGENTS[name].install_hint
    pin = PINS[name]
    assert f"{pin.package}@{pin.version}" in hint or f"{pin.package}=={pin.version}" in hint


def test_install_script_takes_its_pins_from_racer() -> None:
    """One source of truth: the script evals pins.py and spells no version of its own."""
    script = (ROOT / "scripts" / "install-agents.sh").read_text()
    assert 'eval "$(python3 racer/agents/pins.py)"' in script
    for pin in PINS.values():
        assert pin.version not in script, pin
    listed = subprocess.run(
        [
            "bash",
            "-c",
            'declare -A PIN PKG; eval "$(python3 racer/agents/pins.py)"; '
            'for k in "${!PIN[@]}"; do echo "$k ${PKG[$k]} ${PIN[$k]}"; done',
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert sorted(filter(None, listed)) == sorted(
        f"{name} {pin.package} {pin.version}" for name, pin in PINS.items()
    )
    assert set(PINS) == set(BUILTIN_AGENTS) - {"fake"}
