"""The OCI runtime-spec 1.0.2 ``config.json`` as frozen attrs models.

Attribute names are the snake_case of the Go fields in ``specs-go``; JSON keys are the spec's
camelCase (``ociVersion``, ``noNewPrivileges``, ``containerID``, ...). Sequences are tuples and
absent optional objects are ``None``. Only the parts runc 1.1 reads are modelled: the
``solaris``, ``windows`` and ``vm`` sections and unknown keys are ignored on load, as the
runtime spec asks. Use :func:`specconv.parse_spec` and :func:`specconv.dump_spec` to convert
from and to JSON.
"""

from __future__ import annotations

import attrs

from specconv._fields import Int64, always, str_map, to_tuple
from specconv.spec_linux import (
    Linux,
    LinuxDevice,
    LinuxIDMapping,
    LinuxIntelRdt,
    LinuxNamespace,
    LinuxPersonality,
    LinuxSeccomp,
    LinuxSeccompArg,
    LinuxSyscall,
)
from specconv.spec_process import Box, LinuxCapabilities, POSIXRlimit, Process, User
from specconv.spec_resources import (
    LinuxBlockIO,
    LinuxCPU,
    LinuxDeviceCgroup,
    LinuxHugepageLimit,
    LinuxInterfacePriority,
    LinuxMemory,
    LinuxNetwork,
    LinuxPids,
    LinuxRdma,
    LinuxResources,
    LinuxThrottleDevice,
    LinuxWeightDevice,
)

__all__ = [
    "Box",
    "Hook",
    "Hooks",
    "Linux",
    "LinuxBlockIO",
    "LinuxCPU",
    "LinuxCapabilities",
    "LinuxDevice",
    "LinuxDeviceCgroup",
    "LinuxHugepageLimit",
    "LinuxIDMapping",
    "LinuxIntelRdt",
    "LinuxInterfacePriority",
    "LinuxMemory",
    "LinuxNamespace",
    "LinuxNetwork",
    "LinuxPersonality",
    "LinuxPids",
    "LinuxRdma",
    "LinuxResources",
    "LinuxSeccomp",
    "LinuxSeccompArg",
    "LinuxSyscall",
    "LinuxThrottleDevice",
    "LinuxWeightDevice",
    "Mount",
    "POSIXRlimit",
    "Process",
    "Root",
    "Spec",
    "User",
]


@attrs.frozen
class Root:
    """``root``: the root filesystem, absolute or relative to the bundle."""

    path: str = attrs.field(default="", metadata=always())
    readonly: bool = False


@attrs.frozen
class Mount:
    """A mount: ``options`` are fstab-style (flags, propagation and filesystem data)."""

    destination: str = attrs.field(default="", metadata=always())
    type: str = ""
    source: str = ""
    options: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class Hook:
    """A hook command; ``timeout`` is in seconds."""

    path: str = attrs.field(default="", metadata=always())
    args: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    env: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    timeout: Int64 | None = None


@attrs.frozen
class Hooks:
    """``hooks``: commands run at each point of the container lifecycle."""

    prestart: tuple[Hook, ...] = attrs.field(default=(), converter=to_tuple)
    create_runtime: tuple[Hook, ...] = attrs.field(default=(), converter=to_tuple)
    create_container: tuple[Hook, ...] = attrs.field(default=(), converter=to_tuple)
    start_container: tuple[Hook, ...] = attrs.field(default=(), converter=to_tuple)
    poststart: tuple[Hook, ...] = attrs.field(default=(), converter=to_tuple)
    poststop: tuple[Hook, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class Spec:
    """A whole ``config.json``."""

    oci_version: str = attrs.field(default="", metadata=always("ociVersion"))
    process: Process | None = None
    root: Root | None = None
    hostname: str = ""
    domainname: str = ""
    mounts: tuple[Mount, ...] = attrs.field(default=(), converter=to_tuple)
    hooks: Hooks | None = None
    annotations: dict[str, str] = attrs.field(factory=dict, converter=str_map)
    linux: Linux | None = None
