"""The cgroup manager interface and the choice of driver (runc's ``cgroups.Manager`` and
``manager.New``).

Drivers: ``fs`` (cgroup v1, by writing cgroupfs files), ``fs2`` (unified v2, the same way) and
``systemd`` (transient units over D-Bus, on v1 and v2 hosts); :func:`new_manager` picks one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Protocol

from libcontainer.cgroups.host import CgroupMode, HostCgroups

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Cgroup, FreezerState, Resources

__all__ = ["Manager", "new_manager"]


class Manager(Protocol):
    """What the container code needs from a cgroup driver."""

    def apply(self, pid: int) -> None:
        """Create the container's cgroup(s) and move ``pid`` into them."""
        ...

    def set(self, resources: Resources) -> None:
        """Apply resource limits; zero/empty values mean "leave as is"."""
        ...

    def freeze(self, state: FreezerState) -> None:
        """Freeze (``FROZEN``) or thaw (``THAWED``) all the container's processes."""
        ...

    def get_freezer_state(self) -> FreezerState:
        """The current freezer state (``""`` if unknown)."""
        ...

    def get_pids(self) -> list[int]:
        """The processes directly in the container's cgroup."""
        ...

    def get_all_pids(self) -> list[int]:
        """The processes in the container's cgroup and its sub-cgroups."""
        ...

    def get_stats(self) -> Stats:
        """Resource usage statistics."""
        ...

    def get_paths(self) -> dict[str, str]:
        """Controller -> cgroup directory (v2: the single key ``""``), as saved in state."""
        ...

    def path(self, subsystem: str) -> str:
        """The cgroup directory for ``subsystem`` (``""`` if none)."""
        ...

    def exists(self) -> bool:
        """Whether the container's cgroup exists."""
        ...

    def destroy(self) -> None:
        """Remove the container's own cgroups (those its manager created and marked as
        ``owner``'s); kills nothing, leaves every other directory alone, idempotent."""
        ...

    def oom_kill_count(self) -> int:
        """Number of OOM kills in the container's cgroup."""
        ...

    def get_cgroups(self) -> Cgroup:
        """The cgroup config this manager works with."""
        ...

    def apply_to_sub_cgroup(
        self, pid: int, sub_path: str = "", subsystems: Collection[str] | None = None
    ) -> None:
        """Move ``pid`` (an exec'd process) into the container's cgroup or a sub-cgroup."""
        ...


def new_manager(
    cgroup: Cgroup,
    paths: Mapping[str, str] | None = None,
    *,
    host: HostCgroups | None = None,
    owner: str | None = None,
) -> Manager:
    """Return the driver for this host and config.

    ``paths`` are known cgroup paths (from a saved state) to use instead of computing them;
    ``host`` describes the cgroup mounts (read from ``/proc`` when not given, which is what
    a test passes a fake tree through). ``owner`` is the mark the manager writes on the
    cgroups it creates and requires before it removes one (a container's state directory;
    a manager used on its own gets a private mark). See :mod:`libcontainer.cgroups.owned`.
    """
    if host is None:
        host = HostCgroups.load()
    mode = host.mode
    if cgroup.systemd:
        from libcontainer.cgroups.systemd import new_systemd_manager

        return new_systemd_manager(cgroup, paths, host=host, owner=owner)
    if mode is CgroupMode.UNIFIED:
        from libcontainer.cgroups.fs2 import Fs2Manager

        return Fs2Manager(cgroup, paths, host=host, owner=owner)
    from libcontainer.cgroups.fs.manager import FsManager

    return FsManager(cgroup, paths, host=host, owner=owner)
