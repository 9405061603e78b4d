"""A binding of libseccomp.so.2 with the official Python ``seccomp`` module's API shape.

cffi in ABI mode, loaded by soname: nothing is compiled at install time. The library is opened
(and the declarations parsed) on first use, not at import, so importing this module is cheap.

    f = SyscallFilter(ERRNO(errno.EPERM))
    f.add_arch(Arch.X86)
    f.add_rule(ALLOW, "read")
    f.add_rule(ALLOW, "personality", Arg(0, EQ, 0xFFFFFFFF))
    program = f.export_bpf_bytes()

Errors from libseccomp (a negative errno) are raised as :class:`SyscallError`; a syscall or
architecture name that libseccomp does not know is a :class:`ValueError`.
"""

from __future__ import annotations

import functools
import os
from typing import IO, Any

from libcontainer.errors import SyscallError

__all__ = [
    "ALLOW",
    "EQ",
    "ERRNO",
    "GE",
    "GT",
    "KILL",
    "KILL_PROCESS",
    "KILL_THREAD",
    "LE",
    "LOG",
    "LT",
    "MASKED_EQ",
    "NE",
    "NOTIFY",
    "TRACE",
    "TRAP",
    "Arch",
    "Arg",
    "Attr",
    "SyscallFilter",
    "get_api",
    "resolve_syscall",
    "system_arch",
    "version",
]

SONAME = "libseccomp.so.2"


# __NR_SCMP_ERROR: what the resolvers return for a name they do not know.
_NR_SCMP_ERROR = -1


@functools.cache
def _binding() -> tuple[Any, Any]:
    """``(ffi, lib)``, parsed and opened once, on first use."""
    try:
        # Pre-parsed declarations (cffi's out-of-line ABI mode): no pycparser at run time.
        from ._libseccomp_ffi import ffi
    except ImportError:  # pragma: no cover - only if the generated module was removed
        from ._ffi_build import inline_ffi

        ffi = inline_ffi()
    try:
        lib = ffi.dlopen(SONAME)
    except OSError as exc:  # pragma: no cover - depends on the host
        raise OSError(
            f"cannot load {SONAME}: {exc}; install libseccomp2 (apt-get install libseccomp2)"
        ) from exc
    return ffi, lib


def _check(rc: int, what: str) -> int:
    if rc < 0:
        raise SyscallError(-rc, f"{what}: {os.strerror(-rc).lower()}")
    return rc


# --- actions (SCMP_ACT_*) -------------------------------------------------------------------

KILL_PROCESS = 0x80000000
KILL_THREAD = 0x00000000
KILL = KILL_THREAD
TRAP = 0x00030000
NOTIFY = 0x7FC00000
LOG = 0x7FFC0000
ALLOW = 0x7FFF0000


def ERRNO(errno: int) -> int:
    """``SCMP_ACT_ERRNO(errno)``: fail the syscall with ``errno``."""
    return 0x00050000 | (errno & 0x0000FFFF)


def TRACE(value: int) -> int:
    """``SCMP_ACT_TRACE(value)``: notify a ptrace tracer with ``value``."""
    return 0x7FF00000 | (value & 0x0000FFFF)


# --- comparison operators (SCMP_CMP_*) ------------------------------------------------------

NE = 1
LT = 2
LE = 3
EQ = 4
GE = 5
GT = 6
MASKED_EQ = 7


class Arch:
    """Architecture tokens (``SCMP_ARCH_*``, the kernel's ``AUDIT_ARCH_*`` values)."""

    NATIVE = 0
    X86 = 0x40000003
    X86_64 = 0xC000003E
    X32 = 0x4000003E
    ARM = 0x40000028
    AARCH64 = 0xC00000B7
    MIPS = 0x00000008
    MIPS64 = 0x80000008
    MIPS64N32 = 0xA0000008
    MIPSEL = 0x40000008
    MIPSEL64 = 0xC0000008
    MIPSEL64N32 = 0xE0000008
    PARISC = 0x0000000F
    PARISC64 = 0x8000000F
    PPC = 0x00000014
    PPC64 = 0x80000015
    PPC64LE = 0xC0000015
    S390 = 0x00000016
    S390X = 0x80000016
    RISCV64 = 0xC00000F3

    @staticmethod
    def resolve(name: str) -> int:
        """The token of a libseccomp architecture name (``x86_64``, ``aarch64``, ...)."""
        _, lib = _binding()
        token = int(lib.seccomp_arch_resolve_name(name.encode()))
        if token == 0:
            raise ValueError(f"unknown seccomp architecture {name!r}")
        return token


class Attr:
    """Filter attributes (``SCMP_FLTATR_*``) for :meth:`SyscallFilter.set_attr`."""

    ACT_DEFAULT = 1
    ACT_BADARCH = 2
    CTL_NNP = 3
    CTL_TSYNC = 4
    API_TSKIP = 5
    CTL_LOG = 6
    CTL_SSB = 7
    CTL_OPTIMIZE = 8
    API_SYSRAWRC = 9


def version() -> tuple[int, int, int]:
    """The loaded libseccomp's ``(major, minor, micro)``."""
    _, lib = _binding()
    v = lib.seccomp_version()
    return int(v.major), int(v.minor), int(v.micro)


def get_api() -> int:
    """libseccomp's API level (6 or more is needed for notify together with TSYNC)."""
    _, lib = _binding()
    return int(lib.seccomp_api_get())


def system_arch() -> int:
    """The native architecture token."""
    _, lib = _binding()
    return int(lib.seccomp_arch_native())


def resolve_syscall(arch: int, syscall: str | bytes | int) -> int | str:
    """A syscall name to its number on ``arch``, or a number to its name.

    Raises :class:`ValueError` for a name or number libseccomp does not know on ``arch``.
    Numbers of pseudo-syscalls (multiplexed ones such as ``socket`` on x86) are negative.
    """
    ffi, lib = _binding()
    if isinstance(syscall, int):
        ptr = lib.seccomp_syscall_resolve_num_arch(arch, syscall)
        if ptr == ffi.NULL:
            raise ValueError(f"unknown syscall number {syscall} on arch {arch:#x}")
        try:
            return str(ffi.string(ptr).decode())
        finally:
            lib.free(ptr)
    name = syscall.encode() if isinstance(syscall, str) else syscall
    num = int(lib.seccomp_syscall_resolve_name_arch(arch, name))
    if num == _NR_SCMP_ERROR:
        raise ValueError(f"unknown syscall {name.decode(errors='replace')!r} on arch {arch:#x}")
    return num


def _syscall_number(syscall: str | bytes | int) -> int:
    if isinstance(syscall, int):
        return syscall
    num = resolve_syscall(Arch.NATIVE, syscall)
    assert isinstance(num, int)
    return num


class Arg:
    """A condition on one syscall argument: ``Arg(arg, op, datum_a, datum_b=0)``.

    For ``MASKED_EQ`` the argument is masked with ``datum_a`` and compared to ``datum_b``.
    """

    __slots__ = ("arg", "datum_a", "datum_b", "op")

    def __init__(self, arg: int, op: int, datum_a: int, datum_b: int = 0) -> None:
        if not 0 <= arg < 6:
            raise ValueError(f"syscall argument index must be 0..5, got {arg}")
        if op not in (NE, LT, LE, EQ, GE, GT, MASKED_EQ):
            raise ValueError(f"unknown comparison operator {op}")
        self.arg = arg
        self.op = op
        self.datum_a = datum_a & 0xFFFFFFFFFFFFFFFF
        self.datum_b = datum_b & 0xFFFFFFFFFFFFFFFF

    def __repr__(self) -> str:
        return f"Arg({self.arg}, {self.op}, {self.datum_a:#x}, {self.datum_b:#x})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Arg):
            return NotImplemented
        return (self.arg, self.op, self.datum_a, self.datum_b) == (
            other.arg,
            other.op,
            other.datum_a,
            other.datum_b,
        )

    def __hash__(self) -> int:
        return hash((self.arg, self.op, self.datum_a, self.datum_b))


class SyscallFilter:
    """A libseccomp filter context; it starts with the native architecture only."""

    def __init__(self, defaction: int) -> None:
        ffi, lib = _binding()
        ctx = lib.seccomp_init(defaction)
        if ctx == ffi.NULL:
            raise ValueError(f"libseccomp rejected the default action {defaction:#x}")
        self._ffi = ffi
        self._lib = lib
        self._ctx = ffi.gc(ctx, lib.seccomp_release)
        self._defaction = defaction

    def __repr__(self) -> str:
        return f"SyscallFilter(defaction={self._defaction:#x})"

    def reset(self, defaction: int = -1) -> None:
        """Drop every rule and architecture; ``-1`` keeps the current default action."""
        if defaction == -1:
            defaction = self._defaction
        _check(self._lib.seccomp_reset(self._ctx, defaction), "seccomp_reset")
        self._defaction = defaction

    def add_arch(self, arch: int) -> None:
        """Add an architecture; adding one that is already present is not an error."""
        rc = int(self._lib.seccomp_arch_add(self._ctx, arch))
        if rc != -17:  # -EEXIST
            _check(rc, f"seccomp_arch_add({arch:#x})")

    def remove_arch(self, arch: int) -> None:
        """Remove an architecture from the filter."""
        _check(self._lib.seccomp_arch_remove(self._ctx, arch), f"seccomp_arch_remove({arch:#x})")

    def exist_arch(self, arch: int) -> bool:
        """Whether the filter has ``arch``."""
        rc = int(self._lib.seccomp_arch_exist(self._ctx, arch))
        if rc == -17:  # -EEXIST: libseccomp's "not present"
            return False
        _check(rc, f"seccomp_arch_exist({arch:#x})")
        return True

    def _add(self, fn: Any, what: str, action: int, syscall: str | bytes | int, args: Any) -> None:
        num = _syscall_number(syscall)
        conds = self._ffi.new("struct scmp_arg_cmp[]", max(len(args), 1))
        for i, a in enumerate(args):
            if not isinstance(a, Arg):
                raise TypeError(f"rule conditions must be Arg, got {a!r}")
            conds[i].arg = a.arg
            conds[i].op = a.op
            conds[i].datum_a = a.datum_a
            conds[i].datum_b = a.datum_b
        _check(fn(self._ctx, action, num, len(args), conds), f"{what}({syscall!r})")

    def add_rule(self, action: int, syscall: str | bytes | int, *args: Arg) -> None:
        """Add a rule; several ``args`` must all match (AND)."""
        self._add(self._lib.seccomp_rule_add_array, "seccomp_rule_add", action, syscall, args)

    def add_rule_exactly(self, action: int, syscall: str | bytes | int, *args: Arg) -> None:
        """Add a rule exactly as given (no per-architecture rewriting)."""
        self._add(
            self._lib.seccomp_rule_add_exact_array, "seccomp_rule_add_exact", action, syscall, args
        )

    def syscall_priority(self, syscall: str | bytes | int, priority: int) -> None:
        """Hint where a syscall goes in the filter (higher is earlier)."""
        num = _syscall_number(syscall)
        _check(
            self._lib.seccomp_syscall_priority(self._ctx, num, priority),
            "seccomp_syscall_priority",
        )

    def merge(self, other: SyscallFilter) -> None:
        """Merge ``other`` into this filter (libseccomp releases ``other``'s context)."""
        _check(self._lib.seccomp_merge(self._ctx, other._ctx), "seccomp_merge")
        # libseccomp freed other's context: detach its destructor so it is not released twice.
        self._ffi.gc(other._ctx, None)
        other._ctx = self._ffi.NULL

    def get_attr(self, attr: int) -> int:
        """A filter attribute (:class:`Attr`)."""
        value = self._ffi.new("uint32_t *")
        _check(self._lib.seccomp_attr_get(self._ctx, attr, value), f"seccomp_attr_get({attr})")
        return int(value[0])

    def set_attr(self, attr: int, value: int) -> None:
        """Set a filter attribute (:class:`Attr`)."""
        _check(self._lib.seccomp_attr_set(self._ctx, attr, value), f"seccomp_attr_set({attr})")

    def load(self) -> None:
        """Load the filter into the calling thread (or process, with ``CTL_TSYNC``)."""
        _check(self._lib.seccomp_load(self._ctx), "seccomp_load")

    def get_notify_fd(self) -> int:
        """The listener fd of a loaded filter that has ``NOTIFY`` rules."""
        return _check(self._lib.seccomp_notify_fd(self._ctx), "seccomp_notify_fd")

    def _export(self, fn: Any, what: str) -> bytes:
        fd = os.memfd_create("seccomp-export", os.MFD_CLOEXEC)
        try:
            _check(fn(self._ctx, fd), what)
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def export_bpf_bytes(self) -> bytes:
        """The filter as a BPF program (``struct sock_filter[]``, host endianness)."""
        return self._export(self._lib.seccomp_export_bpf, "seccomp_export_bpf")

    def export_pfc_text(self) -> str:
        """The filter in libseccomp's human-readable pseudo filter code."""
        return self._export(self._lib.seccomp_export_pfc, "seccomp_export_pfc").decode()

    def export_bpf(self, file: IO[Any] | int) -> None:
        """Write the BPF program to ``file`` (a file object or an fd)."""
        _write(file, self.export_bpf_bytes())

    def export_pfc(self, file: IO[Any] | int) -> None:
        """Write the pseudo filter code to ``file`` (a file object or an fd)."""
        _write(file, self.export_pfc_text().encode())


def _write(file: IO[Any] | int, data: bytes) -> None:
    if isinstance(file, int):
        view = memoryview(data)
        while view:
            view = view[os.write(file, view) :]
        return
    if hasattr(file, "buffer"):
        file.flush()
        file.buffer.write(data)
        file.buffer.flush()
    else:
        file.write(data)
        file.flush()
