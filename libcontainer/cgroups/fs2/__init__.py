"""The cgroup v2 (unified hierarchy) driver: :class:`Fs2Manager`."""

from libcontainer.cgroups.fs2.manager import Fs2Manager
from libcontainer.cgroups.fs2.stats import UnifiedStats

__all__ = ["Fs2Manager", "UnifiedStats"]
