"""The hugetlb controller: a limit per huge page size."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.subsystem import join

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["HugetlbGroup"]


class HugetlbGroup:
    """The hugetlb controller; ``page_sizes`` are the host's (``2MB``, ``1GB``)."""

    name = "hugetlb"

    def __init__(self, page_sizes: tuple[str, ...] = ()) -> None:
        self._page_sizes = page_sizes

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Write ``hugetlb.<size>.limit_in_bytes`` for each configured size."""
        for limit in resources.hugetlb_limit or ():
            fscommon.write_file(path, f"hugetlb.{limit.page_size}.limit_in_bytes", str(limit.limit))

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill usage, peak and failure count for every page size of the host."""
        from libcontainer.cgroups.stats import HugetlbStats

        if not os.path.exists(path):
            return
        for size in self._page_sizes:
            prefix = f"hugetlb.{size}"
            stats.hugetlb_stats[size] = HugetlbStats(
                usage=fscommon.read_uint(path, f"{prefix}.usage_in_bytes"),
                max_usage=fscommon.read_uint(path, f"{prefix}.max_usage_in_bytes"),
                failcnt=fscommon.read_uint(path, f"{prefix}.failcnt"),
            )
