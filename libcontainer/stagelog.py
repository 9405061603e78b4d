"""Debug lines from the stages that start a container process, carried to the parent.

With ``runc --debug`` every stage of a start logs what it does: runc's parent, the C
``nsexec`` stages (``nsexec-0[PID]: ...`` for the one that spawns, ``nsexec-1`` for the one
that joins and unshares namespaces, ``nsexec-2`` for the container process), and its Go
init (``child process in init()``, ``setns_init: about to exec``); they all reach runc's
log through a pipe the parent reads. Engines collect those lines (containerd's shim reads
``log.json``), so we keep their shapes:

- stage-0 is the spawner (a fork of the caller, or the helper process): it writes its
  lines into the container process's channel to the parent (:mod:`libcontainer.sync`);
- stage-1 is C: given that channel's fd, it writes the same messages itself
  (``nsenter.h``);
- the init (stage-2) sends them on the channel it already talks to the parent over, and so
  the records of the :mod:`logging` loggers under ``libcontainer`` it logs to (where
  ``logging`` is loaded already: nothing may be imported there), until that channel is
  closed; after that, records go where they went before.

The parent logs them, as they arrive, on the ``libcontainer.stages`` logger at their level,
with ``stage=True`` in the record (handlers show them without a caller, as runc does for
forwarded lines). All of it happens only when that logger is enabled for DEBUG when the
process is started (``InitPayload.log_level``): otherwise no stage sends anything.

Nothing here may import a module in stage-2 (see :mod:`libcontainer.init.main`).
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from libcontainer import sync

if TYPE_CHECKING:
    import socket
    from collections.abc import Sequence

    from libcontainer.init.payload import InitPayload
    from libcontainer.spawner.protocol import SpawnResult

__all__ = [
    "LOGGER",
    "drain",
    "forward",
    "init_line",
    "parent_level",
    "stage0_begin",
    "stage0_end",
    "stage1_fd",
    "stage2_begin",
]

#: The logger the parent logs the stages' lines on.
LOGGER = "libcontainer.stages"
_DEBUG = 10
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def parent_level() -> int:
    """The level the stages log at (``InitPayload.log_level``): the parent's
    ``libcontainer.stages`` logger's effective level."""
    import logging

    return logging.getLogger(LOGGER).getEffectiveLevel()


def forward(msg: sync.Log) -> None:
    """In the parent: log a stage's line (called by :func:`libcontainer.sync.recv`)."""
    import logging

    level = _LEVELS.get(msg.level, _DEBUG)
    logging.getLogger(LOGGER).log(level, "%s", msg.msg, extra={"stage": True})


def drain(sock: socket.socket) -> None:
    """In the parent, when a start failed before the conversation: log the lines the
    stages sent so far (they tell how far it got), without waiting for more."""
    import socket as _socket

    while True:
        try:
            data = sock.recv(sync.MAX_DATAGRAM, _socket.MSG_DONTWAIT)
        except OSError:
            return
        if not data:
            return
        try:
            body = json.loads(data)
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("kind") == sync.Log.kind:
            forward(sync.Log(level=str(body.get("level", "debug")), msg=str(body.get("msg", ""))))


def _send_fd(fd: int, stage: str, text: str) -> None:
    """Send one line on the channel whose fd (in this process) is ``fd``."""
    data = json.dumps(
        {"kind": sync.Log.kind, "level": "debug", "msg": f"{stage}[{os.getpid()}]: {text}"}
    ).encode()
    try:
        os.write(fd, data)
    except OSError:
        pass  # a debug line never fails a start


def _on(payload: InitPayload) -> bool:
    return payload.log_level <= _DEBUG


def stage1_fd(payload: InitPayload, fds: Sequence[int]) -> int:
    """In stage-0: the fd stage-1 sends its lines to, ``-1`` when the stages are quiet."""
    return fds[payload.fds.sync] if _on(payload) else -1


def stage0_begin(payload: InitPayload, fds: Sequence[int]) -> None:
    """In stage-0, before it spawns stage-1."""
    if not _on(payload):
        return
    fd = fds[payload.fds.sync]
    _send_fd(fd, "nsexec", "=> nsexec container setup")
    for text in ("~> nsexec stage-0", "spawn stage-1", "-> stage-1 synchronisation loop"):
        _send_fd(fd, "nsexec-0", text)


def stage0_end(
    payload: InitPayload, fds: Sequence[int], stage1: int, result: SpawnResult
) -> SpawnResult:
    """In stage-0, once stage-1 is done; returns ``result`` (its outcome) unchanged."""
    if _on(payload):
        fd = fds[payload.fds.sync]
        if result.pid:
            _send_fd(fd, "nsexec-0", "stage-1 requested pid to be forwarded")
            _send_fd(
                fd,
                "nsexec-0",
                f"forward stage-1 ({stage1}) and stage-2 ({result.pid}) pids to the runtime",
            )
            _send_fd(fd, "nsexec-0", "stage-1 complete")
        else:
            _send_fd(fd, "nsexec-0", f"stage-1 failed: {result.error}")
        _send_fd(fd, "nsexec-0", "<- stage-1 synchronisation loop")
        _send_fd(fd, "nsexec-0", "<~ nsexec stage-0")
    return result


def stage2_begin(payload: InitPayload, sock: socket.socket) -> None:
    """In the container process, first thing: its log records go to the parent; with
    debug on, runc's last nsexec lines and its init's first."""
    _records_to_parent(payload, sock)
    if not _on(payload):
        return
    fd = sock.fileno()
    _send_fd(fd, "nsexec-2", "~> nsexec stage-2")
    _send_fd(fd, "nsexec-2", "<= nsexec container setup")
    init_line(payload, sock, "child process in init()")


def _records_to_parent(payload: InitPayload, sock: socket.socket) -> None:
    """Send the ``libcontainer`` loggers' records (at the parent's level) over ``sock``;
    once it is closed, hand them to the handlers there were before."""
    if "logging" not in sys.modules:
        return  # nobody logs here, and importing it now is not allowed
    import logging  # (already loaded: sys.modules answers, the import blocker is not asked)

    root = logging.getLogger("libcontainer")
    before = list(root.handlers)

    class _ToParent(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                text = record.getMessage()
                sync.send(sock, sync.Log(level=record.levelname.lower(), msg=text))
            except OSError:  # the channel is closed: the start is over
                for handler in before:
                    handler.handle(record)
            except Exception:
                self.handleError(record)

    root.handlers = [_ToParent()]
    root.setLevel(payload.log_level)
    root.propagate = False


def init_line(payload: InitPayload, sock: socket.socket, text: str) -> None:
    """In the container process: one of the init's lines (runc's Go init logs them bare)."""
    if not _on(payload):
        return
    try:
        sync.send(sock, sync.Log(level="debug", msg=text))
    except OSError:
        pass
