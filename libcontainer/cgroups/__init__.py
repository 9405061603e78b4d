"""Cgroups: the :class:`Manager` interface, driver selection, statistics.

``new_manager(cgroup, paths=None)`` picks the driver for the host; :class:`HostCgroups`
describes the host's cgroup mounts and can be built from text to point a driver at a fake
cgroupfs tree. Names are imported lazily (PEP 562): the lifecycle core imports the light
modules of this package (``fscommon``, ``utils``, ``owned``, the freezers) without paying
for the drivers and their config models.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from libcontainer.cgroups.host import CgroupMode, CgroupMount, HostCgroups
    from libcontainer.cgroups.manager import Manager, new_manager
    from libcontainer.cgroups.stats import Stats

__all__ = ["CgroupMode", "CgroupMount", "HostCgroups", "Manager", "Stats", "new_manager"]

_LAZY = {
    "CgroupMode": "libcontainer.cgroups.host",
    "CgroupMount": "libcontainer.cgroups.host",
    "HostCgroups": "libcontainer.cgroups.host",
    "Manager": "libcontainer.cgroups.manager",
    "new_manager": "libcontainer.cgroups.manager",
    "Stats": "libcontainer.cgroups.stats",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'libcontainer.cgroups' has no attribute {name!r}")
