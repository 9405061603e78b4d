"""OCI runtime-spec 1.0.2 ``linux.resources``: the cgroup settings of a container."""

from __future__ import annotations

import attrs

from specconv._fields import Int64, Uint16, Uint32, Uint64, always, json_key, str_map, to_tuple

__all__ = [
    "LinuxBlockIO",
    "LinuxCPU",
    "LinuxDeviceCgroup",
    "LinuxHugepageLimit",
    "LinuxInterfacePriority",
    "LinuxMemory",
    "LinuxNetwork",
    "LinuxPids",
    "LinuxRdma",
    "LinuxResources",
    "LinuxThrottleDevice",
    "LinuxWeightDevice",
]


@attrs.frozen
class LinuxDeviceCgroup:
    """A device cgroup rule (``linux.resources.devices[]``); unset major/minor mean any."""

    allow: bool = attrs.field(default=False, metadata=always())
    type: str = ""
    major: Int64 | None = None
    minor: Int64 | None = None
    access: str = ""


@attrs.frozen
class LinuxMemory:
    """``linux.resources.memory``: limits in bytes; ``None`` leaves the kernel default."""

    limit: Int64 | None = None
    reservation: Int64 | None = None
    swap: Int64 | None = None
    kernel: Int64 | None = None
    kernel_tcp: Int64 | None = attrs.field(default=None, metadata=json_key("kernelTCP"))
    swappiness: Uint64 | None = None
    disable_oom_killer: bool | None = attrs.field(
        default=None, metadata=json_key("disableOOMKiller")
    )
    use_hierarchy: bool | None = None


@attrs.frozen
class LinuxCPU:
    """``linux.resources.cpu``: shares, CFS quota/period, RT budget and cpuset."""

    shares: Uint64 | None = None
    quota: Int64 | None = None
    period: Uint64 | None = None
    realtime_runtime: Int64 | None = None
    realtime_period: Uint64 | None = None
    cpus: str = ""
    mems: str = ""


@attrs.frozen
class LinuxPids:
    """``linux.resources.pids``: the maximum number of tasks (0 or less: no limit)."""

    limit: Int64 = attrs.field(default=0, metadata=always())


@attrs.frozen
class LinuxWeightDevice:
    """A per-device blkio weight (``major:minor weight``)."""

    major: Int64 = attrs.field(default=0, metadata=always())
    minor: Int64 = attrs.field(default=0, metadata=always())
    weight: Uint16 | None = None
    leaf_weight: Uint16 | None = None


@attrs.frozen
class LinuxThrottleDevice:
    """A per-device blkio throttle (``major:minor rate``)."""

    major: Int64 = attrs.field(default=0, metadata=always())
    minor: Int64 = attrs.field(default=0, metadata=always())
    rate: Uint64 = attrs.field(default=0, metadata=always())


@attrs.frozen
class LinuxBlockIO:
    """``linux.resources.blockIO``: blkio weights and throttles."""

    weight: Uint16 | None = None
    leaf_weight: Uint16 | None = None
    weight_device: tuple[LinuxWeightDevice, ...] = attrs.field(default=(), converter=to_tuple)
    throttle_read_bps_device: tuple[LinuxThrottleDevice, ...] = attrs.field(
        default=(), converter=to_tuple
    )
    throttle_write_bps_device: tuple[LinuxThrottleDevice, ...] = attrs.field(
        default=(), converter=to_tuple
    )
    throttle_read_iops_device: tuple[LinuxThrottleDevice, ...] = attrs.field(
        default=(), converter=to_tuple, metadata=json_key("throttleReadIOPSDevice")
    )
    throttle_write_iops_device: tuple[LinuxThrottleDevice, ...] = attrs.field(
        default=(), converter=to_tuple, metadata=json_key("throttleWriteIOPSDevice")
    )


@attrs.frozen
class LinuxHugepageLimit:
    """A hugetlb limit: ``pageSize`` like ``"2MB"`` and a limit in bytes."""

    page_size: str = attrs.field(default="", metadata=always("pageSize"))
    limit: Uint64 = attrs.field(default=0, metadata=always())


@attrs.frozen
class LinuxInterfacePriority:
    """A net_prio entry: interface name and priority."""

    name: str = attrs.field(default="", metadata=always())
    priority: Uint32 = attrs.field(default=0, metadata=always())


@attrs.frozen
class LinuxNetwork:
    """``linux.resources.network``: net_cls class id and net_prio priorities."""

    class_id: Uint32 | None = attrs.field(default=None, metadata=json_key("classID"))
    priorities: tuple[LinuxInterfacePriority, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class LinuxRdma:
    """An rdma cgroup limit for one device."""

    hca_handles: Uint32 | None = None
    hca_objects: Uint32 | None = None


@attrs.frozen
class LinuxResources:
    """``linux.resources``: everything the cgroup manager applies."""

    devices: tuple[LinuxDeviceCgroup, ...] = attrs.field(default=(), converter=to_tuple)
    memory: LinuxMemory | None = None
    cpu: LinuxCPU | None = None
    pids: LinuxPids | None = None
    block_io: LinuxBlockIO | None = attrs.field(default=None, metadata=json_key("blockIO"))
    hugepage_limits: tuple[LinuxHugepageLimit, ...] = attrs.field(default=(), converter=to_tuple)
    network: LinuxNetwork | None = None
    rdma: dict[str, LinuxRdma] = attrs.field(factory=dict, converter=dict)
    unified: dict[str, str] = attrs.field(factory=dict, converter=str_map)
