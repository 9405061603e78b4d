"""Named hierarchies such as ``name=systemd``: joined, never configured."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from libcontainer.cgroups.fs.subsystem import join
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["NameGroup"]

log = logging.getLogger(__name__)


class NameGroup:
    """A named (controller-less) v1 hierarchy, e.g. ``name=systemd``."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        """The hierarchy name including the ``name=`` prefix."""
        return self._name

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Join the hierarchy; failing to is not fatal (runc ignores it too)."""
        try:
            join(path, pid)
        except CgroupError as exc:
            log.debug("could not join %s cgroup %s: %s", self._name, path, exc)

    def set(self, path: str, resources: Resources) -> None:
        """Nothing to set."""

    def get_stats(self, path: str, stats: Stats) -> None:
        """Nothing to report."""
