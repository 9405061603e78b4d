"""Device nodes and the standard /dev symlinks in the rootfs (runc's createDevices & co).

In the initial user namespace nodes are made with mknod(2). In a user namespace mknod is
refused, so the host's node is bind-mounted onto an empty file instead
(runc's ``bindMountDeviceNode``); the cgroup device rules still decide what may be opened.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Sequence

from libcontainer.configs import WILDCARD, Device, DeviceType
from libcontainer.errors import ConfigError, SyscallError
from libcontainer.system import MS_BIND

from .mountops import MountContext, fail, mount_in_root
from .securejoin import (
    clean_path,
    create_file_in_root,
    mkdir_all_in_root_fd,
    secure_join,
    strip_root,
)

__all__ = [
    "DEV_SYMLINKS",
    "create_device_node",
    "create_devices",
    "in_user_namespace",
    "reopen_dev_null",
    "setup_dev_symlinks",
    "setup_ptmx",
]

log = logging.getLogger(__name__)

#: The symlinks every container's /dev has: (target, link).
DEV_SYMLINKS: tuple[tuple[str, str], ...] = (
    ("/proc/self/fd", "fd"),
    ("/proc/self/fd/0", "stdin"),
    ("/proc/self/fd/1", "stdout"),
    ("/proc/self/fd/2", "stderr"),
)

_TYPE_BITS = {
    DeviceType.CHAR: stat.S_IFCHR,
    DeviceType.BLOCK: stat.S_IFBLK,
    DeviceType.FIFO: stat.S_IFIFO,
}
_IDENTITY_MAP = ["0", "0", "4294967295"]


def in_user_namespace(uid_map: str = "/proc/self/uid_map") -> bool:
    """Whether this process runs in a user namespace other than the initial one.

    The initial namespace maps every ID to itself (``0 0 4294967295``); anything else, or
    no readable map, means a user namespace (runc's ``userns.RunningInUserNS``).
    """
    try:
        with open(uid_map, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    return not (len(lines) == 1 and lines[0].split() == _IDENTITY_MAP)


def create_devices(ctx: MountContext, devices: Sequence[Device], *, bind: bool) -> None:
    """Create every device of ``devices`` in the rootfs (``bind``: bind-mount them instead).

    ``/dev/ptmx`` is skipped: it becomes a symlink into the devpts instance
    (:func:`setup_ptmx`). Devices without a path only exist for cgroup rules.
    """
    for node in devices:
        if not node.path or clean_path(node.path) == "/dev/ptmx":
            continue
        create_device_node(ctx, node, bind=bind)


def create_device_node(ctx: MountContext, node: Device, *, bind: bool) -> None:
    """Create one device node at ``node.path`` inside the rootfs."""
    if not node.type.can_mknod:
        raise ConfigError(f"{node.type.value!r} is not a valid device type for device {node.path}")
    if node.major == WILDCARD or node.minor == WILDCARD:
        raise ConfigError(f"device {node.path} has a wildcard major or minor number")
    joined = secure_join(ctx.root, strip_root(ctx.root, node.path))
    if joined == ctx.root:
        raise ConfigError(f"invalid device path {node.path!r}")
    if bind:
        _bind_device(ctx, node)
        return
    parent, name = os.path.split(joined)
    pfd = mkdir_all_in_root_fd(ctx.root, strip_root(ctx.root, parent))
    try:
        try:
            _mknod(pfd, name, node)
        except FileExistsError:
            return  # something is there already: leave it, as runc does
        except PermissionError:
            log.debug("mknod %s refused, bind-mounting the host's node instead", node.path)
            _bind_device(ctx, node)
        except OSError as e:
            raise fail(e, f"mknod {node.path}") from None
    finally:
        os.close(pfd)


def _mknod(dirfd: int, name: str, node: Device) -> None:
    mode = stat.S_IMODE(node.file_mode) | _TYPE_BITS[node.type]
    # The umask must not eat into the device's permissions; the init is single-threaded,
    # so changing it for the duration is safe.
    old = os.umask(0)
    try:
        os.mknod(name, mode, os.makedev(node.major, node.minor), dir_fd=dirfd)
    finally:
        os.umask(old)
    os.chown(name, node.uid, node.gid, dir_fd=dirfd, follow_symlinks=False)


def _bind_device(ctx: MountContext, node: Device) -> None:
    create_file_in_root(ctx.root, node.path)
    mount_in_root(ctx, node.path, node.path, None, MS_BIND, None)


def setup_ptmx(ctx: MountContext) -> None:
    """Make /dev/ptmx a symlink to ``pts/ptmx``, the devpts instance's own multiplexer."""
    fd = mkdir_all_in_root_fd(ctx.root, "/dev")
    try:
        try:
            os.unlink("ptmx", dir_fd=fd)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise fail(e, "remove /dev/ptmx") from None
        try:
            os.symlink("pts/ptmx", "ptmx", dir_fd=fd)
        except OSError as e:
            raise fail(e, "symlink /dev/ptmx -> pts/ptmx") from None
    finally:
        os.close(fd)


def setup_dev_symlinks(ctx: MountContext) -> None:
    """Create /dev/fd, /dev/std{in,out,err} (and /dev/core when the kernel has kcore)."""
    links = list(DEV_SYMLINKS)
    # CONFIG_PROC_KCORE may be off; only link to it when it exists (as runc does).
    if os.path.exists("/proc/kcore"):
        links.append(("/proc/kcore", "core"))
    fd = mkdir_all_in_root_fd(ctx.root, "/dev")
    try:
        for target, name in links:
            try:
                os.symlink(target, name, dir_fd=fd)
            except FileExistsError:
                pass
            except OSError as e:
                raise fail(e, f"symlink /dev/{name} -> {target}") from None
    finally:
        os.close(fd)


def reopen_dev_null() -> None:
    """Point stdio fds that are the host's /dev/null at the container's /dev/null.

    Called after the pivot: an fd inherited from the host would otherwise keep a
    reference to the host's filesystem.
    """
    try:
        null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        raise fail(e, "open /dev/null in the container") from None
    try:
        null_rdev = os.fstat(null).st_rdev
        for fd in (0, 1, 2):
            try:
                st = os.fstat(fd)
            except OSError as e:
                if e.errno == errno.EBADF:
                    continue
                raise fail(e, f"fstat fd {fd}") from None
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == null_rdev:
                os.dup2(null, fd)
    except SyscallError:
        raise
    except OSError as e:
        raise fail(e, "reopen /dev/null") from None
    finally:
        os.close(null)
