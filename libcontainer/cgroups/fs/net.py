"""The net_cls and net_prio controllers: packet class id and per-interface priority."""

from __future__ import annotations

from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.subsystem import join

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["NetClsGroup", "NetPrioGroup"]


class NetClsGroup:
    """The net_cls controller."""

    name = "net_cls"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Write ``net_cls.classid`` when set."""
        if resources.net_cls_classid:
            fscommon.write_file(path, "net_cls.classid", str(resources.net_cls_classid))

    def get_stats(self, path: str, stats: Stats) -> None:
        """Nothing to report."""


class NetPrioGroup:
    """The net_prio controller."""

    name = "net_prio"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Write one ``<interface> <priority>`` line per entry to ``net_prio.ifpriomap``."""
        for entry in resources.net_prio_ifpriomap or ():
            fscommon.write_file(path, "net_prio.ifpriomap", f"{entry.interface} {entry.priority}")

    def get_stats(self, path: str, stats: Stats) -> None:
        """Nothing to report."""
