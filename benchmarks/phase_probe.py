"""Timestamps taken inside the container init, for ``lifecycle.py --phases``.

Loaded into the spawner helper before it serves (see :class:`ProbedSpawner`): it wraps a
few functions of the init with recorders that write ``CLOCK_MONOTONIC`` into a shared
memory page (a memfd mapped by the benchmark and by the spawner, whose clones inherit the
mapping). Nothing in the library is changed; the probes cost a clock read each.
"""

from __future__ import annotations

import mmap
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Points recorded inside the init, in the order they happen.
POINTS = (
    "init_entry",  # stage-2 runs Python: the clone dance is over
    "mounts_start",  # prepare_rootfs begins (after Go, setsid, keyring, lo up)
    "pivot_start",
    "pivot_end",
    "privileges_start",  # after the rest of the rootfs, Ready/Go with the parent
    "privileges_end",
    "released",  # exec.fifo opened by the parent's exec()
    "execve",  # the last instruction before the user's program
)
_SLOT = struct.Struct("d")
_REPO = str(Path(__file__).resolve().parent.parent)
_HERE = str(Path(__file__).resolve().parent)


class Probe:
    """The benchmark's side: the shared page and its readings."""

    def __init__(self) -> None:
        self.fd = os.memfd_create("pylibcontainer-phases", 0)
        os.ftruncate(self.fd, mmap.PAGESIZE)
        self._map = mmap.mmap(self.fd, mmap.PAGESIZE)

    def clear(self) -> None:
        """Zero every slot (before a run)."""
        self._map[: _SLOT.size * len(POINTS)] = bytes(_SLOT.size * len(POINTS))

    def read(self) -> dict[str, float]:
        """The points of the last run (monotonic seconds; 0 if not reached)."""
        return {
            name: _SLOT.unpack_from(self._map, i * _SLOT.size)[0] for i, name in enumerate(POINTS)
        }


def make_spawner(probe: Probe) -> Any:
    """A Spawner whose helper loads this module's probes (same server, same warm path)."""
    from libcontainer.spawner import Spawner

    class ProbedSpawner(Spawner):
        def _start(self) -> socket.socket:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            ours.set_inheritable(False)
            boot = (
                f"import sys; sys.path[:0] = [{_REPO!r}, {_HERE!r}]; import phase_probe; "
                f"phase_probe.install({probe.fd}); "
                f"from libcontainer.spawner.server import main; main({theirs.fileno()})"
            )
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-I", "-c", boot],
                    pass_fds=[theirs.fileno(), probe.fd],
                    stdin=subprocess.DEVNULL,
                    close_fds=True,
                )
            finally:
                theirs.close()
            self._sock = ours
            return ours

    return ProbedSpawner()


def install(fd: int) -> None:
    """In the spawner: map the page and wrap the init's steps with recorders."""
    import libcontainer.init.main as init_main
    import libcontainer.init.standard as standard
    import libcontainer.rootfs as rootfs
    import libcontainer.rootfs.prepare as prepare

    page = mmap.mmap(fd, mmap.PAGESIZE)
    os.close(fd)

    def mark(name: str) -> None:
        _SLOT.pack_into(page, POINTS.index(name) * _SLOT.size, time.monotonic())

    def around(fn: Callable[..., Any], before: str | None, after: str | None) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if before:
                mark(before)
            result = fn(*args, **kwargs)
            if after:
                mark(after)
            return result

        return wrapped

    init_main.run = around(init_main.run, "init_entry", None)
    rootfs.prepare_rootfs = around(rootfs.prepare_rootfs, "mounts_start", None)
    prepare.pivot_root = around(prepare.pivot_root, "pivot_start", "pivot_end")
    standard.drop_privileges = around(
        standard.drop_privileges, "privileges_start", "privileges_end"
    )
    standard._wait_for_start = around(standard._wait_for_start, None, "released")
    real_execve = os.execve

    def execve(*args: Any) -> Any:
        mark("execve")
        return real_execve(*args)

    os.execve = execve  # type: ignore[assignment]
