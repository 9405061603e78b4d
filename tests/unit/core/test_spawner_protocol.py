"""The caller <-> spawner messages: one datagram each, any size up to the limit, with fds."""

from __future__ import annotations

import os
import socket

import pytest

from libcontainer.spawner.protocol import MAX_REQUEST, Release, recv_obj, send_obj


@pytest.mark.parametrize("size", [0, 100, 70_000, MAX_REQUEST // 2])
def test_objects_of_any_size_arrive_whole(size: int) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, MAX_REQUEST)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, MAX_REQUEST)
        payload = {"blob": b"x" * size, "release": Release(7)}
        send_obj(ours, payload)
        send_obj(ours, "next")  # a second datagram is not mixed into the first
        assert recv_obj(theirs) == (payload, [])
        assert recv_obj(theirs) == ("next", [])


def test_fds_travel_with_the_object_and_eof_is_none() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    r, w = os.pipe()
    try:
        send_obj(ours, "with fds", [r, w])
        obj, fds = recv_obj(theirs)
        assert obj == "with fds" and len(fds) == 2
        os.write(fds[1], b"!")
        assert os.read(r, 1) == b"!"
        for fd in fds:
            os.close(fd)
        ours.close()
        assert recv_obj(theirs) == (None, [])
    finally:
        os.close(r)
        os.close(w)
        theirs.close()
