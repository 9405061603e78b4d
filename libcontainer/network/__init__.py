"""Container networking: runc's ``network_linux.go`` with the ``veth`` strategy made real.

Inside the container, the init brings ``lo`` up (one ioctl, :mod:`.loopback`) and adds the
config's routes (:mod:`.routes`). For ``veth`` networks the parent creates the pairs,
configures the container sides and removes the host sides again
(:mod:`.interfaces`, over pyroute2 in :mod:`.veth`); :mod:`.stats` has the counters.

Names are imported lazily (PEP 562): importing this package costs nothing, and pyroute2
(~150 ms) is imported only when a config has veth networks or routes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .interfaces import (
        create_interfaces,
        interface_stats,
        remove_interfaces,
        with_interface_stats,
    )
    from .loopback import link_up
    from .routes import add_routes, preload_for
    from .stats import NetworkInterface

_LAZY = {
    "NetworkInterface": "stats",
    "add_routes": "routes",
    "create_interfaces": "interfaces",
    "interface_stats": "interfaces",
    "link_up": "loopback",
    "preload_for": "routes",
    "remove_interfaces": "interfaces",
    "with_interface_stats": "interfaces",
}

__all__ = [
    "NetworkInterface",
    "add_routes",
    "create_interfaces",
    "interface_stats",
    "link_up",
    "preload_for",
    "remove_interfaces",
    "with_interface_stats",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
