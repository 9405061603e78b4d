"""The cpuacct controller: CPU usage statistics only."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.subsystem import join
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["CpuacctGroup"]

_NS_PER_SECOND = 1_000_000_000
# USER_HZ is 100 on every Linux architecture; cpuacct.stat counts in these ticks.
_CLOCK_TICKS = 100


class CpuacctGroup:
    """The cpuacct controller."""

    name = "cpuacct"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Nothing to set."""

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill total, per-CPU and user/kernel CPU usage in nanoseconds."""
        if not os.path.exists(path):
            return
        usage = stats.cpu_stats.cpu_usage
        usage.usage_in_usermode, usage.usage_in_kernelmode = _user_and_kernel(path)
        usage.total_usage = fscommon.read_uint(path, "cpuacct.usage")
        usage.percpu_usage = [
            fscommon.parse_uint(v, path=f"{path}/cpuacct.usage_percpu")
            for v in fscommon.read_file(path, "cpuacct.usage_percpu").split()
        ]
        kernel, user = _percpu_modes(path)
        usage.percpu_usage_in_kernelmode = kernel
        usage.percpu_usage_in_usermode = user


def _user_and_kernel(path: str) -> tuple[int, int]:
    fields = fscommon.read_file(path, "cpuacct.stat").split()
    if len(fields) < 4 or fields[0] != "user" or fields[2] != "system":
        raise CgroupError(f"unexpected content in {path}/cpuacct.stat: {' '.join(fields)!r}")
    user = fscommon.parse_uint(fields[1], path=f"{path}/cpuacct.stat")
    system = fscommon.parse_uint(fields[3], path=f"{path}/cpuacct.stat")
    return user * _NS_PER_SECOND // _CLOCK_TICKS, system * _NS_PER_SECOND // _CLOCK_TICKS


def _percpu_modes(path: str) -> tuple[list[int], list[int]]:
    text = fscommon.if_exists(fscommon.read_file, path, "cpuacct.usage_all")
    kernel: list[int] = []
    user: list[int] = []
    if text is None:
        return kernel, user
    # "cpu user system" header, then one line per CPU.
    for line in text.splitlines()[1:]:
        columns = line.split(" ")
        if len(columns) != 3:
            continue
        user.append(fscommon.parse_uint(columns[1], path=f"{path}/cpuacct.usage_all"))
        kernel.append(fscommon.parse_uint(columns[2], path=f"{path}/cpuacct.usage_all"))
    return kernel, user
