"""The fds a container process was handed, moved out of the way of 0, 1, 2, 3...

The discipline, in order:

1. :meth:`FdSet.adopt` (first thing in stage-2): park every handed-over fd high and close
   everything else inherited, so no fd of the host survives into the container
   (CVE-2024-21626).
2. :meth:`FdSet.install_stdio`: the container's stdio onto 0, 1, 2; the parked copies are
   closed at once, so a container with a terminal holds none of the caller's stdio.
3. :meth:`FdSet.close_strays` (before the seccomp filter is loaded): close whatever else
   is open by now, with ``close_range`` while it is still allowed; a profile that blocks
   ``close_range`` would otherwise turn the last sweep into a million ``close`` calls.
4. :meth:`FdSet.install_extra` (just before ``execve``): preserved fds onto 3, 4, ... and
   their parked copies closed one by one; nothing else is left that is not close-on-exec.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence

from libcontainer.init.payload import FdLayout

# Park fds above this so that dup2() onto 0..N never clobbers one we still need.
_PARK = 256
_MAX_FD = 1 << 20


class FdSet:
    """Where each handed-over fd lives now; every other inherited fd is closed.

    ``stdio`` is ``None`` once installed onto 0, 1, 2; ``fifo`` once used and closed.
    """

    def __init__(
        self,
        sync: int,
        stdio: tuple[int, int, int] | None,
        extra: tuple[int, ...],
        fifo: int | None,
        mounts: dict[int, int] | None = None,
    ) -> None:
        self.sync = sync
        self.stdio = stdio
        self.extra = extra
        self.fifo = fifo
        self.mounts = mounts or {}
        """Bind sources the runtime opened, by mount index, until :meth:`drop_mounts`."""

    @classmethod
    def adopt(cls, layout: FdLayout, fds: Sequence[int]) -> FdSet:
        """Re-number the received fds above _PARK and close everything else we inherited."""

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
            mounts={index: park(i) for index, i in layout.mounts},
        )
        _close_all_but(parked.held(), low=3)
        return parked

    def held(self) -> list[int]:
        """Every fd above stdio we still hold (the channel, parked stdio and extras, fifo,
        bind sources)."""
        out = [self.sync, *(self.stdio or ()), *self.extra, *self.mounts.values()]
        if self.fifo is not None:
            out.append(self.fifo)
        return out

    def drop_mounts(self) -> None:
        """Close the bind sources (attached or not, they are of no more use)."""
        for fd in self.mounts.values():
            os.close(fd)
        self.mounts = {}

    def install_stdio(self, stdio: tuple[int, int, int] | None = None) -> None:
        """dup2 the container's stdio (or ``stdio``, e.g. a pty) onto 0, 1, 2.

        The parked copies of the caller's stdio are closed right away: replaced later by a
        terminal, nothing of the caller's is held any more.
        """
        for target, fd in enumerate(stdio or self.stdio or (0, 1, 2)):
            if fd != target:
                os.dup2(fd, target, inheritable=True)
        if self.stdio is not None:
            for fd in set(self.stdio):
                os.close(fd)
            self.stdio = None

    def close_strays(self) -> None:
        """Close every fd but 0-2 and the ones held (see the module's step 3)."""
        _close_all_but(self.held(), low=3)

    def install_extra(self, keep: int = -1) -> None:
        """Put preserved fds at 3, 4, ... and close their parked copies (``keep`` excepted:
        a close-on-exec channel that must live up to the ``execve``)."""
        for i, fd in enumerate(self.extra):
            os.dup2(fd, 3 + i, inheritable=True)
        for fd in self.extra:
            if fd != keep:
                os.close(fd)
        self.extra = ()


def _close_all_but(keep: Sequence[int], *, low: int) -> None:
    prev = low
    for fd in sorted(set(keep)):
        if fd < prev:
            continue
        if fd > prev:
            os.closerange(prev, fd)
        prev = fd + 1
    os.closerange(prev, _MAX_FD)
