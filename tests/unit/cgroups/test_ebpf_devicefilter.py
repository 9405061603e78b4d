"""The device filter program: its exact instructions, its encoding, and (through a small
eBPF interpreter) its decisions, checked against the v1 emulator's semantics."""

from __future__ import annotations

import struct

import pytest

from libcontainer.cgroups.ebpf import asm, bpf
from libcontainer.cgroups.ebpf.asm import Instruction
from libcontainer.cgroups.ebpf.devicefilter import (
    ACC_MKNOD,
    ACC_READ,
    ACC_WRITE,
    DEV_BLOCK,
    DEV_CHAR,
    device_filter,
)
from libcontainer.configs import DeviceRule, DeviceType
from libcontainer.errors import CgroupError


def rule(t: str, major: int, minor: int, perms: str, allow: bool) -> DeviceRule:
    return DeviceRule(type=DeviceType(t), major=major, minor=minor, permissions=perms, allow=allow)


# runc 1.1's default container rules.
DEFAULT = [
    rule("a", -1, -1, "rwm", False),
    rule("c", -1, -1, "m", True),
    rule("b", -1, -1, "m", True),
    rule("c", 1, 3, "rwm", True),
    rule("c", 1, 8, "rwm", True),
    rule("c", 1, 7, "rwm", True),
    rule("c", 5, 0, "rwm", True),
    rule("c", 1, 5, "rwm", True),
    rule("c", 1, 9, "rwm", True),
    rule("c", 136, -1, "rwm", True),
    rule("c", 5, 2, "rwm", True),
    rule("c", 10, 200, "rwm", True),
]


def run(program: list[Instruction], dev_type: int, access: int, major: int, minor: int) -> int:
    """Interpret the program on a ``bpf_cgroup_dev_ctx`` by decoding its binary form."""
    code = asm.assemble(program)
    ctx = struct.pack("<III", (access << 16) | dev_type, major, minor)
    regs = [0] * 11
    pc = 0
    mask64, mask32 = 2**64 - 1, 2**32 - 1
    for _ in range(10000):
        opcode, regbyte, off, imm = struct.unpack_from("<BBhi", code, pc * 8)
        dst, src = regbyte & 0xF, regbyte >> 4
        pc += 1
        if opcode == asm.LDX_MEM_W:
            assert src == asm.R1, "only the context is readable"
            regs[dst] = struct.unpack_from("<I", ctx, off)[0]
        elif opcode == asm.ALU_AND_K:
            regs[dst] = (regs[dst] & (imm & mask32)) & mask32
        elif opcode == asm.ALU_RSH_K:
            regs[dst] = (regs[dst] & mask32) >> imm
        elif opcode == asm.ALU_MOV_K:
            regs[dst] = imm & mask32
        elif opcode == asm.ALU_MOV_X:
            regs[dst] = regs[src] & mask32
        elif opcode == asm.JMP_JNE_K:
            if regs[dst] != imm & mask64:
                pc += off
        elif opcode == asm.JMP_JNE_X:
            if regs[dst] != regs[src]:
                pc += off
        elif opcode == asm.JMP_EXIT:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {opcode:#x}")
    raise AssertionError("program did not terminate")


def test_default_rules_compile_to_runcs_program() -> None:
    program = asm.resolve(device_filter(DEFAULT))
    listing = [(i.opcode, i.dst, i.src, i.offset, i.imm) for i in program]
    # The same instructions as runc's devicefilter_test.go expects for these rules.
    prologue = [
        (0x61, 2, 1, 0, 0),
        (0x54, 2, 0, 0, 0xFFFF),
        (0x61, 3, 1, 0, 0),
        (0x74, 3, 0, 0, 16),
        (0x61, 4, 1, 4, 0),
        (0x61, 5, 1, 8, 0),
    ]
    assert listing[:6] == prologue
    # block 0 (the emulator sorts by major, minor, type): b *:* m, then c *:* m
    assert listing[6:12] == [
        (0x55, 2, 0, 5, DEV_BLOCK),
        (0xBC, 1, 3, 0, 0),
        (0x54, 1, 0, 0, ACC_MKNOD),
        (0x5D, 1, 3, 2, 0),
        (0xB4, 0, 0, 0, 1),
        (0x95, 0, 0, 0, 0),
    ]
    assert listing[12][4] == DEV_CHAR
    # block 2 (after sorting by major, minor): c 1:3 rwm -> no access check
    assert listing[18:23] == [
        (0x55, 2, 0, 4, DEV_CHAR),
        (0x55, 4, 0, 3, 1),
        (0x55, 5, 0, 2, 3),
        (0xB4, 0, 0, 0, 1),
        (0x95, 0, 0, 0, 0),
    ]
    # The last block is the default: deny.
    assert listing[-2:] == [(0xB4, 0, 0, 0, 0), (0x95, 0, 0, 0, 0)]
    assert len(listing) == 6 + 2 * 6 + 8 * 5 + 4 + 2  # 136:* has no minor check


@pytest.mark.parametrize(
    ("dev", "access", "major", "minor", "allowed"),
    [
        (DEV_CHAR, ACC_READ | ACC_WRITE, 1, 3, True),  # /dev/null
        (DEV_CHAR, ACC_READ, 1, 7, True),  # /dev/full
        (DEV_CHAR, ACC_READ, 1, 1, False),  # /dev/mem
        (DEV_CHAR, ACC_MKNOD, 1, 1, True),  # mknod of any char device
        (DEV_BLOCK, ACC_MKNOD, 8, 0, True),
        (DEV_BLOCK, ACC_READ, 8, 0, False),
        (DEV_CHAR, ACC_READ | ACC_MKNOD, 1, 1, False),  # read is not covered by "m"
        (DEV_CHAR, ACC_WRITE, 136, 4, True),  # /dev/pts/4
        (DEV_CHAR, ACC_READ, 10, 200, True),  # /dev/net/tun
        (DEV_CHAR, ACC_READ, 10, 229, False),  # /dev/fuse
    ],
)
def test_default_rules_decide_like_runc(
    dev: int, access: int, major: int, minor: int, allowed: bool
) -> None:
    assert run(device_filter(DEFAULT), dev, access, major, minor) == int(allowed)


def test_deny_list_mode_allows_everything_but_the_exceptions() -> None:
    program = device_filter(
        [
            rule("a", -1, -1, "rwm", True),
            rule("c", 1, 7, "w", False),
            rule("b", 8, -1, "rwm", False),
        ]
    )
    assert run(program, DEV_CHAR, ACC_READ, 1, 7) == 1
    assert run(program, DEV_CHAR, ACC_WRITE, 1, 7) == 0
    assert run(program, DEV_CHAR, ACC_READ | ACC_WRITE, 1, 7) == 1  # not a subset of "w"
    assert run(program, DEV_BLOCK, ACC_READ, 8, 3) == 0
    assert run(program, DEV_BLOCK, ACC_READ, 9, 3) == 1


def test_later_rules_override_earlier_ones() -> None:
    program = device_filter(
        [rule("a", -1, -1, "rwm", False), rule("c", 1, 3, "rwm", True), rule("c", 1, 3, "w", False)]
    )
    assert run(program, DEV_CHAR, ACC_READ, 1, 3) == 1
    assert run(program, DEV_CHAR, ACC_WRITE, 1, 3) == 0


def test_no_rules_deny_everything() -> None:
    program = device_filter([])
    assert len(program) == 8
    assert run(program, DEV_CHAR, ACC_READ, 1, 3) == 0


def test_holes_in_wildcards_are_refused_as_on_v1() -> None:
    with pytest.raises(CgroupError, match="cannot punch a hole"):
        device_filter([rule("c", 1, -1, "rwm", True), rule("c", 1, 3, "r", False)])


def test_large_numbers_wrap_like_runc_and_bad_ones_fail() -> None:
    program = asm.resolve(device_filter([rule("c", 2**31 + 1, 0, "rwm", True)]))
    assert program[7].imm == 2**31 + 1 - 2**32
    with pytest.raises(CgroupError, match="invalid device major"):
        device_filter([rule("c", 2**32, 0, "rwm", True)])


def test_assembler_resolves_labels_and_rejects_bad_ones() -> None:
    code = asm.assemble(
        [asm.jne_imm(1, 0, "end"), asm.mov_imm32(0, 1), asm.exit_().with_label("end")]
    )
    assert code[:8] == struct.pack("<BBhi", 0x55, 0x01, 1, 0)
    with pytest.raises(CgroupError, match="unknown label"):
        asm.assemble([asm.jne_imm(1, 0, "nowhere")])
    with pytest.raises(CgroupError, match="defined twice"):
        asm.assemble([asm.exit_().with_label("x"), asm.exit_().with_label("x")])


def test_bpf_attr_layouts_match_the_kernel() -> None:
    # Sizes and offsets from linux/bpf.h (union bpf_attr members used here).
    assert bpf._ProgLoad.insns.offset == 8
    assert bpf._ProgLoad.log_buf.offset == 32
    assert bpf._ProgLoad.prog_name.offset == 48
    assert bpf._ProgLoad.expected_attach_type.offset == 68
    assert bpf._ProgQuery.prog_ids.offset == 16
    assert bpf._ProgQuery.prog_cnt.offset == 24
    assert bpf._ProgAttach.replace_bpf_fd.offset == 16
