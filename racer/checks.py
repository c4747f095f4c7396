"""Checks of setting values: each returns the value as Config holds it or raises ValueError
(the caller says where the value came from and what was expected)."""

from __future__ import annotations

import math
from pathlib import Path


def check_list(value: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    """A list/tuple of non-empty strings, or one comma-separated string."""
    if isinstance(value, str):
        items = tuple(part.strip() for part in value.split(",") if part.strip())
    elif isinstance(value, list | tuple) and all(isinstance(i, str) and i.strip() for i in value):
        items = tuple(item.strip() for item in value)
    else:
        raise ValueError(value)
    if not items and not allow_empty:
        raise ValueError(value)
    return items


def check_copy(value: object) -> tuple[str, ...]:
    items = check_list(value, allow_empty=True)
    if any(Path(item).is_absolute() for item in items):
        raise ValueError(value)
    return items


def check_command(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    return value.strip()


def check_agent(value: object) -> str:
    text = check_command(value)
    if any(ch.isspace() for ch in text) or "," in text:
        raise ValueError(value)
    return text


def check_delay(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(value)
    if value < 0:
        raise ValueError(value)
    return float(value)


def check_seconds(value: object) -> float:
    seconds = check_delay(value)
    if not seconds:
        raise ValueError(value)
    return seconds


def check_jobs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(value)
    return value


def check_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(value)
    return value


def check_lanes(value: object) -> str:
    if value not in ("auto", "overlay", "checkout"):
        raise ValueError(value)
    return str(value)


def check_cascade(value: object) -> str:
    text = check_command(value)
    if text.strip() == "auto":
        return "auto"
    tiers = [tier.strip() for tier in text.split(";")]
    if len(tiers) < 2 or not all(tier.strip(", ") for tier in tiers):
        raise ValueError(value)
    return text.strip()


def check_path(value: object) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    return Path(value.strip())


def bool_from_string(raw: str) -> object:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    return raw  # not a bool: the check reports it
