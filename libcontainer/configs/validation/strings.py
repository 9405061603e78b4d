"""No string of a config may hold a NUL byte: the kernel would see it cut short.

A path ``"/data\\0/../etc"`` reaches ``mount(2)`` as ``/data``; an environment entry or an
argument is silently truncated. Refused up front, naming the field, before anything exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from libcontainer.errors import ConfigError

from ..config import Config
from .host import HostFeatures

__all__ = ["check_no_nul", "no_nul_bytes"]


def no_nul_bytes(config: Config, host: HostFeatures) -> None:
    """Every string of ``config``, however deep (paths, hostname, hooks, labels, ...)."""
    check_no_nul(config, "")


def check_no_nul(value: Any, field: str) -> None:
    """Raise ConfigError (``field``: contains a NUL byte) for the first NUL found in
    ``value``: a string, or attrs models, sequences and mappings of them."""
    if isinstance(value, str):
        if "\0" in value:
            raise ConfigError("contains a NUL byte", field=field or "value", value=value)
    elif isinstance(value, bytes):
        return
    elif attrs.has(type(value)):
        for a in attrs.fields(type(value)):
            check_no_nul(getattr(value, a.name), f"{field}.{a.name}" if field else a.name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_no_nul(key, f"{field}[{key!r}]")
            check_no_nul(item, f"{field}[{key!r}]")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_no_nul(item, f"{field}[{i}]")
