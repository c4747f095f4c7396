"""Agents: contestant naming, the registry, each adapter's invocation and output parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from racer.agents import BUILTIN_AGENTS, build_registry, parse_contestants
from racer.agents.base import LaunchContext
from racer.agents.claude import ClaudeAgent
from racer.agents.codex import CodexAgent
from racer.agents.command import CommandAgent
from racer.agents.gemini import GeminiAgent
from racer.errors import AgentError

REGISTRY = build_registry({})


def test_contestant_names_are_unique_and_stable() -> None:
    cs = parse_contestants(["claude,codex@gpt-5.5,claude@opus*2,fake"], REGISTRY)
    assert [c.name for c in cs] == [
        "claude",
        "codex@gpt-5.5",
        "claude@opus",
        "claude@opus-2",
        "fake",
    ]
    assert [c.model for c in cs] == [None, "gpt-5.5", "opus", "opus", None]
    assert [c.order for c in cs] == [0, 1, 2, 3, 4]
    assert [c.name for c in parse_contestants(["fake*2", "fake"], REGISTRY)] == [
        "fake",
        "fake-2",
        "fake-3",
    ]


@pytest.mark.parametrize(
    ("tokens", "names"),
    [
        ("fake@x,fake@x,fake@x-2", ["fake@x", "fake@x-3", "fake@x-2"]),
        ("fake@x-2,fake@x*3", ["fake@x-2", "fake@x", "fake@x-3", "fake@x-4"]),
        # different names, one lane directory, branch and log name (slug): numbered apart
        ("fake@a/b,fake@a-b", ["fake@a/b", "fake@a-b-2"]),
        ("fake@M,fake@m", ["fake@M", "fake@m-2"]),
    ],
)
def test_no_two_contestants_share_a_name_or_a_lane(tokens: str, names: list[str]) -> None:
    from racer.store import slug

    cs = parse_contestants([tokens], REGISTRY)
    assert [c.name for c in cs] == names
    assert len({slug(c.name).lower() for c in cs}) == len(cs)
    # each contestant keeps the model it asked for
    models = [t.split("@", 1)[1].split("*")[0] if "@" in t else None for t in tokens.split(",")]
    assert {c.model for c in cs} == set(models)


@pytest.mark.parametrize("bad", ["", "fake*0", "fa ke", "nobody", "fake@"])
def test_bad_contestants(bad: str) -> None:
    with pytest.raises(AgentError):
        parse_contestants([bad], REGISTRY)


def _ctx(model: str | None = "m") -> LaunchContext:
    return LaunchContext(
        prompt="do it",
        prompt_file=Path("/p.md"),
        model=model,
        worktree=Path("/wt"),
        extra_args=("--x",),
        extra_env={"K": "v"},
    )


def test_claude_invocation_and_output() -> None:
    inv = ClaudeAgent().invocation(_ctx("opus"))
    assert inv.argv[:3] == ("claude", "-p", "do it")
    assert "--model" in inv.argv and "opus" in inv.argv and inv.argv[-1] == "--x"
    assert inv.env["K"] == "v"
    out = (
        '{"type":"system","subtype":"init"}\n'
        '{"type":"result","subtype":"success","is_error":true,"num_turns":1,"result":"API Error: 400 bad",'
        '"total_cost_usd":0.009,"usage":{"input_tokens":2400,"output_tokens":120,'
        '"cache_creation_input_tokens":0,"cache_read_input_tokens":5}}\n'
    )
    parsed = ClaudeAgent().parse_output(out, 1)
    assert parsed.error == "API Error: 400 bad"  # subtype says success: is_error decides
    assert parsed.tokens is not None and (
        parsed.tokens.input,
        parsed.tokens.output,
        parsed.tokens.cached,
    ) == (2400, 120, 5)
    assert parsed.cost_usd == 0.009 and parsed.turns == 1
    line = '{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{"file_path":"hello.py"}}]}}'
    assert ClaudeAgent().progress(line) == "Write hello.py"


def test_codex_output() -> None:
    out = "\n".join(
        json.dumps(o)
        for o in [
            {"type": "thread.started"},
            {"type": "item.started", "item": {"type": "command_execution", "command": "pytest -q"}},
            {
                "type": "item.completed",
                "item": {"type": "agent_message", "text": "Created hello.py"},
            },
            {
                "type": "turn.completed",
                "usage": {"input_tokens": 2400, "cached_input_tokens": 10, "output_tokens": 120},
            },
        ]
    )
    parsed = CodexAgent().parse_output(out, 0)
    assert parsed.final_message == "Created hello.py" and parsed.error is None
    assert parsed.tokens is not None and parsed.tokens.cached == 10
    failed = CodexAgent().parse_output(
        '{"type":"turn.failed","error":{"message":"unexpected status 401"}}', 1
    )
    assert failed.error == "unexpected status 401"
    inv = CodexAgent().invocation(_ctx("gpt-5.5"))
    assert inv.argv[:3] == ("codex", "exec", "--json") and inv.argv[-1] == "do it"
    assert "unbounded_connection_retries" in inv.argv
    assert (
        CodexAgent().progress(
            json.dumps(
                {"type": "item.started", "item": {"type": "command_execution", "command": "ls"}}
            )
        )
        == "Bash ls"
    )


def test_gemini_output() -> None:
    out = "\n".join(
        json.dumps(o)
        for o in [
            {"type": "init", "model": "gemini-2.5-pro"},
            {"type": "message", "role": "assistant", "content": "Done", "delta": True},
            {
                "type": "result",
                "status": "success",
                "stats": {"input_tokens": 2400, "output_tokens": 120, "cached": 0},
            },
        ]
    )
    parsed = GeminiAgent().parse_output(out, 0)
    assert parsed.final_message == "Done" and parsed.error is None
    assert parsed.tokens is not None and parsed.tokens.input == 2400
    failed = GeminiAgent().parse_output("", 144)
    assert failed.error == "gemini exited 144 (HTTP 400)" and failed.api_status == 400
    assert GeminiAgent().parse_output("", 173).rate_limited
    assert GeminiAgent().invocation(_ctx()).env["GEMINI_CLI_TRUST_WORKSPACE"] == "true"


def test_command_agent_placeholders() -> None:
    agent = CommandAgent(
        "bot", ("run", "{prompt_file}", "--m={model}", "{worktree}", '{"json": 1}', "{prompt}")
    )
    inv = agent.invocation(_ctx("m1"))
    assert inv.argv == ("run", "/p.md", "--m=m1", "/wt", '{"json": 1}', "do it", "--x")


def test_registry_adds_user_agents_and_rejects_commandless_unknowns() -> None:
    from racer.config import AgentConfig

    reg = build_registry(
        {
            "mybot": AgentConfig("mybot", command=("mybot", "{prompt}")),
            "claude": AgentConfig(
                "claude", args=("--x",)
            ),  # extends the built-in: still the adapter
        }
    )
    assert isinstance(reg["mybot"], CommandAgent) and isinstance(reg["claude"], ClaudeAgent)
    assert set(reg) == set(BUILTIN_AGENTS) | {"mybot"}
    with pytest.raises(AgentError, match="has no command"):
        build_registry({"ghost": AgentConfig("ghost")})


def test_codex_home_under_tmp_is_an_error_not_a_silent_success() -> None:
    out = (
        "WARNING: proceeding, even though we could not create PATH aliases: Refusing to create helper "
        'binaries under temporary dir "/tmp" (codex_home: AbsolutePathBuf("/tmp/x"))\n'
        '{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}\n'
    )
    parsed = CodexAgent().parse_output(out, 0)
    assert parsed.error is not None and "CODEX_HOME" in parsed.error


def test_aider_output_tokens_cost_and_errors() -> None:
    from racer.agents.aider import AiderAgent

    out = "Applied edit to hello.py\nTokens: 1.2k sent, 60 received. Cost: $0.0045 message, $0.0045 session.\n"
    parsed = AiderAgent().parse_output(out, 0)
    assert parsed.tokens is not None and (parsed.tokens.input, parsed.tokens.output) == (1200, 60)
    assert parsed.cost_usd == 0.0045 and parsed.error is None
    failed = AiderAgent().parse_output("litellm.RateLimitError: 429 Too Many Requests\n", 0)
    assert failed.error is not None and failed.rate_limited  # aider exits 0 on API errors


def test_qwen_api_error_exits_zero_but_is_an_error() -> None:
    from racer.agents.qwen import QwenAgent

    result = {
        "type": "result",
        "is_error": False,
        "result": "[API Error: 401 bad key]",
        "usage": {"input_tokens": 5, "output_tokens": 0},
        "stats": {"models": {"q": {"api": {"totalErrors": 1}}}},
    }
    parsed = QwenAgent().parse_output(json.dumps(result), 0)
    assert parsed.error == "[API Error: 401 bad key]" and parsed.api_status == 401
