"""The fds a container process was handed, moved out of the way of 0, 1, 2, 3..."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence

from libcontainer.init.payload import FdLayout

# Park fds above this so that dup2() onto 0..N never clobbers one we still need.
_PARK = 256


class FdSet:
    """Where each handed-over fd lives now; every other inherited fd is closed."""

    def __init__(
        self, sync: int, stdio: tuple[int, int, int], extra: tuple[int, ...], fifo: int | None
    ) -> None:
        self.sync = sync
        self.stdio = stdio
        self.extra = extra
        self.fifo = fifo

    @classmethod
    def adopt(cls, layout: FdLayout, fds: Sequence[int]) -> FdSet:
        """Re-number the received fds above _PARK and close everything else we inherited.

        Closing early matters: an fd of the host (a directory, the spawner's socket) must not
        survive into the container (CVE-2024-21626).
        """

        # Anything at or above ``low`` is out of the way of 0, 1, 2 and the preserved fds.
        low = 3 + len(layout.extra)

        def park(index: int) -> int:
            try:
                return fcntl.fcntl(fds[index], fcntl.F_DUPFD_CLOEXEC, _PARK)
            except OSError:
                # The parent may already have applied the process's RLIMIT_NOFILE (it does
                # so for an exec while we start): below _PARK is fine, just less tidy.
                return fcntl.fcntl(fds[index], fcntl.F_DUPFD_CLOEXEC, low)

        parked = cls(
            sync=park(layout.sync),
            stdio=(park(layout.stdio[0]), park(layout.stdio[1]), park(layout.stdio[2])),
            extra=tuple(park(i) for i in layout.extra),
            fifo=park(layout.fifo) if layout.fifo is not None else None,
        )
        keep = sorted(parked.all())
        # Close every inherited fd except the parked ones (and 0-2, replaced later).
        prev = 3
        for fd in keep:
            if fd > prev:
                os.closerange(prev, fd)
            prev = fd + 1
        os.closerange(prev, 1 << 20)
        return parked

    def all(self) -> list[int]:
        """Every fd we hold."""
        out = [self.sync, *self.stdio, *self.extra]
        if self.fifo is not None:
            out.append(self.fifo)
        return out

    def install_stdio(self, stdio: tuple[int, int, int] | None = None) -> None:
        """dup2 the container's stdio onto 0, 1, 2 (inheritable, for the exec)."""
        for target, fd in enumerate(stdio or self.stdio):
            os.dup2(fd, target, inheritable=True)

    def install_extra_and_close_rest(self) -> None:
        """Put preserved fds at 3, 4, ... and close every other fd; last step before exec."""
        for i, fd in enumerate(self.extra):
            os.dup2(fd, 3 + i, inheritable=True)
        os.closerange(3 + len(self.extra), 1 << 20)
