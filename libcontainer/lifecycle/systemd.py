"""Removing a container's systemd scope from its ``state.json`` (the one heavy destroy path).

The other drivers' cgroups are removed by the light core itself; a systemd unit has to be
stopped over D-Bus, through the systemd manager, built here from the recorded config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from libcontainer.lifecycle.record import StateRecord

__all__ = ["remove_scope"]


def remove_scope(record: StateRecord, owner: str) -> None:
    """Stop the container's unit and remove what is left of its cgroups (if they are its own)."""
    from libcontainer.cgroups import new_manager
    from libcontainer.configs import Cgroup
    from libcontainer.configs.convert import structure
    from libcontainer.errors import ConfigError, StateFileError

    try:
        cgroup = structure(record.config.get("cgroups") or {}, Cgroup, strict=False)
    except ConfigError as e:
        raise StateFileError(f"{record.source}: config.cgroups: {e}") from e
    new_manager(cgroup, paths=record.cgroup_paths, owner=owner).destroy()
