"""Writing to /proc files without being redirected (CVE-2025-52881 style attacks).

A container can bind-mount or symlink something over a /proc file the runtime writes to
(``/proc/sys/...``, ``/proc/self/attr/...``). Open without following symlinks and check the
opened file really lives on the procfs mounted at /proc before writing.
"""

from __future__ import annotations

import os

from libcontainer.errors import ConfigError, SyscallError, os_reason


def write_proc_file(path: str, data: str, *, proc: str = "/proc") -> None:
    """Write ``data`` to a file under ``proc`` after checking it is a procfs file."""
    if ".." in path.split("/"):
        raise ConfigError("path must not contain '..'", field="proc path", value=path)
    try:
        proc_dev = os.stat(proc).st_dev
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise SyscallError(e.errno, f"open {path}: {os_reason(e)}") from None
    try:
        if os.fstat(fd).st_dev != proc_dev:
            raise SyscallError(0, f"refusing to write {path}: not a file on {proc}'s procfs")
        os.write(fd, data.encode())
    except OSError as e:
        if isinstance(e, SyscallError):
            raise
        raise SyscallError(e.errno, f"write {path}: {os_reason(e)}") from None
    finally:
        os.close(fd)


def apply_sysctls(sysctl: dict[str, str] | None) -> None:
    """Write each ``key = value`` under /proc/sys (dots become slashes, as runc does)."""
    for key, value in (sysctl or {}).items():
        if "/" in key or ".." in key:
            raise ConfigError("invalid sysctl name", field="sysctl", value=key)
        write_proc_file("/proc/sys/" + key.replace(".", "/"), value)
