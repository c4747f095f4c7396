"""Kilo Code CLI (`kilo run --auto --format json`): a fork of opencode, with opencode's JSON events
(text parts, per-step tokens and cost, error events) and its config merged through
KILO_CONFIG_CONTENT.
"""

from __future__ import annotations

from dataclasses import replace

from racer.agents.base import AgentOutput
from racer.agents.opencode import OpencodeAgent
from racer.agents.pins import PINS


class KiloAgent(OpencodeAgent):
    name = "kilo"
    executable = "kilo"
    description = "Kilo Code CLI"
    install_hint = PINS["kilo"].install_hint
    # Kilo reads AGENTS.md (and .kilocode/rules/*.md) at the checkout's root.
    instructions_file = "AGENTS.md"
    help_args: tuple[str, ...] = ("run", "--help")
    headless_flags: tuple[str, ...] = ("--format", "--auto", "--model")
    # A Kilo account (KILO_API_KEY or `kilo auth login`), a provider key, or a provider in the
    # config (KILO_CONFIG_CONTENT or ~/.config/kilo/*.json with its baseURL and key).
    credential_env: tuple[str, ...] = (
        "KILO_API_KEY",
        "KILO_CONFIG_CONTENT",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "OPENROUTER_API_KEY",
    )
    credential_files: tuple[str, ...] = (  # relative to $HOME
        ".local/share/kilo/auth.json",
        ".config/kilo/kilo.json",
        ".config/kilo/kilo.jsonc",
        ".config/kilo/opencode.json",
        ".config/kilo/config.json",
    )
    home_dirs: tuple[str, ...] = (
        ".config/kilo",
        ".local/share/kilo",
        ".local/state/kilo",
        ".local/state/kilo-sandbox-policy",
        ".cache/kilo",
    )
    dir_env: tuple[str, ...] = (
        "XDG_CONFIG_HOME/kilo",
        "XDG_DATA_HOME/kilo",
        "XDG_STATE_HOME/kilo",
        "XDG_STATE_HOME/kilo-sandbox-policy",
        "XDG_CACHE_HOME/kilo",
    )
    config_env = "KILO_CONFIG_CONTENT"
    autoupdate_env = "KILO_DISABLE_AUTOUPDATE"

    def parse_output(self, output: str, exit_code: int | None) -> AgentOutput:
        out = super().parse_output(output, exit_code)
        # Kilo prices only the models of its catalog and says $0 for any other (a provider of
        # your own without a `cost` in its config): that is "unknown", not "free", when tokens
        # were spent, so racer estimates instead.
        spent = out.tokens is not None and (out.tokens.input or out.tokens.output)
        if out.cost_usd == 0 and spent:
            return replace(out, cost_usd=None)
        return out
