"""The -ENOSYS stub and the filter loader (runc 1.1's ``libcontainer/seccomp/patchbpf``).

A filter whose default action is not permissive would answer syscalls newer than the profile
(say ``clone3`` or ``faccessat2`` with an old profile) with the default errno, usually EPERM.
glibc only falls back to the older syscall on ENOSYS, so runc prepends a stub to libseccomp's
program: per architecture, any syscall number above the largest one named in the profile gets
``SECCOMP_RET_ERRNO | ENOSYS``. This module generates that stub exactly as runc does (same
instructions, same jump arithmetic, architectures in a fixed order instead of Go's random map
order) and loads the patched program with ``seccomp(2)``, or ``prctl(PR_SET_SECCOMP)`` when no
filter flag is needed.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import struct
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from libcontainer.configs import Action, Seccomp
from libcontainer.errors import ConfigError, SyscallError

from . import libseccomp as scmp

__all__ = [
    "RET_ERRNO_ENOSYS",
    "Insn",
    "find_last_syscalls",
    "generate_enosys_stub",
    "generate_patch",
    "load_program",
    "parse_program",
]

log = logging.getLogger(__name__)

RET_ERRNO_ENOSYS = scmp.ERRNO(errno.ENOSYS)

# <linux/seccomp.h>
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_MODE_FILTER = 2
SECCOMP_FILTER_FLAG_TSYNC = 1 << 0
SECCOMP_FILTER_FLAG_LOG = 1 << 1
SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22

# <linux/bpf_common.h> opcodes the stub uses.
_LD_W_ABS = 0x20
_JMP_JA = 0x05
_JMP_JEQ_K = 0x15
_JMP_JGT_K = 0x25
_JMP_JSET_K = 0x45
_RET_K = 0x06

_X32_SYSCALL_BIT = 1 << 30
# s390(x) multiplexes large syscall numbers through setup(2), number 0.
_S390_MULTIPLEX_SYSCALL = 0

_SOCK_FILTER = struct.Struct("=HBBI")


class Insn(NamedTuple):
    """One classic BPF instruction (``struct sock_filter``)."""

    code: int
    jt: int
    jf: int
    k: int

    def __str__(self) -> str:
        return f"{{{self.code:#06x}, {self.jt}, {self.jf}, {self.k:#010x}}}"


def _load(offset: int) -> Insn:
    return Insn(_LD_W_ABS, 0, 0, offset)


def _ja(skip: int) -> Insn:
    return Insn(_JMP_JA, 0, 0, skip)


def _ret(value: int) -> Insn:
    return Insn(_RET_K, 0, 0, value)


def _jif(code: int, value: int, skip_true: int = 0, skip_false: int = 0) -> Insn:
    if not (0 <= skip_true <= 255 and 0 <= skip_false <= 255):
        raise ValueError("conditional BPF jump out of range")
    return Insn(code, skip_true, skip_false, value)


def parse_program(data: bytes) -> list[Insn]:
    """Split a BPF program (host endianness, as libseccomp exports it) into instructions."""
    if len(data) % _SOCK_FILTER.size:
        raise ValueError("BPF program parsing halted mid-instruction")
    return [Insn(*fields) for fields in _SOCK_FILTER.iter_unpack(data)]


def assemble(program: Iterable[Insn]) -> bytes:
    """The ``struct sock_filter[]`` bytes of ``program``."""
    return b"".join(_SOCK_FILTER.pack(*insn) for insn in program)


# The kernel-side token of each libseccomp one: x32 runs on AUDIT_ARCH_X86_64 with bit 30 set.
def _native_arch(token: int) -> int:
    if token == scmp.Arch.NATIVE:
        token = scmp.system_arch()
    if token == scmp.Arch.X32:
        return scmp.Arch.X86_64
    return token


LastSyscalls = dict[int, dict[int, int]]


def find_last_syscalls(config: Seccomp, arches: Sequence[int]) -> LastSyscalls:
    """``{audit arch: {libseccomp arch: largest syscall number in the profile}}``.

    Only the architectures listed in the profile (``arches``, resolved tokens) count: any other
    gets the filter's bad-architecture action anyway.
    """
    last: LastSyscalls = {}
    for arch in arches:
        native = _native_arch(arch)
        per_arch = last.setdefault(native, {})
        if arch in per_arch:
            continue
        largest = 0
        for rule in config.syscalls:
            try:
                num = scmp.resolve_syscall(arch, rule.name)
            except ValueError:
                continue
            assert isinstance(num, int)
            largest = max(largest, num)
        if largest:
            per_arch[arch] = largest
        else:
            log.warning("could not find any syscalls for arch %#x", arch)
    return last


def _section(native: int, max_syscalls: dict[int, int], base_jump_enosys: int) -> list[Insn]:
    """The per-architecture check; jumps count from the end of the tail it is prepended to."""
    base_jump_filter = base_jump_enosys + 1
    section = [_load(0)]
    if len(max_syscalls) == 1:
        ((arch, sysno),) = max_syscalls.items()
        if arch in (scmp.Arch.S390, scmp.Arch.S390X):
            section += [
                _jif(_JMP_JEQ_K, _S390_MULTIPLEX_SYSCALL, 0, 1),  # jne [setup=0],1
                _ret(RET_ERRNO_ENOSYS),
            ]
        if base_jump_enosys + 1 <= 255:
            tail = [_jif(_JMP_JGT_K, sysno, base_jump_enosys + 1), _ja(base_jump_filter)]
        else:
            tail = [
                _jif(_JMP_JGT_K, sysno, 0, 1),  # jle [syscall],1
                _ret(RET_ERRNO_ENOSYS),
                _ja(base_jump_filter),
            ]
        if native == scmp.Arch.X86_64:
            if arch == scmp.Arch.X86_64:
                # jset (1<<30),[len(tail)-1]: an x32 call skips the x86_64 check.
                tail.insert(0, _jif(_JMP_JSET_K, _X32_SYSCALL_BIT, len(tail) - 1))
            elif arch == scmp.Arch.X32:
                tail.insert(0, _jif(_JMP_JSET_K, _X32_SYSCALL_BIT, 0, len(tail) - 1))
            else:
                raise ValueError(f"unknown amd64 native architecture {arch:#x}")
        return section + tail
    if len(max_syscalls) == 2:
        if native != scmp.Arch.X86_64:
            raise ValueError(f"unknown architecture overlap on native arch {native:#x}")
        x32 = max_syscalls[scmp.Arch.X32]
        x86_64 = max_syscalls[scmp.Arch.X86_64]
        if base_jump_enosys + 2 <= 255:
            return [
                *section,
                _jif(_JMP_JSET_K, _X32_SYSCALL_BIT, 1),
                _jif(_JMP_JGT_K, x86_64, base_jump_enosys + 2, 1),
                _jif(_JMP_JGT_K, x32, base_jump_enosys + 1),
                _ja(base_jump_filter),
            ]
        return [
            *section,
            _jif(_JMP_JSET_K, _X32_SYSCALL_BIT, 1),
            _jif(_JMP_JGT_K, x86_64, 1, 2),
            _jif(_JMP_JGT_K, x32, 0, 1),  # jle [x32 syscall],1
            _ret(RET_ERRNO_ENOSYS),
            _ja(base_jump_filter),
        ]
    raise ValueError(f"invalid number of architecture overlaps: {len(max_syscalls)}")


def generate_enosys_stub(last_syscalls: LastSyscalls) -> list[Insn]:
    """runc's ``generateEnosysStub``: the program to prepend to libseccomp's filter."""
    tail = [_ja(1), _ret(RET_ERRNO_ENOSYS)]
    jump_table: dict[int, int] = {}
    natives = sorted(last_syscalls)
    for native in natives:
        max_syscalls = last_syscalls[native]
        if not max_syscalls:
            continue
        tail = _section(native, max_syscalls, len(tail) - 1) + tail
        jump_table[native] = len(tail)
    tail = [_ja(len(tail)), *tail]
    for native in natives:
        # An arch without a section has no entry: like runc, it jumps past the whole stub.
        jump = len(tail) - jump_table.get(native, 0)
        if jump <= 255:
            tail = [_jif(_JMP_JEQ_K, native, jump), *tail]
        else:
            tail = [_jif(_JMP_JEQ_K, native, 0, 1), _ja(jump), *tail]
    return [_load(4), *tail]


def _is_allow_action(action: Action) -> bool:
    # TRACE counts as "allow": a good tracer handles -ENOSYS itself.
    return action in (Action.ALLOW, Action.LOG, Action.TRACE)


def generate_patch(config: Seccomp, arches: Sequence[int]) -> list[Insn]:
    """The stub for ``config``, or nothing when the default action is permissive or ENOSYS."""
    if config.default_errno_ret == errno.ENOSYS:
        return []
    if _is_allow_action(config.default_action):
        log.debug("seccomp: skipping -ENOSYS stub filter generation")
        return []
    return generate_enosys_stub(find_last_syscalls(config, arches))


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def load_program(program: bytes, flags: int) -> int | None:
    """Load ``program`` into the calling thread; the listener fd if NEW_LISTENER was asked.

    Needs ``no_new_privs`` or CAP_SYS_ADMIN (the kernel's rule).
    """
    count = len(program) // _SOCK_FILTER.size
    if not 0 < count <= 4096:
        raise ConfigError("a seccomp BPF program has 1 to 4096 instructions", value=count)
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(count, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    log.debug("seccomp filter flags: %d", flags)
    if flags == 0:
        rc = libc.prctl(
            PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog), 0, 0
        )
    else:
        nr = scmp.resolve_syscall(scmp.Arch.NATIVE, "seccomp")
        rc = libc.syscall(
            ctypes.c_long(int(nr)),
            ctypes.c_ulong(SECCOMP_SET_MODE_FILTER),
            ctypes.c_ulong(flags),
            ctypes.byref(fprog),
        )
    if rc < 0:
        err = ctypes.get_errno()
        hint = " (set no_new_privileges or keep CAP_SYS_ADMIN)" if err == errno.EACCES else ""
        raise SyscallError(err, f"error loading seccomp filter: {errno.errorcode.get(err)}{hint}")
    if flags & SECCOMP_FILTER_FLAG_NEW_LISTENER:
        return int(rc)
    return None


def set_no_new_privs() -> None:
    """``prctl(PR_SET_NO_NEW_PRIVS, 1)`` for the calling thread."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), 0, 0) < 0:
        err = ctypes.get_errno()
        raise SyscallError(err, "prctl(PR_SET_NO_NEW_PRIVS)")
