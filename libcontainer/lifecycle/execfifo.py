"""exec.fifo: the created init blocks opening it for writing until ``start`` reads it."""

from __future__ import annotations

import os
import select
import time

from libcontainer.errors import ProcessStartError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["EXEC_FIFO", "release"]

#: The fifo's name in the container's state directory (runc's).
EXEC_FIFO = "exec.fifo"


def release(
    path: str | os.PathLike[str], init_alive: Callable[[], bool], timeout: float | None = None
) -> None:
    """Read the init's byte from the fifo (letting it exec), then remove the fifo.

    The non-blocking open never waits for the writer; polling checks that the init is
    still alive, so a dead init cannot make us wait forever.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(fd, 1)
                except BlockingIOError:
                    data = b""
                if data:
                    break
            if not init_alive():
                raise ProcessStartError("container init exited before it was started")
            if deadline is not None and time.monotonic() > deadline:
                raise ProcessStartError("timed out waiting for the container init")
    finally:
        os.close(fd)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
