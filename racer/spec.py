"""Spec files: a Markdown task with optional YAML front matter, parsed into a frozen Spec.

build_prompt turns a Spec into the one prompt every contestant receives, byte for byte the same.
"""

from __future__ import annotations

import difflib
import math
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from racer.errors import SpecError

__all__ = ["OVERRIDE_KEYS", "SPEC_KEYS", "Spec", "build_prompt", "load_spec"]

SPEC_KEYS = (
    "title",
    "agents",
    "test",
    "setup",
    "timeout",
    "acceptance",
    "review",
    "write_tests",
    "cascade",
    "base",
)
# The front-matter keys that are also config keys: they layer between RACER_* env and flags.
MAX_SPEC_BYTES = 2**20  # a spec is a task, not a data file: bigger ones are refused
OVERRIDE_KEYS = ("agents", "test", "setup", "timeout", "review", "write_tests", "cascade")

_FENCE = "---"
_HEADING = re.compile(r"^#[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_CODE_FENCE = re.compile(r"^ {0,3}(```|~~~)")

_PREAMBLE = (
    "You are one of several contestants working on the same task independently;"
    " you will not see the others' work.",
    "Work only inside the current directory: it is your own git worktree of the project.",
    "Do not commit, push, or create branches: racer records your changes itself.",
    "Do not edit or delete existing tests unless the task asks for it; add new tests if useful.",
)


@dataclass(frozen=True)
class Spec:
    """One parsed spec file; front-matter values are typed, absent ones are None (or empty)."""

    path: Path
    title: str
    body: str
    agents: tuple[str, ...] | None = None
    test: str | None = None
    setup: str | None = None
    timeout: float | None = None
    acceptance: tuple[str, ...] = ()
    review: str | None = None
    write_tests: str | None = None
    cascade: str | None = None
    base: str | None = None  # the git revision to race from (racer run --base overrides it)

    def overrides(self) -> dict[str, object]:
        """The config keys this spec sets, for layering over env and file config."""
        values: dict[str, object] = {
            "agents": self.agents,
            "test": self.test,
            "setup": self.setup,
            "timeout": self.timeout,
            "review": self.review,
            "write_tests": self.write_tests,
            "cascade": self.cascade,
        }
        return {key: value for key, value in values.items() if value is not None}


def load_spec(path: Path) -> Spec:
    """Read and validate a spec file; every problem is a one-line SpecError."""
    if not path.exists():
        raise SpecError(f"spec file not found: {path} — pass the path of a Markdown spec")
    if path.is_dir():
        raise SpecError(f"spec path {path} is a directory — pass the path of a Markdown spec file")
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):  # a FIFO would block, /dev/zero never ends
            raise SpecError(
                f"spec path {path} is {_kind(mode)}, not a regular file"
                " — pass the path of a Markdown spec file"
            )
        with path.open("rb") as fh:
            raw = fh.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(
            f"cannot read spec file {path}: {exc.strerror} — check that it is a readable file"
        ) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(
            f"spec file {path} is over {MAX_SPEC_BYTES // 2**20} MB, racer's limit for a spec"
            " — keep the task to the point and link big material from the repository"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"spec file {path} is not UTF-8 text (bad byte at offset {exc.start})"
            " — save it as UTF-8"
        ) from None
    # One newline convention, so the prompt is the same whichever editor saved the spec.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")

    meta, body = _split_front_matter(text, path)
    body = body.strip()
    if not body:
        raise SpecError(
            f"spec file {path} has no task text — write the task in Markdown"
            " (below the front matter, if it has one)"
        )
    title = _text(meta, "title", path)
    return Spec(
        path=path.resolve(),
        title=title or _first_heading(body) or path.stem,
        body=body,
        agents=_strings(meta, "agents", path, comma_separated=True),
        test=_text(meta, "test", path),
        setup=_text(meta, "setup", path),
        timeout=_seconds(meta, "timeout", path),
        acceptance=_strings(meta, "acceptance", path, comma_separated=False) or (),
        review=_text(meta, "review", path),
        write_tests=_text(meta, "write_tests", path),
        cascade=_text(meta, "cascade", path),
        base=_text(meta, "base", path),
    )


def _kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return word
    return "an unusual file"


def build_prompt(spec: Spec, *, test_command: str | None) -> str:
    """The prompt every contestant gets: the shared rules of the race, then the task."""
    if test_command and test_command.strip():
        tests = f"Run the tests with: {test_command.strip()}"
    else:
        tests = "No test command is configured; check your work as best you can."
    lines = [
        *_PREAMBLE,
        tests,
        "When you are done, stop and summarise what you changed.",
        "",
        f"# Task: {spec.title}",
        "",
        spec.body,
        "",
    ]
    return "\n".join(lines)


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, object], str]:
    lines = text.split("\n")
    if lines[0].rstrip() != _FENCE:
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].rstrip() == _FENCE:
            break
    else:
        raise SpecError(
            f"front matter of {path} is not closed — add a line '---' after the YAML at the top"
        )
    try:
        loaded = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise SpecError(_yaml_message(exc, path)) from None
    if loaded is None:
        return {}, "\n".join(lines[end + 1 :])
    if not isinstance(loaded, dict):
        raise SpecError(
            f"front matter of {path} must be a YAML mapping of keys ({', '.join(SPEC_KEYS)}),"
            f" got {type(loaded).__name__} — write 'key: value' lines between the '---' lines"
        )
    for key in loaded:
        if key not in SPEC_KEYS:
            raise SpecError(
                f"unknown key {str(key)!r} in front matter of {path}{_did_you_mean(key)}"
                f" — allowed keys: {', '.join(SPEC_KEYS)}"
            )
    return {str(key): value for key, value in loaded.items()}, "\n".join(lines[end + 1 :])


def _yaml_message(exc: yaml.YAMLError, path: Path) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    # The YAML starts on line 2 of the file, after the opening '---'.
    where = f" at line {mark.line + 2}" if mark is not None else ""
    return _one_line(
        f"invalid YAML in front matter of {path}{where}: {problem} — fix the front matter syntax"
    )


def _text(meta: dict[str, object], key: str, path: Path) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _wrong_type(key, path, "a non-empty string", value)
    # A title is one line of the prompt; commands keep their newlines for the shell.
    return " ".join(value.split()) if key == "title" else value.strip()


def _strings(
    meta: dict[str, object], key: str, path: Path, *, comma_separated: bool
) -> tuple[str, ...] | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.split(",") if comma_separated else [value]
        items = [part.strip() for part in parts if part.strip()]
    elif isinstance(value, list) and all(isinstance(i, str) and i.strip() for i in value):
        items = [item.strip() for item in value]
    else:
        items = []
    if key == "acceptance" and any(Path(item).is_absolute() for item in items):
        raise _wrong_type(key, path, "paths relative to the repo", value)
    if not items:
        expected = (
            "a list of strings or a comma-separated string"
            if comma_separated
            else "a path or a list of paths"
        )
        raise _wrong_type(key, path, expected, value)
    return tuple(items)


def _seconds(meta: dict[str, object], key: str, path: Path) -> float | None:
    value = meta.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _wrong_type(key, path, "a positive number of seconds", value)
    return float(value)


def _first_heading(body: str) -> str | None:
    """The text of the first level-1 ATX heading outside fenced code blocks."""
    in_code = False
    for line in body.split("\n"):
        if _CODE_FENCE.match(line):
            in_code = not in_code
            continue
        match = None if in_code else _HEADING.match(line)
        if match and match["text"].strip():
            return match["text"].strip()
    return None


def _wrong_type(key: str, path: Path, expected: str, value: object) -> SpecError:
    return SpecError(
        f"{key} in front matter of {path} must be {expected}, got {_show(value)}"
        " — fix it in the front matter"
    )


def _did_you_mean(key: object) -> str:
    close = difflib.get_close_matches(str(key), SPEC_KEYS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _one_line(message: str) -> str:
    return " ".join(message.split())
