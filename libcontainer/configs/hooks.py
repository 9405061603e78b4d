"""Lifecycle hooks (runc ``configs.Hooks``, ``configs.Command``)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from .jsonmodel import Model, jf

__all__ = ["Command", "FuncHook", "Hook", "HookName", "Hooks"]


class HookName(enum.StrEnum):
    """A hook point; the value is runc's JSON key."""

    PRESTART = "prestart"
    CREATE_RUNTIME = "createRuntime"
    CREATE_CONTAINER = "createContainer"
    START_CONTAINER = "startContainer"
    POSTSTART = "poststart"
    POSTSTOP = "poststop"


def _ns_to_seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer number of nanoseconds, got {value!r}")
    return value / 1e9


def _seconds_to_ns(value: float | None) -> int | None:
    return None if value is None else round(value * 1e9)


@attrs.frozen(kw_only=True)
class Command(Model):
    """A command hook: run ``path`` with ``args`` (``args[0]`` is argv[0]) and ``env``.

    The OCI state is written to its stdin. ``timeout`` is in seconds (runc stores a Go
    ``time.Duration``, i.e. nanoseconds, in JSON); ``None`` waits forever.
    """

    path: str = jf("path", "")
    args: tuple[str, ...] = jf("args", ())
    env: tuple[str, ...] = jf("env", ())
    dir: str = jf("dir", "")
    timeout: float | None = jf("timeout", None, load=_ns_to_seconds, dump=_seconds_to_ns)


@attrs.frozen
class FuncHook:
    """A hook that calls a Python function with the OCI state; never serialised.

    Like runc's ``FuncHook``: it lives only in the process that built the config and is
    dropped (with a warning) when the config is written to JSON.
    """

    func: Callable[[Any], object]


#: Anything that can sit in a hook list.
Hook = Command | FuncHook


@attrs.frozen(kw_only=True)
class Hooks(Model):
    """The hook lists, one per :class:`HookName` (runc writes all six keys, sorted)."""

    prestart: tuple[Hook, ...] = jf("prestart", ())
    create_runtime: tuple[Hook, ...] = jf("createRuntime", ())
    create_container: tuple[Hook, ...] = jf("createContainer", ())
    start_container: tuple[Hook, ...] = jf("startContainer", ())
    poststart: tuple[Hook, ...] = jf("poststart", ())
    poststop: tuple[Hook, ...] = jf("poststop", ())

    # Go marshals Hooks through a map, so its keys come out sorted.
    __json_sort_keys__ = True

    def get(self, name: HookName | str) -> tuple[Hook, ...]:
        """The hooks registered for ``name`` (a :class:`HookName` or its JSON key)."""
        attr = _ATTR_OF[HookName(name)]
        hooks: tuple[Hook, ...] = getattr(self, attr)
        return hooks


_ATTR_OF = {
    HookName.PRESTART: "prestart",
    HookName.CREATE_RUNTIME: "create_runtime",
    HookName.CREATE_CONTAINER: "create_container",
    HookName.START_CONTAINER: "start_container",
    HookName.POSTSTART: "poststart",
    HookName.POSTSTOP: "poststop",
}
