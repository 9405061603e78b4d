"""The few eBPF instructions a device filter needs, and their encoding.

An instruction is 8 bytes (``struct bpf_insn``): opcode, destination and source registers in
one byte (low and high nibble), a signed 16-bit offset and a signed 32-bit immediate. Jumps
name a label; :func:`assemble` resolves labels into offsets relative to the next instruction.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import attrs

from libcontainer.errors import CgroupError

__all__ = [
    "R0",
    "R1",
    "R2",
    "R3",
    "R4",
    "R5",
    "Instruction",
    "and_imm32",
    "assemble",
    "exit_",
    "jne_imm",
    "jne_reg",
    "load_word",
    "mov_imm32",
    "mov_reg32",
    "rsh_imm32",
]

R0, R1, R2, R3, R4, R5 = range(6)

# Opcode = class | operation | source; the classes and operations from linux/bpf_common.h.
_BPF_LDX, _BPF_ALU, _BPF_JMP = 0x01, 0x04, 0x05
_BPF_MEM, _BPF_W = 0x60, 0x00
_BPF_K, _BPF_X = 0x00, 0x08
_BPF_AND, _BPF_RSH, _BPF_MOV = 0x50, 0x70, 0xB0
_BPF_JNE, _BPF_EXIT = 0x50, 0x90

LDX_MEM_W = _BPF_LDX | _BPF_MEM | _BPF_W
ALU_AND_K = _BPF_ALU | _BPF_AND | _BPF_K
ALU_RSH_K = _BPF_ALU | _BPF_RSH | _BPF_K
ALU_MOV_K = _BPF_ALU | _BPF_MOV | _BPF_K
ALU_MOV_X = _BPF_ALU | _BPF_MOV | _BPF_X
JMP_JNE_K = _BPF_JMP | _BPF_JNE | _BPF_K
JMP_JNE_X = _BPF_JMP | _BPF_JNE | _BPF_X
JMP_EXIT = _BPF_JMP | _BPF_EXIT

_INSN = struct.Struct("<BBhi")


@attrs.frozen
class Instruction:
    """One instruction; ``target`` is the label a jump goes to, ``label`` names this one."""

    opcode: int
    dst: int = 0
    src: int = 0
    offset: int = 0
    imm: int = 0
    target: str = ""
    label: str = ""

    def with_label(self, label: str) -> Instruction:
        """This instruction, named ``label`` (a jump target)."""
        return attrs.evolve(self, label=label)


def load_word(dst: int, src: int, offset: int) -> Instruction:
    """``dst = *(u32 *)(src + offset)``."""
    return Instruction(LDX_MEM_W, dst, src, offset)


def and_imm32(dst: int, imm: int) -> Instruction:
    """``dst = (u32)(dst & imm)``."""
    return Instruction(ALU_AND_K, dst, imm=imm)


def rsh_imm32(dst: int, imm: int) -> Instruction:
    """``dst = (u32)dst >> imm``."""
    return Instruction(ALU_RSH_K, dst, imm=imm)


def mov_imm32(dst: int, imm: int) -> Instruction:
    """``dst = (u32)imm``."""
    return Instruction(ALU_MOV_K, dst, imm=imm)


def mov_reg32(dst: int, src: int) -> Instruction:
    """``dst = (u32)src``."""
    return Instruction(ALU_MOV_X, dst, src)


def jne_imm(dst: int, imm: int, target: str) -> Instruction:
    """``if dst != imm goto target``."""
    return Instruction(JMP_JNE_K, dst, imm=imm, target=target)


def jne_reg(dst: int, src: int, target: str) -> Instruction:
    """``if dst != src goto target``."""
    return Instruction(JMP_JNE_X, dst, src, target=target)


def exit_() -> Instruction:
    """``return r0``."""
    return Instruction(JMP_EXIT)


def resolve(program: Sequence[Instruction]) -> list[Instruction]:
    """The program with every jump's offset filled in from its target label."""
    labels: dict[str, int] = {}
    for index, insn in enumerate(program):
        if insn.label:
            if insn.label in labels:
                raise CgroupError(f"internal error: eBPF label {insn.label!r} defined twice")
            labels[insn.label] = index
    out = []
    for index, insn in enumerate(program):
        if insn.target:
            if insn.target not in labels:
                raise CgroupError(f"internal error: eBPF jump to unknown label {insn.target!r}")
            offset = labels[insn.target] - index - 1
            if not -(2**15) <= offset < 2**15:
                raise CgroupError("the device filter program is too long for eBPF jumps")
            insn = attrs.evolve(insn, offset=offset)
        out.append(insn)
    return out


def assemble(program: Sequence[Instruction]) -> bytes:
    """The kernel's binary form of ``program`` (labels resolved)."""
    return b"".join(
        _INSN.pack(insn.opcode, (insn.src << 4) | insn.dst, insn.offset, insn.imm)
        for insn in resolve(program)
    )
