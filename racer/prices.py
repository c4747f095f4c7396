"""List prices per million tokens, for estimating the cost of CLIs that report tokens but no cost.

An estimate is always shown as estimated; a CLI's own cost figure wins when it reports one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tokens:
    """Tokens a run used, as the CLI reported them (the one token count of the record)."""

    input: int = 0
    output: int = 0
    cached: int = 0


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens
    cached: float  # USD per million cached input tokens


# Public list prices (USD / 1M tokens) as published by each vendor in 2025. Keys match a model id
# exactly or as a prefix; the longest matching key wins, so "gpt-5-mini" beats "gpt-5".
PRICES: dict[str, Price] = {
    "claude-opus": Price(15.0, 75.0, 1.5),
    "claude-sonnet": Price(3.0, 15.0, 0.3),
    "claude-haiku": Price(1.0, 5.0, 0.1),
    "opus": Price(15.0, 75.0, 1.5),
    "sonnet": Price(3.0, 15.0, 0.3),
    "haiku": Price(1.0, 5.0, 0.1),
    "gpt-5": Price(1.25, 10.0, 0.125),
    "gpt-5-mini": Price(0.25, 2.0, 0.025),
    "gpt-5-nano": Price(0.05, 0.4, 0.005),
    "gpt-4.1": Price(2.0, 8.0, 0.5),
    "o3": Price(2.0, 8.0, 0.5),
    "o4-mini": Price(1.1, 4.4, 0.275),
    "gemini-2.5-pro": Price(1.25, 10.0, 0.31),
    "gemini-2.5-flash": Price(0.30, 2.50, 0.075),
    "gemini-3": Price(2.0, 12.0, 0.2),
    "qwen3-coder-plus": Price(1.0, 5.0, 0.1),
    "qwen3-coder": Price(0.45, 1.8, 0.045),
}

# The model each CLI uses when the contestant names none (for the estimate only).
DEFAULT_MODELS: dict[str, str] = {
    "claude": "claude-sonnet",
    "codex": "gpt-5",
    "gemini": "gemini-2.5-pro",
    "qwen": "qwen3-coder-plus",
}


def price_for(model: str | None) -> Price | None:
    if not model:
        return None
    name = model.lower().rsplit("/", 1)[-1]  # "anthropic/claude-sonnet-4-5" -> "claude-sonnet-4-5"
    matches = [key for key in PRICES if name == key or name.startswith(key)]
    return PRICES[max(matches, key=len)] if matches else None


def estimate(tokens: Tokens | None, model: str | None) -> float | None:
    """USD for these tokens at list price, or None when the model is not in the table."""
    price = price_for(model)
    if tokens is None or price is None:
        return None
    uncached = max(tokens.input - tokens.cached, 0)
    usd = (
        uncached * price.input + tokens.cached * price.cached + tokens.output * price.output
    ) / 1e6
    return round(usd, 6)


def cost_of(
    reported: float | None, tokens: Tokens | None, model: str | None
) -> tuple[float | None, bool]:
    """(USD, estimated?): what the CLI reported, else racer's estimate from its tokens."""
    if reported is not None or tokens is None:
        return reported, False
    cost = estimate(tokens, model)
    return cost, cost is not None
