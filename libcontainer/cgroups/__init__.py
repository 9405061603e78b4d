"""Cgroups: the :class:`Manager` interface, driver selection, statistics.

``new_manager(cgroup, paths=None)`` picks the driver for the host (v1 ``fs`` today);
:class:`HostCgroups` describes the host's cgroup mounts and can be built from text to point
a driver at a fake cgroupfs tree.
"""

from libcontainer.cgroups.host import CgroupMode, CgroupMount, HostCgroups
from libcontainer.cgroups.manager import Manager, new_manager
from libcontainer.cgroups.stats import Stats

__all__ = ["CgroupMode", "CgroupMount", "HostCgroups", "Manager", "Stats", "new_manager"]
