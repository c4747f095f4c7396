"""User-defined command agents: `[agents.NAME] command = [...]` with placeholders.

Placeholders {prompt}, {prompt_file}, {model} and {worktree} are filled per contestant.
"""

from __future__ import annotations

import shlex

from racer.agents.base import Agent, Invocation, LaunchContext

PLACEHOLDERS = ("prompt", "prompt_file", "model", "worktree")


class CommandAgent(Agent):
    description = "user-defined command"

    def __init__(self, name: str, command: tuple[str, ...], source: str = "") -> None:
        self.name = name
        self.command = command
        self.executable = command[0]
        self.install_hint = f"fix agents.{name}.command in {source or 'your config'}"

    def invocation(self, ctx: LaunchContext) -> Invocation:
        values = {
            "prompt": ctx.prompt,
            "prompt_file": str(ctx.prompt_file),
            "model": ctx.model or "",
            "worktree": str(ctx.worktree),
        }
        argv = tuple(_fill(item, values) for item in self.command)
        return Invocation(argv + ctx.extra_args, dict(ctx.extra_env))

    def version_argv(self) -> tuple[str, ...]:
        return ()  # a user command has no known version flag

    def describe(self) -> str:
        return shlex.join(self.command)


def _fill(item: str, values: dict[str, str]) -> str:
    # str.format would choke on braces the user meant literally (JSON in an argument), so replace
    # only the known placeholders.
    for key, value in values.items():
        item = item.replace("{" + key + "}", value)
    return item
