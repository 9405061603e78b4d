"""String enums made on first use, for the modules the command line's light verbs import.

:mod:`enum` costs more to import than a light verb's whole work; those modules keep their
values as plain strings and make the public enum only when something asks for it (PEP 562
``__getattr__``). Its members are those strings, so either compares equal to the other.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["str_enum"]


def str_enum(module: dict[str, object], name: str, doc: str, members: Mapping[str, str]) -> type:
    """Make the ``enum.StrEnum`` ``name`` of ``members`` in the module whose globals are
    ``module`` (so that it pickles by reference), store it there and return it."""
    import enum

    made = enum.StrEnum(  # type: ignore[misc]
        name, dict(members), module=str(module["__name__"]), qualname=name
    )
    made.__doc__ = doc
    module[name] = made
    return made
