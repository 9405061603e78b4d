"""A sandbox's library config, built from runc's default spec through :mod:`specconv`.

Kept from ``runc spec``: the device nodes and the deny-all device cgroup, masked and
read-only ``/proc`` paths, ``no_new_privileges``, the ``RLIMIT_NOFILE`` of 1024. Changed:
no capabilities at all, only the mounts a program needs (``/proc``, ``/dev``, ``/dev/pts``,
``/dev/shm``, a private ``/tmp``), no ``/sys``, and the namespaces pid, ipc, uts, mount
and (``network="none"``) net, holding only ``lo``, up.

``rootfs=None`` builds the root from the host's own programs, as bwrap users do: each of
:data:`HOST_DIRS` that is a directory is bound read-only, each that is a symlink (``/bin ->
usr/bin`` on merged-/usr systems) is copied as a symlink into a skeleton directory that
serves as the root.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import attrs

import specconv
from libcontainer.configs import Config
from libcontainer.sandbox.options import SandboxOptions
from specconv import spec as s

#: Host directories a ``rootfs=None`` sandbox sees, read-only.
HOST_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")
#: Empty mount points the skeleton root holds.
_SKELETON_DIRS = ("proc", "dev", "tmp")
_CPU_PERIOD = 100_000
_NOFILE = 1024


def make_skeleton(path: Path) -> None:
    """Create the root directory of a ``rootfs=None`` sandbox at ``path``."""
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)  # whatever the umask: programs run as nobody walk it
    for name in HOST_DIRS:
        host = "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), path / name)
        elif os.path.isdir(host):
            (path / name).mkdir()
    for name in _SKELETON_DIRS:
        (path / name).mkdir()


def container_config(options: SandboxOptions, *, rootfs: str, cgroup_path: str) -> Config:
    """The config of one sandbox: the shared one, with its own rootfs and cgroup."""
    base = _base_config(options)
    assert base.cgroups is not None
    return attrs.evolve(
        base, rootfs=rootfs, cgroups=attrs.evolve(base.cgroups, path=cgroup_path, name="")
    )


def nofile_limit() -> int:
    """The ``RLIMIT_NOFILE`` (soft = hard) of sandboxed programs, as in runc's spec."""
    return _NOFILE


@functools.lru_cache(maxsize=32)
def _base_config(options: SandboxOptions) -> Config:
    """Build (once per distinct options) the config every such sandbox starts from."""
    example = specconv.example(cgroup_ns=False)
    keep = {"/proc", "/dev", "/dev/pts", "/dev/shm"}
    mounts = [m for m in example.mounts if m.destination in keep]
    mounts.append(
        s.Mount(
            destination="/tmp",
            type="tmpfs",
            source="tmpfs",
            options=("nosuid", "nodev", "mode=1777"),
        )
    )
    if options.rootfs is None:
        for name in HOST_DIRS:
            host = "/" + name
            if os.path.isdir(host) and not os.path.islink(host):
                mounts.append(_bind(host, host, readonly=True))
    for bind in options.mounts:
        mounts.append(_bind(bind.source, bind.target, readonly=bind.readonly))
    namespaces = ["pid", "ipc", "uts", "mount"]
    if options.network == "none":
        namespaces.append("network")
    assert example.linux is not None and example.process is not None
    linux = attrs.evolve(
        example.linux,
        namespaces=tuple(s.LinuxNamespace(type=t) for t in namespaces),
        resources=_resources(options, example.linux.resources),
        # Replaced per sandbox; create_config needs one to make the cgroup config.
        cgroups_path="/pylibcontainer-sandbox/template",
    )
    process = attrs.evolve(
        example.process,
        terminal=False,
        capabilities=s.LinuxCapabilities(),
        no_new_privileges=True,
    )
    spec = attrs.evolve(
        example,
        hostname="sandbox",
        root=s.Root(path="/", readonly=options.readonly),
        mounts=tuple(mounts),
        linux=linux,
        process=process,
    )
    return specconv.create_config(spec, bundle="/")


def _bind(source: str, destination: str, *, readonly: bool) -> s.Mount:
    options = ("rbind", "ro" if readonly else "rw", "nosuid", "nodev")
    return s.Mount(destination=destination, type="bind", source=source, options=options)


def _resources(options: SandboxOptions, base: s.LinuxResources | None) -> s.LinuxResources:
    base = base or s.LinuxResources()
    memory = None
    if options.memory is not None:
        # No swap beyond the limit, where the kernel accounts swap at all.
        swap = options.memory if _swap_accounted() else None
        memory = s.LinuxMemory(limit=options.memory, swap=swap)
    cpu = None
    if options.cpus is not None:
        cpu = s.LinuxCPU(quota=round(options.cpus * _CPU_PERIOD), period=_CPU_PERIOD)
    pids = s.LinuxPids(limit=options.pids) if options.pids is not None else None
    return attrs.evolve(base, memory=memory, cpu=cpu, pids=pids)


@functools.cache
def _swap_accounted() -> bool:
    from libcontainer.cgroups import CgroupMode, HostCgroups

    host = HostCgroups.load()
    if host.mode is CgroupMode.UNIFIED:
        return True  # memory.swap.max exists wherever the memory controller does
    return os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
