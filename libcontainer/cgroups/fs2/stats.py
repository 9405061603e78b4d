"""Reading v2 statistics into runc's (v1-shaped) :class:`Stats`, plus v2-only extras.

``memory.stat``, ``cpu.stat``, ``io.stat``, ``pids.current``/``pids.max``,
``hugetlb.<size>.current``/``.events``, ``rdma.*``, and in :class:`UnifiedStats` the pressure
(PSI) files and ``memory.events``. Files of controllers that are not enabled are absent and
leave their part of the stats at zero.
"""

from __future__ import annotations

import errno
import posixpath

import attrs

from libcontainer.cgroups import fscommon, utils
from libcontainer.cgroups.fs2.psi import PSIStats, read_psi
from libcontainer.cgroups.fscommon import MAX_UINT64, CgroupFileError
from libcontainer.cgroups.stats import (
    BlkioStatEntry,
    BlkioStats,
    HugetlbStats,
    MemoryData,
    PageStats,
    PageUsageByNUMA,
    Stats,
)

__all__ = [
    "UnifiedStats",
    "read_flat_keyed",
    "stat_cpu",
    "stat_hugetlb",
    "stat_io",
    "stat_memory",
    "stat_pids",
    "stat_pressure",
]


@attrs.define
class UnifiedStats(Stats):
    """:class:`Stats` plus what only cgroup v2 reports."""

    cpu_pressure: PSIStats | None = None
    """``cpu.pressure`` (None when the kernel has no PSI)."""
    memory_pressure: PSIStats | None = None
    """``memory.pressure``."""
    io_pressure: PSIStats | None = None
    """``io.pressure``."""
    memory_events: dict[str, int] = attrs.field(factory=dict)
    """``memory.events`` verbatim: ``low``, ``high``, ``max``, ``oom``, ``oom_kill``, ..."""


def _absent(exc: CgroupFileError) -> bool:
    return exc.errno in (errno.ENOENT, errno.ENODEV)


def read_flat_keyed(path: str, name: str) -> dict[str, int]:
    """A flat-keyed file (``key value`` lines) as a dict."""
    file_path = posixpath.join(path, name)
    return dict(
        fscommon.parse_key_value(line, path=file_path) for line in fscommon.read_lines(path, name)
    )


def stat_pids(path: str, stats: Stats) -> None:
    """``pids.current`` and ``pids.max`` (no limit reads as 0); without the pids controller,
    the processes are counted."""
    try:
        current = fscommon.read_uint(path, "pids.current")
    except CgroupFileError as exc:
        if not _absent(exc):
            raise
        stats.pids_stats.current = len(utils.get_all_pids(path))
        return
    stats.pids_stats.current = current
    limit = fscommon.read_uint(path, "pids.max")
    stats.pids_stats.limit = 0 if limit == MAX_UINT64 else limit


def stat_memory(path: str, stats: Stats) -> None:
    """``memory.stat`` verbatim, usage and limits; swap is reported as memory+swap, as v1."""
    try:
        values = read_flat_keyed(path, "memory.stat")
    except CgroupFileError as exc:
        if _absent(exc):
            return
        raise
    m = stats.memory_stats
    m.stats.update(values)
    m.cache = values.get("file", 0)
    m.use_hierarchy = True  # v2 is always hierarchical
    _read_numa(path, m.page_usage_by_numa)
    usage = _memory_data(path, "memory")
    if usage is None:
        return
    m.usage = usage
    swap = _memory_data(path, "memory.swap") or MemoryData()
    swap.usage += usage.usage
    if swap.limit != MAX_UINT64:
        swap.limit += usage.limit
    m.swap_usage = swap


def _memory_data(path: str, prefix: str) -> MemoryData | None:
    try:
        usage = fscommon.read_uint(path, f"{prefix}.current")
    except CgroupFileError as exc:
        # The root cgroup has no memory.current; swap accounting is optional.
        if _absent(exc):
            return None
        raise
    data = MemoryData(usage=usage, limit=fscommon.read_uint(path, f"{prefix}.max"))
    peak = fscommon.if_exists(fscommon.read_uint, path, f"{prefix}.peak")
    if peak is not None:
        data.max_usage = peak
    if prefix == "memory":
        # v1's failcnt counted hits of the limit; v2's "max" event is the same count.
        events = fscommon.if_exists(read_flat_keyed, path, "memory.events")
        data.failcnt = (events or {}).get("max", 0)
    return data


def _read_numa(path: str, numa: PageUsageByNUMA) -> None:
    text = fscommon.if_exists(fscommon.read_file, path, "memory.numa_stat")
    if text is None:
        return
    for line in text.splitlines():
        columns = line.split()
        if not columns or columns[0] not in ("anon", "file", "unevictable"):
            continue
        field: PageStats = getattr(numa, columns[0])
        field.nodes = {}
        for column in columns[1:]:
            node, sep, value = column.partition("=")
            if sep and node.startswith("N") and node[1:].isdigit():
                field.nodes[int(node[1:])] = field.nodes.get(int(node[1:]), 0) + int(value)
        field.total = sum(field.nodes.values())
    numa.total.total = numa.file.total + numa.anon.total
    numa.total.nodes = {
        node: value + numa.anon.nodes.get(node, 0) for node, value in numa.file.nodes.items()
    }


_IO_OPS = {
    "rbytes": ("Read", "io_service_bytes_recursive"),
    "wbytes": ("Write", "io_service_bytes_recursive"),
    "rios": ("Read", "io_serviced_recursive"),
    "wios": ("Write", "io_serviced_recursive"),
}


def stat_io(path: str, stats: Stats) -> None:
    """``io.stat`` mapped to the v1 tables: bytes and operations, read and write."""
    text = fscommon.if_exists(fscommon.read_file, path, "io.stat")
    if text is None:
        return
    parsed = BlkioStats()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        major, sep, minor = parts[0].partition(":")
        if not sep or not major.isdigit() or not minor.isdigit():
            continue
        for item in parts[1:]:
            key, sep, value = item.partition("=")
            if not sep or key not in _IO_OPS:
                continue
            op, table = _IO_OPS[key]
            entry = BlkioStatEntry(
                major=int(major), minor=int(minor), op=op, value=fscommon.parse_uint(value)
            )
            getattr(parsed, table).append(entry)
    stats.blkio_stats = parsed


def stat_cpu(path: str, stats: Stats) -> None:
    """``cpu.stat`` (µs in the file, ns in the stats)."""
    try:
        values = read_flat_keyed(path, "cpu.stat")
    except CgroupFileError as exc:
        if _absent(exc):
            return
        raise
    usage = stats.cpu_stats.cpu_usage
    throttling = stats.cpu_stats.throttling_data
    usage.total_usage = values.get("usage_usec", 0) * 1000
    usage.usage_in_usermode = values.get("user_usec", 0) * 1000
    usage.usage_in_kernelmode = values.get("system_usec", 0) * 1000
    throttling.periods = values.get("nr_periods", 0)
    throttling.throttled_periods = values.get("nr_throttled", 0)
    throttling.throttled_time = values.get("throttled_usec", 0) * 1000


def stat_hugetlb(path: str, stats: Stats, page_sizes: tuple[str, ...]) -> None:
    """Usage and failures (``max`` events) per huge page size."""
    for size in page_sizes:
        usage = fscommon.if_exists(fscommon.read_uint, path, f"hugetlb.{size}.current")
        if usage is None:
            continue
        failcnt = fscommon.get_value_by_key(path, f"hugetlb.{size}.events", "max")
        stats.hugetlb_stats[size] = HugetlbStats(usage=usage, failcnt=failcnt)


def stat_pressure(path: str, stats: UnifiedStats) -> None:
    """The PSI files and ``memory.events``."""
    stats.cpu_pressure = read_psi(path, "cpu.pressure")
    stats.memory_pressure = read_psi(path, "memory.pressure")
    stats.io_pressure = read_psi(path, "io.pressure")
    try:
        stats.memory_events = read_flat_keyed(path, "memory.events")
    except CgroupFileError as exc:
        if not _absent(exc):
            raise
