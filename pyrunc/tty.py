"""Attached processes: signal forwarding and the pty relay of ``run``/``exec`` with a tty.

When ``run`` or ``exec`` stays attached, signals sent to pyrunc go to the container process
(runc's signal handler) and, with ``terminal: true`` and no console socket, pyrunc copies
between its own stdio and the pty master, with the local terminal in raw mode.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Iterator
from typing import IO

__all__ = ["exit_status", "forward_signals", "relay_pty"]

_NOT_FORWARDED = {signal.SIGCHLD, signal.SIGKILL, signal.SIGSTOP, signal.SIGWINCH, signal.SIGURG}


@contextlib.contextmanager
def forward_signals(pid: int) -> Iterator[None]:
    """Forward every catchable signal to ``pid`` for the duration of the block."""
    previous: dict[signal.Signals, object] = {}

    def forward(sig: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    for sig in signal.valid_signals():
        if sig in _NOT_FORWARDED:
            continue
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            previous[sig] = signal.signal(sig, forward)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(sig, handler)  # type: ignore[arg-type]


def exit_status(code: int) -> int:
    """A process's status as a shell reports it: 128+N when killed by signal N."""
    return 128 - code if code < 0 else code


def _copy_winsize(src: int, dst: int) -> None:
    import fcntl
    import termios

    with contextlib.suppress(OSError):
        size = fcntl.ioctl(src, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(dst, termios.TIOCSWINSZ, size)


def relay_pty(master: IO[bytes]) -> None:
    """Copy stdin to the pty master and the master to stdout until the pty closes."""
    import termios
    import tty

    mfd = master.fileno()
    stdin_tty = os.isatty(0)
    saved = termios.tcgetattr(0) if stdin_tty else None
    if stdin_tty:
        _copy_winsize(0, mfd)
        signal.signal(signal.SIGWINCH, lambda *_: _copy_winsize(0, mfd))
        # TCSANOW, as runc's MakeRaw: TCSAFLUSH (setraw's default) would throw away what
        # was typed ahead (a script feeding the container's shell before it started).
        tty.setraw(0, termios.TCSANOW)
    readers = [mfd, 0]
    try:
        while mfd in readers:
            ready, _, _ = select.select(readers, [], [])
            if mfd in ready:
                try:
                    data = os.read(mfd, 65536)
                except OSError:  # EIO: the last slave end closed
                    data = b""
                if not data:
                    readers.remove(mfd)
                else:
                    os.write(1, data)
            if 0 in ready:
                data = os.read(0, 65536)
                if data:
                    os.write(mfd, data)
                else:
                    readers.remove(0)
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
