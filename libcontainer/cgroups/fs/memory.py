"""The memory controller: limits, swap, reservation, swappiness, OOM killer."""

from __future__ import annotations

import errno
import logging
import posixpath
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.subsystem import join
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import (
        MemoryData,
        PageStats,
        PageUsageByNUMA,
        PageUsageByNUMAInner,
        Stats,
    )
    from libcontainer.configs import Resources

__all__ = ["MemoryGroup", "oom_kill_count"]

log = logging.getLogger(__name__)

LIMIT = "memory.limit_in_bytes"
SWAP_LIMIT = "memory.memsw.limit_in_bytes"
USAGE = "memory.usage_in_bytes"
MAX_USAGE = "memory.max_usage_in_bytes"


class MemoryGroup:
    """The memory controller."""

    name = "memory"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Write memory and swap limits, reservation, OOM killer and swappiness, in that order.

        Kernel memory limits are not set: runc 1.1 ignores them (deprecated in the kernel).
        """
        if resources.kernel_memory or resources.kernel_memory_tcp:
            log.warning(
                "kernel memory limits are ignored: the kernel deprecated them (as runc 1.1)"
            )
        _set_memory_and_swap(path, resources.memory, resources.memory_swap)
        if resources.memory_reservation:
            fscommon.write_file(
                path, "memory.soft_limit_in_bytes", str(resources.memory_reservation)
            )
        if resources.oom_kill_disable:
            fscommon.write_file(path, "memory.oom_control", "1")
        swappiness = resources.memory_swappiness
        if swappiness is None or swappiness == -1:
            return
        if not 0 <= swappiness <= 100:
            raise CgroupError(
                f"invalid memory swappiness {swappiness}: the valid range is 0-100 "
                "(or -1 to leave it alone)"
            )
        fscommon.write_file(path, "memory.swappiness", str(swappiness))

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill memory statistics (``memory.stat`` verbatim plus the counters)."""
        try:
            lines = list(fscommon.read_lines(path, "memory.stat"))
        except CgroupFileError as exc:
            if exc.errno == errno.ENOENT:
                return
            raise
        m = stats.memory_stats
        stat_path = posixpath.join(path, "memory.stat")
        for line in lines:
            key, value = fscommon.parse_key_value(line, path=stat_path)
            m.stats[key] = value
        m.cache = m.stats.get("cache", 0)
        _read_memory_data(path, "", m.usage)
        _read_memory_data(path, "memsw", m.swap_usage)
        _read_memory_data(path, "kmem", m.kernel_usage)
        _read_memory_data(path, "kmem.tcp", m.kernel_tcp_usage)
        m.use_hierarchy = fscommon.read_uint(path, "memory.use_hierarchy") == 1
        _read_numa_stat(path, m.page_usage_by_numa)


def _set_memory_and_swap(path: str, memory: int, swap: int) -> None:
    # memory -1 without a swap value means "unlimited" for both, where swap accounting exists.
    if memory == -1 and swap == 0 and path and posixpath.exists(posixpath.join(path, SWAP_LIMIT)):
        swap = -1
    if memory and swap:
        current = fscommon.read_uint(path, LIMIT)
        # The kernel keeps memsw >= memory at every moment, so raising both must write
        # memsw first and lowering both must write memory first; runc decides by comparing
        # the new swap limit with the current memory limit, which orders both cases right.
        if swap == -1 or current < swap:
            _write_swap(path, swap)
            _write_memory(path, memory)
            return
    _write_memory(path, memory)
    _write_swap(path, swap)


def _write_memory(path: str, value: int) -> None:
    if not value:
        return
    try:
        fscommon.write_file(path, LIMIT, str(value))
    except CgroupFileError as exc:
        if exc.errno != errno.EBUSY:
            raise
        # EBUSY: the new limit is below what the cgroup already uses.
        usage = fscommon.read_uint(path, USAGE)
        peak = fscommon.read_uint(path, MAX_USAGE)
        raise CgroupError(
            f"unable to set memory limit to {value} (current usage: {usage}, "
            f"peak usage: {peak}); free memory in the container or pick a higher limit"
        ) from exc


def _write_swap(path: str, value: int) -> None:
    if value:
        fscommon.write_file(path, SWAP_LIMIT, str(value))


def _read_memory_data(path: str, kind: str, data: MemoryData) -> None:
    prefix = f"memory.{kind}" if kind else "memory"
    try:
        data.usage = fscommon.read_uint(path, f"{prefix}.usage_in_bytes")
    except CgroupFileError as exc:
        # Swap and kernel memory accounting are optional in the kernel.
        if kind and exc.errno == errno.ENOENT:
            return
        raise
    data.max_usage = fscommon.read_uint(path, f"{prefix}.max_usage_in_bytes")
    data.failcnt = fscommon.read_uint(path, f"{prefix}.failcnt")
    data.limit = fscommon.read_uint(path, f"{prefix}.limit_in_bytes")


def _numa_field(numa: PageUsageByNUMA, key: str) -> PageStats | None:
    owner: PageUsageByNUMA | PageUsageByNUMAInner = numa
    if key.startswith("hierarchical_"):
        owner, key = numa.hierarchical, key[len("hierarchical_") :]
    if key not in ("total", "file", "anon", "unevictable"):
        return None
    field: PageStats = getattr(owner, key)
    return field


def _read_numa_stat(path: str, numa: PageUsageByNUMA) -> None:
    lines = fscommon.if_exists(fscommon.read_file, path, "memory.numa_stat")
    if lines is None:
        return
    file_path = posixpath.join(path, "memory.numa_stat")
    for line in lines.splitlines():
        columns = line.split(" ")
        key, sep, total = columns[0].partition("=")
        # Some kernels add columns such as "numa_locality 0 0 ..."; skip unknown rows.
        field = _numa_field(numa, key) if sep else None
        if field is None:
            continue
        field.total = fscommon.parse_uint(total, path=file_path)
        field.nodes = {}
        for column in columns[1:]:
            node, sep, value = column.partition("=")
            if not sep or len(node) < 2 or node[0] != "N" or not node[1:].isdigit():
                raise CgroupError(f"malformed line {line!r} in {file_path}")
            field.nodes[int(node[1:])] = fscommon.parse_uint(value, path=file_path)


def oom_kill_count(path: str) -> int:
    """The number of OOM kills in the memory cgroup at ``path`` (``oom_kill`` key)."""
    return fscommon.get_value_by_key(path, "memory.oom_control", "oom_kill")
