"""Where a container's v2 cgroup lives, and creating it (runc's ``fs2/defaultpath.go`` and
``fs2/create.go``).

A relative cgroup path is placed next to our own cgroup (under its *parent*: a cgroup with
processes in it cannot have controllers enabled for children), an absolute one under the
cgroup2 mount point. Creating the path enables every available controller in
``cgroup.subtree_control`` of each level above the container's cgroup.
"""

from __future__ import annotations

import logging
import posixpath
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.paths import inner_path
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.cgroups.utils import clean_path
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from collections.abc import Callable

    from libcontainer.cgroups.host import CgroupMount, HostCgroups
    from libcontainer.configs import Cgroup, Resources

__all__ = [
    "create_cgroup_path",
    "default_dir_path",
    "needs_domain_controllers",
    "supported_controllers",
]

log = logging.getLogger(__name__)

SUBTREE_CONTROL = "cgroup.subtree_control"
CGROUP_TYPE = "cgroup.type"


def unified_mount_or_fail(host: HostCgroups) -> CgroupMount:
    """The cgroup2 mount of ``host``, or a CgroupError saying there is none."""
    mount = host.unified_mount()
    if mount is None:
        raise CgroupError(
            f"no cgroup2 filesystem is mounted at {host.root} or {host.root}/unified; "
            "the v2 driver needs one"
        )
    return mount


def default_dir_path(cgroup: Cgroup, host: HostCgroups) -> str:
    """The absolute directory of the container's v2 cgroup."""
    mount = unified_mount_or_fail(host)
    inner = inner_path(cgroup)
    if inner.startswith("/"):
        return clean_path(mount.mountpoint + inner)
    own = host.own_cgroups.get("")
    if own is None:
        raise CgroupError(
            "cannot place a relative cgroup path: /proc/self/cgroup has no cgroup v2 ('0::') entry"
        )
    root = mount.root.rstrip("/") or "/"
    if own != root and not own.startswith(root.rstrip("/") + "/"):
        raise CgroupError(
            f"our own cgroup {own} is outside the mounted part {root} of the cgroup2 "
            f"hierarchy at {mount.mountpoint}; use an absolute cgroup path"
        )
    # Our own cgroup most probably has processes in it already, which makes enabling
    # controllers for a child of it impossible: use its parent, as runc does.
    parent = posixpath.dirname(own)
    relative = posixpath.relpath(parent, root) if parent.startswith(root) else "."
    parts = [mount.mountpoint]
    if relative != ".":
        parts.append(relative)
    parts.append(inner)
    return clean_path("/".join(parts))


def supported_controllers(mountpoint: str) -> list[str]:
    """The controllers the cgroup2 root offers (``cgroup.controllers`` of the mount)."""
    return fscommon.read_string(mountpoint, "cgroup.controllers").split()


def needs_domain_controllers(resources: Resources) -> bool:
    """Whether ``resources`` need a controller that threaded cgroups cannot have."""
    from libcontainer.cgroups.fs2 import resources as res

    return (
        res.is_memory_set(resources)
        or res.is_io_set(resources)
        or res.is_cpu_set(resources)
        or res.is_hugetlb_set(resources)
    )


def create_cgroup_path(
    path: str,
    mountpoint: str,
    resources: Resources,
    on_created: Callable[[str], None] | None = None,
) -> list[str]:
    """Create ``path`` below ``mountpoint``, enabling controllers on the way down.

    Returns the directories created, top-down. On failure the directories this call
    created are removed again.
    """
    path = clean_path(path)
    mountpoint = clean_path(mountpoint)
    if path != mountpoint and not path.startswith(mountpoint.rstrip("/") + "/"):
        raise CgroupError(f"invalid cgroup path {path}: it is not below {mountpoint}")
    controllers = supported_controllers(mountpoint)
    enable = " ".join("+" + c for c in controllers)
    relative = posixpath.relpath(path, mountpoint)
    levels = [mountpoint]
    if relative != ".":
        for part in relative.split("/"):
            levels.append(posixpath.join(levels[-1], part))
    created: list[str] = []
    try:
        for i, current in enumerate(levels):
            if i > 0:
                if fscommon.mkdir(current):
                    created.append(current)
                    if on_created is not None:
                        on_created(current)  # at once, before anything else touches it
                _check_type(current, resources)
            if i < len(levels) - 1 and enable:
                _enable_controllers(current, enable)
    except BaseException:
        for directory in reversed(created):
            try:
                fscommon.rmdir(directory)
            except CgroupFileError as exc:
                log.warning("could not remove %s after a failed create: %s", directory, exc)
        raise
    return created


def _check_type(current: str, resources: Resources) -> None:
    cg_type = fscommon.if_exists(fscommon.read_string, current, CGROUP_TYPE)
    if cg_type == "domain invalid":
        # An internal process in the tree above: only thread-aware controllers can work,
        # and only once the cgroup is made threaded.
        if needs_domain_controllers(resources):
            raise CgroupError(
                f"cannot enter cgroup v2 {current} with domain controllers: it is in an "
                "invalid state (processes in a parent cgroup?)"
            )
        try:
            fscommon.write_file(current, CGROUP_TYPE, "threaded")
        except CgroupFileError as exc:
            log.debug("could not make %s threaded: %s", current, exc)
    elif cg_type in ("domain threaded", "threaded") and needs_domain_controllers(resources):
        raise CgroupError(
            f"cannot enter cgroup v2 {current} with domain controllers: it is in {cg_type} mode"
        )


def _enable_controllers(directory: str, enable: str) -> None:
    try:
        fscommon.write_file(directory, SUBTREE_CONTROL, enable)
    except CgroupFileError:
        # One refused controller fails the whole write; enable what can be enabled. Limits
        # that need a missing controller fail later, naming the file.
        for one in enable.split(" "):
            try:
                fscommon.write_file(directory, SUBTREE_CONTROL, one)
            except CgroupFileError as exc:
                log.debug("cannot enable %s in %s: %s", one, directory, exc)
