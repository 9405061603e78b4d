"""Host device nodes as :class:`~libcontainer.configs.Device` values (runc's
``libcontainer/devices``: ``DeviceFromPath``, ``HostDevices``, ``GetDevices``), and what
udev knows about them.

The node itself (type, major/minor, mode, owner) comes from ``lstat``; udev's view
(subsystem, the ``/dev/disk/by-*`` links, properties) comes from pyudev where it is
installed and libudev is there, and is simply absent otherwise: nothing here needs it.
pyudev is imported only by :func:`udev_info`.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Mapping
from typing import Any

import attrs

from libcontainer.configs import Device, DeviceRule, DeviceType
from libcontainer.errors import NotADeviceError, os_reason

__all__ = [
    "UdevInfo",
    "device_from_path",
    "get_devices",
    "host_devices",
    "info_from_udev_device",
    "udev_info",
]

log = logging.getLogger(__name__)

# Directories of /dev that hold no devices worth passing on (runc's list: pseudo
# filesystems, and lxc/lxd/udev bookkeeping).
_SKIP_DIRS = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"})

_TYPES = {
    stat.S_IFBLK: DeviceType.BLOCK,
    stat.S_IFCHR: DeviceType.CHAR,
    stat.S_IFIFO: DeviceType.FIFO,
}


def device_from_path(path: str, permissions: str = "rwm") -> Device:
    """The device node at ``path`` (not following a symlink there), as runc's
    ``DeviceFromPath``: type, major/minor, permission bits, owner, and the cgroup
    ``permissions`` to give it.

    Raises :class:`~libcontainer.errors.NotADeviceError` for anything that is not a
    block or character device or a fifo, or does not exist.
    """
    try:
        st = os.lstat(path)
    except OSError as e:
        raise NotADeviceError(f"{path}: {os_reason(e)}") from None
    kind = _TYPES.get(stat.S_IFMT(st.st_mode))
    if kind is None:
        raise NotADeviceError(f"{path} is not a device node")
    return Device(
        type=kind,
        major=os.major(st.st_rdev),
        minor=os.minor(st.st_rdev),
        permissions=permissions,
        path=path,
        file_mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
    )


def get_devices(path: str) -> list[Device]:
    """Every block and character device under the directory ``path``, recursively, in
    name order (runc's ``GetDevices``).

    Skips fifos, symlinks, ``console``, and the pseudo-filesystem directories (``pts``,
    ``shm``, ``fd``, ``mqueue``, ...); entries that vanish while walking are skipped too.
    """
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        raise NotADeviceError(f"list {path}: {os_reason(e)}") from None
    out: list[Device] = []
    for entry in entries:
        full = os.path.join(path, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if entry.name not in _SKIP_DIRS:
                out.extend(get_devices(full))
            continue
        if entry.name == "console":
            continue
        try:
            device = device_from_path(full, "rwm")
        except NotADeviceError:
            continue  # not a device, or gone meanwhile
        if device.type is not DeviceType.FIFO:
            out.append(device)
    return out


def host_devices() -> list[Device]:
    """Every device under the host's ``/dev`` (runc's ``HostDevices``)."""
    return get_devices("/dev")


@attrs.frozen(kw_only=True)
class UdevInfo:
    """What udev knows about a device node."""

    subsystem: str
    """The kernel subsystem (``mem``, ``block``, ``tty``, ...)."""
    sys_path: str
    """The device's directory in sysfs."""
    initialized: bool
    """Whether udev has processed the device (has a database entry for it)."""
    links: tuple[str, ...] = ()
    """The symlinks udev made to the node (``/dev/disk/by-id/...``), sorted."""
    properties: Mapping[str, str] = attrs.field(factory=dict)
    """The device's udev properties (``ID_FS_TYPE``, ``DEVNAME``, ...)."""

    @property
    def disk_links(self) -> tuple[str, ...]:
        """The ``/dev/disk/by-*`` links (by-id, by-uuid, by-label, by-path, ...)."""
        return tuple(link for link in self.links if link.startswith("/dev/disk/by-"))


def info_from_udev_device(device: Any) -> UdevInfo:
    """A :class:`UdevInfo` from a ``pyudev.Device``.

    Links come from udev's database, so a device udev has not processed has none; the
    subsystem and sysfs path are the kernel's and are always there.
    """
    initialized = bool(device.is_initialized)
    return UdevInfo(
        subsystem=str(device.subsystem or ""),
        sys_path=str(device.sys_path),
        initialized=initialized,
        links=tuple(sorted(str(link) for link in device.device_links)) if initialized else (),
        properties={str(k): str(v) for k, v in device.properties.items()},
    )


def udev_info(device: DeviceRule) -> UdevInfo | None:
    """What udev knows about ``device`` (a block or character device), or None.

    None when pyudev is not installed, libudev cannot be loaded, the device is not a
    block or character device, or the kernel knows no device of that number.
    """
    if device.type not in (DeviceType.CHAR, DeviceType.BLOCK):
        return None
    try:
        import pyudev

        context = pyudev.Context()
    except (ImportError, OSError) as e:
        log.debug("no udev information: %s", e)
        return None
    kind = "char" if device.type is DeviceType.CHAR else "block"
    try:
        found = pyudev.Devices.from_device_number(
            context, kind, os.makedev(device.major, device.minor)
        )
    except (pyudev.DeviceNotFoundError, ValueError):
        return None
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV):
            return None
        raise
    return info_from_udev_device(found)
