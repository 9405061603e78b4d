"""A spawner for single-threaded callers (such as a command-line tool): no helper process.

Starting the helper interpreter costs tens of milliseconds, which a short-lived CLI pays on
every command. A process that is known to be single-threaded may instead fork itself to get
stage-0 (a fork of a single-threaded process is safe); the stages it clones are, through
CLONE_PARENT, children of the caller as with the helper.
"""

from __future__ import annotations

import os
import socket
import threading

from libcontainer.errors import ProcessStartError

from .protocol import SpawnRequest, SpawnResult, recv_obj, send_obj


class ForkSpawner:
    """Forks the (single-threaded) caller for each spawn instead of using a helper."""

    def spawn(self, request: SpawnRequest, fds: list[int]) -> SpawnResult:
        """Same contract as :meth:`libcontainer.spawner.Spawner.spawn`."""
        if threading.active_count() != 1:
            raise ProcessStartError(
                "ForkSpawner needs a single-threaded process; use the default Spawner"
            )
        from . import server

        server.preload()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # stage-0
            code = 0
            try:
                ours.close()
                result = server.serve_one(theirs, request, fds)
                send_obj(theirs, result)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        try:
            obj, extra = recv_obj(ours)
        finally:
            ours.close()
            os.waitpid(pid, 0)
        for fd in extra:
            os.close(fd)
        if not isinstance(obj, SpawnResult):
            raise ProcessStartError("spawner process exited unexpectedly")
        return obj

    def release(self, pid: int) -> None:
        """Nothing is guarded: like runc, a killed caller leaves its half-made container."""

    def close(self) -> None:
        """Nothing to stop."""
