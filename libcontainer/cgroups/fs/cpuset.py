"""The cpuset controller: ``cpuset.cpus`` and ``cpuset.mems``.

A new v1 cpuset cgroup starts with empty ``cpus`` and ``mems``, and no task can join it in
that state; so, as runc does, every level from the hierarchy root down gets the parent's
values copied in when its own are empty.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon, utils
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["CpusetGroup", "parse_cpuset_list"]

# Read into CPUSetStats; missing files (older kernels) are skipped.
_UINT_STATS = (
    ("cpuset.cpu_exclusive", "cpu_exclusive"),
    ("cpuset.mem_hardwall", "mem_hardwall"),
    ("cpuset.mem_exclusive", "mem_exclusive"),
    ("cpuset.memory_migrate", "memory_migrate"),
    ("cpuset.memory_spread_page", "memory_spread_page"),
    ("cpuset.memory_spread_slab", "memory_spread_slab"),
    ("cpuset.memory_pressure", "memory_pressure"),
    ("cpuset.sched_load_balance", "sched_load_balance"),
)


def parse_cpuset_list(text: str, *, path: str = "") -> list[int]:
    """Expand a cpuset list such as ``0-2,7`` into ``[0, 1, 2, 7]``."""
    text = text.strip()
    if not text:
        raise CgroupError(f"{path} is empty")
    result: list[int] = []
    for part in text.split(","):
        bounds = part.split("-")
        try:
            if len(bounds) == 1:
                result.append(int(bounds[0]))
                continue
            if len(bounds) == 2:
                low, high = int(bounds[0]), int(bounds[1])
                if low <= high:
                    result.extend(range(low, high + 1))
                    continue
        except ValueError:
            pass
        raise CgroupError(f"invalid cpuset list {text!r} in {path}")
    return result


class CpusetGroup:
    """The cpuset controller; ``mountpoint`` bounds the parent walk on apply."""

    name = "cpuset"

    def __init__(self, mountpoint: str | None = None) -> None:
        self._mountpoint = mountpoint

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create the cgroup with cpus/mems set (given or inherited), then add ``pid``."""
        if not path:
            return
        self._ensure_parents(path)
        fscommon.mkdir(path)
        # The wanted values first, so a cpu_exclusive parent never sees a copy it rejects.
        self.set(path, resources)
        _copy_if_needed(path, posixpath.dirname(path))
        utils.write_cgroup_proc(path, pid)

    def _ensure_parents(self, path: str) -> None:
        ancestors = []
        current = posixpath.dirname(path)
        mount = self._mountpoint
        if mount is not None and current.startswith(mount.rstrip("/") + "/"):
            while current != mount.rstrip("/"):
                ancestors.append(current)
                current = posixpath.dirname(current)
        else:
            # Unknown hierarchy root: fix up the levels we are about to create.
            while current not in ("", "/") and not posixpath.isdir(current):
                ancestors.append(current)
                current = posixpath.dirname(current)
        for directory in reversed(ancestors):
            fscommon.mkdir(directory)
            _copy_if_needed(directory, posixpath.dirname(directory))

    def set(self, path: str, resources: Resources) -> None:
        """Write ``cpuset.cpus`` then ``cpuset.mems`` when given."""
        if resources.cpuset_cpus:
            fscommon.write_file(path, "cpuset.cpus", resources.cpuset_cpus)
        if resources.cpuset_mems:
            fscommon.write_file(path, "cpuset.mems", resources.cpuset_mems)

    def get_stats(self, path: str, stats: Stats) -> None:
        """Report the cpuset configuration."""
        s = stats.cpuset_stats
        cpus = fscommon.if_exists(fscommon.read_string, path, "cpuset.cpus")
        if cpus is not None:
            s.cpus = parse_cpuset_list(cpus, path=posixpath.join(path, "cpuset.cpus"))
        mems = fscommon.if_exists(fscommon.read_string, path, "cpuset.mems")
        if mems is not None:
            s.mems = parse_cpuset_list(mems, path=posixpath.join(path, "cpuset.mems"))
        for filename, attr in _UINT_STATS:
            value = fscommon.if_exists(fscommon.read_uint, path, filename)
            if value is not None:
                setattr(s, attr, value)
        level = fscommon.if_exists(fscommon.read_int, path, "cpuset.sched_relax_domain_level")
        if level is not None:
            s.sched_relax_domain_level = level


def _copy_if_needed(current: str, parent: str) -> None:
    """Copy cpus/mems from ``parent`` into ``current`` where the latter's are empty."""
    current_cpus = fscommon.read_file(current, "cpuset.cpus")
    current_mems = fscommon.read_file(current, "cpuset.mems")
    parent_cpus = fscommon.read_file(parent, "cpuset.cpus")
    parent_mems = fscommon.read_file(parent, "cpuset.mems")
    if not current_cpus.strip():
        fscommon.write_file(current, "cpuset.cpus", parent_cpus)
    if not current_mems.strip():
        fscommon.write_file(current, "cpuset.mems", parent_mems)
