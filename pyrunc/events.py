"""``runc events``: cgroup statistics as runc's ``types.Event`` JSON lines, and OOM events.

The field names and ``omitempty`` rules are those of runc 1.1's ``events/types.go``
(``convertLibcontainerStats``), so tools reading runc's events read ours.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from libcontainer.jsontext import marshal
from pyrunc import library
from pyrunc.context import CliError, Globals

__all__ = ["convert_stats", "events", "parse_duration"]


def _omit(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Drop ``keys`` whose value is empty (Go's omitempty)."""
    return {k: v for k, v in d.items() if k not in keys or v}


def _mem(entry: Any) -> dict[str, Any]:
    return _omit(
        {
            "limit": entry.limit,
            "usage": entry.usage,
            "max": entry.max_usage,
            "failcnt": entry.failcnt,
        },
        "usage",
        "max",
    )


def _blkio(entries: list[Any]) -> list[dict[str, Any]]:
    return [
        _omit(
            {"major": e.major, "minor": e.minor, "op": e.op, "value": e.value},
            "major",
            "minor",
            "op",
            "value",
        )
        for e in entries
    ]


_INTERFACE_KEYS = (
    "name",
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
)


def _interface(i: Any) -> dict[str, Any]:
    """runc's ``types.NetworkInterface`` (its JSON keys are the attribute names)."""
    return {key: getattr(i, key) for key in _INTERFACE_KEYS}


def convert_stats(s: Any) -> dict[str, Any]:
    """The ``data`` of a stats event from a :class:`libcontainer.cgroups.stats.Stats`."""
    cu, th = s.cpu_stats.cpu_usage, s.cpu_stats.throttling_data
    cs, ms, b = s.cpuset_stats, s.memory_stats, s.blkio_stats
    blkio = _omit(
        {
            "ioServiceBytesRecursive": _blkio(b.io_service_bytes_recursive),
            "ioServicedRecursive": _blkio(b.io_serviced_recursive),
            "ioQueueRecursive": _blkio(b.io_queued_recursive),
            "ioServiceTimeRecursive": _blkio(b.io_service_time_recursive),
            "ioWaitTimeRecursive": _blkio(b.io_wait_time_recursive),
            "ioMergedRecursive": _blkio(b.io_merged_recursive),
            "ioTimeRecursive": _blkio(b.io_time_recursive),
            "sectorsRecursive": _blkio(b.sectors_recursive),
        },
        "ioServiceBytesRecursive",
        "ioServicedRecursive",
        "ioQueueRecursive",
        "ioServiceTimeRecursive",
        "ioWaitTimeRecursive",
        "ioMergedRecursive",
        "ioTimeRecursive",
        "sectorsRecursive",
    )
    return {
        "cpu": {
            "usage": _omit(
                {
                    "total": cu.total_usage,
                    "percpu": cu.percpu_usage,
                    "percpu_kernel": cu.percpu_usage_in_kernelmode,
                    "percpu_user": cu.percpu_usage_in_usermode,
                    "kernel": cu.usage_in_kernelmode,
                    "user": cu.usage_in_usermode,
                },
                "total",
                "percpu",
                "percpu_kernel",
                "percpu_user",
            ),
            "throttling": _omit(
                {
                    "periods": th.periods,
                    "throttledPeriods": th.throttled_periods,
                    "throttledTime": th.throttled_time,
                },
                "periods",
                "throttledPeriods",
                "throttledTime",
            ),
        },
        "cpuset": _omit(
            {
                "cpus": cs.cpus,
                "cpu_exclusive": cs.cpu_exclusive,
                "mems": cs.mems,
                "mem_hardwall": cs.mem_hardwall,
                "mem_exclusive": cs.mem_exclusive,
                "memory_migrate": cs.memory_migrate,
                "memory_spread_page": cs.memory_spread_page,
                "memory_spread_slab": cs.memory_spread_slab,
                "memory_pressure": cs.memory_pressure,
                "sched_load_balance": cs.sched_load_balance,
                "sched_relax_domain_level": cs.sched_relax_domain_level,
            },
            "cpus",
            "mems",
        ),
        "memory": _omit(
            {
                "cache": ms.cache,
                "usage": _mem(ms.usage),
                "swap": _mem(ms.swap_usage),
                "kernel": _mem(ms.kernel_usage),
                "kernelTCP": _mem(ms.kernel_tcp_usage),
                "raw": dict(ms.stats),
            },
            "cache",
            "raw",
        ),
        "pids": _omit(
            {"current": s.pids_stats.current, "limit": s.pids_stats.limit}, "current", "limit"
        ),
        "blkio": blkio,
        "hugetlb": {
            size: _omit(
                {"usage": h.usage, "max": h.max_usage, "failcnt": h.failcnt}, "usage", "max"
            )
            for size, h in s.hugetlb_stats.items()
        },
        "intel_rdt": {},
        "network_interfaces": [_interface(i) for i in s.interfaces] or None,
    }


def parse_duration(text: str) -> float:
    """Seconds from a Go duration such as ``5s``, ``100ms`` or ``1m30s``."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    total, number, i = 0.0, "", 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = next(
            (u for u in ("ns", "us", "µs", "ms", "s", "m", "h") if text.startswith(u, i)), None
        )
        if unit is None or not number:
            raise CliError(f'invalid duration "{text}"')
        total += float(number) * units[unit]
        number, i = "", i + len(unit)
    if number:
        raise CliError(f'missing unit in duration "{text}"')
    return total


def _emit(event: dict[str, Any]) -> None:
    sys.stdout.write(marshal(event) + "\n")
    sys.stdout.flush()


def events(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc events [--stats] [--interval D] ID``."""
    cid = args[0]
    interval = parse_duration(opts["interval"])
    if interval <= 0:
        raise CliError("duration interval must be greater than 0")
    container = library.load_container(g, cid)
    if container.status() == "stopped":
        raise CliError(f"container with id {cid} is not running")
    if opts["stats"]:
        _emit({"type": "stats", "id": cid, "data": convert_stats(container.stats())})
        return 0
    manager = container.cgroup_manager
    ooms = manager.oom_kill_count() if manager is not None else 0
    while container.status() != "stopped":
        try:
            _emit({"type": "stats", "id": cid, "data": convert_stats(container.stats())})
            if manager is not None and manager.oom_kill_count() > ooms:
                ooms = manager.oom_kill_count()
                _emit({"type": "oom", "id": cid})
        except CliError:
            break
        time.sleep(interval)
    return 0
