"""Handing a pty master to someone else: runc's ``--console-socket`` protocol.

The runtime connects to a unix socket and sends one message whose payload is the pty's
name and whose ancillary data carries the master fd (SCM_RIGHTS).
"""

from __future__ import annotations

import array
import socket

from libcontainer.errors import ProcessStartError


def send_console(socket_path: str, master_fd: int) -> None:
    """Send ``master_fd`` over the unix socket at ``socket_path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(socket_path)
            # runc names the master after the device it was opened from.
            s.sendmsg(
                [b"/dev/ptmx"],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [master_fd]))],
            )
    except OSError as e:
        raise ProcessStartError(f"sending the console to {socket_path}: {e}") from None


def recv_console(conn: socket.socket) -> tuple[str, int]:
    """Receive ``(name, master_fd)`` from a connected console-socket peer."""
    fds = array.array("i")
    data, anc, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
    for level, ctype, cdata in anc:
        if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: fds.itemsize])
    if not fds:
        raise ProcessStartError("no file descriptor received on the console socket")
    return data.decode(errors="replace"), fds[0]
