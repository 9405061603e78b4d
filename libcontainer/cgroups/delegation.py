"""Which of a container's cgroups an unprivileged user can have: the delegation check.

Without root, a cgroup can be made only inside a directory the user may write: one that was
*delegated* to it (chowned to it, as systemd's ``Delegate=`` does for ``user@UID.service``;
the kernel then gives the user every file of the cgroups it makes below). runc's rootless
rule, kept here: a controller the user cannot have is done without, unless the container
needs it (a limit set on it, or an explicit ``cgroups.path``); then it is an error. runc
finds out only once the container's init exists; :func:`check_delegation` tells before
anything is created, so the caller gets a :class:`~libcontainer.errors.RootlessError`
naming the limit and the directory instead of a raw ``EACCES`` and a half-made container.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping

from libcontainer.configs import Cgroup, FreezerState, Resources
from libcontainer.errors import RootlessError

__all__ = ["check_delegation", "limited_controllers"]

# The Resources fields each v1 controller applies (a field that is set needs the controller).
_V1_FIELDS: dict[str, tuple[str, ...]] = {
    "memory": (
        "memory",
        "memory_reservation",
        "memory_swap",
        "kernel_memory",
        "kernel_memory_tcp",
        "oom_kill_disable",
        "memory_swappiness",
    ),
    "cpu": (
        "cpu_shares",
        "cpu_quota",
        "cpu_period",
        "cpu_rt_runtime",
        "cpu_rt_period",
        "cpu_weight",
    ),
    "cpuset": ("cpuset_cpus", "cpuset_mems"),
    "pids": ("pids_limit",),
    "blkio": (
        "blkio_weight",
        "blkio_leaf_weight",
        "blkio_weight_device",
        "blkio_throttle_read_bps_device",
        "blkio_throttle_write_bps_device",
        "blkio_throttle_read_iops_device",
        "blkio_throttle_write_iops_device",
    ),
    "hugetlb": ("hugetlb_limit",),
    "net_cls": ("net_cls_classid",),
    "net_prio": ("net_prio_ifpriomap",),
    "rdma": ("rdma",),
    "freezer": ("freezer",),
}


def _is_set(r: Resources, field: str) -> bool:
    value = getattr(r, field)
    if field == "memory_swappiness":
        return value not in (None, -1)
    if field == "freezer":
        return bool(value == FreezerState.FROZEN)
    return bool(value)


def limited_controllers(r: Resources) -> dict[str, list[str]]:
    """The v1 controllers ``r`` sets limits on, each with the fields that need it."""
    found: dict[str, list[str]] = {}
    for controller, fields in _V1_FIELDS.items():
        used = [f for f in fields if _is_set(r, f)]
        if used:
            found[controller] = used
    return found


def _deepest_existing(path: str) -> str:
    while path not in ("", "/") and not os.path.lexists(path):
        path = posixpath.dirname(path)
    return path or "/"


def _problem(path: str) -> str | None:
    """Why this user cannot have a cgroup of its own at ``path`` (None: it can)."""
    uid = os.geteuid()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        parent = _deepest_existing(path)
        if os.access(parent, os.W_OK | os.X_OK):
            return None
        return f"uid {uid} cannot create it ({parent} is not delegated to it)"
    except OSError as e:
        return f"it cannot be looked at ({e.strerror})"
    if st.st_uid != uid:
        # Made by someone else: its limit files are theirs, whatever its mode says.
        return f"it exists and belongs to uid {st.st_uid}, not to uid {uid}"
    return None


def check_delegation(cgroup: Cgroup, paths: Mapping[str, str]) -> None:
    """Raise :class:`RootlessError` if this unprivileged user cannot have what the
    container needs of its cgroups at ``paths`` (the manager's ``get_paths()``).

    Needed: a cgroup for every controller the resources limit (the only one, ``""``, on a
    cgroup v2 host, also for ``unified`` files); every cgroup when ``cgroup.path`` is given
    (the fs drivers then fail instead of doing without); write access to ``cgroup.procs``
    of the existing cgroups ``cgroup.paths`` asks to join. A systemd cgroup is left to the
    user's systemd instance.
    """
    if cgroup.systemd:
        return
    if cgroup.paths:
        for key, path in cgroup.paths.items():
            procs = posixpath.join(path, "cgroup.procs")
            if os.path.exists(procs) and not os.access(procs, os.W_OK):
                raise RootlessError(
                    f"cannot join the existing cgroup {path}: uid {os.geteuid()} may not "
                    "write its cgroup.procs (it is not delegated to this user)",
                    field=f"cgroups.paths[{key!r}]",
                )
        return
    unified_only = set(paths) == {""}
    needed = limited_controllers(cgroup.resources)
    if unified_only and (needed or cgroup.resources.unified):
        every = [f for used in needed.values() for f in used]
        needed = {"": every + [f"unified[{k!r}]" for k in cgroup.resources.unified]}
    missing = []
    for key, used in needed.items():
        where = paths.get(key, "")
        problem = _problem(where) if where else None
        if problem is not None:
            missing.append(f"{key or 'cgroup v2'} ({', '.join(used)}): {where}: {problem}")
    if missing:
        raise RootlessError(
            "these limits need cgroups delegated to this user: "
            + "; ".join(missing)
            + ". Without cgroup delegation a rootless container gets no limits: remove "
            "them, or run from inside a cgroup subtree delegated to you (systemd's "
            "Delegate=, or one that root made and chowned to you)",
            field="cgroups.resources",
        )
    if cgroup.path:
        for key, path in paths.items():
            problem = _problem(path)
            if problem is not None:
                raise RootlessError(
                    f"the {key or 'cgroup v2'} cgroup {path}: {problem}. A rootless "
                    "container gets the cgroups it cannot have only when cgroups.path is "
                    "unset (it then runs without them)",
                    field="cgroups.path",
                    value=cgroup.path,
                )
