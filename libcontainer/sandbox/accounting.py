"""What a sandbox used, read from its own cgroup: CPU time, peak memory, OOM kills.

Only the few files these need are read (not every controller's statistics), since the
numbers are taken twice per sandbox. v1 and v2 are told apart by the manager's paths (v2
saves only one path, under the key ``""``; on a hybrid host v1 has one there too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from libcontainer.cgroups import Manager, fscommon
from libcontainer.cgroups.fscommon import CgroupFileError


@dataclasses.dataclass(frozen=True)
class Usage:
    """Cumulative counters of one cgroup at one moment."""

    cpu_ns: int = 0
    """CPU time of every task that ever ran in it (user + system), in nanoseconds."""
    peak_memory: int = 0
    """Highest memory charge since creation or the last :func:`reset_peak`, in bytes."""
    oom_kills: int = 0
    """Processes the kernel OOM killer killed in it."""


def read_usage(manager: Manager) -> Usage:
    """The cgroup's counters now; zero for a controller the cgroup does not have."""
    paths = manager.get_paths()
    if set(paths) == {""}:  # v2; a hybrid host's v1 manager has "" next to the controllers
        path = paths[""]
        usec = _or_zero(lambda: fscommon.get_value_by_key(path, "cpu.stat", "usage_usec"))
        return Usage(
            cpu_ns=usec * 1000,
            peak_memory=_or_zero(lambda: fscommon.read_uint(path, "memory.peak")),
            oom_kills=_or_zero(
                lambda: fscommon.get_value_by_key(path, "memory.events", "oom_kill")
            ),
        )
    cpuacct, memory = paths.get("cpuacct", ""), paths.get("memory", "")
    return Usage(
        cpu_ns=_or_zero(lambda: fscommon.read_uint(cpuacct, "cpuacct.usage")) if cpuacct else 0,
        peak_memory=(
            _or_zero(lambda: fscommon.read_uint(memory, "memory.max_usage_in_bytes"))
            if memory
            else 0
        ),
        oom_kills=(
            _or_zero(lambda: fscommon.get_value_by_key(memory, "memory.oom_control", "oom_kill"))
            if memory
            else 0
        ),
    )


def reset_peak(manager: Manager) -> bool:
    """Restart the peak-memory count from the current charge (v1); False where impossible.

    Called right before the program is released, so that the setup of the container's
    init does not count as the program's. cgroup v2's ``memory.peak`` cannot be reset
    this way: there the peak includes the init's setup.
    """
    memory = manager.get_paths().get("memory", "")
    if not memory:
        return False
    try:
        fscommon.write_file(memory, "memory.max_usage_in_bytes", "0")
    except CgroupFileError:
        return False
    return True


def _or_zero(read: Callable[[], int]) -> int:
    try:
        return read()
    except CgroupFileError:
        return 0
