"""The ``bpf(2)`` commands a device filter needs, through ctypes (no compiler needed).

Python has no ``bpf`` wrapper, so this calls ``syscall(SYS_bpf, cmd, &attr, size)`` from
libc with ``union bpf_attr`` laid out by hand, one ``ctypes.Structure`` per command.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
from collections.abc import Sequence

from libcontainer.cgroups.ebpf.asm import Instruction, assemble
from libcontainer.errors import CgroupError

__all__ = [
    "ATTACH_CGROUP_DEVICE",
    "F_ALLOW_MULTI",
    "F_REPLACE",
    "PROG_TYPE_CGROUP_DEVICE",
    "BpfError",
    "get_fd_by_id",
    "prog_attach",
    "prog_detach",
    "prog_load",
    "prog_query",
]

_SYS_BPF = {"x86_64": 321, "aarch64": 280, "ppc64le": 361, "s390x": 351, "riscv64": 280}

# Commands, program type, attach type and flags from linux/bpf.h.
_PROG_LOAD, _PROG_ATTACH, _PROG_DETACH, _PROG_GET_FD_BY_ID, _PROG_QUERY = 5, 8, 9, 13, 16
PROG_TYPE_CGROUP_DEVICE = 15
ATTACH_CGROUP_DEVICE = 6
F_ALLOW_MULTI = 1 << 1
F_REPLACE = 1 << 2

_LOG_SIZE = 64 * 1024


class BpfError(CgroupError):
    """A ``bpf(2)`` call failed; ``errno`` is the OS error number."""

    def __init__(self, message: str, errno_: int) -> None:
        super().__init__(message)
        self.errno = errno_


class _ProgLoad(ctypes.Structure):
    _fields_ = (
        ("prog_type", ctypes.c_uint32),
        ("insn_cnt", ctypes.c_uint32),
        ("insns", ctypes.c_uint64),
        ("license", ctypes.c_uint64),
        ("log_level", ctypes.c_uint32),
        ("log_size", ctypes.c_uint32),
        ("log_buf", ctypes.c_uint64),
        ("kern_version", ctypes.c_uint32),
        ("prog_flags", ctypes.c_uint32),
        ("prog_name", ctypes.c_char * 16),
        ("prog_ifindex", ctypes.c_uint32),
        ("expected_attach_type", ctypes.c_uint32),
    )


class _ProgAttach(ctypes.Structure):
    _fields_ = (
        ("target_fd", ctypes.c_uint32),
        ("attach_bpf_fd", ctypes.c_uint32),
        ("attach_type", ctypes.c_uint32),
        ("attach_flags", ctypes.c_uint32),
        ("replace_bpf_fd", ctypes.c_uint32),
    )


class _ProgQuery(ctypes.Structure):
    _fields_ = (
        ("target_fd", ctypes.c_uint32),
        ("attach_type", ctypes.c_uint32),
        ("query_flags", ctypes.c_uint32),
        ("attach_flags", ctypes.c_uint32),
        ("prog_ids", ctypes.c_uint64),
        ("prog_cnt", ctypes.c_uint32),
    )


class _GetFdById(ctypes.Structure):
    _fields_ = (
        ("prog_id", ctypes.c_uint32),
        ("next_id", ctypes.c_uint32),
        ("open_flags", ctypes.c_uint32),
    )


_libc: ctypes.CDLL | None = None


def _bpf(cmd: int, attr: ctypes.Structure, what: str) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    number = _SYS_BPF.get(platform.machine())
    if number is None:
        raise CgroupError(f"bpf(2) syscall number unknown for {platform.machine()}")
    _libc.syscall.restype = ctypes.c_long
    result = int(
        _libc.syscall(
            ctypes.c_long(number),
            ctypes.c_int(cmd),
            ctypes.byref(attr),
            ctypes.c_uint(ctypes.sizeof(attr)),
        )
    )
    if result < 0:
        err = ctypes.get_errno()
        raise BpfError(f"bpf({what}) failed: {os.strerror(err)}", err)
    return result


def prog_load(program: Sequence[Instruction], license_: str, name: str = "") -> int:
    """Load a cgroup device program; return its fd. The verifier's log is in the error."""
    # Older kernels charge BPF memory to RLIMIT_MEMLOCK (runc raises it the same way).
    try:
        resource.setrlimit(
            resource.RLIMIT_MEMLOCK, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
    except (ValueError, OSError):
        pass
    code = assemble(program)
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(license_.encode())
    log = ctypes.create_string_buffer(_LOG_SIZE)
    attr = _ProgLoad(
        prog_type=PROG_TYPE_CGROUP_DEVICE,
        insn_cnt=len(code) // 8,
        insns=ctypes.addressof(insns),
        license=ctypes.addressof(lic),
        log_level=1,
        log_size=_LOG_SIZE,
        log_buf=ctypes.addressof(log),
        prog_name=name.encode()[:15],
    )
    try:
        return _bpf(_PROG_LOAD, attr, "BPF_PROG_LOAD")
    except BpfError as exc:
        verifier = log.value.decode(errors="replace").strip()
        if verifier:
            raise BpfError(f"{exc}; verifier log:\n{verifier}", exc.errno) from exc
        raise


def prog_attach(
    target_fd: int, prog_fd: int, flags: int = F_ALLOW_MULTI, replace_fd: int = 0
) -> None:
    """Attach ``prog_fd`` to the cgroup open at ``target_fd`` as its device filter."""
    attr = _ProgAttach(
        target_fd=target_fd,
        attach_bpf_fd=prog_fd,
        attach_type=ATTACH_CGROUP_DEVICE,
        attach_flags=flags | (F_REPLACE if replace_fd else 0),
        replace_bpf_fd=replace_fd,
    )
    _bpf(_PROG_ATTACH, attr, "BPF_PROG_ATTACH")


def prog_detach(target_fd: int, prog_fd: int) -> None:
    """Detach the device program ``prog_fd`` from the cgroup open at ``target_fd``."""
    attr = _ProgAttach(target_fd=target_fd, attach_bpf_fd=prog_fd, attach_type=ATTACH_CGROUP_DEVICE)
    _bpf(_PROG_DETACH, attr, "BPF_PROG_DETACH")


def prog_query(target_fd: int) -> list[int]:
    """The ids of the device programs attached to the cgroup open at ``target_fd``."""
    size = 64
    for _ in range(10):
        ids = (ctypes.c_uint32 * size)()
        attr = _ProgQuery(
            target_fd=target_fd,
            attach_type=ATTACH_CGROUP_DEVICE,
            prog_ids=ctypes.addressof(ids),
            prog_cnt=size,
        )
        try:
            _bpf(_PROG_QUERY, attr, "BPF_PROG_QUERY")
        except BpfError as exc:
            # ENOSPC: more programs than room; prog_cnt now says how many.
            if exc.errno == errno.ENOSPC:
                size = int(attr.prog_cnt)
                continue
            raise
        return list(ids[: attr.prog_cnt])
    raise CgroupError("could not get the complete list of cgroup device programs")


def get_fd_by_id(prog_id: int) -> int:
    """An fd for the loaded program ``prog_id``."""
    return _bpf(_PROG_GET_FD_BY_ID, _GetFdById(prog_id=prog_id), "BPF_PROG_GET_FD_BY_ID")
