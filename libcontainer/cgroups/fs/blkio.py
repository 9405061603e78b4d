"""The blkio controller: weights and throttling per device, I/O statistics."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.subsystem import join
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import BlkioStatEntry, Stats
    from libcontainer.configs import Resources

__all__ = ["BlkioGroup"]

# Stat file groups in runc's order of preference: the first group whose first file exists
# is used. (file, BlkioStats attribute)
_STAT_GROUPS: tuple[tuple[tuple[str, str], ...], ...] = (
    (  # BFQ with CONFIG_BFQ_CGROUP_DEBUG
        ("blkio.bfq.sectors_recursive", "sectors_recursive"),
        ("blkio.bfq.io_service_time_recursive", "io_service_time_recursive"),
        ("blkio.bfq.io_wait_time_recursive", "io_wait_time_recursive"),
        ("blkio.bfq.io_merged_recursive", "io_merged_recursive"),
        ("blkio.bfq.io_queued_recursive", "io_queued_recursive"),
        ("blkio.bfq.time_recursive", "io_time_recursive"),
        ("blkio.bfq.io_serviced_recursive", "io_serviced_recursive"),
        ("blkio.bfq.io_service_bytes_recursive", "io_service_bytes_recursive"),
    ),
    (  # BFQ
        ("blkio.bfq.io_serviced_recursive", "io_serviced_recursive"),
        ("blkio.bfq.io_service_bytes_recursive", "io_service_bytes_recursive"),
    ),
    (  # CFQ
        ("blkio.sectors_recursive", "sectors_recursive"),
        ("blkio.io_service_time_recursive", "io_service_time_recursive"),
        ("blkio.io_wait_time_recursive", "io_wait_time_recursive"),
        ("blkio.io_merged_recursive", "io_merged_recursive"),
        ("blkio.io_queued_recursive", "io_queued_recursive"),
        ("blkio.time_recursive", "io_time_recursive"),
        ("blkio.io_serviced_recursive", "io_serviced_recursive"),
        ("blkio.io_service_bytes_recursive", "io_service_bytes_recursive"),
    ),
    (  # throttling, recursive
        ("blkio.throttle.io_serviced_recursive", "io_serviced_recursive"),
        ("blkio.throttle.io_service_bytes_recursive", "io_service_bytes_recursive"),
    ),
    (  # throttling, this cgroup only (old kernels)
        ("blkio.throttle.io_serviced", "io_serviced_recursive"),
        ("blkio.throttle.io_service_bytes", "io_service_bytes_recursive"),
    ),
)

_THROTTLE_FILES = (
    ("blkio_throttle_read_bps_device", "blkio.throttle.read_bps_device"),
    ("blkio_throttle_write_bps_device", "blkio.throttle.write_bps_device"),
    ("blkio_throttle_read_iops_device", "blkio.throttle.read_iops_device"),
    ("blkio_throttle_write_iops_device", "blkio.throttle.write_iops_device"),
)


class BlkioGroup:
    """The blkio controller (CFQ or BFQ weight files, whichever the kernel has)."""

    name = "blkio"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Write weights, per-device weights, then the four throttle lists."""
        # CFQ has blkio.weight; BFQ-only kernels have blkio.bfq.weight instead.
        if not path or os.path.exists(os.path.join(path, "blkio.weight")):
            weight_file, weight_device_file = "blkio.weight", "blkio.weight_device"
        else:
            weight_file, weight_device_file = "blkio.bfq.weight", "blkio.bfq.weight_device"
        if resources.blkio_weight:
            fscommon.write_file(path, weight_file, str(resources.blkio_weight))
        if resources.blkio_leaf_weight:
            fscommon.write_file(path, "blkio.leaf_weight", str(resources.blkio_leaf_weight))
        for wd in resources.blkio_weight_device or ():
            if wd.weight:
                fscommon.write_file(path, weight_device_file, f"{wd.major}:{wd.minor} {wd.weight}")
            if wd.leaf_weight:
                fscommon.write_file(
                    path, "blkio.leaf_weight_device", f"{wd.major}:{wd.minor} {wd.leaf_weight}"
                )
        for attr, filename in _THROTTLE_FILES:
            for td in getattr(resources, attr) or ():
                fscommon.write_file(path, filename, f"{td.major}:{td.minor} {td.rate}")

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill I/O statistics from the first family of stat files the kernel provides."""
        for group in _STAT_GROUPS:
            first_file = group[0][0]
            if not os.path.exists(os.path.join(path, first_file)):
                continue
            for filename, attr in group:
                setattr(stats.blkio_stats, attr, _read_blkio_stat(path, filename))
            return


_SPLIT = re.compile(r"[ :]+")


def _read_blkio_stat(path: str, filename: str) -> list[BlkioStatEntry]:
    """Parse ``major:minor [op] value`` lines, skipping the ``Total`` line."""
    from libcontainer.cgroups.stats import BlkioStatEntry

    entries: list[BlkioStatEntry] = []
    text = fscommon.if_exists(fscommon.read_file, path, filename)
    if text is None:
        return entries
    for line in text.splitlines():
        fields = [f for f in _SPLIT.split(line) if f]
        if not fields:
            continue
        if len(fields) == 2 and fields[0] == "Total":
            continue
        if len(fields) not in (3, 4):
            raise CgroupError(f"invalid line in {path}/{filename}: {line!r}")
        file_path = f"{path}/{filename}"
        major = fscommon.parse_uint(fields[0], path=file_path)
        minor = fscommon.parse_uint(fields[1], path=file_path)
        op = fields[2] if len(fields) == 4 else ""
        value = fscommon.parse_uint(fields[-1], path=file_path)
        entries.append(BlkioStatEntry(major=major, minor=minor, op=op, value=value))
    return entries
