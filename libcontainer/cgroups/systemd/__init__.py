"""The systemd cgroup driver: transient units over D-Bus (jeepney, imported lazily).

:func:`new_systemd_manager` is what :func:`libcontainer.cgroups.new_manager` calls for a
config with ``systemd=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from libcontainer.cgroups.systemd.manager import SystemdManager

if TYPE_CHECKING:
    from libcontainer.cgroups.host import HostCgroups
    from libcontainer.configs import Cgroup

__all__ = ["SystemdManager", "new_systemd_manager"]


def new_systemd_manager(
    cgroup: Cgroup,
    paths: Mapping[str, str] | None = None,
    *,
    host: HostCgroups | None = None,
    owner: str | None = None,
) -> SystemdManager:
    """The systemd driver for ``cgroup`` (v1 or v2 by the host's mode)."""
    return SystemdManager(cgroup, paths, host=host, owner=owner)
