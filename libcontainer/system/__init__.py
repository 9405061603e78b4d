"""The syscall facade: the only package that touches the C binding.

:class:`Syscalls` is the interface the rest of the library programs against.
:func:`linux` returns the real implementation; :mod:`libcontainer.system.recording` has a
recording one for unit tests of logic and error paths (youki's ``Syscall`` trait idea).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .constants import *  # noqa: F403 - the constants are part of this package's surface

__all__ = ["Syscalls", "linux"]


class Syscalls(Protocol):
    """System calls the library needs beyond :mod:`os`; each raises SyscallError on failure."""

    def spawn(
        self,
        sync_fd: int,
        clone_flags: int,
        joins: Sequence[tuple[int, int]],
        become_root: bool,
        log_fd: int = -1,
    ) -> int:
        """Run the namespace dance; returns stage-1's pid in the caller, 0 in stage-2.

        ``log_fd`` (``-1``: none) receives stage-1's debug lines (see ``nsenter.h``)."""
        ...

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        """mount(2)."""
        ...

    def umount(self, target: str, flags: int = 0) -> None:
        """umount2(2)."""
        ...

    def pivot_root(self, new_root: str, put_old: str) -> None:
        """pivot_root(2)."""
        ...

    def setns(self, fd: int, nstype: int) -> None:
        """setns(2)."""
        ...

    def unshare(self, flags: int) -> None:
        """unshare(2)."""
        ...

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        """prctl(2); returns the call's result."""
        ...

    def capget(self, pid: int = 0) -> tuple[int, int, int]:
        """(effective, permitted, inheritable) capability masks of ``pid`` (0: self)."""
        ...

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """capset(2) for the calling thread."""
        ...

    def join_session_keyring(self, name: str | None) -> int:
        """keyctl(KEYCTL_JOIN_SESSION_KEYRING); returns the key serial."""
        ...

    def keyctl_setperm(self, key: int, perm: int) -> None:
        """keyctl(KEYCTL_SETPERM)."""
        ...

    def sethostname(self, name: str) -> None:
        """sethostname(2)."""
        ...

    def setdomainname(self, name: str) -> None:
        """setdomainname(2)."""
        ...

    def personality(self, persona: int) -> int:
        """personality(2)."""
        ...

    def mount_setattr(
        self, dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int, propagation: int = 0
    ) -> None:
        """mount_setattr(2)."""
        ...

    def open_tree(self, dirfd: int, path: str, flags: int) -> int:
        """open_tree(2); returns an fd."""
        ...

    def move_mount(
        self, from_dirfd: int, from_path: str, to_dirfd: int, to_path: str, flags: int
    ) -> None:
        """move_mount(2)."""
        ...

    def openat2(self, dirfd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        """openat2(2); returns an fd."""
        ...

    def renameat2(self, old: str, new: str, flags: int) -> None:
        """renameat2(2) with paths (``RENAME_NOREPLACE``: fail with EEXIST if ``new`` exists)."""
        ...

    def reset_signals(self) -> None:
        """Every signal to SIG_DFL (the C library's reserved ones too) and an empty mask."""
        ...

    def seccomp_load(self, program: bytes, flags: int) -> int:
        """seccomp(SECCOMP_SET_MODE_FILTER) of a BPF program; the listener fd, or 0."""
        ...


_LINUX: Syscalls | None = None


def linux() -> Syscalls:
    """The real implementation (loaded on first use: importing the C binding costs a little)."""
    global _LINUX
    if _LINUX is None:
        from .kernel import LinuxSyscalls

        _LINUX = LinuxSyscalls()
    return _LINUX
