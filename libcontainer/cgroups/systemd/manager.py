"""The systemd driver: a transient scope per container, limits as unit properties.

systemd owns the cgroup: :meth:`SystemdManager.apply` asks it (``StartTransientUnit``) for a
``.scope`` in a slice with ``Delegate=yes`` and the resource properties; :meth:`set` changes
them with ``SetUnitProperties``; :meth:`destroy` stops the unit and resets its failed state.
What systemd cannot express is then written to the cgroup files directly, as runc does, by
the cgroupfs driver of the host's cgroup version (v1 ``fs`` or v2 ``fs2``) pointed at the
unit's cgroup paths; it also serves freezing, statistics and process lists.
"""

from __future__ import annotations

import logging
import os
import posixpath
import threading
import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import attrs

from libcontainer.cgroups import owned, utils
from libcontainer.cgroups.fs.paths import SUBSYSTEM_NAMES
from libcontainer.cgroups.host import CgroupMode, HostCgroups, parse_proc_cgroup
from libcontainer.cgroups.systemd import properties as props
from libcontainer.cgroups.systemd.dbus import DBusError, Property, SystemdDBus
from libcontainer.configs import FreezerState
from libcontainer.errors import CgroupError, OwnershipError

if TYPE_CHECKING:
    from libcontainer.cgroups.manager import Manager
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Cgroup, Resources

__all__ = ["SystemdManager"]

log = logging.getLogger(__name__)

_JOB_TIMEOUT = 30.0
_shared_dbus: SystemdDBus | None = None
_shared_lock = threading.Lock()


def shared_dbus() -> SystemdDBus:
    """The process-wide connection to systemd (like runc's dbusConnManager)."""
    global _shared_dbus
    with _shared_lock:
        if _shared_dbus is None:
            _shared_dbus = SystemdDBus()
        return _shared_dbus


def _init_cgroup(subsystem: str, proc1_cgroup: str = "/proc/1/cgroup") -> str:
    # systemd's own cgroup; since v226 it lives in init.scope, whose parent is the root.
    try:
        with open(proc1_cgroup, encoding="utf-8") as f:
            own = parse_proc_cgroup(f.read())
    except OSError as exc:
        raise CgroupError(f"cannot read {proc1_cgroup}: {exc.strerror}") from exc
    path = own.get(subsystem) or own.get("name=" + subsystem) or "/"
    path = posixpath.normpath(path)
    if path.endswith("/init.scope") or path == "/init.scope":
        path = posixpath.dirname(path)
    return path


class SystemdManager:
    """A container's cgroup as a systemd transient unit (v1 and v2 hosts)."""

    def __init__(
        self,
        cgroup: Cgroup,
        paths: Mapping[str, str] | None = None,
        *,
        host: HostCgroups | None = None,
        dbus: SystemdDBus | None = None,
        proc1_cgroup: str = "/proc/1/cgroup",
        owner: str | None = None,
    ) -> None:
        if cgroup.path:
            raise CgroupError(
                "the systemd cgroup driver takes parent (a slice), scope_prefix and name, "
                f"not a path (got path={cgroup.path!r})"
            )
        self._host = host if host is not None else HostCgroups.load()
        self._unified = self._host.mode is CgroupMode.UNIFIED
        self._cgroup = cgroup
        self._dbus = dbus
        self._lock = threading.RLock()
        self.unit = props.unit_name(cgroup)
        """The unit's name, e.g. ``pylibct-c1.scope``."""
        self.slice = cgroup.parent or props.DEFAULT_SLICE
        """The slice the unit goes in."""
        self._proc1_cgroup = proc1_cgroup
        self.owner = owner or owned.private_owner()
        """The mark written on the unit's cgroups once systemd made them (cgroups.owned)."""
        self._paths = dict(paths) if paths is not None else self._compute_paths()
        self._fs = self._fs_manager()

    # -- paths and the cgroupfs helper ---------------------------------------------------

    def _relative_path(self, subsystem: str) -> str:
        if self.unit.endswith(".slice"):
            inner = props.expand_slice(self.unit)
        else:
            inner = props.expand_slice(self.slice).rstrip("/") + "/" + self.unit
        return posixpath.join(_init_cgroup(subsystem, self._proc1_cgroup), inner.lstrip("/"))

    def _compute_paths(self) -> dict[str, str]:
        if self._unified:
            mount = self._host.unified_mount()
            assert mount is not None
            return {"": utils.clean_path(mount.mountpoint + "/" + self._relative_path(""))}
        paths = {}
        for name in SUBSYSTEM_NAMES:
            mount = self._host.find_mount(name)
            if mount is None:
                continue
            relative = self._relative_path(name)
            paths[name] = utils.clean_path(mount.mountpoint + "/" + relative)
        return paths

    def _fs_manager(self) -> Manager:
        # The cgroupfs driver on the unit's own paths: limits systemd cannot set, freezing,
        # statistics. It joins existing directories; systemd creates and removes them.
        if self._unified:
            from libcontainer.cgroups.fs2 import Fs2Manager

            return Fs2Manager(self._cgroup, self._paths, host=self._host, owner=self.owner)
        from libcontainer.cgroups.fs.manager import FsManager

        return FsManager(self._cgroup, self._paths, host=self._host, owner=self.owner)

    @property
    def dbus(self) -> SystemdDBus:
        """The D-Bus connection used (the shared one unless one was given)."""
        if self._dbus is None:
            self._dbus = shared_dbus()
        return self._dbus

    def _resource_properties(self, r: Resources) -> list[Property]:
        version = self.dbus.version()
        if self._unified:
            return props.v2_resource_properties(r, version)
        return props.v1_resource_properties(r, version)

    # -- Manager -------------------------------------------------------------------------

    def apply(self, pid: int) -> None:
        """Start the transient unit with ``pid`` in it, then join the remaining hierarchies."""
        with self._lock:
            c = self._cgroup
            properties: list[Property] = [
                props.prop("Description", "s", f"libcontainer container {c.name}")
            ]
            if self.unit.endswith(".slice"):
                properties.append(props.prop("Wants", "as", [self.slice]))
            else:
                properties.append(props.prop("Slice", "s", self.slice))
                properties.append(props.prop("Delegate", "b", True))
            if pid != -1:
                properties.append(props.prop("PIDs", "au", [pid]))
            properties += [
                props.prop("MemoryAccounting", "b", True),
                props.prop("CPUAccounting", "b", True),
                props.prop("IOAccounting" if self._unified else "BlockIOAccounting", "b", True),
                props.prop("TasksAccounting", "b", True),
                props.prop("DefaultDependencies", "b", False),
            ]
            properties += self._resource_properties(c.resources)
            properties += [(name, value) for name, value in c.systemd_props]
            existed = {p for p in self._paths.values() if os.path.isdir(p)}
            self._start_unit(properties)
            # systemd creates the directories only for the controllers it manages; the
            # cgroupfs driver creates the rest and moves pid there (runc's joinCgroups).
            self._fs.apply(pid)
            # The unit started under our name: the cgroups systemd made for it are ours.
            for path in self._paths.values():
                if path not in existed and os.path.isdir(path):
                    owned.claim(path, self.owner)

    def _start_unit(self, properties: list[Property]) -> None:
        try:
            job = self.dbus.start_transient_unit(self.unit, properties)
        except DBusError as exc:
            if not exc.name.endswith("UnitExists"):
                raise CgroupError(f"systemd could not start unit {self.unit}: {exc}") from exc
            # A leftover failed unit of the same name: reset it and try once more.
            self.dbus.reset_failed_unit(self.unit)
            try:
                job = self.dbus.start_transient_unit(self.unit, properties)
            except DBusError as again:
                raise CgroupError(f"unit {self.unit} already exists: {again}") from again
        self._wait_job(job, "start")
        state = self.dbus.unit_property(self.unit, "ActiveState")
        if state != "active":
            raise CgroupError(f"systemd unit {self.unit} is {state} after starting it")

    def _wait_job(self, job: str, what: str) -> None:
        deadline = time.monotonic() + _JOB_TIMEOUT
        while self.dbus.job_exists(job):
            if time.monotonic() > deadline:
                raise CgroupError(f"timeout waiting for systemd to {what} {self.unit}")
            time.sleep(0.01)

    def set(self, r: Resources) -> None:
        """``SetUnitProperties`` (the container frozen meanwhile, so device rules never
        flap), then the cgroupfs writes for what systemd does not cover."""
        with self._lock:
            properties = self._resource_properties(r)
            target = self.get_freezer_state() or FreezerState.THAWED
            freeze = (
                bool(properties)
                and not r.skip_freeze_on_set
                and any(name.startswith("Device") for name, _ in properties)
            )
            if freeze and target != FreezerState.FROZEN:
                self._fs.freeze(FreezerState.FROZEN)
            try:
                if properties:
                    self.dbus.set_unit_properties(self.unit, properties)
            finally:
                if freeze and target != FreezerState.FROZEN:
                    self._fs.freeze(target)
            self._fs.set(r)
            self._cgroup = attrs.evolve(self._cgroup, resources=r)

    def freeze(self, state: FreezerState) -> None:
        """Freeze or thaw through the cgroup files (systemd has no per-unit freezer in 252
        that runc uses)."""
        self._fs.freeze(state)
        with self._lock:
            new = attrs.evolve(self._cgroup.resources, freezer=FreezerState(state))
            self._cgroup = attrs.evolve(self._cgroup, resources=new)

    def get_freezer_state(self) -> FreezerState:
        """The freezer state of the unit's cgroup."""
        if not self._fs.exists():
            return FreezerState.UNDEFINED
        return self._fs.get_freezer_state()

    def get_pids(self) -> list[int]:
        """The processes directly in the unit's cgroup."""
        return self._fs.get_pids()

    def get_all_pids(self) -> list[int]:
        """The processes in the unit's cgroup and its sub-cgroups."""
        return self._fs.get_all_pids()

    def get_stats(self) -> Stats:
        """Statistics, read from the cgroup files."""
        return self._fs.get_stats()

    def get_paths(self) -> dict[str, str]:
        """The unit's cgroup directories (controller -> path; v2: the key ``""``)."""
        return dict(self._paths)

    def path(self, subsystem: str) -> str:
        """The unit's cgroup directory for ``subsystem``."""
        return self._fs.path(subsystem)

    def exists(self) -> bool:
        """Whether the unit's cgroup exists."""
        return self._fs.exists()

    def destroy(self) -> None:
        """Stop the unit (systemd kills what is left in it), reset its failed state, then
        remove the directories systemd did not manage. Idempotent.

        Only a unit whose cgroups carry this manager's mark is stopped: a unit name taken
        from a forged state (``session-1.scope``) raises OwnershipError instead.
        """
        with self._lock:
            cgroups = owned.ContainerCgroups(self._paths, self.owner, self._host)
            existing = [p for p in self._paths.values() if os.path.isdir(p)]
            if existing and not cgroups.any_owned():
                raise OwnershipError(
                    f"refusing to stop systemd unit {self.unit}: its cgroups ({existing[0]}) "
                    "were not created for this container"
                )
            if not existing:
                return
            try:
                job = self.dbus.stop_unit(self.unit)
            except DBusError as exc:
                if not exc.name.endswith("NoSuchUnit"):
                    raise CgroupError(f"systemd could not stop {self.unit}: {exc}") from exc
            else:
                self._wait_job(job, "stop")
            self.dbus.reset_failed_unit(self.unit)
            self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        owned.ContainerCgroups(self._paths, self.owner, self._host).remove()

    def oom_kill_count(self) -> int:
        """OOM kills in the unit's memory cgroup."""
        return self._fs.oom_kill_count()

    def get_cgroups(self) -> Cgroup:
        """The cgroup config with the last resources set."""
        with self._lock:
            return self._cgroup

    def apply_to_sub_cgroup(
        self, pid: int, sub_path: str = "", subsystems: Collection[str] | None = None
    ) -> None:
        """Move ``pid`` into the unit's cgroup or a sub-cgroup of it (systemd delegated the
        subtree to us with ``Delegate=yes``)."""
        self._fs.apply_to_sub_cgroup(pid, sub_path, subsystems)
