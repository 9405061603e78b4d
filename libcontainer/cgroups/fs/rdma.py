"""The rdma controller: HCA handle and object limits per device."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.subsystem import join

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import RdmaEntry, Stats
    from libcontainer.configs import Resources

__all__ = ["RdmaGroup"]

_MAX_UINT32 = 2**32 - 1


class RdmaGroup:
    """The rdma controller."""

    name = "rdma"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Write ``<device> [hca_handle=N] [hca_object=M]`` to ``rdma.max`` per device."""
        for device, limits in (resources.rdma or {}).items():
            line = device
            if limits.hca_handles is not None:
                line += f" hca_handle={limits.hca_handles}"
            if limits.hca_objects is not None:
                line += f" hca_object={limits.hca_objects}"
            fscommon.write_file(path, "rdma.max", line)

    def get_stats(self, path: str, stats: Stats) -> None:
        """Fill limits and current usage; skipped if a device vanished between the reads."""
        if not os.path.exists(path):
            return
        current = _read_entries(path, "rdma.current")
        limits = _read_entries(path, "rdma.max")
        if len(current) == len(limits):
            stats.rdma_stats.rdma_current = current
            stats.rdma_stats.rdma_limit = limits


def _parse_value(text: str) -> int | None:
    if text == "max":
        return _MAX_UINT32
    return int(text) if text.isdigit() and int(text) <= _MAX_UINT32 else None


def _read_entries(path: str, filename: str) -> list[RdmaEntry]:
    from libcontainer.cgroups.stats import RdmaEntry

    entries = []
    for line in fscommon.read_lines(path, filename):
        parts = line.split(" ")
        if len(parts) != 3:
            continue
        entry = RdmaEntry(device=parts[0])
        valid = True
        for kv in parts[1:]:
            key, sep, raw = kv.partition("=")
            value = _parse_value(raw) if sep else None
            if value is None:
                valid = False
            elif key == "hca_handle":
                entry.hca_handles = value
            elif key == "hca_object":
                entry.hca_objects = value
        # runc drops lines it cannot parse rather than failing the whole stats call.
        if valid:
            entries.append(entry)
    return entries
