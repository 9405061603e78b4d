"""The parent's side of a deferred init (see :mod:`libcontainer.init.deferred`).

A :class:`DeferredProcess` is started like any init (``Container.run``): the container is
set up completely, then its init waits on a channel of its own. :meth:`DeferredProcess.hand`
sends it the program (args, env, cwd and fresh stdio) and returns once the program has
been exec'd; from then on the object is used like any :class:`~libcontainer.Process`
(``communicate``, ``wait``, ``returncode``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence

import attrs

from libcontainer import sync
from libcontainer.configs import Rlimit
from libcontainer.errors import ProcessStartError
from libcontainer.init.payload import ProcessSpec
from libcontainer.process import DEVNULL, Process, StdioArg

#: The init's program until the real one arrives. It only has to pass the executable
#: lookup done while privileges are dropped: ``/proc/self/exe`` (the init's own
#: interpreter, reached through the container's ``/proc``) always does.
PLACEHOLDER = "/proc/self/exe"


class DeferredProcess(Process):
    """A container init that receives its program after the container is set up."""

    def __init__(self, *, user: str, rlimits: Sequence[Rlimit] | None = None) -> None:
        self._channel, self._their_channel = socket.socketpair(
            socket.AF_UNIX, socket.SOCK_SEQPACKET
        )
        super().__init__(
            [PLACEHOLDER],
            env=(),
            user=user,
            stdin=DEVNULL,
            stdout=DEVNULL,
            stderr=DEVNULL,
            pass_fds=[self._their_channel.fileno()],
            rlimits=rlimits,
        )
        self.handed = False
        """Whether the program was handed over."""

    def _spec(self) -> ProcessSpec:
        return attrs.evolve(super()._spec(), deferred=True)

    def _close_child_fds(self) -> None:
        super()._close_child_fds()
        # The init has its end now; ours must go, or a dying init would not close it.
        self._their_channel.close()

    def hand(
        self,
        args: Sequence[str],
        *,
        env: Sequence[str],
        cwd: str = "/",
        stdin: StdioArg = None,
        stdout: StdioArg = None,
        stderr: StdioArg = None,
        timeout: float | None = None,
    ) -> None:
        """Give the waiting init its program; return once it has been exec'd.

        stdio arguments are as for :class:`~libcontainer.Process`. Raises
        :class:`ProcessStartError` with the init's reason if the program cannot be
        started (not found, bad cwd), or if ``timeout`` passes first.
        """
        if self.handed:
            raise ProcessStartError("a deferred init takes one program only")
        self.handed = True
        self.args = list(args)
        self.env = list(env)
        self.cwd = cwd
        self._stdio_args = (stdin, stdout, stderr)
        stdio = self._child_stdio()
        message = sync.Program(args=tuple(args), env=tuple(env), cwd=cwd)
        try:
            try:
                sync.send(self._channel, message, list(stdio))
            except OSError as e:
                raise ProcessStartError(
                    f"container init is not waiting for a program: {e}"
                ) from None
        finally:
            self._close_child_fds()
        self._await_exec(timeout)

    def _await_exec(self, timeout: float | None) -> None:
        """EOF: the (close-on-exec) channel went with the exec. Else the init's Error."""
        channel = self._channel
        channel.settimeout(timeout)
        started = time.monotonic()
        try:
            reply, fds = sync.recv(channel)
        except TimeoutError:
            self._close_parent_streams()
            raise ProcessStartError(
                f"container init did not exec its program within {time.monotonic() - started:.1f}s"
            ) from None
        finally:
            channel.close()
        for fd in fds:
            os.close(fd)
        if reply is None:
            return
        self._close_parent_streams()
        if isinstance(reply, sync.Error):
            raise ProcessStartError(reply.message)
        raise ProcessStartError(f"unexpected {reply.kind!r} message from the container init")

    def discard(self) -> None:
        """Close our end of the channel (the init, if still waiting, then exits 0)."""
        self._channel.close()
        self._their_channel.close()
