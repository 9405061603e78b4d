"""The cgroup v1 driver: one module per controller, :class:`FsManager` drives them."""

from libcontainer.cgroups.fs.manager import FsManager, subsystems_for

__all__ = ["FsManager", "subsystems_for"]
