"""Mounting one ``config.mounts`` entry into the rootfs (runc's ``mountToRootfs``).

Each filesystem type has its quirks: proc and sysfs must land on a real directory, tmpfs
keeps the mode of the directory it covers (and may copy its contents up), a bind mount
needs a second ``MS_REMOUNT`` for its flags to take effect. Destinations are container
paths; they are resolved inside the rootfs and mounted through a verified fd.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import tempfile

from libcontainer.configs import EXT_COPYUP, Mount
from libcontainer.errors import ConfigError, SyscallError
from libcontainer.system import (
    AT_RECURSIVE,
    MNT_DETACH,
    MOVE_MOUNT_F_EMPTY_PATH,
    MOVE_MOUNT_T_EMPTY_PATH,
    MS_BIND,
    MS_MOVE,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    Syscalls,
)

from .mountinfo import parent_mount, read_mountinfo
from .mountops import (
    MountContext,
    apply_propagation,
    fail,
    remount_bind,
)
from .securejoin import (
    clean_path,
    create_file_in_root,
    mkdir_all_in_root,
    open_in_root,
    procfd,
    secure_join,
    strip_root,
)

__all__ = [
    "check_proc_mount",
    "clean_path",
    "mount_bind",
    "mount_mqueue",
    "mount_other",
    "mount_proc_or_sysfs",
    "mount_propagate",
    "mount_tmpfs",
]

log = logging.getLogger(__name__)

#: Mounts under /proc that are allowed: files lxcfs emulates (runc's validProcMounts).
_VALID_PROC_MOUNTS = (
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
)


def mount_mqueue(ctx: MountContext, m: Mount) -> None:
    """Mount a POSIX message queue filesystem."""
    mkdir_all_in_root(ctx.root, m.destination)
    # SELinux kernels cannot label mqueue at mount time (runc labels the directory after).
    mount_propagate(ctx, m)


def mount_other(ctx: MountContext, m: Mount) -> None:
    """Mount any other filesystem type (devpts, overlay, ...) on a directory."""
    dest = secure_join(ctx.root, strip_root(ctx.root, m.destination))
    check_proc_mount(ctx.root, dest, m.source)
    mkdir_all_in_root(ctx.root, m.destination)
    mount_propagate(ctx, m, data=_default_data(m))


def _default_data(m: Mount) -> str:
    if m.device == "devpts" and not m.data:
        # A private devpts instance whose ptmx anyone may open (/dev/ptmx links to it).
        return "newinstance,ptmxmode=0666"
    return m.data


def mount_propagate(
    ctx: MountContext,
    m: Mount,
    *,
    data: str | None = None,
    open_flags: int = 0,
    follow: bool = True,
) -> None:
    """Mount ``m`` then apply its propagation flags (runc's ``mountPropagate``)."""
    flags = m.flags
    if m.device == "tmpfs" or clean_path(m.destination) == "/dev":
        # Read-only comes later (finalize_rootfs): files are still created in /dev, and
        # the mount point may need work first.
        flags &= ~MS_RDONLY
    fstype = None if m.device == "bind" else m.device
    with procfd(ctx.root, m.destination, ctx.syscalls, flags=open_flags, follow=follow) as target:
        try:
            payload = m.data if data is None else data
            ctx.syscalls.mount(m.source or None, target, fstype, flags, payload or None)
        except SyscallError as e:
            raise fail(e, f"mount {m.source or m.device} to {m.destination}") from None
    apply_propagation(ctx, m.destination, m.propagation_flags)


def mount_proc_or_sysfs(ctx: MountContext, m: Mount) -> None:
    """Mount procfs or sysfs exactly on the directory named (sysfs falls back to rbind)."""
    # These must land exactly on a directory of that name: not through a symlink, which
    # has been an attack before (CVE-2019-19921). So no secure_join here.
    dest = clean_path(m.destination)
    host = os.path.normpath(ctx.root + dest)
    try:
        st = os.lstat(host)
    except FileNotFoundError:
        mkdir_all_in_root(ctx.root, dest)
    except OSError as e:
        raise fail(e, f"lstat {dest}") from None
    else:
        if not stat.S_ISDIR(st.st_mode):
            raise SyscallError(
                errno.ENOTDIR,
                f"filesystem {m.device!r} must be mounted on ordinary directory: "
                f"{dest} is not a directory",
            )
    try:
        mount_propagate(ctx, m, open_flags=os.O_DIRECTORY, follow=False)
    except SyscallError as e:
        if m.device != "sysfs" or e.errno != errno.EPERM:
            raise
        # In a user namespace that does not own the network namespace the kernel refuses
        # a new sysfs; a recursive bind of the host's /sys is the best we can do.
        log.debug("mount sysfs to %s refused, falling back to rbind /sys", dest)
        fallback = Mount(
            source="/sys",
            destination=m.destination,
            device="bind",
            flags=MS_BIND | MS_REC | m.flags,
            propagation_flags=m.propagation_flags,
        )
        mount_bind(ctx, fallback)


def mount_tmpfs(ctx: MountContext, m: Mount) -> None:
    """Mount a tmpfs keeping the covered directory's mode; copy contents up if asked."""
    dest = secure_join(ctx.root, strip_root(ctx.root, m.destination))
    data = m.data
    try:
        st = os.stat(dest)
    except FileNotFoundError:
        mkdir_all_in_root(ctx.root, m.destination)
    except OSError as e:
        raise fail(e, f"stat {m.destination}") from None
    else:
        # Keep the covered directory's mode (e.g. 1777 on /tmp) unless data sets one: the
        # last mode= wins in tmpfs's option parsing.
        mode = f"mode={stat.S_IMODE(st.st_mode):04o}"
        data = f"{mode},{data}" if data else mode
    if m.extensions & EXT_COPYUP:
        _tmpfs_copyup(ctx, m, data)
    else:
        mount_propagate(ctx, m, data=data)


def _tmpfs_copyup(ctx: MountContext, m: Mount, data: str) -> None:
    """Mount the tmpfs on a scratch dir, copy the destination's files in, move it over.

    The scratch dir is bind-mounted onto itself and made private so the MS_MOVE is
    allowed whatever the propagation of the host's /tmp (runc's ``prepareTmp``).
    """
    sc = ctx.syscalls
    top = tempfile.mkdtemp(prefix="runctop")
    try:
        try:
            sc.mount(top, top, None, MS_BIND, None)
            sc.mount(None, top, None, MS_PRIVATE, None)
        except SyscallError as e:
            raise fail(e, f"tmpcopyup: prepare scratch dir {top}") from None
        try:
            scratch = tempfile.mkdtemp(prefix="runctmpdir", dir=top)
            flags = m.flags & ~MS_RDONLY
            try:
                sc.mount(m.source or "tmpfs", scratch, "tmpfs", flags, data or None)
            except SyscallError as e:
                raise fail(e, f"tmpcopyup: mount tmpfs for {m.destination}") from None
            try:
                with procfd(ctx.root, m.destination, sc) as target:
                    _copy_tree(target, scratch)
                    sc.mount(scratch, target, None, MS_MOVE, None)
            except (SyscallError, OSError) as e:
                _detach(sc, scratch)
                raise fail(e, f"tmpcopyup: copy up {m.destination}") from None
            apply_propagation(ctx, m.destination, m.propagation_flags)
        finally:
            _detach(sc, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _detach(sc: Syscalls, path: str) -> None:
    try:
        sc.umount(path, MNT_DETACH)
    except SyscallError as e:
        log.warning("tmpcopyup: unmount %s: %s", path, e)


def _copy_tree(src: str, dst: str) -> None:
    """Copy ``src``'s contents into ``dst`` keeping modes, owners and symlinks as they are."""
    for entry in os.scandir(src):
        s = os.path.join(src, entry.name)
        d = os.path.join(dst, entry.name)
        st = entry.stat(follow_symlinks=False)
        if entry.is_symlink():
            os.symlink(os.readlink(s), d)
        elif entry.is_dir(follow_symlinks=False):
            os.mkdir(d)
            _copy_tree(s, d)
            os.chmod(d, stat.S_IMODE(st.st_mode))
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(s, d, follow_symlinks=False)
            os.chmod(d, stat.S_IMODE(st.st_mode))
        else:
            os.mknod(d, st.st_mode, st.st_rdev)
        os.chown(d, st.st_uid, st.st_gid, follow_symlinks=False)


def mount_bind(ctx: MountContext, m: Mount, *, source_fd: int | None = None) -> None:
    """Bind-mount a host path (file or directory) and apply flags, propagation, attrs.

    ``source_fd``: a detached copy of the source the runtime made (see
    :mod:`libcontainer.mountsources`), attached instead of binding the path.
    """
    try:
        src = os.stat(m.source) if source_fd is None else os.fstat(source_fd)
    except FileNotFoundError:
        raise ConfigError(f"bind mount source {m.source} does not exist") from None
    except OSError as e:
        raise fail(e, f"stat bind mount source {m.source}") from None
    dest = secure_join(ctx.root, strip_root(ctx.root, m.destination))
    check_proc_mount(ctx.root, dest, m.source)
    if stat.S_ISDIR(src.st_mode):
        mkdir_all_in_root(ctx.root, m.destination)
    else:
        create_file_in_root(ctx.root, m.destination)
    if source_fd is None:
        mount_propagate(ctx, m)
    else:
        _attach_source(ctx, m, source_fd)
    # MS_BIND ignores the other flags; a remount applies them (ro, nosuid, ...).
    if m.flags & ~(MS_BIND | MS_REC | MS_REMOUNT):
        remount_bind(ctx, m.destination, m.flags)
    if m.rec_attr is not None:
        _set_rec_attr(ctx, m)


def _attach_source(ctx: MountContext, m: Mount, source_fd: int) -> None:
    # Onto an fd of the target opened inside the rootfs, as every mount here goes.
    target = open_in_root(ctx.root, m.destination, os.O_PATH, ctx.syscalls)
    try:
        flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH
        ctx.syscalls.move_mount(source_fd, "", target, "", flags)
    except SyscallError as e:
        raise fail(e, f"mount {m.source} to {m.destination}") from None
    finally:
        os.close(target)
    apply_propagation(ctx, m.destination, m.propagation_flags)


def _set_rec_attr(ctx: MountContext, m: Mount) -> None:
    attr = m.rec_attr
    assert attr is not None
    with procfd(ctx.root, m.destination, ctx.syscalls) as target:
        try:
            ctx.syscalls.mount_setattr(
                -1, target, AT_RECURSIVE, attr.attr_set, attr.attr_clr, attr.propagation
            )
        except SyscallError as e:
            raise fail(e, f"mount_setattr {m.destination}") from None


def check_proc_mount(root: str, dest: str, source: str) -> None:
    """Refuse mounts over or inside the container's /proc (runc's ``checkProcMount``).

    ``dest`` is the resolved host path. Over /proc itself only a procfs may go; inside it
    only the few files lxcfs emulates.
    """
    proc = os.path.join(root, "proc")
    rel = os.path.relpath(dest, proc)
    if rel == ".." or rel.startswith("../"):
        return
    if rel == ".":
        if not source or _is_proc(source):
            return
        raise ConfigError(f"{dest!r} cannot be mounted because it is not of type proc")
    for valid in _VALID_PROC_MOUNTS:
        if os.path.normpath(root + valid) == dest:
            return
    raise ConfigError(f"{dest!r} cannot be mounted because it is inside /proc")


def _is_proc(source: str) -> bool:
    try:
        real = os.path.realpath(source)
        mounts = read_mountinfo()
    except OSError:
        return False
    found = parent_mount(mounts, real)
    return found is not None and found.fstype == "proc"
