"""The caller's side of the spawner helper (see :mod:`libcontainer.spawner.server`)."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from libcontainer.errors import ProcessStartError

from .protocol import Release, SpawnRequest, SpawnResult, recv_obj, send_obj

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)
_BOOT = (
    "import sys; sys.path.insert(0, {path!r}); "
    "from libcontainer.spawner.server import main; main({fd})"
)


class Spawner:
    """A helper process that clones container processes for this process.

    Thread-safe: requests are serialised (each takes a millisecond or two; the slow parts of
    starting a container run in the container process and in the caller's thread).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.set_inheritable(False)
        fd = theirs.fileno()
        boot = _BOOT.format(path=_PACKAGE_PARENT, fd=fd)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-c", boot],
                pass_fds=[fd],
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            theirs.close()
        self._sock = ours
        return ours

    def spawn(self, request: SpawnRequest, fds: list[int]) -> SpawnResult:
        """Clone a container process; returns stage-1's pid (reap it) and the final pid."""
        with self._lock:
            for attempt in range(2):
                sock = self._sock or self._start()
                try:
                    send_obj(sock, request, fds)
                    obj, extra = recv_obj(sock)
                except OSError as e:
                    if attempt == 0 and e.errno in (errno.EPIPE, errno.ECONNRESET):
                        self._reset()
                        continue
                    raise ProcessStartError(f"spawner helper failed: {e}") from None
                for fd in extra:
                    os.close(fd)
                if obj is None:
                    self._reset()
                    if attempt == 0:
                        continue
                    raise ProcessStartError("spawner helper exited unexpectedly")
                assert isinstance(obj, SpawnResult)
                return obj
        raise ProcessStartError("spawner helper is not available")

    def release(self, pid: int) -> None:
        """Creation of ``pid`` is over (done or undone): drop its guard.

        One way: the helper reads its requests in order, so the guard is gone before it
        serves the next request or notices that we exited; nothing is gained by waiting
        for it (a round trip on every start).
        """
        with self._lock:
            if self._sock is None:
                return
            try:
                send_obj(self._sock, Release(pid))
            except OSError:
                return

    def _reset(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.kill()
            except OSError:
                pass
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """Stop the helper (it also exits by itself when this process does)."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            if self._proc is not None:
                self._proc.wait()
                self._proc = None


_DEFAULT: Spawner | None = None
_DEFAULT_LOCK = threading.Lock()


def default_spawner() -> Spawner:
    """The process-wide spawner, started on first use."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Spawner()
        return _DEFAULT


def close_default_spawner() -> None:
    """Stop the process-wide spawner now (it also goes away when this process exits)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        spawner, _DEFAULT = _DEFAULT, None
    if spawner is not None:
        spawner.close()


def _forget_after_fork() -> None:
    # A forked child must not share its parent's helper (the socket would interleave).
    global _DEFAULT
    _DEFAULT = None


os.register_at_fork(after_in_child=_forget_after_fork)
