"""The typer side of `racer run`'s options: one option per setting of racer.config (its name,
alias and help from the setting's Flag), and help output fit for plain switches."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import GenericAlias
from typing import Any, cast

import typer
import typer.core

from racer.config import RUN_SETTINGS, Setting


def switches_take_no_value() -> None:
    """typer 0.2x prints `<bool>` after plain switches (`--version <bool>`): they take none."""
    option = getattr(getattr(typer, "core", None), "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if option is None or shown is None:
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else cast(str | None, shown(self, ctx))

    option.display_type_rich = display_type_rich


def setting_option(setting: Setting) -> inspect.Parameter:
    """The typer option of one `racer run` setting: name, alias and help from its Flag."""
    flag = setting.flag
    assert flag is not None, setting.name  # RUN_SETTINGS holds only settings with a flag
    names = (flag.name, flag.short) if flag.short else (flag.name,)
    item = setting.value_type  # a tuple's item type: its flag is repeatable or one string
    if item is bool:  # an on-only switch
        kind: object = bool
    else:  # None when not given; a repeatable option gives a list
        kind = (GenericAlias(list, (item,)) if flag.repeatable else item) | None
    option = typer.Option(False if item is bool else None, *names, help=flag.help)
    return inspect.Parameter(
        setting.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind
    )


def setting_options(command: Callable[..., int]) -> Callable[..., int]:
    """Give the command one option per setting in RUN_SETTINGS, after its first parameter.

    They replace its **settings in the signature typer reads; it gets their values in there.
    """
    first, *rest = inspect.signature(command, eval_str=True).parameters.values()
    rest = [p for p in rest if p.kind is not inspect.Parameter.VAR_KEYWORD]  # not **settings
    params = [first, *map(setting_option, RUN_SETTINGS), *rest]
    command.__signature__ = inspect.Signature(params, return_annotation=int)  # type: ignore[attr-defined]
    return command
