"""The ``cgroup`` mount type: the container's view of /sys/fs/cgroup (runc's mountCgroupV1/V2).

cgroup v1: a tmpfs at the destination, then one mount per hierarchy: a bind mount of the
container's own cgroup directory from the host, or (in a cgroup namespace) a fresh cgroup
mount, which the namespace roots at the container's cgroup. Co-mounted controllers
(``cpu,cpuacct``) get a symlink per controller, as on a host.

The binds go into the tmpfs this init has just mounted (empty, and nothing else runs in
the container yet): each is cloned detached with ``open_tree(2)``, given its flags with
``mount_setattr(2)`` before anyone can see it, and attached with ``move_mount(2)`` onto a
directory made and opened in the tmpfs without following links. That is a third of the
system calls of the classic bind, remount and two verified opens per hierarchy, which
remain for kernels without the mount API and inside user namespaces (where inherited
mounts may have locked flags that only the classic remount keeps).

cgroup v2: a fresh cgroup2 mount; where the kernel refuses it (a user namespace without a
cgroup namespace) a bind mount of the host's hierarchy instead.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping

from libcontainer.configs import Mount
from libcontainer.errors import ConfigError, SyscallError
from libcontainer.system import (
    AT_EMPTY_PATH,
    AT_FDCWD,
    AT_RECURSIVE,
    MOVE_MOUNT_F_EMPTY_PATH,
    MOVE_MOUNT_T_EMPTY_PATH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
    MS_REC,
    OPEN_TREE_CLOEXEC,
    OPEN_TREE_CLONE,
)

from .mountinfo import MountInfo, read_mountinfo
from .mountops import (
    MountContext,
    apply_propagation,
    bind_remount_attrs,
    fail,
    mount_in_root,
    remount_readonly,
)
from .mounts import check_proc_mount, mount_bind, mount_tmpfs
from .securejoin import fd_path, mkdir_all_in_root, mkdir_all_in_root_fd, open_in_root

__all__ = [
    "CGROUP_ROOT",
    "cgroup_v1_binds",
    "is_unified",
    "mount_cgroup",
    "parse_proc_cgroup",
]

#: Where the host's cgroup hierarchies live.
CGROUP_ROOT = "/sys/fs/cgroup"
_DEFAULT_FLAGS = MS_NOEXEC | MS_NOSUID | MS_NODEV


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """``/proc/self/cgroup`` as controller -> path; the v2 entry is under ``""``."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


def _read_proc_cgroup() -> dict[str, str]:
    with open("/proc/self/cgroup", encoding="utf-8") as f:
        return parse_proc_cgroup(f.read())


def is_unified(mounts: list[MountInfo]) -> bool:
    """Whether the host runs cgroup v2 only (cgroup2 mounted at /sys/fs/cgroup)."""
    return any(m.mountpoint == CGROUP_ROOT and m.fstype == "cgroup2" for m in mounts)


def cgroup_v1_binds(m: Mount, mounts: list[MountInfo], own: Mapping[str, str]) -> list[Mount]:
    """The bind mounts of the container's own v1 cgroup dirs (runc's ``getCgroupMounts``).

    One per hierarchy (the first mount of it), destination ``<m.destination>/<basename>``.
    """
    binds: list[Mount] = []
    seen: set[str] = set()
    # A later mount on the same mount point hides the earlier one (a runtime whose
    # hierarchies are bind mounts of a subtree, as in a container): only the visible one
    # says where our cgroup is.
    visible: dict[str, MountInfo] = {}
    for mi in mounts:
        visible.pop(mi.mountpoint, None)
        visible[mi.mountpoint] = mi
    for mi in visible.values():
        if mi.fstype != "cgroup":
            continue
        subsystems = [o for o in mi.super_options.split(",") if o in own]
        if not subsystems or seen.intersection(subsystems):
            continue
        seen.update(subsystems)
        rel = os.path.relpath(own[subsystems[0]], mi.root)
        source = os.path.normpath(os.path.join(mi.mountpoint, rel))
        binds.append(
            Mount(
                source=source,
                destination=os.path.join(m.destination, os.path.basename(mi.mountpoint)),
                device="bind",
                flags=MS_BIND | MS_REC | m.flags,
                propagation_flags=m.propagation_flags,
            )
        )
    return binds


def mount_cgroup(ctx: MountContext, m: Mount) -> None:
    """Mount the container's cgroup filesystem(s) at ``m.destination``."""
    mounts = _host_mounts(ctx)
    own = _read_proc_cgroup()
    if is_unified(mounts):
        _mount_v2(ctx, m, own)
    else:
        _mount_v1(ctx, m, mounts, own)


def _host_mounts(ctx: MountContext) -> list[MountInfo]:
    """The host's mounts: the table read before the rootfs was set up, unless a mount made
    since could hide a hierarchy (a rootfs at or above the cgroup mounts)."""
    root = ctx.root.rstrip("/")
    if ctx.host_mounts is not None and not (CGROUP_ROOT + "/").startswith(root + "/"):
        return list(ctx.host_mounts)
    return read_mountinfo()


def _mount_v1(ctx: MountContext, m: Mount, mounts: list[MountInfo], own: Mapping[str, str]) -> None:
    binds = cgroup_v1_binds(m, mounts, own)
    tmpfs = Mount(
        source="tmpfs",
        destination=m.destination,
        device="tmpfs",
        flags=_DEFAULT_FLAGS,
        data="mode=755",
        propagation_flags=m.propagation_flags,
    )
    mount_tmpfs(ctx, tmpfs)
    if ctx.cgroupns:
        for b in binds:
            _mount_v1_fresh(ctx, m, b)
    elif ctx.userns or not _bind_detached(ctx, m, binds):
        for b in binds:
            mount_bind(ctx, b)
    _link_comounted(ctx, m, [os.path.basename(b.destination) for b in binds])
    if m.flags & MS_RDONLY:
        # The tmpfs holding the hierarchies: nothing may be created next to them.
        remount_readonly(ctx, m.destination, _DEFAULT_FLAGS)


def _bind_detached(ctx: MountContext, m: Mount, binds: list[Mount]) -> bool:
    """Bind each hierarchy into the tmpfs at ``m.destination`` with the mount API (see the
    module's docstring); False, with nothing mounted, where the kernel lacks it (ENOSYS) or
    a seccomp profile refuses it (EPERM)."""
    if not binds:
        return True
    sc = ctx.syscalls
    parent = open_in_root(ctx.root, m.destination, os.O_PATH | os.O_DIRECTORY, sc)
    try:
        where = os.readlink(fd_path(parent))
        for i, b in enumerate(binds):
            recursive = AT_RECURSIVE if b.flags & MS_REC else 0
            try:
                tree = sc.open_tree(
                    AT_FDCWD, b.source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive
                )
            except SyscallError as e:
                if i == 0 and e.errno in (errno.ENOSYS, errno.EPERM):
                    return False
                if e.errno == errno.ENOENT:
                    raise ConfigError(f"bind mount source {b.source} does not exist") from None
                raise fail(e, f"mount {b.source} to {b.destination}") from None
            try:
                _attach(ctx, parent, where, b, tree)
            finally:
                os.close(tree)
    finally:
        os.close(parent)
    return True


def _attach(ctx: MountContext, parent: int, where: str, b: Mount, tree: int) -> None:
    """Give the detached clone ``tree`` the flags of ``b`` and attach it at ``b``'s
    destination, a directory made in ``parent`` (the tmpfs, at host path ``where``)."""
    name = os.path.basename(b.destination)
    check_proc_mount(ctx.root, os.path.join(where, name), b.source)
    try:
        os.mkdir(name, 0o755, dir_fd=parent)
    except FileExistsError:
        pass
    except OSError as e:
        raise fail(e, f"mkdir {b.destination}") from None
    try:
        target = os.open(
            name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent
        )
    except OSError as e:
        raise fail(e, f"open {b.destination}") from None
    attr_set, attr_clr = bind_remount_attrs(b.flags)
    try:
        ctx.syscalls.mount_setattr(tree, "", AT_EMPTY_PATH, attr_set, attr_clr)
        ctx.syscalls.move_mount(
            tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH
        )
    except SyscallError as e:
        raise fail(e, f"mount {b.source} to {b.destination}") from None
    finally:
        os.close(target)
    apply_propagation(ctx, b.destination, b.propagation_flags)


def _mount_v1_fresh(ctx: MountContext, m: Mount, b: Mount) -> None:
    # In a cgroup namespace a new mount of the hierarchy shows the namespace's root,
    # i.e. the container's own cgroup: no bind from the host needed.
    mkdir_all_in_root(ctx.root, b.destination)
    flags = _DEFAULT_FLAGS | (m.flags & MS_RDONLY)
    source, data = "cgroup", os.path.basename(b.destination)
    if data == "systemd":
        source, data = "systemd", "name=systemd"
    mount_in_root(ctx, source, b.destination, "cgroup", flags, data, what=f"cgroup {data}")


def _link_comounted(ctx: MountContext, m: Mount, names: list[str]) -> None:
    merged = [n for n in names if "," in n]
    if not merged:
        return
    fd = mkdir_all_in_root_fd(ctx.root, m.destination)
    try:
        for mc in merged:
            for ss in mc.split(","):
                try:
                    os.symlink(mc, ss, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as e:
                    raise fail(e, f"symlink {m.destination}/{ss} -> {mc}") from None
    finally:
        os.close(fd)


def _mount_v2(ctx: MountContext, m: Mount, own: Mapping[str, str]) -> None:
    mkdir_all_in_root(ctx.root, m.destination)
    try:
        mount_in_root(ctx, m.source or "cgroup2", m.destination, "cgroup2", m.flags, m.data)
        return
    except SyscallError as e:
        if e.errno not in (errno.EPERM, errno.EBUSY):
            raise
    # A user namespace without its own cgroup namespace may not mount cgroup2 (runc
    # #2158): bind the host's hierarchy; with a cgroup namespace, just our own part of it.
    source = CGROUP_ROOT
    if ctx.cgroupns and own.get(""):
        source = os.path.normpath(CGROUP_ROOT + own[""])
    mount_bind(
        ctx,
        Mount(
            source=source,
            destination=m.destination,
            device="bind",
            flags=MS_BIND | m.flags,
            propagation_flags=m.propagation_flags,
        ),
    )
