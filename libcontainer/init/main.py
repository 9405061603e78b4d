"""Entry point of stage-2: set up fds, refuse late imports, run the right init, report errors.

Stage-2 is a clone of the warm spawner. Every module it needs was imported before the
clone; once it enters the container's mount namespace an ``import`` would read the
*container's* files from the host's Python paths, so :class:`_ImportBlocker` turns any
late import into an error instead.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from libcontainer import stagelog, sync
from libcontainer.errors import LibcontainerError
from libcontainer.init import setns as setns_init
from libcontainer.init import standard as standard_init
from libcontainer.init.fds import FdSet
from libcontainer.init.payload import InitPayload


class _ImportBlocker:
    """A meta path finder that refuses every import not already done."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        raise ImportError(f"container init must not import {name!r} after entering the container")


def run(payload: InitPayload, fds: Sequence[int]) -> None:
    """Run the container process described by ``payload``; never returns."""
    # Short-lived and a copy-on-write clone of the spawner: a collection would copy pages
    # for nothing.
    gc.disable()
    sys.meta_path.insert(0, _ImportBlocker())
    fdset = FdSet.adopt(payload.fds, fds)
    sock = socket.socket(fileno=fdset.sync)
    stagelog.stage2_begin(payload, sock)
    try:
        if payload.kind == "standard":
            standard_init.run(payload, fdset, sock)
        else:
            setns_init.run(payload, fdset, sock)
    except BaseException as e:
        _report(sock, e)
    os._exit(1)


def _report(sock: socket.socket, e: BaseException) -> None:
    if isinstance(e, OSError) and e.strerror and not e.filename:
        message = e.strerror  # runc's text, without Python's "[Errno N]" prefix
    elif isinstance(e, LibcontainerError | OSError):
        message = str(e)
    else:
        message = f"{type(e).__name__}: {e}"
    try:
        sync.send(sock, sync.Error(message=message))
    except OSError:
        # The channel is closed once creation has succeeded (e.g. we failed while waiting
        # on exec.fifo): the container's stderr is the only place left to say why.
        with contextlib.suppress(OSError):
            os.write(2, f"container init: {message}\n".encode())
