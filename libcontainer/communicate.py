"""Popen's ``communicate`` for :class:`libcontainer.Process`: every pipe at once, one deadline.

CPython's ``Popen._communicate`` is the model: one selector serves stdin, stdout and
stderr together (a child filling one pipe while we write or read another cannot deadlock
us), ``timeout`` bounds the whole call, and a :class:`subprocess.TimeoutExpired` keeps what
was read so far so that calling again goes on. :meth:`Communicator.communicate_async` does
the same with the event loop's readers and writers instead of a selector.
"""

from __future__ import annotations

import os
import select
import selectors
import subprocess
import time
from typing import IO, TYPE_CHECKING, cast

if TYPE_CHECKING:
    import asyncio

# Writes of at most PIPE_BUF bytes to a pipe that select() calls writable never block.
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)
_READ_SIZE = 32768


class Communicator:
    """The pipe-serving half of :class:`libcontainer.Process`."""

    args: list[str]
    pid: int | None
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None

    if TYPE_CHECKING:

        def wait(self, timeout: float | None = None) -> int: ...

        async def wait_async(self) -> int: ...

    def _init_communication(self) -> None:
        self._communication_started = False
        self._outputs: dict[IO[bytes], list[bytes]] = {}
        self._input: bytes | None = None
        self._input_offset = 0

    def communicate(
        self, input: bytes | None = None, timeout: float | None = None
    ) -> tuple[bytes | None, bytes | None]:
        """Send ``input``, read stdout and stderr to EOF, wait for exit: Popen's contract.

        All pipes are served at once by one selector, so a process that fills one pipe
        while we write or read another never deadlocks. ``timeout`` bounds the whole call:
        :class:`subprocess.TimeoutExpired` carries the output read so far, the process keeps
        running, and calling again goes on where this call stopped (without new input).
        Returns ``(stdout, stderr)``; an entry is None when that stream is not a pipe.
        """
        if self._communication_started and input:
            raise ValueError("Cannot send input after starting communication")
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._communicate(input, deadline, timeout)
        finally:
            self._communication_started = True
        stdout = self._collected(self.stdout)
        stderr = self._collected(self.stderr)
        if self.pid is not None:
            self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return stdout, stderr

    def _collected(self, stream: IO[bytes] | None) -> bytes | None:
        if stream is None:
            return None
        return b"".join(self._outputs.get(stream, ()))

    async def communicate_async(
        self, input: bytes | None = None, timeout: float | None = None
    ) -> tuple[bytes | None, bytes | None]:
        """:meth:`communicate` for asyncio: the pipes and the exit are watched by the loop.

        Same contract (one deadline, output kept across a :class:`subprocess.TimeoutExpired`,
        call again to go on); no thread is used.
        """
        import asyncio

        if self._communication_started and input:
            raise ValueError("Cannot send input after starting communication")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self._begin_communication(input)
        self._communication_started = True
        # By fd: a finished stream is closed before its watch is removed.
        watched = {stream.fileno(): stream for stream in self._pending_streams()}
        if watched:
            finished: asyncio.Future[None] = loop.create_future()

            def unwatch(fd: int) -> None:
                if watched.pop(fd) is self.stdin:
                    loop.remove_writer(fd)
                else:
                    loop.remove_reader(fd)

            def serve(fd: int) -> None:
                if not self._serve(watched[fd]):
                    return
                unwatch(fd)
                if not watched and not finished.done():
                    finished.set_result(None)

            try:
                for fd, stream in watched.items():
                    if stream is self.stdin:
                        loop.add_writer(fd, serve, fd)
                    else:
                        loop.add_reader(fd, serve, fd)
                remaining = None if deadline is None else max(0.0, deadline - loop.time())
                await asyncio.wait({finished}, timeout=remaining)
                if not finished.done():
                    raise self._timeout_error(timeout)
            finally:
                for fd in list(watched):
                    unwatch(fd)
        if self.pid is not None:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                await asyncio.wait_for(self.wait_async(), remaining)
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0) from None
        return self._collected(self.stdout), self._collected(self.stderr)

    def _communicate(
        self, input: bytes | None, deadline: float | None, timeout: float | None
    ) -> None:
        self._begin_communication(input)
        with selectors.PollSelector() as selector:
            for stream in self._pending_streams():
                event = selectors.EVENT_WRITE if stream is self.stdin else selectors.EVENT_READ
                selector.register(stream, event)
            while selector.get_map():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise self._timeout_error(timeout)
                for key, _events in selector.select(remaining):
                    stream = cast(IO[bytes], key.fileobj)
                    if self._serve(stream):
                        selector.unregister(stream)

    def _begin_communication(self, input: bytes | None) -> None:
        """First call only: flush stdin, then keep ``input`` to send or close stdin."""
        if self._communication_started:
            return
        if self.stdin is not None:
            try:
                self.stdin.flush()
            except BrokenPipeError:
                pass
            if not input:
                try:
                    self.stdin.close()
                except BrokenPipeError:
                    pass
            else:
                self._input = bytes(input)
                self._input_offset = 0
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                self._outputs.setdefault(stream, [])

    def _pending_streams(self) -> list[IO[bytes]]:
        """The pipes still to write to (stdin) or to read to EOF."""
        out: list[IO[bytes]] = []
        if self.stdin is not None and not self.stdin.closed and self._input:
            out.append(self.stdin)
        for stream in (self.stdout, self.stderr):
            if stream is not None and not stream.closed:
                out.append(stream)
        return out

    def _serve(self, stream: IO[bytes]) -> bool:
        """One write to stdin or read from stdout/stderr; True once the stream is done."""
        if stream is self.stdin:
            assert self._input is not None
            chunk = self._input[self._input_offset : self._input_offset + _PIPE_BUF]
            try:
                self._input_offset += os.write(stream.fileno(), chunk)
            except BrokenPipeError:
                self._input_offset = len(self._input)
            if self._input_offset < len(self._input):
                return False
            try:
                stream.close()
            except BrokenPipeError:
                pass
            return True
        data = os.read(stream.fileno(), _READ_SIZE)
        if data:
            self._outputs[stream].append(data)
            return False
        stream.close()
        return True

    def _timeout_error(self, timeout: float | None) -> subprocess.TimeoutExpired:
        return subprocess.TimeoutExpired(
            self.args,
            timeout or 0.0,
            output=self._collected(self.stdout),
            stderr=self._collected(self.stderr),
        )
