"""Model families: which vendor's models an agent runs (anthropic, openai, google, alibaba, …).

A reviewer from another family catches what the author's family misses; racer picks one with
`--review auto` and says when a reviewer shares a family with a candidate it reviewed.
The model name decides when it names a family; else the adapter's own vendor; else unknown.
"""

from __future__ import annotations

import re

UNKNOWN = "unknown"

# Model-name patterns, checked on the name without a provider prefix ("anthropic/claude-…").
# Each alternative must start the name or follow a separator ("go3" and "proto3" are not o3).
_MODEL_FAMILIES: tuple[tuple[str, str], ...] = (
    (r"claude|sonnet|opus|haiku", "anthropic"),
    (r"gpt|o[1-9](?:-|$)|codex|chatgpt|davinci", "openai"),
    (r"gemini|gemma|codegemma|palm", "google"),
    (r"qwen|qwq", "alibaba"),
    (r"deepseek", "deepseek"),
    (r"llama|codellama", "meta"),
    (r"mistral|mixtral|codestral|devstral|magistral", "mistral"),
    (r"grok", "xai"),
    (r"kimi|moonshot", "moonshot"),
    (r"glm|zhipu", "zhipu"),
    (r"command-[ar]|cohere", "cohere"),
)
# Provider prefixes some CLIs take ("openai/gpt-5", "anthropic/claude-…").
_PROVIDERS = {
    "anthropic": "anthropic",
    "openai": "openai",
    "azure": "openai",
    "google": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "dashscope": "alibaba",
    "deepseek": "deepseek",
    "mistral": "mistral",
    "xai": "xai",
    "cohere": "cohere",
}
# The family each built-in adapter runs when its model does not say (its vendor's default).
ADAPTER_FAMILIES = {
    "claude": "anthropic",
    "codex": "openai",
    "gemini": "google",
    "qwen": "alibaba",
    "opencode": "anthropic",  # its default provider
    "aider": UNKNOWN,  # any provider: only the model says
}


def family_of(agent: str, model: str | None) -> str:
    """The family of `agent` running `model` (None: the agent's default model)."""
    if model:
        name = model.strip().lower()
        bare = name.rsplit("/", 1)[-1]
        for pattern, family in _MODEL_FAMILIES:
            # The group: without it the anchor binds to the first alternative only.
            if re.search(rf"(?:^|[-_.:])(?:{pattern})", bare):
                return family
        # A provider that hosts others' models ("vertex_ai/claude-…") says less than the name.
        provider, _, rest = name.partition("/")
        if rest and provider in _PROVIDERS:
            return _PROVIDERS[provider]
    return ADAPTER_FAMILIES.get(agent, UNKNOWN)


def same_family(a: str, b: str) -> bool:
    """Two known families that are the same (unknown is never the same as anything)."""
    return a == b and a != UNKNOWN
