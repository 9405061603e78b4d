"""A recording :class:`~libcontainer.system.Syscalls` for unit tests.

Every call is appended to :attr:`RecordingSyscalls.calls` as ``(name, args)``; a test can
make a call fail with :meth:`RecordingSyscalls.fail_on`, so error paths are testable
without root or a kernel that cooperates.
"""

from __future__ import annotations

import errno as errno_mod
import os
from collections.abc import Callable, Sequence
from typing import Any

from libcontainer.errors import SyscallError


class RecordingSyscalls:
    """Records calls instead of making them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._failures: list[tuple[str, Callable[[tuple[Any, ...]], bool], int]] = []
        self.caps: tuple[int, int, int] = (0, 0, 0)
        self.prctl_results: dict[int, int] = {}

    def fail_on(
        self,
        name: str,
        when: Callable[[tuple[Any, ...]], bool] = lambda args: True,
        errno: int = errno_mod.EPERM,
    ) -> None:
        """Make calls to ``name`` whose args satisfy ``when`` raise SyscallError(errno)."""
        self._failures.append((name, when, errno))

    def names(self) -> list[str]:
        """The names of the recorded calls, in order."""
        return [name for name, _ in self.calls]

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        for fname, when, err in self._failures:
            if fname == name and when(args):
                raise SyscallError(err, f"{name}: {os.strerror(err).lower()}")

    def spawn(
        self,
        sync_fd: int,
        clone_flags: int,
        joins: Sequence[tuple[int, int]],
        become_root: bool,
        log_fd: int = -1,
    ) -> int:
        self._record("spawn", sync_fd, clone_flags, tuple(joins), become_root, log_fd)
        return 4242

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        self._record("mount", source, target, fstype, flags, data)

    def umount(self, target: str, flags: int = 0) -> None:
        self._record("umount", target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._record("pivot_root", new_root, put_old)

    def setns(self, fd: int, nstype: int) -> None:
        self._record("setns", fd, nstype)

    def unshare(self, flags: int) -> None:
        self._record("unshare", flags)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        self._record("prctl", option, arg2, arg3, arg4, arg5)
        return self.prctl_results.get(option, 0)

    def capget(self, pid: int = 0) -> tuple[int, int, int]:
        self._record("capget", pid)
        return self.caps

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._record("capset", effective, permitted, inheritable)
        self.caps = (effective, permitted, inheritable)

    def join_session_keyring(self, name: str | None) -> int:
        self._record("join_session_keyring", name)
        return 1

    def keyctl_setperm(self, key: int, perm: int) -> None:
        self._record("keyctl_setperm", key, perm)

    def sethostname(self, name: str) -> None:
        self._record("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._record("setdomainname", name)

    def personality(self, persona: int) -> int:
        self._record("personality", persona)
        return 0

    def mount_setattr(
        self, dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int, propagation: int = 0
    ) -> None:
        self._record("mount_setattr", dirfd, path, flags, attr_set, attr_clr, propagation)

    def open_tree(self, dirfd: int, path: str, flags: int) -> int:
        self._record("open_tree", dirfd, path, flags)
        return 99

    def move_mount(
        self, from_dirfd: int, from_path: str, to_dirfd: int, to_path: str, flags: int
    ) -> None:
        self._record("move_mount", from_dirfd, from_path, to_dirfd, to_path, flags)

    def openat2(self, dirfd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        self._record("openat2", dirfd, path, flags, mode, resolve)
        return 98

    def renameat2(self, old: str, new: str, flags: int) -> None:
        self._record("renameat2", old, new, flags)

    def reset_signals(self) -> None:
        self._record("reset_signals")

    def seccomp_load(self, program: bytes, flags: int) -> int:
        self._record("seccomp_load", program, flags)
        return 0
