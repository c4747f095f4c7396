"""Pure pieces: contestant naming, ranking, adapter output parsing, record round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from racer import rank
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


@pytest.mark.parametrize("bad", ["", "fake*0", "fa ke", "nobody", "fake@"])
def test_bad_contestants(bad: str) -> None:
    with pytest.raises(AgentError):
        parse_contestants([bad], REGISTRY)


def _ev(
    name: str,
    order: int,
    status: str = "ok",
    tests: bool | None = True,
    lines: int = 10,
    **kw: object,
) -> rank.Evidence:
    return rank.Evidence(
        name,
        order,
        status,
        None if status == "ok" else status,
        tests,
        True,
        "detail",
        diff_files=1,
        diff_lines=lines,
        **kw,  # type: ignore[arg-type]
    )


def test_rank_order_gates_then_tests_then_size_then_order() -> None:
    out = rank.rank(
        [
            _ev("crashed", 0, "agent_failed"),
            _ev("failing", 1, tests=False, lines=1, broken=1),
            _ev("big", 2, lines=50),
            _ev("small", 3, lines=5),
            _ev("small-too", 4, lines=5),
            _ev("empty", 5, "no_changes", lines=0),
        ]
    )
    assert [r.name for r in out.candidates] == [
        "small",
        "small-too",
        "big",
        "failing",
        "crashed",
        "empty",
    ]
    assert [r.rank for r in out.candidates] == [1, 2, 3, 4, 5, 6]
    assert [r.passed for r in out.candidates] == [True, True, True, False, False, False]
    assert out.candidates[3].status == "tests_failed"
    assert "order given" in out.candidates[1].reasons[-1]
    assert "smaller diff" in out.candidates[2].reasons[-1]
    assert "broken tests" in out.candidates[3].reasons[-1]
    assert all(r.reasons for r in out.candidates)
    assert (out.decided_by, out.confidence) == (
        "order given: tie on all evidence, listed later in --agents",
        "low",
    )
    again = rank.rank(list(reversed([_ev("a", 0), _ev("b", 1)])))
    assert again.candidates[0].name == "a"  # input order irrelevant


def test_rank_evidence_order() -> None:
    # acceptance beats regressions beats fixed beats cross beats flags beats agreement beats size
    pairs = [
        (
            dict(acceptance_passed=2, acceptance_total=2, broken=3),
            dict(acceptance_passed=1, acceptance_total=2),
            "hidden acceptance",
        ),
        (dict(broken=0, fixed=0), dict(broken=1, fixed=5), "broken"),
        (
            dict(fixed=2, cross_passed=0, cross_total=3),
            dict(fixed=1, cross_passed=3, cross_total=3),
            "fixed",
        ),
        (
            dict(cross_passed=3, cross_total=3, tamper=1),
            dict(cross_passed=1, cross_total=3),
            "other candidates",
        ),
        (dict(tamper=0, scope=5), dict(tamper=1, scope=0), "tamper"),
        (dict(scope=0, cluster_size=1), dict(scope=1, cluster_size=3), "scope"),
        (dict(cluster_size=2, lines=90), dict(cluster_size=1, lines=1), "agreement"),
    ]
    for better, worse, what in pairs:
        lb, lw = better.pop("lines", 10), worse.pop("lines", 10)
        out = rank.rank([_ev("worse", 0, lines=lw, **worse), _ev("better", 1, lines=lb, **better)])
        assert out.candidates[0].name == "better", what
        assert out.decided_by is not None and what in out.decided_by, (what, out.decided_by)
    flagged = rank.rank([_ev("t", 0, tamper=1)])
    assert flagged.candidates[0].status == "flagged" and not flagged.candidates[0].passed


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
