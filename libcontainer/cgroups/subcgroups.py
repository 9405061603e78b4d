"""Running an exec'd process in sub-cgroups of its container (runc's ``exec --cgroup``).

runc's ``Process.SubCgroupPaths`` maps a controller to a path below the container's cgroup
of that controller; the key ``""`` means every hierarchy (the only form on cgroup v2). The
sub-cgroups must exist (something in the container made them); the process joins them
before it runs anything, right after it joined the container's own cgroups.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING

from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.manager import Manager

__all__ = ["check_sub_cgroup_paths", "join_sub_cgroups", "sub_path"]


_BASE = "/container"


def sub_path(path: str) -> str:
    """``path`` as a clean relative path below a container's cgroup, ``""`` for the cgroup
    itself. runc appends it to the container's path and cleans the result, so ``/a`` is
    ``a`` and ``a/../b`` is ``b``; a path that ends up outside is refused with runc's
    words (and, unlike runc's prefix test, so is a sibling whose name merely starts with
    the container's)."""
    joined = posixpath.normpath(_BASE + "/" + path)
    if joined == _BASE:
        return ""
    if not joined.startswith(_BASE + "/"):
        raise CgroupError(f"{path} is not a sub cgroup path")
    return joined[len(_BASE) + 1 :]


def check_sub_cgroup_paths(paths: Mapping[str, str], cgroup_paths: Mapping[str, str]) -> None:
    """Refuse, before any process exists, what :func:`join_sub_cgroups` would refuse
    without looking at the cgroups themselves: a controller the container has no cgroup for
    (``cgroup_paths`` as in its state), a path that leaves the container's cgroup."""
    if paths and not cgroup_paths:
        raise CgroupError("the container has no cgroups: a sub-cgroup cannot be joined")
    for controller, path in paths.items():
        if controller and controller not in cgroup_paths:
            raise CgroupError(f"unknown controller {controller} in SubCgroupPaths")
        sub_path(path)


def join_sub_cgroups(manager: Manager | None, pid: int, paths: Mapping[str, str]) -> None:
    """Move ``pid`` (already in the container's cgroups) into the sub-cgroups ``paths``
    names; nothing to do when ``paths`` is empty.

    Raises :class:`CgroupError` for a controller the container has no cgroup for, a path
    that leaves the container's cgroup, or a sub-cgroup that does not exist.
    """
    if not paths:
        return
    check_sub_cgroup_paths(paths, manager.get_paths() if manager is not None else {})
    assert manager is not None
    if "" in paths:
        # One path for every hierarchy (cgroup v2: the only one).
        manager.apply_to_sub_cgroup(pid, sub_path(paths[""]))
        return
    by_path: dict[str, list[str]] = defaultdict(list)
    for controller, path in paths.items():
        by_path[sub_path(path)].append(controller)
    for path, controllers in by_path.items():
        manager.apply_to_sub_cgroup(pid, path, subsystems=controllers)
