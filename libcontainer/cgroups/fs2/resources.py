"""Writing v2 limits: one function per controller, in the order runc's ``fs2.Set`` uses.

Zero/empty values leave a file alone; -1 means "no limit" (``max``). v1-only knobs (kernel
memory, swappiness, blkio leaf weights, real-time cpu) have no v2 file: setting them is an
error where runc's v2 driver errors, and ignored where it ignores them.
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs2.convert import (
    blkio_weight_to_io_weight,
    cpu_shares_to_weight,
    memory_swap_to_v2,
    num_to_str,
)
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from libcontainer.configs import Resources
    from libcontainer.configs.cgroup import ThrottleDevice

__all__ = [
    "is_cpu_set",
    "is_hugetlb_set",
    "is_io_set",
    "is_memory_set",
    "set_cpu",
    "set_cpuset",
    "set_hugetlb",
    "set_io",
    "set_memory",
    "set_pids",
    "set_unified",
]

log = logging.getLogger(__name__)

DEFAULT_CPU_PERIOD = 100000
"""The kernel's default CFS period (µs), written with a quota when no period is given."""


def set_pids(path: str, r: Resources) -> None:
    """``pids.max``: the limit, ``max`` for -1."""
    value = "max" if r.pids_limit < 0 else num_to_str(r.pids_limit)
    if value:
        fscommon.write_file(path, "pids.max", value)


def is_memory_set(r: Resources) -> bool:
    """Whether any memory limit is given."""
    return bool(r.memory_reservation or r.memory or r.memory_swap)


def set_memory(path: str, r: Resources) -> None:
    """``memory.swap.max`` (swap alone: memory+swap minus memory), ``memory.max``,
    ``memory.low`` (the reservation), in that order."""
    if r.kernel_memory or r.kernel_memory_tcp:
        log.warning("kernel memory limits are ignored: cgroup v2 has none (as runc 1.1)")
    if r.memory_swappiness not in (None, -1):
        log.warning("memory swappiness is ignored: cgroup v2 has no per-cgroup swappiness")
    if r.oom_kill_disable:
        log.warning("oom_kill_disable is ignored: cgroup v2 cannot disable the OOM killer")
    if not is_memory_set(r):
        return
    swap = memory_swap_to_v2(r.memory_swap, r.memory)
    swap_str = num_to_str(swap)
    if swap_str == "" and swap == 0 and r.memory_swap > 0:
        # memory == memory+swap: no swap at all.
        swap_str = "0"
    # Never write "" to memory.swap.max: the kernel reads it as 0.
    if swap_str:
        try:
            fscommon.write_file(path, "memory.swap.max", swap_str)
        except CgroupFileError as exc:
            # No swap accounting in this kernel: only "no swap limit" can be honoured.
            if exc.errno != errno.ENOENT or swap not in (-1,):
                raise
    memory = num_to_str(r.memory)
    if memory:
        _write_memory_max(path, memory)
    reservation = num_to_str(r.memory_reservation)
    if reservation:
        fscommon.write_file(path, "memory.low", reservation)


def _write_memory_max(path: str, value: str) -> None:
    try:
        fscommon.write_file(path, "memory.max", value)
    except CgroupFileError as exc:
        if exc.errno != errno.EBUSY:
            raise
        usage = fscommon.if_exists(fscommon.read_uint, path, "memory.current")
        raise CgroupError(
            f"unable to set memory limit to {value} (current usage: {usage}); free memory "
            "in the container or pick a higher limit"
        ) from exc


def is_io_set(r: Resources) -> bool:
    """Whether any io limit is given."""
    return bool(
        r.blkio_weight
        or r.blkio_weight_device
        or r.blkio_throttle_read_bps_device
        or r.blkio_throttle_write_bps_device
        or r.blkio_throttle_read_iops_device
        or r.blkio_throttle_write_iops_device
    )


def set_io(path: str, r: Resources) -> None:
    """The weight (``io.bfq.weight`` as is, else ``io.weight`` converted), per-device
    weights, then one ``io.max`` line per throttle."""
    if not is_io_set(r):
        return
    if r.blkio_weight:
        try:
            fscommon.write_file(path, "io.bfq.weight", str(r.blkio_weight))
        except CgroupFileError as exc:
            # No bfq scheduler: the generic io.weight, on its own scale.
            if exc.errno != errno.ENOENT:
                raise
            weight = blkio_weight_to_io_weight(r.blkio_weight)
            fscommon.write_file(path, "io.weight", str(weight))
    for wd in r.blkio_weight_device:
        if wd.weight:
            # bfq takes "major:minor weight" with the v1 scale.
            fscommon.write_file(path, "io.bfq.weight", f"{wd.major}:{wd.minor} {wd.weight}")
    for key, devices in (
        ("rbps", r.blkio_throttle_read_bps_device),
        ("wbps", r.blkio_throttle_write_bps_device),
        ("riops", r.blkio_throttle_read_iops_device),
        ("wiops", r.blkio_throttle_write_iops_device),
    ):
        for td in devices:
            fscommon.write_file(path, "io.max", _io_max_line(td, key))


def _io_max_line(td: ThrottleDevice, key: str) -> str:
    return f"{td.major}:{td.minor} {key}={td.rate}"


def is_cpu_set(r: Resources) -> bool:
    """Whether any cpu limit is given (shares count: they convert to a weight)."""
    return bool(r.cpu_weight or r.cpu_shares or r.cpu_quota or r.cpu_period)


def set_cpu(path: str, r: Resources) -> None:
    """``cpu.weight`` (from shares if no weight is given) and ``cpu.max`` (quota period)."""
    if r.cpu_rt_runtime or r.cpu_rt_period:
        raise CgroupError(
            "real-time cpu limits (cpu_rt_runtime, cpu_rt_period) do not exist on cgroup v2"
        )
    if not is_cpu_set(r):
        return
    weight = r.cpu_weight or cpu_shares_to_weight(r.cpu_shares)
    if weight:
        fscommon.write_file(path, "cpu.weight", str(weight))
    if r.cpu_quota or r.cpu_period:
        quota = str(r.cpu_quota) if r.cpu_quota > 0 else "max"
        period = r.cpu_period or DEFAULT_CPU_PERIOD
        fscommon.write_file(path, "cpu.max", f"{quota} {period}")


def set_cpuset(path: str, r: Resources) -> None:
    """``cpuset.cpus`` and ``cpuset.mems``."""
    if r.cpuset_cpus:
        fscommon.write_file(path, "cpuset.cpus", r.cpuset_cpus)
    if r.cpuset_mems:
        fscommon.write_file(path, "cpuset.mems", r.cpuset_mems)


def is_hugetlb_set(r: Resources) -> bool:
    """Whether any huge page limit is given."""
    return bool(r.hugetlb_limit)


def set_hugetlb(path: str, r: Resources) -> None:
    """``hugetlb.<size>.max`` per page size."""
    for limit in r.hugetlb_limit:
        fscommon.write_file(path, f"hugetlb.{limit.page_size}.max", str(limit.limit))


def validate_unified(unified: Mapping[str, str]) -> None:
    """Check the ``unified`` map's keys: plain ``<controller>.<parameter>`` file names."""
    for key in unified:
        if "/" in key or key in (".", ".."):
            raise CgroupError(f"unified resource {key!r} must be a file name (no slashes)")
        controller, dot, param = key.partition(".")
        if not dot or not controller or not param:
            raise CgroupError(f"unified resource {key!r} must be in the form CONTROLLER.PARAMETER")
        if key in ("cgroup.procs", "cgroup.threads", "cgroup.subtree_control"):
            raise CgroupError(
                f"unified resource {key!r} cannot be set: the driver manages that file"
            )


def set_unified(path: str, unified: Mapping[str, str], controllers: set[str]) -> None:
    """Write the ``unified`` map's files as given, after :func:`validate_unified`."""
    validate_unified(unified)
    for key, value in unified.items():
        try:
            fscommon.write_file(path, key, value)
        except CgroupFileError as exc:
            if exc.errno in (errno.ENOENT, errno.EPERM, errno.EACCES):
                controller = key.partition(".")[0]
                if controller not in controllers and controller != "cgroup":
                    raise CgroupError(
                        f"unified resource {key!r} can't be set: controller {controller!r} "
                        f"is not available in {path} (available: "
                        f"{' '.join(sorted(controllers)) or 'none'})"
                    ) from exc
            raise CgroupError(f"unable to set unified resource {key!r}: {exc}") from exc
