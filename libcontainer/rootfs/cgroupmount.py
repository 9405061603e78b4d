"""The ``cgroup`` mount type: the container's view of /sys/fs/cgroup (runc's mountCgroupV1/V2).

cgroup v1: a tmpfs at the destination, then one mount per hierarchy: a bind mount of the
container's own cgroup directory from the host, or (in a cgroup namespace) a fresh cgroup
mount, which the namespace roots at the container's cgroup. Co-mounted controllers
(``cpu,cpuacct``) get a symlink per controller, as on a host.

cgroup v2: a fresh cgroup2 mount; where the kernel refuses it (a user namespace without a
cgroup namespace) a bind mount of the host's hierarchy instead.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping

from libcontainer.configs import Mount
from libcontainer.errors import SyscallError
from libcontainer.system import MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC

from .mountinfo import MountInfo, read_mountinfo
from .mountops import MountContext, fail, mount_in_root, remount_readonly
from .mounts import mount_bind, mount_tmpfs
from .securejoin import mkdir_all_in_root, mkdir_all_in_root_fd

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
    mounts = read_mountinfo()
    own = _read_proc_cgroup()
    if is_unified(mounts):
        _mount_v2(ctx, m, own)
    else:
        _mount_v1(ctx, m, mounts, own)


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
    for b in binds:
        if ctx.cgroupns:
            _mount_v1_fresh(ctx, m, b)
        else:
            mount_bind(ctx, b)
    _link_comounted(ctx, m, [os.path.basename(b.destination) for b in binds])
    if m.flags & MS_RDONLY:
        # The tmpfs holding the hierarchies: nothing may be created next to them.
        remount_readonly(ctx, m.destination, _DEFAULT_FLAGS)


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
