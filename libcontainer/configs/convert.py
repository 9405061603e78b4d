"""The one converter between the models and runc's JSON.

Loading follows Go's ``encoding/json``: keys match a model's JSON keys exactly or, failing
that, case-insensitively; ``null`` leaves the zero value; embedded structs (``Cgroup``'s
``*Resources``) are read from the parent object. Unlike Go, an unknown key is an error
(a :class:`~libcontainer.errors.ConfigError` naming it and its JSON path) unless
``strict=False``, and values must have the right JSON type.

Dumping has two modes. An object loaded from JSON remembers (:class:`JsonMeta`) which keys
it was read from, how they were spelled, which were ``null`` and any unknown keys, and is
written back with exactly those keys, so a file written by another runc version survives a
round trip. An object built in Python is written as runc 1.1 writes it: every key, Go's
``omitempty`` rules, empty sequences and mappings as ``null`` (Go's nil), map keys sorted.
"""

from __future__ import annotations

import contextvars
import enum
import functools
import json
import logging
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import attrs
import cattrs

from ..errors import ConfigError
from .config import Config
from .devices import Device, DeviceRule, DeviceType
from .hooks import Command, FuncHook, Hook
from .jsonmodel import JsonField, JsonMeta, Model, json_field_of
from .timestamp import Timestamp

__all__ = [
    "config_from_dict",
    "config_from_json",
    "config_to_dict",
    "config_to_json",
    "converter",
    "structure",
    "unstructure",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

_strict: contextvars.ContextVar[bool] = contextvars.ContextVar("strict", default=True)
_UNSET: Any = object()

# Keys only a Device (not a bare rule) has: a cgroup device list entry carrying them was
# written by an older runc, whose cgroup lists held whole devices.
_DEVICE_ONLY_KEYS = frozenset({"path", "file_mode", "uid", "gid"})


class _LoadError(Exception):
    """A load failure; ``path`` is filled in as the error travels up the JSON tree."""

    def __init__(self, message: str, value: Any = _UNSET) -> None:
        super().__init__(message)
        self.message = message
        self.value = value
        self.path: list[str] = []

    def field(self) -> str:
        return "".join(reversed(self.path)).lstrip(".")


@contextmanager
def _at(segment: str) -> Iterator[None]:
    try:
        yield
    except _LoadError as e:
        e.path.append(segment)
        raise


def _key_segment(key: str) -> str:
    return f".{key}" if key.isidentifier() else f"[{json.dumps(key)}]"


@attrs.frozen
class _Field:
    name: str
    spec: JsonField
    type: Any
    zero: Callable[[], Any]
    # A Go pointer (``X | None``): only None is empty, a set 0 or "" is written.
    pointer: bool

    def is_empty(self, value: Any) -> bool:
        return value is None if self.pointer else _is_empty(value)


@attrs.frozen
class _ClassSpec:
    cls: type[Any]
    fields: tuple[_Field, ...]
    # JSON key -> (embedding field or None, field); exact spelling and lower-cased.
    exact: dict[str, tuple[_Field | None, _Field]]
    folded: dict[str, tuple[_Field | None, _Field]]
    sort_keys: bool

    def lookup(self, key: str) -> tuple[_Field | None, _Field] | None:
        return self.exact.get(key) or self.folded.get(key.lower())


_SPECS: dict[type[Any], _ClassSpec] = {}


def _spec(cls: type[Any]) -> _ClassSpec:
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = _build_spec(cls)
    return spec


def _build_spec(cls: type[Any]) -> _ClassSpec:
    attrs.resolve_types(cls)
    fields: list[_Field] = []
    exact: dict[str, tuple[_Field | None, _Field]] = {}
    for a in attrs.fields(cls):
        js = json_field_of(a)
        if js is None or not a.init:
            continue
        if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            zero: Callable[[], Any] = a.default.factory
        else:
            zero = functools.partial(lambda v: v, a.default)
        pointer = _is_union(a.type) and types.NoneType in typing.get_args(a.type)
        f = _Field(a.name, js, a.type, zero, pointer)
        fields.append(f)
        if js.embedded:
            for key, (_, child) in _spec(a.type).exact.items():
                exact[key] = (f, child)
        elif js.key is not None:
            exact[js.key] = (None, f)
    folded: dict[str, tuple[_Field | None, _Field]] = {}
    for key, target in exact.items():
        folded.setdefault(key.lower(), target)
    sort_keys = bool(getattr(cls, "__json_sort_keys__", False))
    return _ClassSpec(cls, tuple(fields), exact, folded, sort_keys)


# -- loading ---------------------------------------------------------------------------------


def _load_model(cls: type[Any], data: Any) -> Any:
    if not isinstance(data, dict):
        raise _LoadError(f"expected a JSON object for {cls.__name__}", data)
    if cls is DeviceRule and any(k.lower() in _DEVICE_ONLY_KEYS for k in data):
        cls = Device
    spec = _spec(cls)
    kwargs: dict[str, Any] = {}
    entries: list[tuple[str, str, str]] = []
    nulls: set[str] = set()
    extra: dict[str, Any] = {}
    embedded: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        target = spec.lookup(key)
        if target is None:
            if _strict.get():
                err = _LoadError(f"unknown key {key!r} in {cls.__name__}")
                err.path.append(_key_segment(key))
                raise err
            entries.append((key, "x", key))
            extra[key] = value
            continue
        owner, f = target
        if owner is not None:
            if owner.name not in embedded:
                embedded[owner.name] = {}
                entries.append((key, "e", owner.name))
            embedded[owner.name][key] = value
            continue
        entries.append((key, "f", f.name))
        if value is None and f.spec.load is None:
            nulls.add(f.name)
            kwargs[f.name] = f.zero()
            continue
        with _at(_key_segment(key)):
            kwargs[f.name] = _load_field(f, value)
    for f in spec.fields:
        if f.spec.embedded:
            kwargs[f.name] = _load_model(f.type, embedded.get(f.name, {}))
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise _LoadError(f"invalid {cls.__name__}: {e}") from e
    object.__setattr__(obj, "_json_meta", JsonMeta(tuple(entries), frozenset(nulls), extra))
    return obj


def _load_field(f: _Field, value: Any) -> Any:
    if f.spec.load is not None:
        try:
            return f.spec.load(value)
        except (TypeError, ValueError) as e:
            raise _LoadError(str(e), value) from e
    return converter.structure(value, f.type)


def _load_tuple(value: Any, tp: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise _LoadError("expected a JSON array", value)
    (elem,) = typing.get_args(tp)[:1]
    out = []
    for i, item in enumerate(value):
        with _at(f"[{i}]"):
            out.append(converter.structure(item, elem))
    return tuple(out)


def _load_mapping(value: Any, tp: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise _LoadError("expected a JSON object", value)
    key_type, value_type = typing.get_args(tp)
    out = {}
    for k, v in value.items():
        with _at(f"[{json.dumps(k)}]"):
            out[converter.structure(k, key_type)] = converter.structure(v, value_type)
    return out


def _load_union(value: Any, tp: Any) -> Any:
    if value is None and types.NoneType in typing.get_args(tp):
        return None
    arms = [a for a in typing.get_args(tp) if a is not types.NoneType]
    if len(arms) != 1:
        raise _LoadError(f"cannot load a value of type {tp}", value)
    return converter.structure(value, arms[0])


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _load_int(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _LoadError("expected an integer", value)
    return value


def _load_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _LoadError("expected a number", value)
    return float(value)


def _load_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise _LoadError("expected a string", value)
    return value


def _load_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise _LoadError("expected true or false", value)
    return value


def _load_enum(value: Any, tp: type[enum.Enum]) -> enum.Enum:
    if tp is DeviceType:
        # Go writes the device type as a rune: its code point.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 0x110000:
            raise _LoadError("expected a device type code point (97, 98, 99 or 112)", value)
        value = chr(value)
    elif issubclass(tp, int) and (isinstance(value, bool) or not isinstance(value, int)):
        raise _LoadError(f"expected an integer {tp.__name__}", value)
    elif issubclass(tp, str) and not isinstance(value, str):
        raise _LoadError(f"expected a string {tp.__name__}", value)
    try:
        return tp(value)
    except ValueError:
        known = ", ".join(repr(m.value) for m in tp)
        raise _LoadError(f"unknown {tp.__name__} (known: {known})", value) from None


def _load_timestamp(value: Any, _: Any) -> Timestamp:
    if not isinstance(value, str):
        raise _LoadError("expected an RFC 3339 timestamp string", value)
    try:
        return Timestamp.parse(value)
    except ValueError as e:
        raise _LoadError(str(e), value) from None


def _load_any(value: Any, _: Any) -> Any:
    return value


# -- dumping ---------------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    """Go's ``isEmptyValue`` for the values models hold."""
    if value is None:
        return True
    if isinstance(value, bool | int | float | str | tuple | list | Mapping):
        return not value
    return False


def _dump_model(obj: Model) -> dict[str, Any]:
    spec = _spec(type(obj))
    meta = obj.json_meta()
    out: dict[str, Any] = {}
    if meta is None:
        for f in spec.fields:
            value = getattr(obj, f.name)
            if f.spec.embedded:
                if value is not None:
                    out.update(_dump_model(value))
                continue
            if f.spec.key is None or ((f.spec.omitempty or f.spec.legacy) and f.is_empty(value)):
                continue
            out[f.spec.key] = _dump_field(f, value, nil_empty=True)
        return dict(sorted(out.items())) if spec.sort_keys else out
    by_name = {f.name: f for f in spec.fields}
    seen: set[str] = set()
    for spelling, kind, name in meta.entries:
        if kind == "x":
            out[spelling] = meta.extra[spelling]
            continue
        f = by_name[name]
        seen.add(name)
        value = getattr(obj, name)
        if kind == "e":
            if value is not None:
                out.update(_dump_model(value))
        elif name in meta.nulls and value == f.zero():
            out[spelling] = None
        else:
            out[spelling] = _dump_field(f, value, nil_empty=False)
    # Never drop data: a value set on a loaded object under a key it was not read from.
    for f in spec.fields:
        if f.name not in seen and f.spec.key is not None and not f.spec.embedded:
            value = getattr(obj, f.name)
            if not f.is_empty(value):
                out[f.spec.key] = _dump_field(f, value, nil_empty=True)
    return out


def _dump_field(f: _Field, value: Any, *, nil_empty: bool) -> Any:
    if f.spec.dump is not None:
        return f.spec.dump(value)
    if nil_empty and isinstance(value, tuple | list | Mapping) and not value:
        return None
    return _dump(value)


def _dump(value: Any) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, tuple | list):
        items = []
        for item in value:
            if isinstance(item, FuncHook):
                log.warning("cannot serialise a function hook (%r); skipping it", item.func)
                continue
            items.append(_dump(item))
        return items
    if isinstance(value, Mapping):
        pairs = [(_dump(k), _dump(v)) for k, v in value.items()]
        return dict(sorted(pairs, key=lambda kv: str(kv[0])))
    return converter.unstructure(value)


# -- the converter ---------------------------------------------------------------------------


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Model)


def _is_tuple(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple


def _is_mapping(tp: Any) -> bool:
    return typing.get_origin(tp) in (dict, Mapping)


def _make_converter() -> cattrs.Converter:
    c = cattrs.Converter()
    c.register_structure_hook(int, _load_int)
    c.register_structure_hook(float, _load_float)
    c.register_structure_hook(str, _load_str)
    c.register_structure_hook(bool, _load_bool)
    c.register_structure_hook(Timestamp, _load_timestamp)
    c.register_structure_hook_func(lambda t: t is Any, _load_any)
    # enum.StrEnum / IntEnum come before str / int in an enum's MRO, so these win.
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        c.register_structure_hook(base, _load_enum)
    # Function hooks registered later are tried first: general before specific.
    c.register_structure_hook_func(_is_tuple, _load_tuple)
    c.register_structure_hook_func(_is_mapping, _load_mapping)
    c.register_structure_hook_func(_is_union, _load_union)
    c.register_structure_hook_func(lambda t: t == Hook, lambda v, _: _load_model(Command, v))
    c.register_structure_hook_func(_is_model, lambda v, t: _load_model(t, v))

    c.register_unstructure_hook_func(_is_model, _dump_model)
    c.register_unstructure_hook(DeviceType, lambda v: ord(v.value))
    c.register_unstructure_hook(Timestamp, lambda v: v.text)
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        c.register_unstructure_hook(base, lambda v: v.value)
    return c


#: The converter (a :class:`cattrs.Converter`); use :func:`structure`/:func:`unstructure`.
converter = _make_converter()


def structure(data: Any, cls: type[T], *, strict: bool = True, root: str = "") -> T:
    """Load ``data`` (parsed JSON) into ``cls``; errors are ConfigErrors naming the JSON path.

    ``root`` prefixes the path in error messages (``"config"`` gives ``config.mounts[0]...``).
    """
    token = _strict.set(strict)
    try:
        result: T = converter.structure(data, cls)
        return result
    except _LoadError as e:
        field = e.field()
        if root:
            field = f"{root}.{field}" if field and not field.startswith("[") else root + field
        if e.value is _UNSET:
            raise ConfigError(e.message, field=field or None) from None
        raise ConfigError(e.message, field=field or None, value=e.value) from None
    finally:
        _strict.reset(token)


def unstructure(obj: Model) -> dict[str, Any]:
    """Dump a model to a JSON-ready dict (see the module docstring for the two modes)."""
    return _dump_model(obj)


def config_from_dict(data: Mapping[str, Any], *, strict: bool = True) -> Config:
    """Load a :class:`Config` from runc's JSON (already parsed)."""
    return structure(dict(data), Config, strict=strict)


def config_to_dict(config: Config) -> dict[str, Any]:
    """Dump a :class:`Config` to a dict in runc's JSON shape."""
    return unstructure(config)


def config_from_json(text: str | bytes, *, strict: bool = True) -> Config:
    """Load a :class:`Config` from runc's JSON text."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError("expected a JSON object", value=type(data).__name__)
    return config_from_dict(data, strict=strict)


def config_to_json(config: Config) -> str:
    """Dump a :class:`Config` to compact JSON text, as runc writes it."""
    return json.dumps(config_to_dict(config), separators=(",", ":"), ensure_ascii=False)
