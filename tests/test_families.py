"""Model families (racer.families): which vendor's models an agent runs, from its model name,
a provider prefix, or the adapter's default."""

from __future__ import annotations

import pytest

from racer.families import ADAPTER_FAMILIES, UNKNOWN, family_of, same_family

REAL_MODELS = [
    ("claude-sonnet-4-5", "anthropic"),
    ("claude-opus-5-5", "anthropic"),
    ("claude-3-5-haiku@20241022", "anthropic"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"),
    ("sonnet", "anthropic"),
    ("opus", "anthropic"),
    ("haiku", "anthropic"),
    ("opusplan", "anthropic"),
    ("gpt-5.5", "openai"),
    ("gpt-5-codex", "openai"),
    ("gpt-oss-120b", "openai"),
    ("chatgpt-4o-latest", "openai"),
    ("codex-mini-latest", "openai"),
    ("ft:gpt-4o:acme", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4-mini", "openai"),
    ("o1-preview", "openai"),
    ("gemini-2.5-pro", "google"),
    ("gemma-3-27b-it", "google"),
    ("codegemma-7b", "google"),
    ("qwen3-coder-plus", "alibaba"),
    ("qwq-32b", "alibaba"),
    ("deepseek-chat", "deepseek"),
    ("deepseek-reasoner", "deepseek"),
    ("llama-3.1-70b", "meta"),
    ("codellama-34b", "meta"),
    ("codestral-latest", "mistral"),
    ("mistral-large-latest", "mistral"),
    ("open-mixtral-8x22b", "mistral"),
    ("devstral-small", "mistral"),
    ("grok-4", "xai"),
    ("grok-code-fast-1", "xai"),
    ("kimi-k2", "moonshot"),
    ("glm-4.6", "zhipu"),
    ("command-r-plus", "cohere"),
    ("command-a-03-2025", "cohere"),
]


@pytest.mark.parametrize(("model", "family"), REAL_MODELS)
def test_a_real_model_id_names_its_family(model: str, family: str) -> None:
    # The model decides, whatever the adapter: "fake" has no family of its own.
    assert family_of("fake", model) == family
    assert family_of("aider", model.upper()) == family  # case does not matter


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("openai/gpt-5", "openai"),
        ("anthropic/claude-sonnet-4-5", "anthropic"),
        ("openrouter/anthropic/claude-sonnet-4.5", "anthropic"),
        ("meta-llama/Llama-3.1-70B-Instruct", "meta"),
        ("Qwen/Qwen2.5-Coder-32B-Instruct", "alibaba"),
        ("moonshotai/Kimi-K2-Instruct", "moonshot"),
        ("zai-org/GLM-4.6", "zhipu"),
        ("x-ai/grok-4", "xai"),
        ("ollama/codellama", "meta"),
        # A provider prefix alone decides when the name does not say.
        ("openai/my-finetune", "openai"),
        ("azure/prod-deployment", "openai"),
        ("dashscope/some-model", "alibaba"),
        ("cohere/my-model", "cohere"),
    ],
)
def test_provider_prefixes(model: str, family: str) -> None:
    assert family_of("aider", model) == family


def test_the_model_name_beats_a_provider_that_hosts_other_vendors_models() -> None:
    # Vertex AI serves Claude: the reviewer is still Anthropic's model, not Google's.
    assert family_of("aider", "vertex_ai/claude-sonnet-4-5") == "anthropic"
    assert family_of("aider", "vertex_ai/gemini-2.5-pro") == "google"
    assert family_of("aider", "vertex_ai/some-tuned-model") == "google"


@pytest.mark.parametrize(
    "model",
    ["go3", "proto3", "echo1", "turbo1", "photo5", "yolo2", "proto", "consonnet", "napalm"],
)
def test_words_that_merely_contain_a_family_name_are_not_that_family(model: str) -> None:
    # Each alternative must start the name or follow a separator: "go3" is not o3.
    assert family_of("fake", model) == UNKNOWN


@pytest.mark.parametrize("model", ["racer-fake-model", "p", "careful", "default", "best", ""])
def test_a_name_that_says_nothing_falls_back_to_the_adapter(model: str) -> None:
    assert family_of("fake", model) == UNKNOWN
    assert family_of("claude", model) == "anthropic"
    assert family_of("codex", model) == "openai"


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        ("claude", "anthropic"),
        ("codex", "openai"),
        ("gemini", "google"),
        ("qwen", "alibaba"),
        ("opencode", "anthropic"),
        ("aider", UNKNOWN),
        ("fake", UNKNOWN),
        ("my-command-agent", UNKNOWN),
    ],
)
def test_the_adapter_default_when_no_model_is_given(agent: str, family: str) -> None:
    assert family_of(agent, None) == family
    assert family_of(agent, "   ") == family


def test_a_model_beats_the_adapter_default() -> None:
    assert family_of("opencode", "openai/gpt-5") == "openai"
    assert family_of("claude", "gpt-5") == "openai"  # whatever the CLI, the model decides
    assert family_of("codex", "o3") == "openai"
    assert family_of("gemini", " Gemini-2.5-Flash ") == "google"


def test_every_adapter_default_is_a_family_or_unknown() -> None:
    families = {f for _, f in REAL_MODELS} | {UNKNOWN}
    assert set(ADAPTER_FAMILIES.values()) <= families


def test_same_family_never_treats_unknown_as_the_same() -> None:
    assert same_family("anthropic", "anthropic")
    assert not same_family("anthropic", "openai")
    assert not same_family(UNKNOWN, UNKNOWN)
    assert not same_family(UNKNOWN, "openai")
    fake = family_of("fake", "racer-fake-model")
    assert not same_family(fake, family_of("fake", "careful"))
