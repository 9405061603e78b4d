"""The cgroup part of a config: runc 1.1's ``CreateCgroupConfig`` and ``createDevices``."""

from __future__ import annotations

import logging
from typing import Any

from libcontainer.configs import (
    Cgroup,
    Device,
    DeviceRule,
    DeviceType,
    HugepageLimit,
    IfPrioMap,
    LinuxRdma,
    Resources,
    ThrottleDevice,
    WeightDevice,
)
from libcontainer.errors import ConfigError
from specconv._paths import clean_path
from specconv.spec import LinuxResources, LinuxThrottleDevice, Spec
from specconv.systemd_props import systemd_properties
from specconv.tables import ALLOWED_DEVICES, DefaultDevice

__all__ = ["convert_cpu_shares_to_cgroup_v2", "create_cgroup_config", "create_devices"]

log = logging.getLogger(__name__)

_U64 = 2**64
_S_IFMT = 0o170000
_DEVICE_TYPES = {"p": DeviceType.FIFO, "u": DeviceType.CHAR, "c": DeviceType.CHAR}
_DEVICE_TYPES["b"] = DeviceType.BLOCK
_RULE_TYPES = {"a": DeviceType.WILDCARD, "b": DeviceType.BLOCK, "c": DeviceType.CHAR}


def convert_cpu_shares_to_cgroup_v2(shares: int) -> int:
    """cgroup v1 ``cpu.shares`` [2, 262144] to v2 ``cpu.weight`` [1, 10000] (0 stays 0).

    Computed in uint64 like runc, so out-of-range shares give runc's (odd) results too.
    """
    if shares == 0:
        return 0
    return ((shares - 2) % _U64 * 9999 % _U64) // 262142 + 1


def _rule(d: DefaultDevice) -> DeviceRule:
    return DeviceRule(
        type=DeviceType(d.type), major=d.major, minor=d.minor, permissions=d.permissions, allow=True
    )


def _node(d: DefaultDevice) -> Device:
    return Device(
        type=DeviceType(d.type),
        major=d.major,
        minor=d.minor,
        permissions=d.permissions,
        allow=True,
        path=d.path,
        file_mode=0o666,
        uid=0,
        gid=0,
    )


def create_devices(spec: Spec) -> tuple[list[Device], list[DeviceRule]]:
    """The device nodes of a config, and the default rules to append to its cgroup.

    A default device whose path the spec also lists is left out of both: the spec's wins.
    """
    spec_devices = spec.linux.devices if spec.linux is not None else ()
    spec_paths = {d.path for d in spec_devices}
    nodes: list[Device] = []
    rules: list[DeviceRule] = []
    for default in ALLOWED_DEVICES:
        if default.path and default.path in spec_paths:
            continue
        rules.append(_rule(default))
        if default.path:
            nodes.append(_node(default))
    for index, d in enumerate(spec_devices):
        dtype = _DEVICE_TYPES.get(d.type)
        if dtype is None:
            raise ConfigError(
                "invalid device type (expected c, u, b or p)",
                field=f"linux.devices[{index}].type",
                value=d.type,
            )
        nodes.append(
            Device(
                type=dtype,
                major=d.major,
                minor=d.minor,
                path=d.path,
                file_mode=0o666 if d.file_mode is None else d.file_mode & ~_S_IFMT,
                uid=d.uid or 0,
                gid=d.gid or 0,
            )
        )
    return nodes, rules


def _device_rules(r: LinuxResources) -> list[DeviceRule]:
    rules = []
    for index, d in enumerate(r.devices):
        field = f"linux.resources.devices[{index}]"
        if not d.access:
            raise ConfigError("device access must not be empty", field=f"{field}.access")
        dtype = _RULE_TYPES.get(d.type or "a")
        if dtype is None:
            raise ConfigError(
                "invalid cgroup device type (expected a, b or c)",
                field=f"{field}.type",
                value=d.type,
            )
        permissions = device_access(d.access)
        if not permissions:
            if not d.allow:
                continue  # denies nothing (runc applies it as a no-op)
            raise ConfigError(
                "device access grants none of r, w and m (runc fails to start such a "
                "container: its devices cgroup would not match the rules)",
                field=f"{field}.access",
                value=d.access,
            )
        rules.append(
            DeviceRule(
                type=dtype,
                major=-1 if d.major is None else d.major,
                minor=-1 if d.minor is None else d.minor,
                permissions=permissions,
                allow=d.allow,
            )
        )
    return rules


def device_access(access: str) -> str:
    """A rule's access string as runc 1.1 reads it: any string, of which only ``r``, ``w``
    and ``m`` count, each once (``"wr"``, ``"rrw"`` and ``"rwx"`` are all ``"rw"``)."""
    return "".join(p for p in "rwm" if p in access)


def _throttle(devices: tuple[LinuxThrottleDevice, ...]) -> tuple[ThrottleDevice, ...]:
    return tuple(ThrottleDevice(major=t.major, minor=t.minor, rate=t.rate) for t in devices)


def _resources(r: LinuxResources | None, default_rules: list[DeviceRule]) -> Resources:
    if r is None:
        return Resources(devices=tuple(default_rules))
    values: dict[str, Any] = {"devices": (*_device_rules(r), *default_rules)}
    if (mem := r.memory) is not None:
        values["memory"] = mem.limit or 0
        values["memory_reservation"] = mem.reservation or 0
        values["memory_swap"] = mem.swap or 0
        if mem.kernel is not None or mem.kernel_tcp is not None:
            log.warning("kernel memory settings are ignored and will be removed")
        values["memory_swappiness"] = mem.swappiness
        values["oom_kill_disable"] = bool(mem.disable_oom_killer)
    if (cpu := r.cpu) is not None:
        if cpu.shares is not None:
            values["cpu_shares"] = cpu.shares
            values["cpu_weight"] = convert_cpu_shares_to_cgroup_v2(cpu.shares)
        values["cpu_quota"] = cpu.quota or 0
        values["cpu_period"] = cpu.period or 0
        values["cpu_rt_runtime"] = cpu.realtime_runtime or 0
        values["cpu_rt_period"] = cpu.realtime_period or 0
        values["cpuset_cpus"] = cpu.cpus
        values["cpuset_mems"] = cpu.mems
    if r.pids is not None:
        values["pids_limit"] = r.pids.limit
    if (bio := r.block_io) is not None:
        values["blkio_weight"] = bio.weight or 0
        values["blkio_leaf_weight"] = bio.leaf_weight or 0
        values["blkio_weight_device"] = tuple(
            WeightDevice(
                major=w.major, minor=w.minor, weight=w.weight or 0, leaf_weight=w.leaf_weight or 0
            )
            for w in bio.weight_device
        )
        values["blkio_throttle_read_bps_device"] = _throttle(bio.throttle_read_bps_device)
        values["blkio_throttle_write_bps_device"] = _throttle(bio.throttle_write_bps_device)
        values["blkio_throttle_read_iops_device"] = _throttle(bio.throttle_read_iops_device)
        values["blkio_throttle_write_iops_device"] = _throttle(bio.throttle_write_iops_device)
    values["hugetlb_limit"] = tuple(
        HugepageLimit(page_size=h.page_size, limit=h.limit) for h in r.hugepage_limits
    )
    values["rdma"] = {
        name: LinuxRdma(hca_handles=v.hca_handles, hca_objects=v.hca_objects)
        for name, v in r.rdma.items()
    }
    if (net := r.network) is not None:
        values["net_cls_classid"] = net.class_id or 0
        values["net_prio_ifpriomap"] = tuple(
            IfPrioMap(interface=p.name, priority=p.priority) for p in net.priorities
        )
    values["unified"] = dict(r.unified)
    return Resources(**values)


def create_cgroup_config(
    spec: Spec,
    default_rules: list[DeviceRule],
    *,
    name: str = "",
    use_systemd: bool = False,
    rootless: bool = False,
) -> Cgroup:
    """Where the container's cgroup goes and which limits it gets.

    With systemd, a ``cgroupsPath`` must read ``slice:prefix:name``; without one the unit is
    ``runc-<name>.scope``. Otherwise ``cgroupsPath`` is cleaned and used as the path, and
    ``name`` only applies when there is no path. Device rules are the spec's followed by
    runc's defaults.
    """
    linux = spec.linux
    raw_path = linux.cgroups_path if linux is not None else ""
    path = raw_path if use_systemd else clean_path(raw_path)
    parent = scope_prefix = cgroup_name = cgroup_path = ""
    if use_systemd:
        if not path:
            scope_prefix, cgroup_name = "runc", name
        else:
            parts = path.split(":")
            if len(parts) != 3:
                raise ConfigError(
                    'cgroupsPath must be "slice:prefix:name" with the systemd cgroup driver',
                    field="linux.cgroupsPath",
                    value=path,
                )
            parent, scope_prefix, cgroup_name = parts
    else:
        cgroup_path = path
        cgroup_name = "" if path else name
    resources = _resources(linux.resources if linux is not None else None, default_rules)
    return Cgroup(
        name=cgroup_name,
        parent=parent,
        path=cgroup_path,
        scope_prefix=scope_prefix,
        resources=resources,
        systemd=use_systemd,
        systemd_props=systemd_properties(spec.annotations) if use_systemd else (),
        rootless=rootless,
    )
