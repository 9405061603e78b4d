"""The pids controller: ``pids.max``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.subsystem import join

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["PidsGroup"]


class PidsGroup:
    """The pids controller."""

    name = "pids"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Write ``pids.max``: the limit if positive, ``max`` if negative, nothing if 0."""
        if resources.pids_limit:
            limit = str(resources.pids_limit) if resources.pids_limit > 0 else "max"
            fscommon.write_file(path, "pids.max", limit)

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill the current task count and the limit (0 meaning none, as in runc)."""
        if not os.path.exists(path):
            return
        stats.pids_stats.current = fscommon.read_uint(path, "pids.current")
        limit = fscommon.read_uint(path, "pids.max")
        stats.pids_stats.limit = 0 if limit == fscommon.MAX_UINT64 else limit
