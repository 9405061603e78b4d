"""The one cattrs converter for the spec models, and its error reporting.

Loading is as strict about types as Go's ``encoding/json`` is for ``specs-go`` (a string is
not an int, ``-1`` is not a ``uint32``, ``1.5`` is not an int) and as lax about everything else:
unknown keys are ignored and ``null`` for an object member means "absent". The first bad value
is reported as a :class:`~libcontainer.errors.ConfigError` whose ``field`` is its JSON path
(``process.args[2]``, ``linux.sysctl["kernel.shmmax"]``).

Dumping applies Go's ``omitempty`` per field and sorts map keys, as ``json.Marshal`` does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from libcontainer.errors import ConfigError
from specconv._fields import INT64, IntRange, json_name

__all__ = ["converter", "structure", "unstructure"]

T = TypeVar("T")


class _Invalid(Exception):
    """A value of the wrong JSON type or out of range; becomes a ConfigError with its path."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.message = message
        self.value = value


@cache
def _json_names(cl: type) -> dict[str, str]:
    return {f.name: json_name(f) for f in attrs.fields(cl)}


def _is_optional(tp: Any) -> bool:
    return type(None) in get_args(tp)


def _omitted_when_empty(cl: type) -> tuple[tuple[str, str, bool], ...]:
    """``(attribute, JSON key, is a Go pointer)`` of each ``omitempty`` field."""
    attrs.resolve_types(cl)
    return tuple(
        (f.name, json_name(f), _is_optional(f.type))
        for f in attrs.fields(cl)
        if f.metadata.get("omitempty", True)
    )


def _is_empty(value: Any) -> bool:
    # Go's omitempty: false, 0, "", nil pointer, empty slice or map; never a struct (a
    # present but empty object such as "resources": {} is kept).
    if value is None or value is False:
        return True
    if isinstance(value, int | str | tuple | dict):
        return not value
    return False


# --- structuring -------------------------------------------------------------------------


def _range_of(tp: Any) -> IntRange | None:
    if get_origin(tp) is Annotated:
        for extra in get_args(tp)[1:]:
            if isinstance(extra, IntRange):
                return extra
    return None


def _structure_int(value: Any, tp: Any) -> int:
    rng = _range_of(tp) or INT64
    if type(value) is not int:
        raise _Invalid(f"expected an integer ({rng.name})", value)
    if not rng.lo <= value <= rng.hi:
        raise _Invalid(f"integer out of range for {rng.name}", value)
    return value


def _structure_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("expected a string", value)
    return value


def _structure_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("expected a boolean", value)
    return value


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_str_dict(tp: Any) -> bool:
    return get_origin(tp) is dict


def _structure_tuple(value: Any, tp: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise _Invalid("expected an array", value)
    elem = get_args(tp)[0]
    handler = converter.get_structure_hook(elem)
    items: list[Any] = []
    errors: list[Exception] = []
    for index, item in enumerate(value):
        try:
            items.append(handler(item, elem))
        except Exception as exc:
            exc.add_note(IterableValidationNote(f"Structuring {tp} @ index {index}", index, elem))
            errors.append(exc)
    if errors:
        raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
    return tuple(items)


def _structure_dict(value: Any, tp: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid("expected an object", value)
    vtype = get_args(tp)[1]
    handler = converter.get_structure_hook(vtype)
    result: dict[str, Any] = {}
    errors: list[Exception] = []
    for key, item in value.items():
        try:
            result[_structure_str(key, str)] = handler(item, vtype)
        except Exception as exc:
            exc.add_note(IterableValidationNote(f"Structuring {tp} @ key {key!r}", key, vtype))
            errors.append(exc)
    if errors:
        raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
    return result


def _renames(cl: type) -> dict[str, Any]:
    return {
        f.name: override(rename=json_name(f)) for f in attrs.fields(cl) if json_name(f) != f.name
    }


def _model_structure_factory(cl: type[T]) -> Callable[[Any, Any], T]:
    renames = _renames(cl)
    base = make_dict_structure_fn(cl, converter, **renames)

    def structure_model(value: Any, _: Any) -> T:
        if not isinstance(value, Mapping):
            raise _Invalid("expected an object", value)
        present = {k: v for k, v in value.items() if v is not None}
        return base(present, cl)

    return structure_model


# --- unstructuring -----------------------------------------------------------------------


def _model_unstructure_factory(cl: type[Any]) -> Callable[[Any], dict[str, Any]]:
    renames = _renames(cl)
    base = make_dict_unstructure_fn(cl, converter, **renames)
    omit = _omitted_when_empty(cl)

    def unstructure_model(obj: Any) -> dict[str, Any]:
        data = base(obj)
        for name, key, pointer in omit:
            # A Go pointer is omitted only when nil: "uid": 0 stays when it was set.
            value = getattr(obj, name)
            if value is None if pointer else _is_empty(value):
                del data[key]
        return data

    return unstructure_model


def _unstructure_tuple(value: tuple[Any, ...]) -> list[Any]:
    return [converter.unstructure(item) for item in value]


def _unstructure_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return {key: converter.unstructure(value[key]) for key in sorted(value)}


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook_func(lambda tp: _range_of(tp) is not None, _structure_int)
    conv.register_structure_hook_func(_is_homogeneous_tuple, _structure_tuple)
    conv.register_structure_hook_func(_is_str_dict, _structure_dict)
    conv.register_structure_hook_factory(attrs.has, _model_structure_factory)
    conv.register_unstructure_hook_factory(attrs.has, _model_unstructure_factory)
    conv.register_unstructure_hook_func(_is_homogeneous_tuple, _unstructure_tuple)
    conv.register_unstructure_hook_func(_is_str_dict, _unstructure_dict)
    return conv


converter = _make_converter()


# --- error reporting ---------------------------------------------------------------------


def _segment(note: str) -> str | None:
    if isinstance(note, AttributeValidationNote):
        return "." + note.name
    if isinstance(note, IterableValidationNote):
        if isinstance(note.index, int):
            return f"[{note.index}]"
        return f"[{json.dumps(note.index)}]"
    return None


def _first_leaf(exc: BaseException) -> tuple[str, BaseException]:
    """Walk down to the first leaf error of a cattrs error tree, building its JSON path."""
    path = ""
    while isinstance(exc, BaseValidationError):
        sub = exc.exceptions[0]
        for note in getattr(sub, "__notes__", ()):
            segment = _segment(note)
            if segment is None:
                continue
            if segment.startswith(".") and isinstance(exc, ClassValidationError):
                segment = "." + _json_names(exc.cl).get(segment[1:], segment[1:])
            path += segment
            break
        exc = sub
    return path.removeprefix("."), exc


def structure(data: Any, cl: type[T], root: str = "") -> T:
    """Build a spec model from JSON-like data; any problem is a ConfigError with a JSON path
    (starting at ``root``, the key ``data`` was found under, when given)."""
    try:
        return converter.structure(data, cl)
    except _Invalid as exc:
        if root:
            raise ConfigError(exc.message, field=root, value=exc.value) from None
        raise ConfigError(exc.message, value=exc.value) from None
    except BaseValidationError as exc:
        path, leaf = _first_leaf(exc)
        if root:
            path = root + path if path.startswith("[") else ".".join(filter(None, (root, path)))
        field = path or None
        if isinstance(leaf, _Invalid):
            raise ConfigError(leaf.message, field=field, value=leaf.value) from None
        raise ConfigError(f"invalid value: {leaf}", field=field) from leaf


def unstructure(obj: Any) -> Any:
    """Turn a spec model into JSON-ready data (``omitempty`` applied, map keys sorted)."""
    return converter.unstructure(obj)
