"""The devices controller: the container's device allow list.

The wanted rules and the cgroup's current ``devices.list`` are both fed to the emulator,
which yields the fewest ``devices.allow`` / ``devices.deny`` writes between them; for a new
cgroup that is ``a *:* rwm`` to ``devices.deny`` followed by one allow line per rule. The
result is read back and compared, as runc does, because a silently ignored write here is a
security hole.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.devices.emulator import Emulator
from libcontainer.cgroups.fs.subsystem import join
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["DevicesGroup"]

log = logging.getLogger(__name__)


class DevicesGroup:
    """The devices controller; ``in_userns`` disables it (the kernel refuses writes there)."""

    name = "devices"

    def __init__(self, *, in_userns: bool = False) -> None:
        self._in_userns = in_userns

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup, unless devices are skipped."""
        if resources.skip_devices:
            return
        if not path:
            # Running without a devices cgroup would give the container every device.
            raise CgroupError(
                "the devices cgroup is not available; it is required for the container's "
                "security (set skip_devices only if something else restricts devices)"
            )
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Bring the cgroup's rules to exactly ``resources.devices``."""
        if self._in_userns or resources.skip_devices:
            return
        current = Emulator.from_list(fscommon.read_file(path, "devices.list"))
        target = Emulator.from_rules(resources.devices or ())
        for rule in current.transition(target):
            fscommon.write_file(path, rule.file, rule.cgroup_string())
        after = Emulator.from_list(fscommon.read_file(path, "devices.list"))
        # devices.list cannot show a deny list's exceptions, so only its mode is checkable.
        if not target.is_blacklist and after != target:
            raise CgroupError(
                f"the devices cgroup {path} does not match the wanted rules after the update"
            )
        if target.is_blacklist != after.is_blacklist:
            raise CgroupError(
                f"the devices cgroup {path} is not in the wanted (allow/deny list) mode"
            )

    def get_stats(self, path: str, stats: Stats) -> None:
        """Nothing to report."""
