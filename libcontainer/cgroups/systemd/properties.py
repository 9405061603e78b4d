"""Unit names, slice paths and resource properties, mapped as runc 1.1 maps them
(``systemd/common.go``, ``v1.go``, ``v2.go``).

Every property is ``(name, (dbus signature, value))``, ready for ``a(sv)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from libcontainer.cgroups.devices.emulator import WILDCARD, Emulator
from libcontainer.cgroups.fs2.convert import cpu_shares_to_weight, memory_swap_to_v2
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.systemd.dbus import Property
    from libcontainer.configs import Cgroup, Resources

__all__ = [
    "DEFAULT_SLICE",
    "cpu_quota_properties",
    "cpuset_properties",
    "device_properties",
    "expand_slice",
    "range_to_bits",
    "unit_name",
    "v1_resource_properties",
    "v2_resource_properties",
]

log = logging.getLogger(__name__)

DEFAULT_SLICE = "system.slice"
DEFAULT_CPU_QUOTA_PERIOD = 100000
USEC_INFINITY = 2**64 - 1


def prop(name: str, signature: str, value: Any) -> Property:
    """One unit property."""
    return (name, (signature, value))


def _u64(value: int) -> int:
    # runc passes uint64(int64): -1 becomes "infinity".
    return value & USEC_INFINITY


def unit_name(cgroup: Cgroup) -> str:
    """``<scope_prefix>-<name>.scope``, or ``name`` itself when it is a ``.slice``."""
    if cgroup.name.endswith(".slice"):
        return cgroup.name
    if not cgroup.name:
        raise CgroupError("the systemd cgroup driver needs a cgroup name (the unit name)")
    return f"{cgroup.scope_prefix}-{cgroup.name}.scope"


def expand_slice(slice_name: str) -> str:
    """The cgroup path of a slice: ``a-b.slice`` is ``/a.slice/a-b.slice``."""
    suffix = ".slice"
    if not slice_name.endswith(suffix) or "/" in slice_name:
        raise CgroupError(f"invalid slice name {slice_name!r}: it must end in .slice, no '/'")
    if slice_name == "-.slice":
        return "/"
    stem = slice_name[: -len(suffix)]
    if stem.startswith("-") or stem.endswith("-") or "--" in stem:
        raise CgroupError(f"invalid slice name {slice_name!r}: misplaced '-'")
    path, prefix = "", ""
    for part in stem.split("-"):
        path += f"/{prefix}{part}{suffix}"
        prefix += part + "-"
    return path


def range_to_bits(text: str) -> bytes:
    """A cpuset list (``0-3,8``) as systemd's byte mask (little-endian bit order)."""
    bits = 0
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        low, sep, high = item.partition("-")
        try:
            start, end = int(low), int(high) if sep else int(low)
        except ValueError:
            raise CgroupError(f"invalid cpuset range {text!r}") from None
        if start < 0 or end < start:
            raise CgroupError(f"invalid cpuset range {text!r}")
        for bit in range(start, end + 1):
            bits |= 1 << bit
    length = max(1, (bits.bit_length() + 7) // 8)
    return bits.to_bytes(length, "little")


def device_properties(r: Resources, systemd_version: int) -> list[Property]:
    """``DevicePolicy`` and ``DeviceAllow`` for the rules (runc's generateDeviceProperties).

    systemd only has allow lists: a deny-list config becomes "deny all" here (the cgroupfs
    rules written afterwards fix it up), except "allow all" which systemd can say.
    """
    if r.skip_devices:
        return []
    emulator = Emulator.from_rules(r.devices or ())
    if emulator.is_blacklist:
        if not emulator.rules:
            return [prop("DevicePolicy", "s", "auto"), prop("DeviceAllow", "a(ss)", [])]
        log.warning("systemd cannot express deny-list device rules: applying deny-all first")
        return [prop("DevicePolicy", "s", "strict"), prop("DeviceAllow", "a(ss)", [])]
    allow: list[tuple[str, str]] = []
    for meta in sorted(emulator.rules):
        perms = "".join(p for p in "rwm" if p in emulator.rules[meta])
        group = "block-" if meta.node == "b" else "char-"
        if meta.major == WILDCARD:
            if meta.minor != WILDCARD:
                log.warning("systemd does not support '*:%d' device rules: skipped", meta.minor)
                continue
            path = group + "*"
        elif meta.minor == WILDCARD:
            if systemd_version and systemd_version < 240:
                log.warning("systemd < 240 needs /proc/devices groups for '%d:*'", meta.major)
                continue
            path = f"{group}{meta.major}"
        else:
            kind = "block" if meta.node == "b" else "char"
            path = f"/dev/{kind}/{meta.major}:{meta.minor}"
        allow.append((path, perms))
    return [
        prop("DevicePolicy", "s", "strict"),
        prop("DeviceAllow", "a(ss)", []),  # empty the list, then fill it
        prop("DeviceAllow", "a(ss)", allow),
    ]


def cpu_quota_properties(quota: int, period: int, systemd_version: int) -> list[Property]:
    """``CPUQuotaPeriodUSec`` (systemd 242+) and ``CPUQuotaPerSecUSec``, rounded up to
    whole percents as systemd stores a percentage."""
    out: list[Property] = []
    if period:
        if systemd_version >= 242:
            out.append(prop("CPUQuotaPeriodUSec", "t", period))
        else:
            log.debug("systemd %d cannot set CPUQuotaPeriodUSec", systemd_version)
    if quota or period:
        per_sec = USEC_INFINITY
        if quota > 0:
            per_sec = quota * 1_000_000 // (period or DEFAULT_CPU_QUOTA_PERIOD)
            if per_sec % 10000:
                per_sec = (per_sec // 10000 + 1) * 10000
        out.append(prop("CPUQuotaPerSecUSec", "t", per_sec))
    return out


def cpuset_properties(cpus: str, mems: str, systemd_version: int) -> list[Property]:
    """``AllowedCPUs`` / ``AllowedMemoryNodes`` (systemd 244+)."""
    if not cpus and not mems:
        return []
    if systemd_version < 244:
        log.debug("systemd %d cannot set cpusets; the cgroupfs writes will", systemd_version)
        return []
    out = []
    if cpus:
        out.append(prop("AllowedCPUs", "ay", range_to_bits(cpus)))
    if mems:
        out.append(prop("AllowedMemoryNodes", "ay", range_to_bits(mems)))
    return out


def _tasks_max(r: Resources) -> list[Property]:
    if r.pids_limit > 0 or r.pids_limit == -1:
        return [prop("TasksMax", "t", _u64(r.pids_limit))]
    return []


def v1_resource_properties(r: Resources, systemd_version: int) -> list[Property]:
    """Resources as unit properties on a cgroup v1 host."""
    out = device_properties(r, systemd_version)
    if r.memory:
        out.append(prop("MemoryLimit", "t", _u64(r.memory)))
    if r.cpu_shares:
        out.append(prop("CPUShares", "t", r.cpu_shares))
    out += cpu_quota_properties(r.cpu_quota, r.cpu_period, systemd_version)
    if r.blkio_weight:
        out.append(prop("BlockIOWeight", "t", r.blkio_weight))
    out += _tasks_max(r)
    out += cpuset_properties(r.cpuset_cpus, r.cpuset_mems, systemd_version)
    return out


def v2_resource_properties(r: Resources, systemd_version: int) -> list[Property]:
    """Resources as unit properties on a cgroup v2 host (``unified`` keys included)."""
    out = device_properties(r, systemd_version)
    if r.memory:
        out.append(prop("MemoryMax", "t", _u64(r.memory)))
    if r.memory_reservation:
        out.append(prop("MemoryLow", "t", _u64(r.memory_reservation)))
    swap = memory_swap_to_v2(r.memory_swap, r.memory)
    if swap:
        out.append(prop("MemorySwapMax", "t", _u64(swap)))
    weight = r.cpu_weight or cpu_shares_to_weight(r.cpu_shares)
    if weight:
        out.append(prop("CPUWeight", "t", weight))
    out += cpu_quota_properties(r.cpu_quota, r.cpu_period, systemd_version)
    if r.blkio_weight:
        out.append(prop("IOWeight", "t", r.blkio_weight))
    out += _tasks_max(r)
    out += cpuset_properties(r.cpuset_cpus, r.cpuset_mems, systemd_version)
    out += unified_properties(r.unified, systemd_version)
    return out


_UNIFIED_MEMORY = {
    "memory.min": "MemoryMin",
    "memory.low": "MemoryLow",
    "memory.high": "MemoryHigh",
    "memory.max": "MemoryMax",
    "memory.swap.max": "MemorySwapMax",
}


def _limit(key: str, value: str) -> int:
    if value.strip() == "max":
        return USEC_INFINITY
    try:
        return int(value)
    except ValueError:
        raise CgroupError(f"unified resource {key!r}: {value!r} is not a number or 'max'") from None


def unified_properties(unified: Mapping[str, str], systemd_version: int) -> list[Property]:
    """The ``unified`` keys systemd has properties for (runc's unifiedResToSystemdProps);
    the others are written to the cgroup files afterwards."""
    out: list[Property] = []
    for key, value in unified.items():
        if key in _UNIFIED_MEMORY:
            out.append(prop(_UNIFIED_MEMORY[key], "t", _limit(key, value)))
        elif key == "pids.max":
            out.append(prop("TasksMax", "t", _limit(key, value)))
        elif key == "cpu.weight":
            out.append(prop("CPUWeight", "t", _limit(key, value)))
        elif key == "cpu.max":
            fields = value.split()
            quota = -1 if not fields or fields[0] == "max" else _limit(key, fields[0])
            period = _limit(key, fields[1]) if len(fields) > 1 else 0
            out += cpu_quota_properties(quota, period, systemd_version)
        elif key in ("cpuset.cpus", "cpuset.mems"):
            out += cpuset_properties(
                value if key == "cpuset.cpus" else "",
                value if key == "cpuset.mems" else "",
                systemd_version,
            )
    return out
