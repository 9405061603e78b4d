"""The typed parent/child channel."""

from __future__ import annotations

import os
import socket

import pytest

from libcontainer import sync
from libcontainer.errors import ProcessStartError


@pytest.fixture
def pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    yield a, b
    a.close()
    b.close()


def test_messages_round_trip_with_fds(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    r, w = os.pipe()
    sync.send(a, sync.Console(), [w])
    os.close(w)
    msg, fds = sync.recv(b)
    assert isinstance(msg, sync.Console) and len(fds) == 1
    os.write(fds[0], b"x")
    assert os.read(r, 1) == b"x"
    for fd in (r, fds[0]):
        os.close(fd)
    sync.send(a, sync.Error(message="mount /proc: permission denied"))
    msg, _ = sync.recv(b)
    assert msg == sync.Error(message="mount /proc: permission denied")


def test_expect_turns_errors_and_eof_into_process_start_error(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    sync.send(a, sync.Error(message="boom"))
    with pytest.raises(ProcessStartError, match=r"^boom$"):
        sync.expect(b, sync.Ready, what="setting up")
    sync.send(a, sync.Ready())
    with pytest.raises(ProcessStartError, match="unexpected 'ready'"):
        sync.expect(b, sync.Go, what="x")
    a.close()
    with pytest.raises(ProcessStartError, match="exited while waiting"):
        sync.expect(b, sync.Go, what="waiting")


def test_malformed_datagrams_are_rejected(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    for junk in (b"not json", b'{"kind": "nope"}', b'{"kind": "error", "bad": 1}'):
        a.send(junk)
        with pytest.raises(ProcessStartError, match="malformed"):
            sync.recv(b)
