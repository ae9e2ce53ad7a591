"""`--help` in words: argument names in capitals, values named (PATH, N), no type marks.

Typer offers no hook for this, so the command and group classes rewrite their
parameters' metavars before click formats the help.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _NamedArgument(TyperArgument):
    """An argument shown by its name alone: `INPUT`, not `{INPUT}` and `<path>`."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"


class _RangedOption(TyperOption):
    """A number option whose limits read `1 to 64`, not `1<=x<=64`."""

    def _get_number_range_help_str(self) -> str | None:
        if self.min is not None and self.max is not None:
            return f"{self.min} to {self.max}"
        if self.min is not None:
            return f"{self.min} or more"
        return None if self.max is None else f"at most {self.max}"


def _without_type_marks(params: list[Any]) -> list[Any]:
    """Help in words: a flag (`--fresh`, `--help`) shows no `<bool>`, an argument its name,
    a number its limits in words. typer has no hook to choose these classes."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
        elif type(param) is TyperOption and (param.min is not None or param.max is not None):
            param.__class__ = _RangedOption
        elif type(param) is TyperArgument:
            param.__class__ = _NamedArgument
    return params


class Command(TyperCommand):
    """A command whose help names values in words (`--out PATH`), never `<path>` or `<bool>`."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _without_type_marks(super().get_params(ctx))


class Group(TyperGroup):
    """The same for `lsq-import --help` and `lsq-import map --help`."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _without_type_marks(super().get_params(ctx))
