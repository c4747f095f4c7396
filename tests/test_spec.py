"""Spec parsing (Markdown + YAML front matter) and the prompt every contestant receives."""

from __future__ import annotations

from pathlib import Path

import pytest

from racer.errors import SpecError, UserError
from racer.spec import SPEC_KEYS, Spec, build_prompt, load_spec


def write(tmp_path: Path, text: str, name: str = "task.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def spec_error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, UserError)
    assert info.value.exit_code == 1
    return message


# ---- parsing --------------------------------------------------------------------------------


def test_plain_markdown_takes_title_from_first_heading(tmp_path: Path) -> None:
    path = write(tmp_path, "\n\nIntro.\n\n# Add a --verbose flag\n\nDetails.\n\n# Later\n")
    spec = load_spec(path)
    assert spec.title == "Add a --verbose flag"
    assert spec.body == "Intro.\n\n# Add a --verbose flag\n\nDetails.\n\n# Later"
    assert spec.path == path.resolve()
    assert (spec.agents, spec.test, spec.setup, spec.timeout, spec.acceptance) == (
        None,
        None,
        None,
        None,
        (),
    )


def test_title_falls_back_to_file_stem(tmp_path: Path) -> None:
    path = write(tmp_path, "## Not level one\n\n#nospace is not a heading\n", "fix-login.md")
    assert load_spec(path).title == "fix-login"


def test_heading_inside_code_fence_is_not_the_title(tmp_path: Path) -> None:
    text = "Run this:\n\n```sh\n# install deps\npip install .\n```\n\n# Real title ##\n"
    assert load_spec(write(tmp_path, text)).title == "Real title"


def test_front_matter_title_wins_over_heading(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntitle: '  Speed   up  search '\n---\n# Heading\nBody.\n")
    spec = load_spec(path)
    assert spec.title == "Speed up search"
    assert spec.body == "# Heading\nBody."


def test_front_matter_values_are_typed(tmp_path: Path) -> None:
    text = (
        "---\n"
        "agents: [claude, 'codex@gpt-5.5', 'fake*2']\n"
        "test: pytest -q\n"
        "setup: pip install -e .\n"
        "timeout: 600\n"
        "acceptance: [tests/accept/test_a.py, tests/accept/test_b.py]\n"
        "---\n"
        "Do the thing.\n"
    )
    spec = load_spec(write(tmp_path, text))
    assert spec.agents == ("claude", "codex@gpt-5.5", "fake*2")
    assert spec.test == "pytest -q"
    assert spec.setup == "pip install -e ."
    assert spec.timeout == 600.0
    assert isinstance(spec.timeout, float)
    assert spec.acceptance == ("tests/accept/test_a.py", "tests/accept/test_b.py")
    assert spec.body == "Do the thing."


def test_agents_as_comma_separated_string(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "---\nagents: claude, codex@o3 ,fake*2,\n---\nGo.\n"))
    assert spec.agents == ("claude", "codex@o3", "fake*2")


def test_acceptance_single_string_becomes_tuple(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "---\nacceptance: tests/accept_test.py\n---\nGo.\n"))
    assert spec.acceptance == ("tests/accept_test.py",)


def test_empty_front_matter_and_null_values_mean_unset(tmp_path: Path) -> None:
    assert load_spec(write(tmp_path, "---\n---\nGo.\n", "a.md")).overrides() == {}
    spec = load_spec(write(tmp_path, "---\ntest:\ntimeout: ~\n---\nGo.\n", "b.md"))
    assert spec.test is None
    assert spec.timeout is None


def test_crlf_and_bom_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "win.md"
    path.write_bytes("\ufeff---\r\ntest: make check\r\n---\r\n# Title\r\n\r\nLine.\r\n".encode())
    spec = load_spec(path)
    assert spec.test == "make check"
    assert spec.title == "Title"
    assert spec.body == "# Title\n\nLine."


def test_overrides_holds_only_config_keys_that_were_set(tmp_path: Path) -> None:
    text = "---\ntitle: T\ntimeout: 2.5\nagents: fake\nacceptance: a.py\n---\nGo.\n"
    assert load_spec(write(tmp_path, text)).overrides() == {"timeout": 2.5, "agents": ("fake",)}


def test_spec_is_frozen(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "Go.\n"))
    with pytest.raises(AttributeError):
        spec.title = "other"  # type: ignore[misc]  # proving the dataclass is frozen


# ---- errors ---------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.md"
    message = spec_error(path)
    assert message == f"spec file not found: {path} — pass the path of a Markdown spec"


def test_directory(tmp_path: Path) -> None:
    message = spec_error(tmp_path)
    assert "is a directory" in message
    assert str(tmp_path) in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("# Caf\u00e9\n".encode("latin-1"))
    message = spec_error(path)
    assert "not UTF-8" in message
    assert str(path) in message
    assert "save it as UTF-8" in message


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t\n", "---\ntest: pytest\n---\n", "---\ntitle: Only a title\n---\n  \n\n"],
    ids=["empty", "whitespace", "front-matter-only", "front-matter-then-blank"],
)
def test_empty_body(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    message = spec_error(path)
    assert "has no task text" in message
    assert str(path) in message


def test_unterminated_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntest: pytest\n# Title\nBody\n")
    message = spec_error(path)
    assert "not closed" in message
    assert "'---'" in message
    assert str(path) in message


def test_bad_yaml_names_the_file_line(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntest: pytest\ntimeout: [1, 2\nsetup: x\n---\nBody\n")
    message = spec_error(path)
    assert message.startswith(f"invalid YAML in front matter of {path} at line ")
    line = int(message.split(" at line ")[1].split(":")[0])
    assert 3 <= line <= 5  # the file lines of the broken flow sequence


def test_yaml_error_line_counts_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntest: ok\nbad: : :\n---\nBody\n")
    message = spec_error(path)
    assert f"of {path} at line 3:" in message


def test_front_matter_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "---\n- a\n- b\n---\nBody\n")
    message = spec_error(path)
    assert "must be a YAML mapping" in message
    assert str(path) in message


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntimout: 5\n---\nBody\n")
    message = spec_error(path)
    assert f"unknown key 'timout' in front matter of {path}" in message
    assert "did you mean 'timeout'?" in message
    assert "allowed keys: " + ", ".join(SPEC_KEYS) in message


@pytest.mark.parametrize(
    ("line", "key", "got"),
    [
        ("timeout: abc", "timeout", "'abc'"),
        ("timeout: 0", "timeout", "0"),
        ("timeout: -3", "timeout", "-3"),
        ("timeout: true", "timeout", "True"),
        ("timeout: .inf", "timeout", "inf"),
        ("agents: 5", "agents", "5"),
        ("agents: []", "agents", "[]"),
        ("agents: [claude, 3]", "agents", "['claude', 3]"),
        ("test: [pytest]", "test", "['pytest']"),
        ("setup: ''", "setup", "''"),
        ("title: 42", "title", "42"),
        ("acceptance: {a: 1}", "acceptance", "{'a': 1}"),
        ("acceptance: /abs/test_x.py", "acceptance", "'/abs/test_x.py'"),
    ],
)
def test_wrong_types(tmp_path: Path, line: str, key: str, got: str) -> None:
    path = write(tmp_path, f"---\n{line}\n---\nBody\n")
    message = spec_error(path)
    assert message.startswith(f"{key} in front matter of {path} must be ")
    assert f", got {got}" in message


def test_timeout_message_matches_the_documented_form(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntimeout: abc\n---\nBody\n")
    assert (
        f"timeout in front matter of {path} must be a positive number of seconds, got 'abc'"
        in spec_error(path)
    )


# ---- the prompt -----------------------------------------------------------------------------


def make_spec(body: str = "Make `add` handle negatives.", title: str = "Fix add") -> Spec:
    return Spec(path=Path("/repo/task.md"), title=title, body=body)


def test_prompt_contains_rules_test_command_title_and_body() -> None:
    prompt = build_prompt(make_spec(), test_command="pytest -q")
    assert "several contestants" in prompt
    assert "independently" in prompt
    assert "current directory" in prompt
    assert "Do not commit, push, or create branches" in prompt
    assert "do not commit" in prompt.lower()
    assert "existing tests" in prompt
    assert "Run the tests with: pytest -q" in prompt
    assert "summarise what you changed" in prompt
    assert prompt.endswith("# Task: Fix add\n\nMake `add` handle negatives.\n")


def test_prompt_without_test_command_says_so() -> None:
    for command in (None, "", "   "):
        prompt = build_prompt(make_spec(), test_command=command)
        assert "no test command is configured" in prompt.lower()
        assert "Run the tests with" not in prompt


def test_prompt_is_deterministic_and_shares_one_preamble() -> None:
    first = build_prompt(make_spec(), test_command="make test")
    assert first == build_prompt(make_spec(), test_command="make test")
    other = build_prompt(make_spec(body="Other task.", title="Other"), test_command="make test")
    assert first.split("# Task:")[0] == other.split("# Task:")[0]


def test_prompt_from_a_loaded_spec(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntitle: Speed up\ntest: pytest -x\n---\n\nMake it fast.\n\n")
    spec = load_spec(path)
    prompt = build_prompt(spec, test_command=spec.test)
    assert prompt == build_prompt(load_spec(path), test_command="pytest -x")
    assert "Run the tests with: pytest -x" in prompt
    assert prompt.endswith("# Task: Speed up\n\nMake it fast.\n")
