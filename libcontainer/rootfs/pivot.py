"""Making the rootfs the process's ``/``: pivot_root(2), or MS_MOVE + chroot(2).

pivot_root is the real jail: the old root is unmounted, so nothing of the host stays
reachable. MS_MOVE + chroot (``no_pivot_root``, for ramdisk roots where pivot_root is
impossible) leaves the host's mounts in the namespace; it is only as safe as chroot.
"""

from __future__ import annotations

import errno
import logging
import os

from libcontainer.errors import SyscallError
from libcontainer.system import MNT_DETACH, MS_MOVE, MS_REC, MS_SLAVE, Syscalls

from .mountinfo import read_mountinfo
from .mountops import fail

__all__ = ["chroot", "ms_move_root", "pivot_root"]

log = logging.getLogger(__name__)


def pivot_root(rootfs: str, syscalls: Syscalls) -> None:
    """Switch to ``rootfs`` with ``pivot_root(".", ".")`` and detach the old root.

    pivot_root(".", ".") stacks the old root on top of the new one at the same place, so
    no directory is needed in the rootfs to park it (the LXC trick). The old root is made
    rslave first so that detaching it cannot propagate unmounts to the host.
    """
    try:
        oldroot = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise fail(e, "open /") from None
    try:
        try:
            newroot = os.open(rootfs, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise fail(e, f"open {rootfs}") from None
        try:
            _fchdir(newroot, rootfs)
            try:
                syscalls.pivot_root(".", ".")
            except SyscallError as e:
                raise fail(e, f"pivot_root {rootfs}") from None
            # The kernel leaves "." on the old root today, but promises nothing: go there.
            _fchdir(oldroot, "the old root")
            try:
                syscalls.mount(None, ".", None, MS_SLAVE | MS_REC, None)
            except SyscallError as e:
                raise fail(e, "make the old root rslave") from None
            try:
                syscalls.umount(".", MNT_DETACH)
            except SyscallError as e:
                raise fail(e, "unmount the old root") from None
        finally:
            os.close(newroot)
    finally:
        os.close(oldroot)
    _chdir("/")


def ms_move_root(rootfs: str, syscalls: Syscalls) -> None:
    """Move the rootfs mount onto ``/`` and chroot into it (``no_pivot_root``).

    Full procfs/sysfs mounts of the host are detached (or covered with a tmpfs) first:
    the kernel allows a new proc/sysfs mount only where an unobstructed one is visible,
    and a chroot would otherwise leave the host's reachable through the namespace.
    """
    for info in read_mountinfo():
        if info.root != "/" or info.fstype not in ("proc", "sysfs"):
            continue
        if info.mountpoint == rootfs or info.mountpoint.startswith(rootfs.rstrip("/") + "/"):
            continue
        p = info.mountpoint
        try:
            syscalls.mount(None, p, None, MS_SLAVE | MS_REC, None)
        except SyscallError as e:
            if e.errno == errno.ENOENT:
                continue  # a parent is already gone
            raise fail(e, f"make {p} rslave") from None
        try:
            syscalls.umount(p, MNT_DETACH)
        except SyscallError as e:
            if e.errno not in (errno.EINVAL, errno.EPERM):
                raise fail(e, f"unmount {p}") from None
            # Not allowed to unmount (a user namespace): cover it instead.
            try:
                syscalls.mount("tmpfs", p, "tmpfs", 0, None)
            except SyscallError as e2:
                raise fail(e2, f"cover {p} with a tmpfs") from None
    try:
        syscalls.mount(rootfs, "/", None, MS_MOVE, None)
    except SyscallError as e:
        raise fail(e, f"move {rootfs} to /") from None
    chroot()


def chroot() -> None:
    """chroot(".") then chdir("/"): the current directory becomes the root."""
    try:
        os.chroot(".")
    except OSError as e:
        raise fail(e, "chroot .") from None
    _chdir("/")


def _fchdir(fd: int, what: str) -> None:
    try:
        os.fchdir(fd)
    except OSError as e:
        raise fail(e, f"fchdir {what}") from None


def _chdir(path: str) -> None:
    try:
        os.chdir(path)
    except OSError as e:
        raise fail(e, f"chdir {path}") from None
