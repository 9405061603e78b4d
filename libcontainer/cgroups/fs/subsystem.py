"""The interface every v1 controller module implements, and the shared "join" step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from libcontainer.cgroups import utils

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["JoinOnly", "Subsystem", "join"]


class Subsystem(Protocol):
    """One v1 controller (runc's ``fs.subsystem``)."""

    @property
    def name(self) -> str:
        """The controller name as in ``/proc/self/cgroup`` (``memory``, ``name=systemd``)."""
        ...

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create the cgroup at ``path`` (and parents) and move ``pid`` into it."""
        ...

    def set(self, path: str, resources: Resources) -> None:
        """Write the limits of ``resources`` this controller owns; 0/empty means "leave"."""
        ...

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill this controller's part of ``stats``."""
        ...


def join(path: str, pid: int) -> None:
    """``mkdir -p`` the cgroup and move ``pid`` into it."""
    if not path:
        return
    utils.make_dirs(path)
    utils.write_cgroup_proc(path, pid)


class JoinOnly:
    """A controller we only join: no limits, no statistics (perf_event, misc, ...)."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        """The controller name."""
        return self._name

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Nothing to set."""

    def get_stats(self, path: str, stats: Stats) -> None:
        """Nothing to report."""
