"""What runc checks about a container's cgroup before it creates the container.

A cgroup that already exists may hold processes (a caller reusing a path, a pod's
cgroup) or be frozen. runc 1.1 warns about the first (``container's cgroup is not
empty``, engines look for it) and refuses the second: an init that joined a frozen cgroup
would stop before it could report anything, and its creator would wait for it forever.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from libcontainer.cgroups.freezerstate import FreezerState
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.manager import Manager

__all__ = ["check_before_create"]

log = logging.getLogger("libcontainer")


def check_before_create(manager: Manager) -> None:
    """Warn if the container's cgroup already holds processes; raise
    :class:`CgroupError` if it is frozen (``container's cgroup unexpectedly frozen``).

    Reads only: nothing is created, signalled or thawed.
    """
    if manager.exists():
        try:
            pids = manager.get_all_pids()
        except CgroupError:
            pids = []  # removed meanwhile: nothing to warn about
        if pids:
            log.warning("container's cgroup is not empty: %d process(es) found", len(pids))
    if _frozen(manager):
        raise CgroupError(
            "container's cgroup unexpectedly frozen (thaw it, or choose another cgroup path)"
        )


def _frozen(manager: Manager) -> bool:
    if manager.get_freezer_state() == FreezerState.FROZEN:
        return True
    # A hybrid host's unified cgroup freezes what joins it as well (cgroup.freeze).
    paths = manager.get_paths()
    unified = paths.get("")
    if unified and len(paths) > 1:
        from libcontainer.cgroups.fs2.freezer import get_freezer

        return get_freezer(unified) == FreezerState.FROZEN
    return False
