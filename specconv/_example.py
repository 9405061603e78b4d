"""runc's example spec (``runc spec``) and its rootless variant (``runc spec --rootless``)."""

from __future__ import annotations

import os
import posixpath

import attrs

from specconv._host import is_cgroup2_unified_mode
from specconv.spec import (
    Linux,
    LinuxCapabilities,
    LinuxDeviceCgroup,
    LinuxIDMapping,
    LinuxNamespace,
    LinuxResources,
    Mount,
    POSIXRlimit,
    Process,
    Root,
    Spec,
    User,
)

__all__ = ["SPEC_VERSION", "example", "to_rootless"]

SPEC_VERSION = "1.0.2-dev"
"""The runtime-spec version runc 1.1.5 implements (``specs.Version`` of its vendored specs-go)."""

_DEFAULT_CAPS = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")

_MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
)

_READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

_MOUNTS = (
    Mount(destination="/proc", type="proc", source="proc"),
    Mount(
        destination="/dev",
        type="tmpfs",
        source="tmpfs",
        options=("nosuid", "strictatime", "mode=755", "size=65536k"),
    ),
    Mount(
        destination="/dev/pts",
        type="devpts",
        source="devpts",
        options=("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
    ),
    Mount(
        destination="/dev/shm",
        type="tmpfs",
        source="shm",
        options=("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
    ),
    Mount(
        destination="/dev/mqueue",
        type="mqueue",
        source="mqueue",
        options=("nosuid", "noexec", "nodev"),
    ),
    Mount(
        destination="/sys",
        type="sysfs",
        source="sysfs",
        options=("nosuid", "noexec", "nodev", "ro"),
    ),
    Mount(
        destination="/sys/fs/cgroup",
        type="cgroup",
        source="cgroup",
        options=("nosuid", "noexec", "nodev", "relatime", "ro"),
    ),
)


def example(*, cgroup_ns: bool | None = None) -> Spec:
    """The spec ``runc spec`` writes.

    Like runc, a cgroup namespace is added on a cgroup v2 (unified) host; pass ``cgroup_ns``
    to decide explicitly instead of looking at the host.
    """
    if cgroup_ns is None:
        cgroup_ns = is_cgroup2_unified_mode()
    namespaces = [LinuxNamespace(type=t) for t in ("pid", "network", "ipc", "uts", "mount")]
    if cgroup_ns:
        namespaces.append(LinuxNamespace(type="cgroup"))
    return Spec(
        oci_version=SPEC_VERSION,
        root=Root(path="rootfs", readonly=True),
        process=Process(
            terminal=True,
            user=User(),
            args=("sh",),
            env=(
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ),
            cwd="/",
            no_new_privileges=True,
            capabilities=LinuxCapabilities(
                bounding=_DEFAULT_CAPS,
                permitted=_DEFAULT_CAPS,
                effective=_DEFAULT_CAPS,
                ambient=_DEFAULT_CAPS,
            ),
            rlimits=(POSIXRlimit(type="RLIMIT_NOFILE", hard=1024, soft=1024),),
        ),
        hostname="runc",
        mounts=_MOUNTS,
        linux=Linux(
            masked_paths=_MASKED_PATHS,
            readonly_paths=_READONLY_PATHS,
            resources=LinuxResources(devices=(LinuxDeviceCgroup(allow=False, access="rwm"),)),
            namespaces=namespaces,
        ),
    )


def _rootless_mount(mount: Mount) -> Mount:
    if posixpath.normpath(mount.destination) == "/sys":
        # sysfs cannot be mounted without CAP_SYS_ADMIN in the initial user namespace.
        return Mount(
            destination="/sys",
            type="none",
            source="/sys",
            options=("rbind", "nosuid", "noexec", "nodev", "ro"),
        )
    # uid=/gid= options name ids that are not mapped in a rootless user namespace.
    options = tuple(o for o in mount.options if not o.startswith(("gid=", "uid=")))
    return attrs.evolve(mount, options=options)


def to_rootless(spec: Spec, *, uid: int | None = None, gid: int | None = None) -> Spec:
    """Adapt a spec for a rootless container, as runc's ``ToRootless`` does.

    Drops the network namespace (and any user namespace) and adds a new user namespace
    mapping container root to ``uid``/``gid`` (default: the effective ids of this process),
    replaces the ``/sys`` mount with a read-only rbind of the host's ``/sys``, drops ``uid=``
    and ``gid=`` mount options, and removes ``linux.resources``.
    """
    host_uid = os.geteuid() if uid is None else uid
    host_gid = os.getegid() if gid is None else gid
    linux = spec.linux if spec.linux is not None else Linux()
    namespaces = [ns for ns in linux.namespaces if ns.type not in ("network", "user")]
    namespaces.append(LinuxNamespace(type="user"))
    linux = attrs.evolve(
        linux,
        namespaces=namespaces,
        uid_mappings=(LinuxIDMapping(container_id=0, host_id=host_uid, size=1),),
        gid_mappings=(LinuxIDMapping(container_id=0, host_id=host_gid, size=1),),
        resources=None,
    )
    mounts = tuple(_rootless_mount(m) for m in spec.mounts)
    return attrs.evolve(spec, linux=linux, mounts=mounts)
