"""A cgroup v2 device filter: config device rules as a ``BPF_PROG_TYPE_CGROUP_DEVICE``
program (runc's ``ebpf/devicefilter``, itself from crun).

The rules first go through the v1 emulator, so both cgroup versions treat a rule list alike
(including refusing to punch holes into wildcard rules). The program then tests the
exceptions one by one (device type, access, major, minor) and returns the default policy
when none matched. The kernel calls it with ``struct bpf_cgroup_dev_ctx``::

    u32 access_type;  /* (access << 16) | type */
    u32 major;
    u32 minor;
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from libcontainer.cgroups.devices.emulator import WILDCARD, Emulator
from libcontainer.cgroups.ebpf import asm
from libcontainer.cgroups.ebpf.asm import R0, R1, R2, R3, R4, R5, Instruction
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.configs import DeviceRule

__all__ = [
    "ACC_MKNOD",
    "ACC_READ",
    "ACC_WRITE",
    "DEV_BLOCK",
    "DEV_CHAR",
    "LICENSE",
    "device_filter",
]

LICENSE = "Apache"
"""The program's license string (as the kernel's MODULE_LICENSE), as runc's."""

# From linux/bpf.h.
DEV_BLOCK, DEV_CHAR = 1, 2
ACC_MKNOD, ACC_READ, ACC_WRITE = 1, 2, 4
_ACC = {"r": ACC_READ, "w": ACC_WRITE, "m": ACC_MKNOD}
_ALL_ACCESS = ACC_READ | ACC_WRITE | ACC_MKNOD
_MAX_U32 = 2**32 - 1


def device_filter(rules: Iterable[DeviceRule]) -> list[Instruction]:
    """The filter program for ``rules`` (in order; a later rule overrides an earlier one)."""
    emulator = Emulator.from_rules(rules)
    default_allow = emulator.is_blacklist
    program = _prologue()
    block = 0
    for meta in sorted(emulator.rules):
        # Every exception has the action opposite to the default (the emulator drops no-ops).
        program += _rule_block(
            meta.node, meta.major, meta.minor, emulator.rules[meta], not default_allow, block
        )
        block += 1
    program.append(asm.mov_imm32(R0, int(default_allow)).with_label(f"block-{block}"))
    program.append(asm.exit_())
    return program


def _prologue() -> list[Instruction]:
    return [
        asm.load_word(R2, R1, 0),  # R2 <- type (low 16 bits of access_type)
        asm.and_imm32(R2, 0xFFFF),
        asm.load_word(R3, R1, 0),  # R3 <- access (high 16 bits)
        asm.rsh_imm32(R3, 16),
        asm.load_word(R4, R1, 4),  # R4 <- major
        asm.load_word(R5, R1, 8),  # R5 <- minor
    ]


def _rule_block(
    node: str, major: int, minor: int, perms: frozenset[str], allow: bool, block: int
) -> list[Instruction]:
    if node == "c":
        dev_type = DEV_CHAR
    elif node == "b":
        dev_type = DEV_BLOCK
    else:
        raise CgroupError(f"invalid device rule type {node!r} in a device filter")
    for number, what in ((major, "major"), (minor, "minor")):
        if number > _MAX_U32 or (number < 0 and number != WILDCARD):
            raise CgroupError(f"invalid device {what} number {number}")
    access = 0
    for p in perms:
        access |= _ACC[p]
    next_block = f"block-{block + 1}"
    insns = [asm.jne_imm(R2, dev_type, next_block)]
    if access != _ALL_ACCESS:
        # Matches only if every requested access bit is among the rule's.
        insns += [
            asm.mov_reg32(R1, R3),
            asm.and_imm32(R1, access),
            asm.jne_reg(R1, R3, next_block),
        ]
    if major != WILDCARD:
        insns.append(asm.jne_imm(R4, _as_s32(major), next_block))
    if minor != WILDCARD:
        insns.append(asm.jne_imm(R5, _as_s32(minor), next_block))
    insns += [asm.mov_imm32(R0, int(allow)), asm.exit_()]
    insns[0] = insns[0].with_label(f"block-{block}")
    return insns


def _as_s32(value: int) -> int:
    # The immediate is a signed 32-bit field; numbers above 2**31 wrap like Go's int32().
    return value - 2**32 if value >= 2**31 else value
