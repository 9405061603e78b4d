"""Being told when the OOM killer strikes in a container's cgroup (runc's ``NotifyOOM``).

cgroup v1 signals OOM through an eventfd registered on ``memory.oom_control`` via
``cgroup.event_control``; cgroup v2 updates ``memory.events`` (watched with inotify) and its
``oom_kill`` counter. :func:`notify_oom` picks the mechanism for a manager's memory cgroup and
returns an :class:`OomNotifier`: a file-descriptor-backed object to ``wait()`` on, or to put
in a ``selectors`` loop through :meth:`OomNotifier.fileno`.
"""

from __future__ import annotations

import ctypes
import errno
import os
import posixpath
import select
import struct
import time
from types import TracebackType
from typing import TYPE_CHECKING

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.cgroups.manager import Manager

__all__ = ["OomNotifier", "notify_oom", "notify_oom_v1", "notify_oom_v2"]

_IN_MODIFY = 0x2
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_INOTIFY_EVENT = struct.Struct("iIII")


class OomNotifier:
    """An OOM event source for one cgroup; use as a context manager, or :meth:`close`.

    :meth:`wait` returns True once per batch of OOM events; after the cgroup is removed
    (v1) or emptied of processes (v2, as runc) it returns False and :attr:`done` is set.
    """

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        """The memory cgroup watched."""
        self.version = version
        """1 (eventfd) or 2 (inotify on ``memory.events``)."""
        self.done = False
        """The cgroup is gone (v1) or has no processes left (v2): no more events."""
        self._fd = -1
        self._watch_events = -1
        self._watch_cgroup = -1
        self._last_oom_kill = 0
        self._control_fd = -1

    # -- set-up (by the constructors below) -----------------------------------------------

    def _start_v1(self) -> None:
        self._fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        try:
            control = posixpath.join(self.path, "memory.oom_control")
            self._control_fd = os.open(control, os.O_RDONLY | os.O_CLOEXEC)
            fscommon.write_file(self.path, "cgroup.event_control", f"{self._fd} {self._control_fd}")
        except BaseException:
            self.close()
            raise

    def _start_v2(self) -> None:
        libc = _libc()
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise _os_error("inotify_init1", self.path)
        self._fd = fd
        try:
            self._last_oom_kill = fscommon.get_value_by_key(self.path, "memory.events", "oom_kill")
            self._watch_events = self._add_watch(libc, "memory.events")
            if os.path.exists(posixpath.join(self.path, "cgroup.events")):
                self._watch_cgroup = self._add_watch(libc, "cgroup.events")
        except BaseException:
            self.close()
            raise

    def _add_watch(self, libc: ctypes.CDLL, name: str) -> int:
        target = posixpath.join(self.path, name).encode()
        wd = int(libc.inotify_add_watch(self._fd, target, _IN_MODIFY))
        if wd < 0:
            raise _os_error("inotify_add_watch", target.decode())
        return wd

    # -- use ---------------------------------------------------------------------------

    def fileno(self) -> int:
        """The descriptor that becomes readable when there may be news."""
        if self._fd < 0:
            raise ValueError("the OOM notifier is closed")
        return self._fd

    def wait(self, timeout: float | None = None) -> bool:
        """Block until an OOM event (True), or until ``timeout`` or the end (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fileno()], [], [], remaining)
            if not ready:
                return False
            if self._consume():
                return True
        return False

    def _consume(self) -> bool:
        if self.version == 1:
            try:
                os.eventfd_read(self._fd)
            except BlockingIOError:
                return False
            # The kernel also signals the eventfd when the cgroup is removed.
            if not os.path.exists(posixpath.join(self.path, "cgroup.event_control")):
                self.done = True
                return False
            return True
        oom = False
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return False
        offset = 0
        watches: set[int] = set()
        while offset + _INOTIFY_EVENT.size <= len(data):
            wd, mask, _cookie, length = _INOTIFY_EVENT.unpack_from(data, offset)
            offset += _INOTIFY_EVENT.size + length
            if mask & _IN_MODIFY:
                watches.add(wd)
        # Look at memory.events first: an OOM kill often empties the cgroup in one go.
        if self._watch_events in watches:
            count = self._read_count("memory.events", "oom_kill")
            if count is None or count > self._last_oom_kill:
                self._last_oom_kill = count or self._last_oom_kill
                oom = True
        if self._watch_cgroup in watches and not self._read_count("cgroup.events", "populated"):
            self.done = True
        return oom

    def _read_count(self, name: str, key: str) -> int | None:
        try:
            return fscommon.get_value_by_key(self.path, name, key)
        except CgroupFileError:
            return None

    def close(self) -> None:
        """Release the descriptors (idempotent)."""
        for attr in ("_fd", "_control_fd"):
            fd = getattr(self, attr)
            if fd >= 0:
                os.close(fd)
                setattr(self, attr, -1)

    def __enter__(self) -> OomNotifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def _os_error(call: str, path: str) -> CgroupError:
    err = ctypes.get_errno()
    return CgroupError(f"{call} on {path} failed: {os.strerror(err or errno.EIO)}")


def notify_oom_v1(memory_path: str) -> OomNotifier:
    """Watch the v1 memory cgroup at ``memory_path`` (eventfd on ``memory.oom_control``)."""
    notifier = OomNotifier(memory_path, 1)
    notifier._start_v1()
    return notifier


def notify_oom_v2(path: str) -> OomNotifier:
    """Watch the v2 cgroup at ``path`` (inotify on ``memory.events``)."""
    notifier = OomNotifier(path, 2)
    notifier._start_v2()
    return notifier


def notify_oom(manager: Manager) -> OomNotifier:
    """An OOM notifier for the container whose cgroups ``manager`` manages."""
    path = manager.path("memory")
    if not path or not os.path.isdir(path):
        raise CgroupError(
            "cannot watch for OOM events: the container has no memory cgroup (not created, "
            "or the memory controller is not available)"
        )
    if os.path.exists(posixpath.join(path, "memory.oom_control")):
        return notify_oom_v1(path)
    if os.path.exists(posixpath.join(path, "memory.events")):
        return notify_oom_v2(path)
    raise CgroupError(
        f"cannot watch for OOM events in {path}: neither memory.oom_control (v1) nor "
        "memory.events (v2, memory controller enabled) is there"
    )
