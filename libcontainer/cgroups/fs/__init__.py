"""The cgroup v1 driver: one module per controller, :class:`FsManager` drives them."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from libcontainer.cgroups.fs.manager import FsManager, subsystems_for

__all__ = ["FsManager", "subsystems_for"]


def __getattr__(name: str) -> object:
    # Lazy, so that the light freezer module can be imported without the whole driver.
    if name in __all__:
        from libcontainer.cgroups.fs import manager

        return getattr(manager, name)
    raise AttributeError(f"module 'libcontainer.cgroups.fs' has no attribute {name!r}")
