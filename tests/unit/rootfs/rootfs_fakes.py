"""A recording fake of the syscall facade for the rootfs unit tests.

Mount calls are recorded with ``/proc/self/fd/N`` translated back to where the fd points
(``ROOT/proc`` for a path in the test rootfs), so tests can assert on container paths.
``openat2`` is either refused with ENOSYS (the secure_join fallback) or made for real (it
needs no privilege), as the test chooses.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from libcontainer.errors import SyscallError
from libcontainer.system import linux
from libcontainer.system.recording import RecordingSyscalls


class FakeSyscalls(RecordingSyscalls):
    """A RecordingSyscalls that shows fd paths as paths and can do openat2 for real."""

    def __init__(self, root: Path, *, real_openat2: bool) -> None:
        super().__init__()
        self.root = str(root)
        self.real_openat2 = real_openat2
        self.trees: dict[int, str] = {}  # fd returned by open_tree -> its source path

    def show(self, path: str | None) -> str | None:
        """``/proc/self/fd/N`` as ``ROOT/...`` (inside the rootfs) or the real path."""
        if path is None or not path.startswith("/proc/self/fd/"):
            return path
        real = os.readlink(path)
        if real == self.root:
            return "ROOT"
        if real.startswith(self.root + "/"):
            return "ROOT" + real[len(self.root) :]
        return real

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        shown = self.show(target)
        assert shown is not None
        super().mount(self.show(source), shown, fstype, flags, data)

    def mount_setattr(
        self, dirfd: int, path: str, flags: int, attr_set: int, attr_clr: int, propagation: int = 0
    ) -> None:
        shown = self.show(path) if path else self.trees.get(dirfd, "")
        assert shown is not None
        super().mount_setattr(dirfd, shown, flags, attr_set, attr_clr, propagation)

    def open_tree(self, dirfd: int, path: str, flags: int) -> int:
        """Recorded; returns a real fd (of /dev/null) standing for the detached tree."""
        super().open_tree(dirfd, path, flags)
        fd = os.open("/dev/null", os.O_PATH | os.O_CLOEXEC)
        self.trees[fd] = path
        return fd

    def move_mount(
        self, from_dirfd: int, from_path: str, to_dirfd: int, to_path: str, flags: int
    ) -> None:
        """Recorded as (tree's source, target shown as a path) when both are fds."""
        source = self.trees.get(from_dirfd, from_path)
        target = self.show(to_path or f"/proc/self/fd/{to_dirfd}")
        super().move_mount(-1, source, -1, target or "", flags)

    def openat2(self, dirfd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        if not self.real_openat2:
            self.calls.append(("openat2", (dirfd, path, flags, mode, resolve)))
            raise SyscallError(errno.ENOSYS, "openat2: function not implemented")
        return linux().openat2(dirfd, path, flags, mode, resolve)

    def mounts(self) -> list[tuple[Any, ...]]:
        """The args of every mount call, in order."""
        return [args for name, args in self.calls if name == "mount"]
