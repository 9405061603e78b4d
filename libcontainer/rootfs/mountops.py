"""Mount primitives shared by the rootfs steps: mount through a verified fd, remount, flags.

Every mount onto a container path goes through :func:`mount_in_root`, which opens the target
inside the rootfs first and mounts onto its ``/proc/self/fd/N`` (see
:func:`~libcontainer.rootfs.securejoin.procfd`). Errors are re-raised as
:class:`~libcontainer.errors.SyscallError` naming the container path, the way runc words
them: ``mount proc to /proc: operation not permitted``.
"""

from __future__ import annotations

import errno
import logging
import os
import time

import attrs

from libcontainer.errors import SyscallError
from libcontainer.system import (
    MOUNT_ATTR__ATIME,
    MOUNT_ATTR_NOATIME,
    MOUNT_ATTR_NODEV,
    MOUNT_ATTR_NODIRATIME,
    MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID,
    MOUNT_ATTR_NOSYMFOLLOW,
    MOUNT_ATTR_RDONLY,
    MOUNT_ATTR_RELATIME,
    MOUNT_ATTR_STRICTATIME,
    MS_BIND,
    MS_MANDLOCK,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_NOSYMFOLLOW,
    MS_RDONLY,
    MS_RELATIME,
    MS_REMOUNT,
    MS_STRICTATIME,
    MS_SYNCHRONOUS,
    Syscalls,
)

from .mountinfo import MountInfo
from .securejoin import procfd

__all__ = [
    "LOCKABLE_FLAGS",
    "MountContext",
    "apply_propagation",
    "bind_remount_attrs",
    "fail",
    "mount_in_root",
    "remount_bind",
    "remount_readonly",
    "statfs_mount_flags",
]

log = logging.getLogger(__name__)

_ATIME_ENUM = MS_NOATIME | MS_RELATIME | MS_STRICTATIME
_ATIME_FLAGS = _ATIME_ENUM | MS_NODIRATIME
#: Flags the kernel locks on mounts inherited into a less privileged user namespace: a
#: remount must keep them or it fails with EPERM.
LOCKABLE_FLAGS = MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID | _ATIME_FLAGS

# statvfs(3) f_flag bits (ST_*) to mount(2) flags (MS_*): see calculate_f_flags() in the
# kernel's fs/statfs.c. The numbers differ for RELATIME and NOSYMFOLLOW.
_ST_TO_MS = (
    (os.ST_RDONLY, MS_RDONLY),
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_MANDLOCK, MS_MANDLOCK),
    (os.ST_SYNCHRONOUS, MS_SYNCHRONOUS),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
    (0x2000, MS_NOSYMFOLLOW),  # ST_NOSYMFOLLOW, not in Python's os
)

_EBUSY_RETRIES = 5
_EBUSY_DELAY = 0.1


@attrs.frozen
class MountContext:
    """What every mount step needs: where the rootfs is and how to make system calls.

    ``root`` is the real (symlink-free) host path of the rootfs, or ``/`` after the pivot.
    ``cgroupns``: the container has its own cgroup namespace (cgroup mounts differ).
    ``userns``: the init is in a user namespace (mounts it inherited may have locked
    flags, which only the classic remount path knows how to keep).
    ``host_mounts``: the mount table as :func:`~libcontainer.rootfs.prepare.prepare_root`
    read it, for steps that need the host's mounts (the cgroup hierarchies) and not the
    ones made since inside the rootfs.
    SELinux mount labels are not supported, so no label is carried.
    """

    root: str
    syscalls: Syscalls
    cgroupns: bool = False
    userns: bool = False
    host_mounts: tuple[MountInfo, ...] | None = None


def fail(err: SyscallError | OSError, message: str) -> SyscallError:
    """A SyscallError ``"<message>: <strerror>"`` carrying ``err``'s errno."""
    code = err.errno or errno.EIO
    return SyscallError(code, f"{message}: {os.strerror(code).lower()}")


def mount_in_root(
    ctx: MountContext,
    source: str | None,
    dest: str,
    fstype: str | None,
    flags: int,
    data: str | None,
    *,
    what: str | None = None,
) -> None:
    """mount(2) onto container path ``dest`` through a verified ``/proc/self/fd/N``.

    ``what`` names the source in error messages (defaults to ``source`` or ``fstype``).
    """
    label = what or source or fstype or "none"
    with procfd(ctx.root, dest, ctx.syscalls) as target:
        log.debug("mount %s to %s (via %s) flags %#x data %r", label, dest, target, flags, data)
        try:
            ctx.syscalls.mount(source, target, fstype, flags, data or None)
        except SyscallError as e:
            raise fail(e, f"mount {label} to {dest}") from None


def apply_propagation(ctx: MountContext, dest: str, propagation_flags: tuple[int, ...]) -> None:
    """Apply each propagation change (``MS_SLAVE``, ``MS_PRIVATE``|``MS_REC``, ...) in order.

    The target is opened afresh: an fd opened before the mount refers to what was
    underneath it.
    """
    if not propagation_flags:
        return
    with procfd(ctx.root, dest, ctx.syscalls) as target:
        for pflag in propagation_flags:
            try:
                ctx.syscalls.mount(None, target, None, pflag, None)
            except SyscallError as e:
                raise fail(e, f"change propagation of {dest} to {pflag:#x}") from None


def statfs_mount_flags(path: str) -> int:
    """The ``MS_*`` flags of the mount ``path`` is on (from statvfs(3))."""
    st = os.statvfs(path)
    flags = 0
    for st_flag, ms_flag in _ST_TO_MS:
        if st.f_flag & st_flag:
            flags |= ms_flag
    # MS_STRICTATIME is not stored as a flag: a mount with no other atime mode has it.
    if not flags & _ATIME_ENUM:
        flags |= MS_STRICTATIME
    return flags


_MS_TO_ATTR = (
    (MS_RDONLY, MOUNT_ATTR_RDONLY),
    (MS_NOSUID, MOUNT_ATTR_NOSUID),
    (MS_NODEV, MOUNT_ATTR_NODEV),
    (MS_NOEXEC, MOUNT_ATTR_NOEXEC),
    (MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW),
)


def bind_remount_attrs(flags: int) -> tuple[int, int]:
    """``(attr_set, attr_clr)`` for mount_setattr(2) giving a mount exactly the per-mount
    flags that ``mount(MS_BIND|MS_REMOUNT|flags)`` gives it (the kernel's ``path_mount``).

    Read-only, nosuid, nodev, noexec and nosymfollow become what ``flags`` says (the ones
    it omits are cleared). The access-time flags are kept unless ``flags`` names one of
    them; then nodiratime is what ``flags`` says and the mode the strongest one named
    (strictatime, then noatime, else relatime).
    """
    attr_set = attr_clr = 0
    for ms_flag, attr in _MS_TO_ATTR:
        attr_clr |= attr
        if flags & ms_flag:
            attr_set |= attr
    if flags & _ATIME_FLAGS:
        attr_clr |= MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME
        if flags & MS_NODIRATIME:
            attr_set |= MOUNT_ATTR_NODIRATIME
        if flags & MS_STRICTATIME:
            attr_set |= MOUNT_ATTR_STRICTATIME
        elif flags & MS_NOATIME:
            attr_set |= MOUNT_ATTR_NOATIME
        else:
            attr_set |= MOUNT_ATTR_RELATIME
    return attr_set, attr_clr


def remount_bind(ctx: MountContext, dest: str, flags: int) -> None:
    """Remount the bind mount at ``dest`` with ``flags`` (runc's bind remount).

    A bind mount ignores most flags, hence the ``MS_BIND|MS_REMOUNT``. When the kernel
    refuses (a mount inherited from a more privileged user namespace has locked flags),
    retry keeping the locked flags the mount already has, unless the caller asked for a
    different atime mode, which the kernel would silently ignore.
    """
    flags |= MS_BIND | MS_REMOUNT
    with procfd(ctx.root, dest, ctx.syscalls) as target:
        try:
            ctx.syscalls.mount(None, target, None, flags, None)
            return
        except SyscallError as first:
            try:
                existing = statfs_mount_flags(target)
            except OSError as e:
                raise fail(e, f"statfs {dest}") from None
            if flags & _ATIME_FLAGS and flags & _ATIME_FLAGS != existing & _ATIME_FLAGS:
                raise fail(first, f"remount {dest} with flags {flags:#x}") from None
            retry = flags | (existing & LOCKABLE_FLAGS)
            log.debug("remount %s retry with locked flags %#x", dest, retry)
            try:
                ctx.syscalls.mount(None, target, None, retry, None)
            except SyscallError as e:
                raise fail(e, f"remount {dest} with flags {flags:#x}") from None


def remount_readonly(ctx: MountContext, dest: str, flags: int) -> None:
    """Make the mount at ``dest`` read-only, keeping ``flags`` (runc's ``remountReadonly``).

    ``MS_REMOUNT|MS_BIND`` changes only per-mount flags, which a user namespace may do as
    long as no locked flag is dropped. EBUSY (a file still open for writing) is retried a
    few times, as runc does.
    """
    flags |= MS_REMOUNT | MS_BIND | MS_RDONLY
    for attempt in range(_EBUSY_RETRIES):
        with procfd(ctx.root, dest, ctx.syscalls) as target:
            try:
                ctx.syscalls.mount(None, target, None, flags, None)
                return
            except SyscallError as e:
                if e.errno != errno.EBUSY or attempt == _EBUSY_RETRIES - 1:
                    raise fail(e, f"remount {dest} read-only") from None
        time.sleep(_EBUSY_DELAY)
