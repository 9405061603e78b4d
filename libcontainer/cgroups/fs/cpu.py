"""The cpu controller: shares, CFS quota/period and real-time runtime/period."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon, utils
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["CpuGroup"]


class CpuGroup:
    """The cpu controller."""

    name = "cpu"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create the cgroup, set real-time limits, then add ``pid``.

        A task already under SCHED_RR/FIFO cannot join a cgroup without RT bandwidth, so
        the RT values go in before the task does.
        """
        if not path:
            return
        utils.make_dirs(path)
        self._set_rt_sched(path, resources)
        utils.write_cgroup_proc(path, pid)

    def _set_rt_sched(self, path: str, resources: Resources) -> None:
        if resources.cpu_rt_period:
            fscommon.write_file(path, "cpu.rt_period_us", str(resources.cpu_rt_period))
        if resources.cpu_rt_runtime:
            fscommon.write_file(path, "cpu.rt_runtime_us", str(resources.cpu_rt_runtime))

    def set(self, path: str, resources: Resources) -> None:
        """Write shares (checked by reading back), period, quota, then RT values."""
        if resources.cpu_shares:
            shares = resources.cpu_shares
            fscommon.write_file(path, "cpu.shares", str(shares))
            # The kernel clamps out-of-range shares silently; make that an error.
            actual = fscommon.read_uint(path, "cpu.shares")
            if shares > actual:
                raise CgroupError(f"the maximum allowed cpu-shares is {actual}")
            if shares < actual:
                raise CgroupError(f"the minimum allowed cpu-shares is {actual}")
        pending_period = ""
        if resources.cpu_period:
            period = str(resources.cpu_period)
            try:
                fscommon.write_file(path, "cpu.cfs_period_us", period)
            except CgroupFileError as exc:
                # A shorter period can be refused (EINVAL) while the old quota is in place,
                # as old_quota/new_period may exceed the parent; retry after the quota. With
                # no quota to set, EINVAL is the kernel refusing the period itself (below
                # its 1 ms minimum, above 1 s): an error, as with runc.
                if exc.errno != errno.EINVAL or not resources.cpu_quota:
                    raise
                pending_period = period
        if resources.cpu_quota:
            fscommon.write_file(path, "cpu.cfs_quota_us", str(resources.cpu_quota))
            if pending_period:
                fscommon.write_file(path, "cpu.cfs_period_us", pending_period)
        self._set_rt_sched(path, resources)

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill the throttling counters from ``cpu.stat``."""
        text = fscommon.if_exists(fscommon.read_file, path, "cpu.stat")
        if text is None:
            return
        data = stats.cpu_stats.throttling_data
        for line in text.splitlines():
            if not line:
                continue
            key, value = fscommon.parse_key_value(line, path=f"{path}/cpu.stat")
            if key == "nr_periods":
                data.periods = value
            elif key == "nr_throttled":
                data.throttled_periods = value
            elif key == "throttled_time":
                data.throttled_time = value
