"""Linux capabilities: names, and applying the five sets to the calling process."""

from __future__ import annotations

from collections.abc import Iterable

from libcontainer.errors import ConfigError
from libcontainer.system import (
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    PR_SET_KEEPCAPS,
    Syscalls,
)

CAPABILITY_NAMES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
"""Capability names indexed by number, as in linux/capability.h."""

CAPABILITY_NUMBERS = {name: i for i, name in enumerate(CAPABILITY_NAMES)}


def last_cap(proc: str = "/proc") -> int:
    """The highest capability number the running kernel knows."""
    try:
        with open(f"{proc}/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return len(CAPABILITY_NAMES) - 1


def to_mask(names: Iterable[str], *, field: str = "capabilities", last: int | None = None) -> int:
    """A bit mask from capability names; unknown names are a ConfigError.

    Names the kernel does not know yet (above ``last``) are ignored, as runc does, so one
    spec works on older kernels.
    """
    top = last_cap() if last is None else last
    mask = 0
    for name in names:
        number = CAPABILITY_NUMBERS.get(name.upper())
        if number is None:
            raise ConfigError("unknown capability", field=field, value=name)
        if number <= top:
            mask |= 1 << number
    return mask


class CapabilitySets:
    """The five sets as bit masks, applied in runc's order around the uid change."""

    def __init__(
        self, bounding: int, effective: int, permitted: int, inheritable: int, ambient: int
    ) -> None:
        self.bounding = bounding
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
        self.ambient = ambient

    @classmethod
    def from_names(
        cls,
        bounding: Iterable[str],
        effective: Iterable[str],
        permitted: Iterable[str],
        inheritable: Iterable[str],
        ambient: Iterable[str],
        *,
        last: int | None = None,
    ) -> CapabilitySets:
        """Build from the config's name lists."""
        top = last_cap() if last is None else last
        return cls(
            to_mask(bounding, field="capabilities.Bounding", last=top),
            to_mask(effective, field="capabilities.Effective", last=top),
            to_mask(permitted, field="capabilities.Permitted", last=top),
            to_mask(inheritable, field="capabilities.Inheritable", last=top),
            to_mask(ambient, field="capabilities.Ambient", last=top),
        )

    def apply_bounding(self, syscalls: Syscalls, *, last: int | None = None) -> None:
        """Drop every capability not in the bounding set (needs CAP_SETPCAP)."""
        top = last_cap() if last is None else last
        for cap in range(top + 1):
            if not self.bounding & (1 << cap):
                syscalls.prctl(PR_CAPBSET_DROP, cap)

    def apply(self, syscalls: Syscalls) -> None:
        """Set effective/permitted/inheritable, then ambient (only what is allowed)."""
        syscalls.capset(self.effective, self.permitted, self.inheritable)
        syscalls.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
        # The kernel only allows ambient caps that are both permitted and inheritable.
        allowed = self.ambient & self.permitted & self.inheritable
        cap = 0
        while allowed >> cap:
            if allowed & (1 << cap):
                syscalls.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)
            cap += 1


def set_keep_caps(syscalls: Syscalls, keep: bool) -> None:
    """PR_SET_KEEPCAPS: keep permitted caps across the setuid() to a non-root user."""
    syscalls.prctl(PR_SET_KEEPCAPS, 1 if keep else 0)
