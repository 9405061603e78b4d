"""Messages between the caller and its spawner helper (both are the caller's own code)."""

from __future__ import annotations

import array
import pickle
import socket
from typing import Protocol

import attrs

from libcontainer.configs import IDMap
from libcontainer.init.payload import InitPayload

MAX_REQUEST = 4 * 1024 * 1024
MAX_FDS = 64


@attrs.frozen
class Guard:
    """What to undo if the caller dies before the container is created.

    The spawner outlives a killed caller for a moment (it notices the closed control
    socket): it then kills the half-made init and removes its cgroups and state dir.
    """

    state_dir: str
    cgroup_paths: tuple[str, ...] = ()


@attrs.frozen
class Release:
    """Caller -> spawner: creation of ``pid`` finished (or was undone); forget its guard.

    The only message without an answer.
    """

    pid: int


@attrs.frozen
class SpawnRequest:
    """Clone one container process: which namespaces to join and create, and its payload."""

    payload: InitPayload
    clone_flags: int
    join: tuple[tuple[str, int], ...] = ()
    uid_mappings: tuple[IDMap, ...] = ()
    gid_mappings: tuple[IDMap, ...] = ()
    setgroups_deny: bool = False
    become_root: bool = False
    newuidmap: str | None = None
    newgidmap: str | None = None
    guard: Guard | None = None


@attrs.frozen
class SpawnResult:
    """What happened: stage-1's pid (to reap), the final pid, or an error."""

    stage1_pid: int = 0
    pid: int = 0
    error: str | None = None


def send_obj(sock: socket.socket, obj: object, fds: list[int] | None = None) -> None:
    """Send a pickled object and optional fds as one datagram."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > MAX_REQUEST:
        raise ValueError("spawn request too large")
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([data], anc)


def recv_obj(sock: socket.socket) -> tuple[object | None, list[int]]:
    """Receive one pickled object and its fds; ``(None, [])`` on EOF."""
    fds = array.array("i")
    # The datagram's size first (it stays queued): a buffer of MAX_REQUEST would be a
    # fresh 4 MiB mapping for every message, most of them a few hundred bytes.
    size = sock.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC) or 1
    data, anc, _flags, _addr = sock.recvmsg(min(size, MAX_REQUEST), socket.CMSG_SPACE(MAX_FDS * 4))
    for level, ctype, cdata in anc:
        if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
    if not data:
        return None, list(fds)
    return pickle.loads(data), list(fds)


class SpawnerLike(Protocol):
    """Anything that clones container processes (the helper Spawner, ForkSpawner)."""

    def spawn(self, request: SpawnRequest, fds: list[int]) -> SpawnResult:
        """Clone the process described by ``request``, handing it ``fds``."""
        ...

    def release(self, pid: int) -> None:
        """Creation of ``pid`` is over: drop the guard set up by its request."""
        ...
