"""The cgroup v2 (unified hierarchy) driver: :class:`Fs2Manager`."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from libcontainer.cgroups.fs2.manager import Fs2Manager
    from libcontainer.cgroups.fs2.stats import UnifiedStats

__all__ = ["Fs2Manager", "UnifiedStats"]


def __getattr__(name: str) -> object:
    # Lazy, so that the light freezer module can be imported without the whole driver.
    if name == "Fs2Manager":
        from libcontainer.cgroups.fs2.manager import Fs2Manager

        return Fs2Manager
    if name == "UnifiedStats":
        from libcontainer.cgroups.fs2.stats import UnifiedStats

        return UnifiedStats
    raise AttributeError(f"module 'libcontainer.cgroups.fs2' has no attribute {name!r}")
