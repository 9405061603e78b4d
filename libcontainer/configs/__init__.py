"""The container configuration: attrs models of runc 1.1's ``configs.Config``.

The models are cheap to import; the JSON converter (cattrs) and the validator load on first
use of :func:`config_from_dict`, :func:`config_to_dict` or :func:`validate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .cgroup import (
    Cgroup,
    FreezerState,
    HugepageLimit,
    IfPrioMap,
    LinuxRdma,
    Resources,
    ThrottleDevice,
    WeightDevice,
)
from .config import Capabilities, Config, IDMap, IntelRdt, Rlimit
from .devices import WILDCARD, Device, DeviceRule, DeviceType
from .hooks import Command, FuncHook, Hook, HookName, Hooks
from .mount import EXT_COPYUP, Mount, MountAttr
from .namespaces import NAMESPACE_ORDER, Namespace, NamespaceType
from .network import Network, Route
from .seccomp import Action, Arg, Operator, Seccomp, Syscall
from .timestamp import Timestamp

if TYPE_CHECKING:
    from .convert import config_from_dict, config_from_json, config_to_dict, config_to_json
    from .validation import HostFeatures, validate

__all__ = [
    "EXT_COPYUP",
    "NAMESPACE_ORDER",
    "WILDCARD",
    "Action",
    "Arg",
    "Capabilities",
    "Cgroup",
    "Command",
    "Config",
    "Device",
    "DeviceRule",
    "DeviceType",
    "FreezerState",
    "FuncHook",
    "Hook",
    "HookName",
    "Hooks",
    "HostFeatures",
    "HugepageLimit",
    "IDMap",
    "IfPrioMap",
    "IntelRdt",
    "LinuxRdma",
    "Mount",
    "MountAttr",
    "Namespace",
    "NamespaceType",
    "Network",
    "Operator",
    "Resources",
    "Rlimit",
    "Route",
    "Seccomp",
    "Syscall",
    "ThrottleDevice",
    "Timestamp",
    "WeightDevice",
    "config_from_dict",
    "config_from_json",
    "config_to_dict",
    "config_to_json",
    "validate",
]

_LAZY = {
    "config_from_dict": "convert",
    "config_from_json": "convert",
    "config_to_dict": "convert",
    "config_to_json": "convert",
    "validate": "validation",
    "HostFeatures": "validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
