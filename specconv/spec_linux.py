"""OCI runtime-spec 1.0.2 ``linux``: namespaces, id mappings, devices, seccomp, RDT, ..."""

from __future__ import annotations

import attrs

from specconv._fields import Int64, Uint32, Uint64, always, json_key, str_map, to_tuple
from specconv.spec_resources import LinuxResources

__all__ = [
    "Linux",
    "LinuxDevice",
    "LinuxIDMapping",
    "LinuxIntelRdt",
    "LinuxNamespace",
    "LinuxPersonality",
    "LinuxSeccomp",
    "LinuxSeccompArg",
    "LinuxSyscall",
]


@attrs.frozen
class LinuxIDMapping:
    """One line of ``uid_map``/``gid_map``: ``size`` ids from ``containerID`` to ``hostID``."""

    container_id: Uint32 = attrs.field(default=0, metadata=always("containerID"))
    host_id: Uint32 = attrs.field(default=0, metadata=always("hostID"))
    size: Uint32 = attrs.field(default=0, metadata=always())


@attrs.frozen
class LinuxNamespace:
    """A namespace to create (no ``path``) or join (``path`` to a ``/proc/<pid>/ns`` file)."""

    type: str = attrs.field(default="", metadata=always())
    path: str = ""


@attrs.frozen
class LinuxDevice:
    """A device node to create in the container (``linux.devices[]``)."""

    path: str = attrs.field(default="", metadata=always())
    type: str = attrs.field(default="", metadata=always())
    major: Int64 = attrs.field(default=0, metadata=always())
    minor: Int64 = attrs.field(default=0, metadata=always())
    file_mode: Uint32 | None = None
    uid: Uint32 | None = None
    gid: Uint32 | None = None


@attrs.frozen
class LinuxSeccompArg:
    """A syscall argument comparison: ``args[index] <op> value`` (``valueTwo`` for masks)."""

    index: Uint64 = attrs.field(default=0, metadata=always())
    value: Uint64 = attrs.field(default=0, metadata=always())
    value_two: Uint64 = 0
    op: str = attrs.field(default="", metadata=always())


@attrs.frozen
class LinuxSyscall:
    """A seccomp rule: an action for the named syscalls, optionally filtered by arguments."""

    names: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, metadata=always())
    action: str = attrs.field(default="", metadata=always())
    errno_ret: Uint64 | None = None
    args: tuple[LinuxSeccompArg, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class LinuxSeccomp:
    """``linux.seccomp``: default action, architectures, flags and rules."""

    default_action: str = attrs.field(default="", metadata=always())
    default_errno_ret: Uint64 | None = None
    architectures: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    flags: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    listener_path: str = ""
    listener_metadata: str = ""
    syscalls: tuple[LinuxSyscall, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class LinuxIntelRdt:
    """``linux.intelRdt``: the resctrl class of service and its schemata."""

    clos_id: str = attrs.field(default="", metadata=json_key("closID"))
    l3_cache_schema: str = ""
    mem_bw_schema: str = ""
    enable_cmt: bool = attrs.field(default=False, metadata=json_key("enableCMT"))
    enable_mbm: bool = attrs.field(default=False, metadata=json_key("enableMBM"))


@attrs.frozen
class LinuxPersonality:
    """``linux.personality``: the execution domain (``LINUX`` or ``LINUX32``)."""

    domain: str = attrs.field(default="", metadata=always())
    flags: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class Linux:
    """``linux``: the Linux-specific part of the configuration."""

    uid_mappings: tuple[LinuxIDMapping, ...] = attrs.field(default=(), converter=to_tuple)
    gid_mappings: tuple[LinuxIDMapping, ...] = attrs.field(default=(), converter=to_tuple)
    sysctl: dict[str, str] = attrs.field(factory=dict, converter=str_map)
    resources: LinuxResources | None = None
    cgroups_path: str = ""
    namespaces: tuple[LinuxNamespace, ...] = attrs.field(default=(), converter=to_tuple)
    devices: tuple[LinuxDevice, ...] = attrs.field(default=(), converter=to_tuple)
    seccomp: LinuxSeccomp | None = None
    rootfs_propagation: str = ""
    masked_paths: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    readonly_paths: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    mount_label: str = ""
    intel_rdt: LinuxIntelRdt | None = None
    personality: LinuxPersonality | None = None
