"""The typed parent/child channel between the runtime and a container process.

Every message is a small frozen attrs class sent as one JSON datagram on a SOCK_SEQPACKET
socket, optionally with file descriptors attached (SCM_RIGHTS). JSON rather than pickle:
the child runs inside the container's namespaces, so nothing it sends may be able to make
the parent execute code.

The standard init's conversation, in runc's terms::

    parent                         init (stage-2)
      Go           ------------->     (unshare cgroupns; start on the rootfs)
      CgroupsJoined ------------>     (awaited before the first cgroup mount or the hooks)
                   <-------------  RunHooks          (rootfs mounted, before pivot_root)
      HooksDone    ------------->
                   <-------------  Console(fd)       (when a terminal was requested)
                   <-------------  Ready             (rlimits and state.json now)
      Go           ------------->     (drop privileges, load seccomp)
                   <-------------  SeccompFd(fd)     (only with SCMP_ACT_NOTIFY rules)
      SeccompDone  ------------->
                   <-------------  (channel closed: success; the init waits on exec.fifo)
    any time:      <-------------  Error(message)
    any time:      <-------------  Log(level, msg)

``Log`` messages carry the debug lines of every stage (the spawner's stage-0, the C stage-1,
the init; only when debug logging is on) and the init's log records (at the parent's
level) to the parent, which logs them as they are received (see
:mod:`libcontainer.stagelog`); :func:`recv` hands them over and reads on, so the rest of
the conversation never sees them.
"""

from __future__ import annotations

import array
import json
import os
import socket
from typing import Any, ClassVar

import attrs

from libcontainer.errors import ProcessStartError

MAX_DATAGRAM = 65536


@attrs.frozen
class Message:
    """Base class: ``kind`` names the message on the wire."""

    kind: ClassVar[str] = ""


@attrs.frozen
class Go(Message):
    """Parent -> init: cgroups are applied, carry on."""

    kind: ClassVar[str] = "go"


@attrs.frozen
class CgroupsJoined(Message):
    """Parent -> init: the init is in its cgroups now (sent once, right after Go)."""

    kind: ClassVar[str] = "cgroups-joined"


@attrs.frozen
class RunHooks(Message):
    """Init -> parent: mounts are done; run prestart/createRuntime hooks now."""

    kind: ClassVar[str] = "run-hooks"


@attrs.frozen
class HooksDone(Message):
    """Parent -> init: hooks ran, go on to pivot_root."""

    kind: ClassVar[str] = "hooks-done"


@attrs.frozen
class Console(Message):
    """Init -> parent: the pty master is attached."""

    kind: ClassVar[str] = "console"


@attrs.frozen
class SeccompFd(Message):
    """Init -> parent: the seccomp listener fd (SCMP_ACT_NOTIFY) is attached."""

    kind: ClassVar[str] = "seccomp-fd"


@attrs.frozen
class SeccompDone(Message):
    """Parent -> init: the listener fd went to the agent."""

    kind: ClassVar[str] = "seccomp-done"


@attrs.frozen
class Ready(Message):
    """Init -> parent: set up done; a standard init now waits on exec.fifo."""

    kind: ClassVar[str] = "ready"


@attrs.frozen
class Program(Message):
    """Parent -> deferred init: what to exec now; stdin, stdout, stderr are attached.

    Sent on the deferred init's own channel (not the setup channel), once; see
    :mod:`libcontainer.init.deferred`. The init answers with an Error, or closes the
    channel by exec'ing the program.
    """

    kind: ClassVar[str] = "program"
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    cwd: str = "/"


@attrs.frozen
class Log(Message):
    """Any stage -> parent: one log line (runc's log pipe); never answered."""

    kind: ClassVar[str] = "log"
    level: str = "debug"
    msg: str = ""


@attrs.frozen
class Error(Message):
    """Init -> parent: setup failed; ``message`` says what and where."""

    kind: ClassVar[str] = "error"
    message: str = ""


_KINDS: dict[str, type[Message]] = {
    cls.kind: cls
    for cls in (
        Go,
        CgroupsJoined,
        RunHooks,
        HooksDone,
        Console,
        SeccompFd,
        SeccompDone,
        Ready,
        Program,
        Log,
        Error,
    )
}


def send(sock: socket.socket, msg: Message, fds: list[int] | None = None) -> None:
    """Send one message (and fds) as a single datagram."""
    body = attrs.asdict(msg, recurse=False)
    body["kind"] = msg.kind
    data = json.dumps(body).encode()
    if fds:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        sock.sendall(data)


def recv(sock: socket.socket, *, max_fds: int = 4) -> tuple[Message | None, list[int]]:
    """Receive one message; ``(None, [])`` means the other side closed the channel.

    :class:`Log` messages in between are passed to :func:`libcontainer.stagelog.forward`.
    """
    while True:
        msg, fds = _recv_one(sock, max_fds)
        if not isinstance(msg, Log):
            return msg, fds
        from libcontainer import stagelog

        stagelog.forward(msg)


def _recv_one(sock: socket.socket, max_fds: int) -> tuple[Message | None, list[int]]:
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(
        MAX_DATAGRAM, socket.CMSG_SPACE(max_fds * fds.itemsize)
    )
    for level, ctype, cdata in ancdata:
        if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
    if not data:
        for fd in fds:
            _close(fd)
        return None, []
    try:
        body: dict[str, Any] = json.loads(data)
        cls = _KINDS[body.pop("kind")]
        return cls(**body), list(fds)
    except (ValueError, KeyError, TypeError) as e:
        for fd in fds:
            _close(fd)
        raise ProcessStartError(f"malformed message from container process: {e}") from None


def expect(sock: socket.socket, cls: type[Message], *, what: str) -> list[int]:
    """Receive a message that must be ``cls``; an Error or EOF becomes ProcessStartError."""
    msg, fds = recv(sock)
    if isinstance(msg, cls):
        return fds
    for fd in fds:
        _close(fd)
    if isinstance(msg, Error):
        raise ProcessStartError(msg.message)
    if msg is None:
        raise ProcessStartError(f"container process exited while {what}")
    raise ProcessStartError(f"unexpected {msg.kind!r} message while {what}")


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
