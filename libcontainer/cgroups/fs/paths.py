"""Where each v1 controller's cgroup of a container lives (runc's ``fs/paths.go``).

The container's "inner path" is ``cgroup.path``, or ``parent/name`` when no path is given.
An absolute inner path is placed under each hierarchy's mount point; a relative one under
*this process's own* cgroup in that hierarchy (from ``/proc/self/cgroup``), so a runtime
that itself runs in ``/process_api/x`` puts container ``c1`` at ``/process_api/x/c1``.

On a hybrid host (cgroup2 mounted at ``<root>/unified`` next to the v1 hierarchies) the
container also gets a cgroup in the unified hierarchy, under the key ``""``, placed by the
same rules, as runc 1.1 does: processes then show up in ``0::/...`` of
``/proc/<pid>/cgroup`` too, where systemd and cgroup2-aware tools look.
"""

from __future__ import annotations

import logging
import posixpath
from typing import TYPE_CHECKING

from libcontainer.cgroups.host import CgroupMode
from libcontainer.cgroups.utils import clean_path
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.host import HostCgroups
    from libcontainer.configs import Cgroup

__all__ = ["SUBSYSTEM_NAMES", "UNIFIED", "init_paths", "inner_path", "subsystem_path"]

log = logging.getLogger(__name__)

SUBSYSTEM_NAMES = (
    "cpuset",
    "devices",
    "memory",
    "cpu",
    "cpuacct",
    "pids",
    "blkio",
    "hugetlb",
    "net_cls",
    "net_prio",
    "perf_event",
    "freezer",
    "rdma",
    "misc",
    "name=systemd",
)
"""Every controller the v1 driver handles, in runc's order (cpuset first: others rely on it)."""

UNIFIED = ""
"""The key of the unified (v2) hierarchy's cgroup on a hybrid host, as in runc's state.json."""


def _join(*parts: str) -> str:
    # Go's filepath.Join: skip empty elements, concatenate (an absolute later element does
    # not restart the path as in os.path.join), then clean.
    kept = [p for p in parts if p]
    return clean_path("/".join(kept)) if kept else ""


def inner_path(cgroup: Cgroup) -> str:
    """The container's cgroup path relative to a hierarchy (absolute) or to our own cgroup."""
    if (cgroup.name or cgroup.parent) and cgroup.path:
        raise CgroupError(
            "invalid cgroup config: set either path, or name and parent, not both "
            f"(path={cgroup.path!r}, parent={cgroup.parent!r}, name={cgroup.name!r})"
        )
    # Cleaning keeps "../../x" from climbing out of the hierarchy.
    inner = clean_path(cgroup.path)
    if not inner:
        inner = _join(clean_path(cgroup.parent), clean_path(cgroup.name))
    return inner


def subsystem_path(host: HostCgroups, inner: str, subsystem: str) -> str | None:
    """The absolute directory for ``subsystem`` (:data:`UNIFIED`: the unified hierarchy), or
    None if that controller (or hierarchy) is not mounted."""
    mount = host.unified_mount() if subsystem == UNIFIED else host.find_mount(subsystem)
    if mount is None:
        return None
    if inner.startswith("/"):
        return _join(mount.mountpoint, inner)
    own = host.own_cgroup(subsystem)
    if own is None:
        return None
    # In a nested container /proc/self/cgroup shows host paths while the mount's root is
    # our own cgroup; only the part below the mount root exists here.
    root = mount.root.rstrip("/") or "/"
    if own != root and not own.startswith(root.rstrip("/") + "/"):
        raise CgroupError(
            f"our own {subsystem} cgroup {own} is outside the mounted part {root} of the "
            f"hierarchy at {mount.mountpoint}; use an absolute cgroup path"
        )
    relative = posixpath.relpath(own, root)
    return _join(mount.mountpoint, "" if relative == "." else relative, inner)


def init_paths(cgroup: Cgroup, host: HostCgroups) -> dict[str, str]:
    """Compute the path of every mounted controller; unmounted ones are skipped and logged.
    A hybrid host adds the unified hierarchy's (key :data:`UNIFIED`).

    A missing devices controller is fatal (unless ``skip_devices``): it is what keeps the
    container away from the host's devices.
    """
    inner = inner_path(cgroup)
    paths: dict[str, str] = {}
    for name in SUBSYSTEM_NAMES:
        path = subsystem_path(host, inner, name)
        if path is None:
            if name == "devices" and not cgroup.resources.skip_devices:
                raise CgroupError(
                    "the devices cgroup controller is not mounted; it is required to "
                    "confine the container's device access"
                )
            log.debug("cgroup controller %s is not mounted: skipping it", name)
            continue
        paths[name] = path
    if host.mode is CgroupMode.HYBRID:
        unified = subsystem_path(host, inner, UNIFIED)
        if unified is not None:
            paths[UNIFIED] = unified
    return paths
