"""The freezer state of a cgroup (runc's ``configs.FreezerState``).

Its own light module: the lifecycle core pauses and resumes containers without importing
the config models (:mod:`libcontainer.configs` re-exports it).
"""

from __future__ import annotations

import enum

__all__ = ["FreezerState"]


class FreezerState(enum.StrEnum):
    """The freezer state of a cgroup (``""`` means "leave it alone")."""

    UNDEFINED = ""
    THAWED = "THAWED"
    FROZEN = "FROZEN"
