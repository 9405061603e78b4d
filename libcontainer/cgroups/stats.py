"""Resource usage of a cgroup, as runc's ``cgroups.Stats``.

The drivers fill a fresh :class:`Stats` in place, controller by controller; fields of a
controller that is not mounted keep their zero values. Field names are the snake_case of
runc's Go fields (``cpu_stats.cpu_usage.total_usage``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    # A type only: the network package is not imported by the cgroup drivers.
    from libcontainer.network.stats import NetworkInterface

__all__ = [
    "BlkioStatEntry",
    "BlkioStats",
    "CPUSetStats",
    "CpuStats",
    "CpuUsage",
    "HugetlbStats",
    "MemoryData",
    "MemoryStats",
    "PageStats",
    "PageUsageByNUMA",
    "PageUsageByNUMAInner",
    "PidsStats",
    "RdmaEntry",
    "RdmaStats",
    "Stats",
    "ThrottlingData",
]


@attrs.define
class ThrottlingData:
    """CFS throttling counters from ``cpu.stat``."""

    periods: int = 0
    """Enforcement periods that have elapsed."""
    throttled_periods: int = 0
    """Periods in which the cgroup hit its quota."""
    throttled_time: int = 0
    """Total time throttled, in nanoseconds."""


@attrs.define
class CpuUsage:
    """CPU time consumed since the cgroup was created, in nanoseconds."""

    total_usage: int = 0
    percpu_usage: list[int] = attrs.field(factory=list)
    percpu_usage_in_kernelmode: list[int] = attrs.field(factory=list)
    percpu_usage_in_usermode: list[int] = attrs.field(factory=list)
    usage_in_kernelmode: int = 0
    usage_in_usermode: int = 0


@attrs.define
class CpuStats:
    """CPU usage (cpuacct) and throttling (cpu)."""

    cpu_usage: CpuUsage = attrs.field(factory=CpuUsage)
    throttling_data: ThrottlingData = attrs.field(factory=ThrottlingData)


@attrs.define
class CPUSetStats:
    """The cpuset configuration in effect."""

    cpus: list[int] = attrs.field(factory=list)
    cpu_exclusive: int = 0
    mems: list[int] = attrs.field(factory=list)
    mem_hardwall: int = 0
    mem_exclusive: int = 0
    memory_migrate: int = 0
    memory_spread_page: int = 0
    memory_spread_slab: int = 0
    memory_pressure: int = 0
    sched_load_balance: int = 0
    sched_relax_domain_level: int = 0


@attrs.define
class MemoryData:
    """One memory counter family (``memory.*``, ``memory.memsw.*``, ``memory.kmem.*``)."""

    usage: int = 0
    max_usage: int = 0
    failcnt: int = 0
    limit: int = 0


@attrs.define
class PageStats:
    """Pages of one kind, in total and per NUMA node."""

    total: int = 0
    nodes: dict[int, int] = attrs.field(factory=dict)


@attrs.define
class PageUsageByNUMAInner:
    """The four page counters of ``memory.numa_stat``."""

    total: PageStats = attrs.field(factory=PageStats)
    file: PageStats = attrs.field(factory=PageStats)
    anon: PageStats = attrs.field(factory=PageStats)
    unevictable: PageStats = attrs.field(factory=PageStats)


@attrs.define
class PageUsageByNUMA:
    """``memory.numa_stat``: this cgroup's counters and the hierarchical ones."""

    total: PageStats = attrs.field(factory=PageStats)
    file: PageStats = attrs.field(factory=PageStats)
    anon: PageStats = attrs.field(factory=PageStats)
    unevictable: PageStats = attrs.field(factory=PageStats)
    hierarchical: PageUsageByNUMAInner = attrs.field(factory=PageUsageByNUMAInner)


@attrs.define
class MemoryStats:
    """Memory usage; ``stats`` is ``memory.stat`` verbatim."""

    cache: int = 0
    usage: MemoryData = attrs.field(factory=MemoryData)
    swap_usage: MemoryData = attrs.field(factory=MemoryData)
    kernel_usage: MemoryData = attrs.field(factory=MemoryData)
    kernel_tcp_usage: MemoryData = attrs.field(factory=MemoryData)
    page_usage_by_numa: PageUsageByNUMA = attrs.field(factory=PageUsageByNUMA)
    use_hierarchy: bool = False
    stats: dict[str, int] = attrs.field(factory=dict)


@attrs.define
class PidsStats:
    """Number of tasks and the limit (0 when unlimited, as runc reports it)."""

    current: int = 0
    limit: int = 0


@attrs.define
class BlkioStatEntry:
    """One line of a blkio statistics file."""

    major: int = 0
    minor: int = 0
    op: str = ""
    value: int = 0


@attrs.define
class BlkioStats:
    """Block I/O counters, from whichever of bfq / cfq / throttle files the kernel has."""

    io_service_bytes_recursive: list[BlkioStatEntry] = attrs.field(factory=list)
    io_serviced_recursive: list[BlkioStatEntry] = attrs.field(factory=list)
    io_queued_recursive: list[BlkioStatEntry] = attrs.field(factory=list)
    io_service_time_recursive: list[BlkioStatEntry] = attrs.field(factory=list)
    io_wait_time_recursive: list[BlkioStatEntry] = attrs.field(factory=list)
    io_merged_recursive: list[BlkioStatEntry] = attrs.field(factory=list)
    io_time_recursive: list[BlkioStatEntry] = attrs.field(factory=list)
    sectors_recursive: list[BlkioStatEntry] = attrs.field(factory=list)


@attrs.define
class HugetlbStats:
    """Usage of one huge page size."""

    usage: int = 0
    max_usage: int = 0
    failcnt: int = 0


@attrs.define
class RdmaEntry:
    """RDMA resources of one device (``max`` reads as 2**32-1)."""

    device: str = ""
    hca_handles: int = 0
    hca_objects: int = 0


@attrs.define
class RdmaStats:
    """``rdma.max`` and ``rdma.current``."""

    rdma_limit: list[RdmaEntry] = attrs.field(factory=list)
    rdma_current: list[RdmaEntry] = attrs.field(factory=list)


@attrs.define
class Stats:
    """Everything a driver can report about a container's cgroups."""

    cpu_stats: CpuStats = attrs.field(factory=CpuStats)
    cpuset_stats: CPUSetStats = attrs.field(factory=CPUSetStats)
    memory_stats: MemoryStats = attrs.field(factory=MemoryStats)
    pids_stats: PidsStats = attrs.field(factory=PidsStats)
    blkio_stats: BlkioStats = attrs.field(factory=BlkioStats)
    hugetlb_stats: dict[str, HugetlbStats] = attrs.field(factory=dict)
    """Keyed by page size (``2MB``)."""
    rdma_stats: RdmaStats = attrs.field(factory=RdmaStats)
    interfaces: list[NetworkInterface] = attrs.field(factory=list)
    """Per-interface counters of the container's veth networks (runc's
    ``libcontainer.Stats.Interfaces``): filled by ``Container.stats()``, not by a driver."""
