"""How a model class says which JSON key each attribute is written under.

runc's ``state.json`` is Go's ``encoding/json`` output of ``libcontainer.State``. Each model
attribute carries a :class:`JsonField` in its attrs metadata (the Go struct tag, in effect);
:mod:`libcontainer.configs.convert` reads those to load and dump. Nothing here imports cattrs,
so importing the models stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["METADATA_KEY", "JsonField", "JsonMeta", "Model", "jf", "json_field_of"]

METADATA_KEY = "libcontainer.json"


@attrs.frozen
class JsonField:
    """The JSON side of one attribute (what a Go struct tag says).

    ``key`` is the key as runc spells it, or ``None`` for ``json:"-"`` (never serialised).
    ``omitempty`` follows Go: the key is left out when the value is empty (false, 0, "",
    None, empty tuple or mapping). ``legacy`` marks keys only older runc versions wrote: they
    load, and are written back when they were read or hold a non-empty value. ``embedded``
    marks a Go embedded struct pointer (``*Resources`` in ``Cgroup``) whose keys sit inline
    in the parent object. ``load``/``dump`` convert between the JSON value and the attribute
    (``Command.timeout``: Go nanoseconds in JSON, float seconds in Python).
    """

    key: str | None
    omitempty: bool = False
    legacy: bool = False
    embedded: bool = False
    load: Callable[[Any], Any] | None = None
    dump: Callable[[Any], Any] | None = None


def jf(
    key: str | None,
    default: Any = attrs.NOTHING,
    *,
    factory: Callable[[], Any] | None = None,
    omitempty: bool = False,
    legacy: bool = False,
    embedded: bool = False,
    load: Callable[[Any], Any] | None = None,
    dump: Callable[[Any], Any] | None = None,
) -> Any:
    """Declare an attrs attribute together with its JSON key (a Go struct tag)."""
    meta = {METADATA_KEY: JsonField(key, omitempty, legacy, embedded, load, dump)}
    if factory is not None:
        return attrs.field(factory=factory, metadata=meta)
    return attrs.field(default=default, metadata=meta)


def json_field_of(a: attrs.Attribute[Any]) -> JsonField | None:
    """The :class:`JsonField` of an attribute, or ``None`` if it has none."""
    meta = a.metadata.get(METADATA_KEY)
    return meta if isinstance(meta, JsonField) else None


@attrs.frozen
class JsonMeta:
    """What a loaded object remembers about the JSON object it was read from.

    ``entries`` lists the keys in input order as ``(spelling, kind, name)``: kind ``"f"`` is
    an attribute ``name``, ``"x"`` an unknown key kept verbatim (non-strict loads), ``"e"``
    the position of an embedded struct's keys. ``nulls`` names the attributes whose JSON
    value was ``null`` (so ``null`` and ``[]`` both survive a round trip). ``extra`` holds
    the raw values of unknown keys.
    """

    entries: tuple[tuple[str, str, str], ...]
    nulls: frozenset[str]
    extra: dict[str, Any]


class Model:
    """Base of every JSON model: one private slot for :class:`JsonMeta`.

    The slot is not an attrs field, so it takes no part in ``==``, ``repr``, ``hash`` or
    :func:`attrs.evolve` (an evolved object is "built in Python" and is dumped the way runc
    1.1 writes it; its unchanged children keep their own memory).
    """

    __slots__ = ("_json_meta",)

    def json_meta(self) -> JsonMeta | None:
        """The key memory of an object loaded from JSON, or ``None`` if built in Python."""
        meta: JsonMeta | None = getattr(self, "_json_meta", None)
        return meta
