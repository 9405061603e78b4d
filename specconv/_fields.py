"""Field helpers shared by the OCI spec models.

Each attrs field of a spec model carries its JSON key and whether it is dropped from the
output when empty (Go's ``omitempty``) in its metadata; the converter in :mod:`specconv._codec`
reads both. Integer fields are ``Annotated`` with the Go type they have in ``specs-go`` so the
converter can reject values Go's ``encoding/json`` would reject (negative uids, floats, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import attrs

__all__ = [
    "INT64",
    "UINT16",
    "UINT32",
    "UINT64",
    "Int64",
    "IntRange",
    "Uint16",
    "Uint32",
    "Uint64",
    "always",
    "json_key",
    "json_name",
    "omitempty",
    "str_map",
    "to_tuple",
]


@attrs.frozen
class IntRange:
    """The range of a Go integer type, attached to ``int`` fields with ``Annotated``."""

    name: str
    lo: int
    hi: int


UINT16 = IntRange("uint16", 0, 2**16 - 1)
UINT32 = IntRange("uint32", 0, 2**32 - 1)
UINT64 = IntRange("uint64", 0, 2**64 - 1)
INT64 = IntRange("int64", -(2**63), 2**63 - 1)

Uint16 = Annotated[int, UINT16]
Uint32 = Annotated[int, UINT32]
Uint64 = Annotated[int, UINT64]
Int64 = Annotated[int, INT64]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def json_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a spec model field: its ``json`` metadata, else its camelCase name."""
    explicit = field.metadata.get("json")
    return explicit if isinstance(explicit, str) else _camel(field.name)


def json_key(name: str, *, omit: bool = True) -> dict[str, Any]:
    """Metadata for a field whose JSON key is not the camelCase of its attribute name."""
    return {"json": name, "omitempty": omit}


def always(name: str | None = None) -> dict[str, Any]:
    """Metadata for a field that is written even when empty (no ``omitempty`` in specs-go)."""
    meta: dict[str, Any] = {"omitempty": False}
    if name is not None:
        meta["json"] = name
    return meta


def omitempty() -> dict[str, Any]:
    """Metadata for a plain ``omitempty`` field (the default; spelled out for clarity)."""
    return {"omitempty": True}


def to_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: store sequences as tuples so frozen models stay immutable.

    Deliberately not generic: mypy's attrs plugin cannot solve a generic converter, and the
    field annotation already gives the element type.
    """
    return tuple(items)


def str_map(items: Mapping[str, str]) -> dict[str, str]:
    """attrs converter: keep a private copy of a string map."""
    return dict(items)
