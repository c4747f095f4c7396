"""The agent CLI versions racer is tested with, in one place: scripts/install-agents.sh installs
these (it runs this file) and the adapters' install hints name them.

Standard library only: the install script runs it with a bare `python3 racer/agents/pins.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    package: str  # the npm package, or the PyPI distribution for "pip"
    version: str
    registry: str = "npm"  # "npm" or "pip"
    note: str = ""  # what else an install needs, said after the command

    @property
    def install_hint(self) -> str:
        if self.registry == "pip":
            return f"pipx install {self.package}=={self.version} (or pip in its own venv)"
        hint = f"npm install -g {self.package}@{self.version}"
        return f"{hint} ({self.note})" if self.note else hint


# Pinned on purpose: on node 20 an unpinned `npm install -g @anthropic-ai/claude-code` resolves
# to an old 2.1.197 (newer releases declare node >= 22); qwen-code after 0.15.10 needs node 22;
# @kilocode/cli 7.8.1 has no linux platform packages on npm (7.7.7 is the newest that installs).
PINS: dict[str, Pin] = {
    "claude": Pin(
        "@anthropic-ai/claude-code",
        "2.1.329",
        note="npm 11 skips its postinstall: run its install.cjs after",
    ),
    "codex": Pin("@openai/codex", "0.169.0"),
    "gemini": Pin("@google/gemini-cli", "0.61.0"),
    "qwen": Pin("@qwen-code/qwen-code", "0.15.10"),
    "opencode": Pin("opencode-ai", "1.18.33"),
    "copilot": Pin("@github/copilot", "1.0.102"),
    "kilo": Pin("@kilocode/cli", "7.7.7"),
    "aider": Pin("aider-chat", "0.86.2", "pip"),
}


def shell_lines() -> list[str]:
    """`PIN[name]=version` and `PKG[name]=package` lines, for the install script to eval."""
    lines = []
    for name, pin in PINS.items():
        lines += [f"PIN[{name}]={pin.version}", f"PKG[{name}]={pin.package}"]
    return lines


if __name__ == "__main__":
    print("\n".join(shell_lines()))
