"""The real :class:`~libcontainer.system.Syscalls`, on top of the cffi binding."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

import libcontainer._nsenter as _nsenter
from libcontainer.errors import SyscallError

_ffi: Any = _nsenter.ffi
_lib: Any = _nsenter.lib
_AT_FDCWD = -100


def _fail(what: str, errno: int | None = None) -> SyscallError:
    err = _ffi.errno if errno is None else errno
    return SyscallError(err, f"{what}: {os.strerror(err).lower()}")


def _b(s: str | None) -> object:
    return _ffi.NULL if s is None else os.fsencode(s)


class LinuxSyscalls:
    """System calls through ``libcontainer._nsenter``."""

    def spawn(
        self,
        sync_fd: int,
        clone_flags: int,
        joins: Sequence[tuple[int, int]],
        become_root: bool,
        log_fd: int = -1,
    ) -> int:
        if len(joins) > 8:
            raise ValueError("at most 8 namespaces can be joined")
        cfg = _ffi.new("struct nsenter_config *")
        cfg.sync_fd = sync_fd
        cfg.clone_flags = clone_flags
        for i, (fd, nstype) in enumerate(joins):
            cfg.join_fds[i] = fd
            cfg.join_types[i] = nstype
        cfg.join_count = len(joins)
        cfg.become_root = 1 if become_root else 0
        cfg.log_fd = log_fd
        pid = int(_lib.nsenter_spawn(cfg))
        if pid < 0:
            raise _fail("clone", -pid)
        return pid

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        if _lib.nsenter_mount(_b(source), _b(target), _b(fstype), flags, _b(data or None)) < 0:
            raise _fail(f"mount {source or fstype} to {target} (flags {flags:#x})")

    def umount(self, target: str, flags: int = 0) -> None:
        if _lib.nsenter_umount2(_b(target), flags) < 0:
            raise _fail(f"umount {target}")

    def pivot_root(self, new_root: str, put_old: str) -> None:
        if _lib.nsenter_pivot_root(_b(new_root), _b(put_old)) < 0:
            raise _fail(f"pivot_root {new_root}")

    def setns(self, fd: int, nstype: int) -> None:
        if _lib.nsenter_setns(fd, nstype) < 0:
            raise _fail(f"setns {nstype:#x}")

    def unshare(self, flags: int) -> None:
        if _lib.nsenter_unshare(flags) < 0:
            raise _fail(f"unshare {flags:#x}")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        r = int(_lib.nsenter_prctl(option, arg2, arg3, arg4, arg5))
        if r < 0:
            raise _fail(f"prctl {option}")
        return r

    def capget(self, pid: int = 0) -> tuple[int, int, int]:
        out = _ffi.new("unsigned int[6]")
        if _lib.nsenter_capget(pid, out) < 0:
            raise _fail("capget")
        return (
            out[0] | (out[1] << 32),
            out[2] | (out[3] << 32),
            out[4] | (out[5] << 32),
        )

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        lo, hi = 0xFFFFFFFF, 32
        r = _lib.nsenter_capset(
            effective & lo,
            effective >> hi,
            permitted & lo,
            permitted >> hi,
            inheritable & lo,
            inheritable >> hi,
        )
        if r < 0:
            raise _fail("capset")

    def join_session_keyring(self, name: str | None) -> int:
        key = int(_lib.nsenter_keyctl_join_session(_b(name)))
        if key < 0:
            raise _fail(f"join session keyring {name or ''}")
        return key

    def keyctl_setperm(self, key: int, perm: int) -> None:
        if _lib.nsenter_keyctl_setperm(key, perm) < 0:
            raise _fail("keyctl setperm")

    def sethostname(self, name: str) -> None:
        try:
            socket.sethostname(name)
        except OSError as e:
            raise _fail(f"sethostname {name}", e.errno) from None

    def setdomainname(self, name: str) -> None:
        raw = os.fsencode(name)
        if _lib.nsenter_setdomainname(raw, len(raw)) < 0:
            raise _fail(f"setdomainname {name}")

    def personality(self, persona: int) -> int:
        r = int(_lib.nsenter_personality(persona))
        if r < 0:
            raise _fail(f"personality {persona:#x}")
        return r

    def mount_setattr(
        self, dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int, propagation: int = 0
    ) -> None:
        if _lib.nsenter_mount_setattr(dirfd, _b(path), flags, attr_set, attr_clr, propagation) < 0:
            raise _fail(f"mount_setattr {path}")

    def open_tree(self, dirfd: int, path: str, flags: int) -> int:
        fd = int(_lib.nsenter_open_tree(dirfd, _b(path), flags))
        if fd < 0:
            raise _fail(f"open_tree {path}")
        return fd

    def move_mount(
        self, from_dirfd: int, from_path: str, to_dirfd: int, to_path: str, flags: int
    ) -> None:
        if _lib.nsenter_move_mount(from_dirfd, _b(from_path), to_dirfd, _b(to_path), flags) < 0:
            raise _fail(f"move_mount to {to_path}")

    def openat2(self, dirfd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        fd = int(_lib.nsenter_openat2(dirfd, _b(path), flags, mode, resolve))
        if fd < 0:
            raise _fail(f"openat2 {path}")
        return fd

    def renameat2(self, old: str, new: str, flags: int) -> None:
        if _lib.nsenter_renameat2(_AT_FDCWD, _b(old), _AT_FDCWD, _b(new), flags) < 0:
            raise _fail(f"rename {old} to {new}")

    def reset_signals(self) -> None:
        if _lib.nsenter_reset_signals() < 0:
            raise _fail("resetting signal dispositions")

    def seccomp_load(self, program: bytes, flags: int) -> int:
        count = len(program) // 8
        r = int(_lib.nsenter_seccomp_load(program, count, flags))
        if r < 0:
            hint = " (set no_new_privileges or keep CAP_SYS_ADMIN)" if _ffi.errno == 13 else ""
            raise _fail("error loading seccomp filter" + hint)
        return r
