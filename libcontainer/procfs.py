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
        proc_mnt = _mount_id_of(proc)
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise SyscallError(e.errno, f"open {path}: {os_reason(e)}") from None
    try:
        if os.fstat(fd).st_dev != proc_dev:
            raise SyscallError(0, f"refusing to write {path}: not a file on {proc}'s procfs")
        # Same device is not enough: another procfs file bind-mounted over the target (say
        # /proc/sysrq-trigger over /proc/sys/kernel/domainname) lives on the same procfs.
        # A file of /proc itself is on /proc's mount, not on a mount of its own.
        if proc_mnt is not None and _fd_mount_id(fd) not in (None, proc_mnt):
            raise SyscallError(0, f"refusing to write {path}: something is mounted over it")
        os.write(fd, data.encode())
    except OSError as e:
        if isinstance(e, SyscallError):
            raise
        raise SyscallError(e.errno, f"write {path}: {os_reason(e)}") from None
    finally:
        os.close(fd)


def _fd_mount_id(fd: int) -> int | None:
    """The mount id of an open fd (``mnt_id`` in fdinfo), None if the kernel hides it."""
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            for line in f:
                if line.startswith("mnt_id:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _mount_id_of(path: str) -> int | None:
    fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return _fd_mount_id(fd)
    finally:
        os.close(fd)


def apply_sysctls(sysctl: dict[str, str] | None) -> None:
    """Write each ``key = value`` under /proc/sys (dots become slashes, as runc does)."""
    for key, value in (sysctl or {}).items():
        if "/" in key or ".." in key:
            raise ConfigError("invalid sysctl name", field="sysctl", value=key)
        write_proc_file("/proc/sys/" + key.replace(".", "/"), value)
