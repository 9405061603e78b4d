"""Steps run inside the container after the pivot: read-only paths, masked paths, console.

Here ``/`` is the container's root, and a process of the container may already be able
to change files (a shared volume, a previous exec), so targets are opened in the root
and mounted onto through their fds, like every other mount in this package.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable

from libcontainer.errors import SyscallError
from libcontainer.system import MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, Syscalls

from .mountops import LOCKABLE_FLAGS, fail, statfs_mount_flags
from .securejoin import create_file_in_root, fd_path, open_in_root, procfd

__all__ = ["apply_masked_paths", "apply_readonly_paths", "mount_console"]

_DEV_NULL = os.makedev(1, 3)
_MISSING = (errno.ENOENT, errno.ENOTDIR)


def apply_readonly_paths(paths: Iterable[str], *, syscalls: Syscalls) -> None:
    """Make each existing path read-only: bind it onto itself, then remount ``MS_RDONLY``.

    The remount keeps the flags the mount already has (nosuid, nodev, noexec, atime):
    dropping them is not allowed in a user namespace and would loosen the mount anyway.
    Paths that do not exist are skipped.
    """
    for path in paths:
        try:
            with procfd("/", path, syscalls) as target:
                try:
                    syscalls.mount(target, target, None, MS_BIND | MS_REC, None)
                except SyscallError as e:
                    raise fail(e, f"bind {path} onto itself") from None
        except SyscallError as e:
            if e.errno in _MISSING:
                continue
            raise
        # Re-open: the fd above refers to what is under the new bind mount.
        with procfd("/", path, syscalls) as target:
            try:
                keep = statfs_mount_flags(target) & LOCKABLE_FLAGS
            except OSError as e:
                raise fail(e, f"statfs {path}") from None
            flags = keep | MS_BIND | MS_REMOUNT | MS_RDONLY
            try:
                syscalls.mount(target, target, None, flags, None)
            except SyscallError as e:
                raise fail(e, f"remount {path} read-only") from None


def apply_masked_paths(paths: Iterable[str], mount_label: str, *, syscalls: Syscalls) -> None:
    """Hide each existing path: /dev/null over files, an empty read-only tmpfs over dirs.

    The /dev/null used must really be the null device (char 1:3): an image could make it
    a symlink or a regular file to get a writable "mask" (CVE-2025-31133). ``mount_label``
    labels the tmpfs; the caller passes "" when SELinux is disabled (labels are ignored).
    """
    paths = list(paths)
    if not paths:
        return
    null = _open_dev_null()
    try:
        for path in paths:
            try:
                fd = open_in_root("/", path, os.O_PATH, syscalls)
            except SyscallError as e:
                if e.errno in _MISSING:
                    continue
                raise
            try:
                target = fd_path(fd)
                if stat.S_ISDIR(os.fstat(fd).st_mode):
                    try:
                        data = f'context="{mount_label}"' if mount_label else None
                        syscalls.mount("tmpfs", target, "tmpfs", MS_RDONLY, data)
                    except SyscallError as e:
                        raise fail(e, f"mask {path} with a read-only tmpfs") from None
                else:
                    try:
                        syscalls.mount(fd_path(null), target, None, MS_BIND, None)
                    except SyscallError as e:
                        raise fail(e, f"mask {path} with /dev/null") from None
            finally:
                os.close(fd)
    finally:
        os.close(null)


def _open_dev_null() -> int:
    try:
        fd = os.open("/dev/null", os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise fail(e, "open /dev/null") from None
    st = os.fstat(fd)
    if not stat.S_ISCHR(st.st_mode) or st.st_rdev != _DEV_NULL:
        os.close(fd)
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not the null device (char 1:3)"
        raise SyscallError(errno.EPERM, f"refusing to mask paths: /dev/null is {kind}")
    return fd


def mount_console(slave_path: str, *, syscalls: Syscalls) -> None:
    """Bind-mount the pty slave ``slave_path`` on /dev/console (runc's ``mountConsole``).

    /dev/console is created as an empty file (mode 0666 before the umask is set) when it
    does not exist yet.
    """
    old = os.umask(0)
    try:
        create_file_in_root("/", "/dev/console", 0o666)
    finally:
        os.umask(old)
    # Never follow /dev/console: an image (or a bind-mounted /dev) can make it a symlink to
    # a /proc file, and the pty would be mounted over that file, evading the masks and the
    # read-only /proc/sys (CVE-2025-52565). Only a plain file or a device is a target.
    fd = open_in_root("/", "/dev/console", os.O_PATH, syscalls, follow=False)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):
            raise SyscallError(
                errno.EPERM,
                "refusing to mount the console: /dev/console is not a regular file or a device",
            )
        try:
            syscalls.mount(slave_path, fd_path(fd), None, MS_BIND, None)
        except SyscallError as e:
            raise fail(e, f"mount {slave_path} to /dev/console") from None
    finally:
        os.close(fd)
