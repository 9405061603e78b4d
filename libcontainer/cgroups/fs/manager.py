"""The cgroup v1 driver: one directory per controller hierarchy (runc's ``fs.manager``)."""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import threading
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import attrs

from libcontainer.cgroups import fscommon, owned, utils
from libcontainer.cgroups.fs import freezer
from libcontainer.cgroups.fs.blkio import BlkioGroup
from libcontainer.cgroups.fs.cpu import CpuGroup
from libcontainer.cgroups.fs.cpuacct import CpuacctGroup
from libcontainer.cgroups.fs.cpuset import CpusetGroup
from libcontainer.cgroups.fs.devices import DevicesGroup
from libcontainer.cgroups.fs.freezer import FreezerGroup
from libcontainer.cgroups.fs.hugetlb import HugetlbGroup
from libcontainer.cgroups.fs.memory import MemoryGroup, oom_kill_count
from libcontainer.cgroups.fs.name import NameGroup
from libcontainer.cgroups.fs.net import NetClsGroup, NetPrioGroup
from libcontainer.cgroups.fs.paths import UNIFIED, init_paths
from libcontainer.cgroups.fs.pids import PidsGroup
from libcontainer.cgroups.fs.rdma import RdmaGroup
from libcontainer.cgroups.fs.subsystem import JoinOnly, Subsystem
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.cgroups.host import CgroupMode, HostCgroups
from libcontainer.configs import FreezerState
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Cgroup, Resources

__all__ = ["FsManager", "subsystems_for"]

log = logging.getLogger(__name__)

# Errors a rootless container may hit for cgroups it was not delegated.
_PERMISSION_ERRNOS = (errno.EPERM, errno.EACCES, errno.EROFS)


def subsystems_for(host: HostCgroups) -> list[Subsystem]:
    """The controllers in runc's order, configured for ``host``; on a hybrid host the
    unified hierarchy comes last, joined like a named one (runc 1.1's ``NameGroup("")``)."""
    cpuset_mount = host.find_mount("cpuset")
    unified: list[Subsystem] = [NameGroup(UNIFIED)] if host.mode is CgroupMode.HYBRID else []
    return [
        CpusetGroup(cpuset_mount.mountpoint if cpuset_mount else None),
        DevicesGroup(in_userns=host.in_userns),
        MemoryGroup(),
        CpuGroup(),
        CpuacctGroup(),
        PidsGroup(),
        BlkioGroup(),
        HugetlbGroup(host.hugepage_sizes),
        NetClsGroup(),
        NetPrioGroup(),
        JoinOnly("perf_event"),
        FreezerGroup(),
        RdmaGroup(),
        JoinOnly("misc"),
        NameGroup("name=systemd"),
        *unified,
    ]


def _missing_dirs(path: str) -> list[str]:
    """The directories from the deepest existing ancestor of ``path`` down to it, top-down."""
    missing = []
    while path not in ("", "/") and not os.path.isdir(path):
        missing.append(path)
        path = posixpath.dirname(path)
    return missing[::-1]


def _check_unified(resources: Resources) -> None:
    if resources.unified:
        raise CgroupError(
            "invalid configuration: 'unified' (cgroup v2) resources cannot be used on a "
            "cgroup v1 host"
        )


class FsManager:
    """Manages a container's cgroups on v1 hierarchies by writing cgroupfs files.

    ``paths`` (controller -> absolute directory) are used as given, e.g. when loading an
    existing container from its state; otherwise they are computed from ``cgroup``. If
    ``cgroup.paths`` is set instead, those existing cgroups are only joined: :meth:`set`
    and :meth:`destroy` leave them alone (they belong to someone else).
    """

    def __init__(
        self,
        cgroup: Cgroup,
        paths: Mapping[str, str] | None = None,
        *,
        host: HostCgroups | None = None,
        owner: str | None = None,
    ) -> None:
        _check_unified(cgroup.resources)
        self._host = host if host is not None else HostCgroups.load()
        self.owner = owner or owned.private_owner()
        """The mark this manager writes on the cgroups it creates (see cgroups.owned)."""
        self._cgroup = cgroup
        self._lock = threading.RLock()
        self._join_only = paths is None and bool(cgroup.paths)
        if paths is not None:
            self._paths = dict(paths)
        elif cgroup.paths:
            # Only hierarchies this host has; a path for another one cannot be joined.
            own = self._host.own_cgroups
            self._paths = {name: p for name, p in cgroup.paths.items() if name in own}
        else:
            self._paths = init_paths(cgroup, self._host)
        self._subsystems = subsystems_for(self._host)
        # Directories this manager created, top-down: its own cgroups among them are
        # provably the container's even where no owner mark sticks (see cgroups.owned).
        self._created: list[str] = []

    @property
    def host(self) -> HostCgroups:
        """The host's cgroup mounts this manager works with (read when it was made)."""
        return self._host

    def apply(self, pid: int) -> None:
        """Create the container's cgroups and move ``pid`` (-1: no process) into them."""
        with self._lock:
            if self._join_only:
                for path in self._paths.values():
                    if os.path.exists(path):
                        utils.write_cgroup_proc(path, pid)
                return
            resources = self._cgroup.resources
            for subsystem in self._subsystems:
                path = self._paths.get(subsystem.name, "")
                if not path:
                    continue
                try:
                    self._create_own(path)
                    subsystem.apply(path, resources, pid)
                except CgroupFileError as exc:
                    # Rootless and not delegated to us: do without this controller unless
                    # the user asked for a specific path (set() reports it if limits need it).
                    ignorable = self._cgroup.rootless and exc.errno in _PERMISSION_ERRNOS
                    if ignorable and not self._cgroup.path:
                        log.debug("rootless: not using %s cgroup: %s", subsystem.name, exc)
                        del self._paths[subsystem.name]
                        continue
                    raise

    def _create_own(self, path: str) -> None:
        """``mkdir -p`` the container's cgroup, marking it the container's the moment it
        exists: a caller killed at any point later leaves a cgroup destroy can prove is
        its own (before anything else, cpuset's copying included, touches it)."""
        for directory in _missing_dirs(path):
            if fscommon.mkdir(directory):
                self._created.append(directory)
                if directory == path:
                    owned.claim(directory, self.owner)

    def set(self, resources: Resources) -> None:
        """Write ``resources`` to every controller; zero/empty values are left alone."""
        _check_unified(resources)
        with self._lock:
            if self._join_only:
                return
            for subsystem in self._subsystems:
                path = self._paths.get(subsystem.name, "")
                try:
                    subsystem.set(path, resources)
                except CgroupError as exc:
                    if self._cgroup.rootless and subsystem.name == "devices":
                        # Rootless containers cannot restrict devices; not an error.
                        continue
                    if not path:
                        raise CgroupError(
                            f"cannot set {subsystem.name} limit: the container has no "
                            f"{subsystem.name} cgroup (controller not mounted, or it could "
                            "not be created)"
                        ) from exc
                    raise

    def freeze(self, state: FreezerState) -> None:
        """Freeze (``FROZEN``) or thaw (``THAWED``) every process of the container."""
        with self._lock:
            path = self._paths.get("freezer")
            if not path:
                raise CgroupError("cannot freeze or thaw the container: it has no freezer cgroup")
            freezer.freeze(path, state)
            resources = attrs.evolve(self._cgroup.resources, freezer=FreezerState(state))
            self._cgroup = attrs.evolve(self._cgroup, resources=resources)

    def get_freezer_state(self) -> FreezerState:
        """The container's freezer state (``""`` when it has no freezer cgroup)."""
        path = self.path("freezer")
        if not path:
            return FreezerState.UNDEFINED
        return FreezerState(freezer.get_state(path))

    def _pids_dir(self) -> str:
        # runc counts processes in the devices cgroup; any joined one serves without it.
        with self._lock:
            path = self._paths.get("devices") or next(iter(self._paths.values()), "")
        if not path:
            raise CgroupError("the container has no cgroups to list processes from")
        return path

    def get_pids(self) -> list[int]:
        """The processes in the container's cgroup (not its sub-cgroups)."""
        return utils.get_pids(self._pids_dir())

    def get_all_pids(self) -> list[int]:
        """The processes in the container's cgroup and all its sub-cgroups."""
        return utils.get_all_pids(self._pids_dir())

    def get_stats(self) -> Stats:
        """Usage statistics of every joined controller."""
        # The stats models (attrs classes) load with the first stats call, not with every
        # create: defining them costs a command-line call about 10 ms.
        from libcontainer.cgroups.stats import Stats

        stats = Stats()
        with self._lock:
            for subsystem in self._subsystems:
                path = self._paths.get(subsystem.name)
                if path:
                    subsystem.get_stats(path, stats)
        return stats

    def get_paths(self) -> dict[str, str]:
        """Controller -> absolute cgroup directory (a copy)."""
        with self._lock:
            return dict(self._paths)

    def path(self, subsystem: str) -> str:
        """The cgroup directory of ``subsystem``, or ``""`` if the container has none."""
        with self._lock:
            return self._paths.get(subsystem, "")

    def exists(self) -> bool:
        """Whether the container's cgroup still exists."""
        with self._lock:
            path = self._paths.get("devices") or next(iter(self._paths.values()), "")
        return bool(path) and os.path.exists(path)

    def destroy(self) -> None:
        """Remove the container's own cgroups (with sub-cgroups); a cgroup it did not create
        stays, and so do parent levels (as with runc). Kills nothing: the cgroups must be
        empty of processes. Safe to call twice."""
        with self._lock:
            if self._join_only:
                return
            owned.ContainerCgroups(
                self._paths, self.owner, self._host, created=self._created
            ).remove()
            self._created.clear()

    def oom_kill_count(self) -> int:
        """How many times the kernel OOM killer fired in the container's memory cgroup."""
        path = self.path("memory")
        if not path:
            return 0
        try:
            return oom_kill_count(path)
        except CgroupFileError as exc:
            if self._cgroup.rootless and exc.errno == errno.ENOENT:
                return 0
            raise

    def get_cgroups(self) -> Cgroup:
        """The cgroup config, with the freezer state last set by :meth:`freeze`."""
        with self._lock:
            return self._cgroup

    def apply_to_sub_cgroup(
        self, pid: int, sub_path: str = "", subsystems: Collection[str] | None = None
    ) -> None:
        """Move ``pid`` into the container's cgroups, or into an existing sub-cgroup of them.

        With no ``sub_path`` this is how an exec'd process joins the container (runc's
        ``EnterPid``: cgroups that no longer exist are skipped). ``sub_path`` (relative, as
        with ``runc exec --cgroup``) must exist in every selected hierarchy;
        ``subsystems`` limits the move to those controllers.
        """
        sub = _check_sub_path(sub_path)
        with self._lock:
            paths = dict(self._paths)
        if subsystems is not None:
            unknown = sorted(set(subsystems) - set(paths))
            if unknown:
                raise CgroupError(
                    f"the container has no cgroup for {', '.join(unknown)} "
                    f"(it has {', '.join(sorted(paths))})"
                )
            paths = {name: p for name, p in paths.items() if name in subsystems}
        for name, path in paths.items():
            directory = posixpath.join(path, sub) if sub else path
            if not os.path.isdir(directory):
                if not sub:
                    continue
                hierarchy = name or "unified (cgroup v2)"
                raise CgroupError(
                    f"sub-cgroup {sub!r} does not exist in the {hierarchy} hierarchy "
                    f"({directory}); create it inside the container first"
                )
            utils.write_cgroup_proc(directory, pid)


def _check_sub_path(sub_path: str) -> str:
    if not sub_path:
        return ""
    if sub_path.startswith("/") or ".." in sub_path.split("/"):
        raise CgroupError(
            f"invalid sub-cgroup path {sub_path!r}: it must be relative and stay inside "
            "the container's cgroup"
        )
    return utils.clean_path(sub_path)
