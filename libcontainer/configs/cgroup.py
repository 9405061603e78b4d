"""Cgroup placement and resource limits (runc ``configs/cgroup_linux.go``)."""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from libcontainer.cgroups.freezerstate import FreezerState

from .devices import Device, DeviceRule
from .jsonmodel import Model, jf

__all__ = [
    "Cgroup",
    "FreezerState",
    "HugepageLimit",
    "IfPrioMap",
    "LinuxRdma",
    "Resources",
    "ThrottleDevice",
    "WeightDevice",
]


@attrs.frozen
class WeightDevice(Model):
    """A per-device blkio weight (``major:minor weight``)."""

    major: int = jf("major", 0)
    minor: int = jf("minor", 0)
    weight: int = jf("weight", 0)
    leaf_weight: int = jf("leafWeight", 0)


@attrs.frozen
class ThrottleDevice(Model):
    """A per-device blkio throttle (bytes or IO operations per second)."""

    major: int = jf("major", 0)
    minor: int = jf("minor", 0)
    rate: int = jf("rate", 0)


@attrs.frozen
class HugepageLimit(Model):
    """A hugetlb limit in bytes for one page size (``"2MB"``, ``"1GB"``)."""

    page_size: str = jf("page_size", "")
    limit: int = jf("limit", 0)


@attrs.frozen
class IfPrioMap(Model):
    """A ``net_prio.ifpriomap`` entry."""

    interface: str = jf("interface", "")
    priority: int = jf("priority", 0)


@attrs.frozen
class LinuxRdma(Model):
    """RDMA limits for one HCA device (``None`` leaves a limit unset)."""

    hca_handles: int | None = jf("hca_handles", None, omitempty=True)
    hca_objects: int | None = jf("hca_objects", None, omitempty=True)


@attrs.frozen(kw_only=True)
class Resources(Model):
    """Resource limits of a cgroup (runc ``configs.Resources``).

    Attribute names follow runc's Go names; JSON keys are runc's tags (``cpu_rt_runtime`` is
    written ``cpu_rt_quota``, ``net_cls_classid`` is ``net_cls_classid_u``).
    ``kernel_memory``, ``kernel_memory_tcp``, ``allowed_devices``, ``denied_devices`` and
    ``allow_all_devices`` are legacy keys older runc wrote: they load and are written back,
    but nothing applies them.
    """

    allow_all_devices: bool | None = jf("allow_all_devices", None, legacy=True)
    allowed_devices: tuple[Device, ...] = jf("allowed_devices", (), legacy=True)
    denied_devices: tuple[Device, ...] = jf("denied_devices", (), legacy=True)
    devices: tuple[DeviceRule, ...] = jf("devices", ())
    memory: int = jf("memory", 0)
    memory_reservation: int = jf("memory_reservation", 0)
    memory_swap: int = jf("memory_swap", 0)
    kernel_memory: int = jf("kernel_memory", 0, legacy=True)
    kernel_memory_tcp: int = jf("kernel_memory_tcp", 0, legacy=True)
    cpu_shares: int = jf("cpu_shares", 0)
    cpu_quota: int = jf("cpu_quota", 0)
    cpu_period: int = jf("cpu_period", 0)
    cpu_rt_runtime: int = jf("cpu_rt_quota", 0)
    cpu_rt_period: int = jf("cpu_rt_period", 0)
    cpuset_cpus: str = jf("cpuset_cpus", "")
    cpuset_mems: str = jf("cpuset_mems", "")
    pids_limit: int = jf("pids_limit", 0)
    blkio_weight: int = jf("blkio_weight", 0)
    blkio_leaf_weight: int = jf("blkio_leaf_weight", 0)
    blkio_weight_device: tuple[WeightDevice, ...] = jf("blkio_weight_device", ())
    blkio_throttle_read_bps_device: tuple[ThrottleDevice, ...] = jf(
        "blkio_throttle_read_bps_device", ()
    )
    blkio_throttle_write_bps_device: tuple[ThrottleDevice, ...] = jf(
        "blkio_throttle_write_bps_device", ()
    )
    blkio_throttle_read_iops_device: tuple[ThrottleDevice, ...] = jf(
        "blkio_throttle_read_iops_device", ()
    )
    blkio_throttle_write_iops_device: tuple[ThrottleDevice, ...] = jf(
        "blkio_throttle_write_iops_device", ()
    )
    freezer: FreezerState = jf("freezer", FreezerState.UNDEFINED)
    hugetlb_limit: tuple[HugepageLimit, ...] = jf("hugetlb_limit", ())
    oom_kill_disable: bool = jf("oom_kill_disable", False)
    memory_swappiness: int | None = jf("memory_swappiness", None)
    net_prio_ifpriomap: tuple[IfPrioMap, ...] = jf("net_prio_ifpriomap", ())
    net_cls_classid: int = jf("net_cls_classid_u", 0)
    rdma: Mapping[str, LinuxRdma] = jf("rdma", factory=dict)
    cpu_weight: int = jf("cpu_weight", 0)
    unified: Mapping[str, str] = jf("unified", factory=dict)
    skip_devices: bool = jf(None, False)
    skip_freeze_on_set: bool = jf(None, False)


@attrs.frozen(kw_only=True)
class Cgroup(Model):
    """Where a container's cgroup is and what limits apply (runc ``configs.Cgroup``).

    ``path`` is relative to the cgroup mount points; with ``systemd``, ``parent`` (a slice),
    ``scope_prefix`` and ``name`` name a transient unit instead. ``paths`` maps controllers
    to absolute paths to join (older runc wrote it as ``Paths``). ``resources`` is written
    inline in the cgroup object, as Go embeds ``*Resources``. ``systemd_props`` (extra unit
    properties) is never serialised.
    """

    name: str = jf("name", "", omitempty=True)
    parent: str = jf("parent", "", omitempty=True)
    path: str = jf("path", "")
    scope_prefix: str = jf("scope_prefix", "")
    paths: Mapping[str, str] = jf("paths", factory=dict, omitempty=True)
    resources: Resources = jf(None, factory=Resources, embedded=True)
    systemd: bool = jf("Systemd", False)
    systemd_props: tuple[tuple[str, Any], ...] = jf(None, ())
    rootless: bool = jf("Rootless", False)
    owner_uid: int | None = jf("owner_uid", None, omitempty=True)
