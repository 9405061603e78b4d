"""The cgroup v2 driver: one directory in the unified hierarchy (runc's ``fs2.manager``).

Works wherever a cgroup2 filesystem is mounted: at ``/sys/fs/cgroup`` on a unified host, or
at ``/sys/fs/cgroup/unified`` on a hybrid one (where only the controllers not bound to v1
are available, yet processes, freezing, killing, PSI and device programs all work).
"""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import threading
import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import attrs

from libcontainer.cgroups import fscommon, owned, utils
from libcontainer.cgroups.fs.rdma import RdmaGroup
from libcontainer.cgroups.fs2 import freezer, resources
from libcontainer.cgroups.fs2.paths import (
    create_cgroup_path,
    default_dir_path,
    unified_mount_or_fail,
)
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.cgroups.host import HostCgroups
from libcontainer.configs import FreezerState
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.fs2 import stats
    from libcontainer.configs import Cgroup, Resources

__all__ = ["Fs2Manager"]

log = logging.getLogger(__name__)

_PERMISSION_ERRNOS = (errno.EPERM, errno.EACCES, errno.EROFS)


def _needs_any_controller(r: Resources, available: Collection[str]) -> bool:
    wanted = {
        "pids": bool(r.pids_limit),
        "memory": resources.is_memory_set(r),
        "io": resources.is_io_set(r),
        "cpu": resources.is_cpu_set(r),
        "cpuset": bool(r.cpuset_cpus or r.cpuset_mems),
        "hugetlb": resources.is_hugetlb_set(r),
    }
    return any(need and name in available for name, need in wanted.items())


class Fs2Manager:
    """Manages a container's cgroup in the unified (v2) hierarchy by writing its files.

    ``paths`` (``{"": directory}``, as saved in state) is used as given; otherwise the
    directory comes from ``cgroup`` (``cgroup.paths[""]`` is joined only, never changed).
    """

    def __init__(
        self,
        cgroup: Cgroup,
        paths: Mapping[str, str] | None = None,
        *,
        host: HostCgroups | None = None,
        owner: str | None = None,
    ) -> None:
        self._host = host if host is not None else HostCgroups.load()
        self.owner = owner or owned.private_owner()
        """The mark this manager writes on the cgroups it creates (see cgroups.owned)."""
        self._mountpoint = unified_mount_or_fail(self._host).mountpoint
        self._cgroup = cgroup
        self._lock = threading.RLock()
        self._join_only = paths is None and bool(cgroup.paths)
        if paths is not None:
            self._path = paths.get("", "")
        elif cgroup.paths:
            self._path = cgroup.paths.get("", "")
        else:
            self._path = default_dir_path(cgroup, self._host)
        if not self._path:
            raise CgroupError("no cgroup v2 path (the '' key) among the given cgroup paths")
        resources.validate_unified(cgroup.resources.unified)
        self._created: list[str] = []
        self._controllers: set[str] | None = None

    @property
    def host(self) -> HostCgroups:
        """The host's cgroup mounts this manager works with (read when it was made)."""
        return self._host

    @property
    def mountpoint(self) -> str:
        """Where the cgroup2 filesystem this manager works in is mounted."""
        return self._mountpoint

    def _available_controllers(self) -> set[str]:
        if self._controllers is None:
            text = fscommon.if_exists(fscommon.read_string, self._path, "cgroup.controllers")
            self._controllers = set((text or "").split())
        return self._controllers

    def apply(self, pid: int) -> None:
        """Create the cgroup (enabling controllers above it) and move ``pid`` into it."""
        with self._lock:
            if not self._join_only:
                try:
                    created = create_cgroup_path(
                        self._path, self._mountpoint, self._cgroup.resources, self._mark_own
                    )
                except CgroupFileError as exc:
                    if not (self._cgroup.rootless and exc.errno in _PERMISSION_ERRNOS):
                        raise
                    if self._cgroup.path or _needs_any_controller(
                        self._cgroup.resources, self._root_controllers()
                    ):
                        raise CgroupError(
                            "rootless needs no limits and no cgroup path when no permission "
                            f"is granted for cgroups: {exc}"
                        ) from exc
                    log.debug("rootless: running without a cgroup: %s", exc)
                    return
                self._created.extend(d for d in created if d not in self._created)
                self._controllers = None
            utils.write_cgroup_proc(self._path, pid)

    def _mark_own(self, directory: str) -> None:
        # The container's cgroup is marked the moment it exists (see cgroups.owned).
        if directory == self._path:
            owned.claim(directory, self.owner)

    def _root_controllers(self) -> list[str]:
        text = fscommon.if_exists(fscommon.read_string, self._mountpoint, "cgroup.controllers")
        return (text or "").split()

    def set(self, r: Resources) -> None:
        """Write every limit in ``r``: pids, memory, io, cpu, devices, cpuset, hugetlb,
        rdma, freezer, then the ``unified`` files, as runc orders them."""
        with self._lock:
            resources.validate_unified(r.unified)
            if self._join_only:
                return
            resources.set_pids(self._path, r)
            resources.set_memory(self._path, r)
            resources.set_io(self._path, r)
            resources.set_cpu(self._path, r)
            self._set_devices(r)
            resources.set_cpuset(self._path, r)
            resources.set_hugetlb(self._path, r)
            RdmaGroup().set(self._path, r)
            freezer.set_freezer(self._path, r.freezer)
            resources.set_unified(self._path, r.unified, self._available_controllers())
            self._cgroup = attrs.evolve(self._cgroup, resources=r)

    def _set_devices(self, r: Resources) -> None:
        if r.skip_devices:
            return
        from libcontainer.cgroups import ebpf

        try:
            ebpf.load_attach_device_filter(self._path, r.devices)
        except CgroupError as exc:
            # Devices cannot be restricted without privileges; not an error when rootless.
            if self._cgroup.rootless or self._host.in_userns:
                log.debug("not restricting devices (rootless): %s", exc)
                return
            raise

    def freeze(self, state: FreezerState) -> None:
        """Freeze (waiting until the kernel reports ``frozen 1``) or thaw."""
        with self._lock:
            freezer.set_freezer(self._path, state)
            new = attrs.evolve(self._cgroup.resources, freezer=FreezerState(state))
            self._cgroup = attrs.evolve(self._cgroup, resources=new)

    def get_freezer_state(self) -> FreezerState:
        """THAWED, FROZEN, or ``""`` when the kernel has no v2 freezer."""
        return FreezerState(freezer.get_freezer(self._path))

    def get_pids(self) -> list[int]:
        """The processes directly in the container's cgroup."""
        return utils.get_pids(self._path)

    def get_all_pids(self) -> list[int]:
        """The processes in the container's cgroup and its sub-cgroups."""
        return utils.get_all_pids(self._path)

    def get_stats(self) -> stats.UnifiedStats:
        """Usage statistics, with the v2 extras (pressure, memory events)."""
        from libcontainer.cgroups.fs2 import stats

        st = stats.UnifiedStats()
        path = self._path
        stats.stat_pids(path, st)
        stats.stat_memory(path, st)
        stats.stat_io(path, st)
        stats.stat_cpu(path, st)
        stats.stat_hugetlb(path, st, self._host.hugepage_sizes)
        if os.path.exists(posixpath.join(path, "rdma.current")):
            RdmaGroup().get_stats(path, st)
        stats.stat_pressure(path, st)
        return st

    def get_paths(self) -> dict[str, str]:
        """``{"": directory}``, as runc saves v2 paths."""
        return {"": self._path}

    def path(self, subsystem: str) -> str:
        """The cgroup directory (the same for every controller on v2)."""
        return self._path

    def exists(self) -> bool:
        """Whether the container's cgroup exists."""
        return os.path.isdir(self._path)

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL every process in the cgroup tree (``cgroup.kill``) and wait until it is
        empty (``populated 0`` in ``cgroup.events``)."""
        fscommon.write_file(self._path, "cgroup.kill", "1")
        deadline = time.monotonic() + timeout
        while fscommon.get_value_by_key(self._path, "cgroup.events", "populated"):
            if time.monotonic() > deadline:
                raise CgroupError(f"processes of {self._path} did not die after cgroup.kill")
            time.sleep(0.005)

    def destroy(self) -> None:
        """Remove the container's own cgroup (with sub-cgroups); a cgroup it did not create
        stays, and so do parent levels (as with runc). Processes still inside its own cgroup are
        killed first with ``cgroup.kill`` (kernel 5.14+; on older kernels removal fails
        while they live). Idempotent."""
        with self._lock:
            if self._join_only:
                return
            cgroups = owned.ContainerCgroups(
                {"": self._path}, self.owner, self._host, created=self._created
            )
            if cgroups.owned("") and utils.get_all_pids(self._path):
                try:
                    self.kill()
                except CgroupFileError as exc:
                    if exc.errno != errno.ENOENT:
                        raise
                    log.debug("no cgroup.kill in this kernel: %s", exc)
            cgroups.remove()
            self._created.clear()

    def oom_kill_count(self) -> int:
        """The ``oom_kill`` count of ``memory.events`` (0 where memory is not enabled)."""
        try:
            return fscommon.get_value_by_key(self._path, "memory.events", "oom_kill")
        except CgroupFileError as exc:
            if exc.errno == errno.ENOENT:
                return 0
            raise

    def get_cgroups(self) -> Cgroup:
        """The cgroup config, with the resources last set and the freezer state."""
        with self._lock:
            return self._cgroup

    def apply_to_sub_cgroup(
        self, pid: int, sub_path: str = "", subsystems: Collection[str] | None = None
    ) -> None:
        """Move ``pid`` into the container's cgroup or an existing sub-cgroup of it.

        ``subsystems`` has no meaning on v2 (one hierarchy) and must be None or empty.
        """
        if subsystems:
            raise CgroupError(
                "cgroup v2 has a single hierarchy: a sub-cgroup cannot be chosen per "
                f"controller (got {', '.join(subsystems)})"
            )
        if sub_path and (sub_path.startswith("/") or ".." in sub_path.split("/")):
            raise CgroupError(
                f"invalid sub-cgroup path {sub_path!r}: it must be relative and stay inside "
                "the container's cgroup"
            )
        directory = posixpath.join(self._path, utils.clean_path(sub_path)) if sub_path else ""
        if directory and not os.path.isdir(directory):
            raise CgroupError(
                f"sub-cgroup {sub_path!r} does not exist ({directory}); create it inside "
                "the container first"
            )
        utils.write_cgroup_proc(directory or self._path, pid)
