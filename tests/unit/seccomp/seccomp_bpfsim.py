"""A tiny classic-BPF interpreter for seccomp programs, to test filters without loading them."""

from __future__ import annotations

import struct

from libcontainer.seccomp.patchbpf import Insn, parse_program

SECCOMP_RET_ACTION_FULL = 0xFFFF0000


def seccomp_data(nr: int, arch: int, args: tuple[int, ...] = ()) -> bytes:
    """``struct seccomp_data`` in host endianness."""
    full = (tuple(args) + (0,) * 6)[:6]
    return struct.pack("=iIQ6Q", nr, arch, 0, *full)


def run(program: bytes | list[Insn], data: bytes) -> int:
    """The seccomp return value of ``program`` for ``data``."""
    insns = parse_program(program) if isinstance(program, bytes) else program
    a = x = 0
    mem = [0] * 16
    pc = 0
    for _ in range(100_000):
        code, jt, jf, k = insns[pc]
        cls = code & 0x07
        pc += 1
        if cls == 0x00:  # LD
            mode = code & 0xE0
            if mode == 0x20:  # ABS
                a = struct.unpack_from("=I", data, k)[0]
            elif mode == 0x00:  # IMM
                a = k
            elif mode == 0x60:  # MEM
                a = mem[k]
            else:
                raise NotImplementedError(hex(code))
        elif cls == 0x01:  # LDX
            mode = code & 0xE0
            if mode == 0x00:
                x = k
            elif mode == 0x60:
                x = mem[k]
            else:
                raise NotImplementedError(hex(code))
        elif cls == 0x02:  # ST
            mem[k] = a
        elif cls == 0x03:  # STX
            mem[k] = x
        elif cls == 0x04:  # ALU
            src = x if code & 0x08 else k
            op = code & 0xF0
            if op == 0x50:
                a &= src
            elif op == 0x40:
                a |= src
            elif op == 0x00:
                a = (a + src) & 0xFFFFFFFF
            elif op == 0x10:
                a = (a - src) & 0xFFFFFFFF
            else:
                raise NotImplementedError(hex(code))
        elif cls == 0x05:  # JMP
            op = code & 0xF0
            src = x if code & 0x08 else k
            if op == 0x00:
                pc += k
                continue
            cond = {0x10: a == src, 0x20: a > src, 0x30: a >= src, 0x40: bool(a & src)}[op]
            pc += jt if cond else jf
        elif cls == 0x06:  # RET
            return k if (code & 0x18) == 0x00 else a
        elif cls == 0x07:  # MISC
            if code & 0xF8 == 0x00:
                x = a
            else:
                a = x
        else:  # pragma: no cover
            raise NotImplementedError(hex(code))
    raise RuntimeError("BPF program did not terminate")
