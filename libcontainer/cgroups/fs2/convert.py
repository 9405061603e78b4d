"""cgroup v1 values in cgroup v2 terms, as runc 1.1 converts them (``cgroups/utils.go``).

The OCI spec and the config speak v1 (cpu shares, blkio weight, memory+swap); the v2 driver
and the systemd driver on a v2 host need the v2 equivalents.
"""

from __future__ import annotations

from libcontainer.errors import CgroupError

__all__ = [
    "blkio_weight_to_io_weight",
    "cpu_shares_to_weight",
    "memory_swap_to_v2",
    "num_to_str",
]


def cpu_shares_to_weight(shares: int) -> int:
    """cpu shares [2, 262144] to ``cpu.weight`` [1, 10000]; 0 (unset) stays 0.

    runc 1.1's linear formula: ``1 + ((shares - 2) * 9999) / 262142`` (integer division).
    """
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_weight_to_io_weight(weight: int) -> int:
    """blkio weight [10, 1000] to ``io.weight`` [1, 10000]; 0 (unset) stays 0."""
    if weight == 0:
        return 0
    return 1 + (weight - 10) * 9999 // 990


def memory_swap_to_v2(memory_swap: int, memory: int) -> int:
    """The v1 memory+swap limit as a v2 ``memory.swap.max`` (swap alone).

    -1 means unlimited and 0 unset, as in the config. Memory -1 with swap unset means
    "both unlimited", as on v1.
    """
    if memory == -1 and memory_swap == 0:
        return -1
    if memory_swap in (-1, 0):
        return memory_swap
    if memory in (0, -1):
        raise CgroupError(
            f"unable to set a swap limit ({memory_swap}) without a memory limit: "
            "set memory too, or leave memory_swap at 0"
        )
    if memory < 0:
        raise CgroupError(f"invalid memory limit {memory}: use a positive number or -1")
    if memory_swap < memory:
        raise CgroupError(
            f"the memory+swap limit ({memory_swap}) must be at least the memory limit ({memory})"
        )
    return memory_swap - memory


def num_to_str(value: int) -> str:
    """A limit for a v2 ``*.max``/``*.low`` file: ``""`` for 0 (unset), ``max`` for -1."""
    if value == 0:
        return ""
    if value == -1:
        return "max"
    return str(value)
