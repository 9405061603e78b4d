#!/usr/bin/env python3
"""A seccomp agent: answers the ``SCMP_ACT_NOTIFY`` syscalls of containers.

The runtime connects to ``--socket`` once per container and sends the OCI
``ContainerProcessState`` JSON with the seccomp listener fd attached (``SCM_RIGHTS``), as runc
does for ``linux.seccomp.listenerPath``. The agent then reads notifications from that fd with
the ``SECCOMP_IOCTL_NOTIF_*`` ioctls (struct layouts below, no compiler needed) and answers:

* ``mkdir``/``mkdirat`` of a path given with ``--allow-mkdir``: the agent creates the directory
  itself (inside the container's root, as seen through ``/proc/PID/root``) and the syscall
  returns success (or the agent's errno, e.g. EEXIST);
* anything else: EPERM.

    python3 examples/seccomp_agent.py --socket /run/seccomp-agent.sock --allow-mkdir /tmp/ok

With ``--once`` the agent exits after the first container's filter is gone (every process
that used it has exited); otherwise it serves containers until interrupted.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import fcntl
import json
import logging
import os
import select
import socket
import sys
import threading

from libcontainer.seccomp import libseccomp

log = logging.getLogger("seccomp-agent")

AT_FDCWD = -100


class SeccompData(ctypes.Structure):
    """``struct seccomp_data``: the syscall as the filter saw it."""

    _fields_ = (
        ("nr", ctypes.c_int32),
        ("arch", ctypes.c_uint32),
        ("instruction_pointer", ctypes.c_uint64),
        ("args", ctypes.c_uint64 * 6),
    )


class SeccompNotif(ctypes.Structure):
    """``struct seccomp_notif``: one pending syscall of a task."""

    _fields_ = (
        ("id", ctypes.c_uint64),
        ("pid", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("data", SeccompData),
    )


class SeccompNotifResp(ctypes.Structure):
    """``struct seccomp_notif_resp``: the answer (``error`` is a negative errno or 0)."""

    _fields_ = (
        ("id", ctypes.c_uint64),
        ("val", ctypes.c_int64),
        ("error", ctypes.c_int32),
        ("flags", ctypes.c_uint32),
    )


def _iowr(nr: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


def _iow(nr: int, size: int) -> int:
    return (1 << 30) | (size << 16) | (ord("!") << 8) | nr


SECCOMP_IOCTL_NOTIF_RECV = _iowr(0, ctypes.sizeof(SeccompNotif))
SECCOMP_IOCTL_NOTIF_SEND = _iowr(1, ctypes.sizeof(SeccompNotifResp))
SECCOMP_IOCTL_NOTIF_ID_VALID = _iow(2, ctypes.sizeof(ctypes.c_uint64))


def recv_notification(fd: int) -> SeccompNotif:
    """Block until a notification arrives (the struct must be zeroed for the kernel)."""
    buf = bytearray(ctypes.sizeof(SeccompNotif))
    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
    return SeccompNotif.from_buffer_copy(buf)


def send_response(fd: int, notif_id: int, val: int = 0, error: int = 0) -> None:
    """Answer notification ``notif_id``: return ``val``, or fail with ``error`` (positive)."""
    resp = SeccompNotifResp(id=notif_id, val=val, error=-error, flags=0)
    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(bytes(resp)), True)


def id_valid(fd: int, notif_id: int) -> bool:
    """Whether the task is still waiting on ``notif_id`` (guards against pid reuse)."""
    try:
        fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, bytearray(ctypes.c_uint64(notif_id)), True)
    except OSError:
        return False
    return True


def read_string(pid: int, address: int, limit: int = 4096) -> str:
    """A NUL-terminated string from the memory of ``pid``."""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        mem.seek(address)
        data = mem.read(limit)
    return os.fsdecode(data.split(b"\0", 1)[0])


class Agent:
    """Answers the notifications of one listener fd per container."""

    def __init__(self, allow_mkdir: set[str]) -> None:
        self.allow_mkdir = {os.path.normpath(p) for p in allow_mkdir}

    def serve_listener(self, fd: int, state: dict[str, object]) -> None:
        """Answer notifications until no task uses the filter any more (POLLHUP)."""
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        try:
            while True:
                events = poller.poll()
                hangup = any(ev & (select.POLLHUP | select.POLLERR) for _, ev in events)
                if hangup and not any(ev & select.POLLIN for _, ev in events):
                    break
                try:
                    notif = recv_notification(fd)
                except OSError as exc:
                    if exc.errno in (errno.ENOENT, errno.EINTR):
                        continue  # the task died or the wait was interrupted
                    raise
                self.handle(fd, notif)
        finally:
            os.close(fd)
        container = state.get("state")
        cid = container.get("id") if isinstance(container, dict) else None
        log.info("container %s: filter released", cid)

    def handle(self, fd: int, notif: SeccompNotif) -> None:
        """Decide one notification."""
        try:
            name = libseccomp.resolve_syscall(notif.data.arch, notif.data.nr)
        except ValueError:
            name = str(notif.data.nr)
        error = errno.EPERM
        if name in ("mkdir", "mkdirat"):
            error = self._mkdir(fd, notif, name)
        log.info("pid %d: %s -> %s", notif.pid, name, errno.errorcode.get(error, "success"))
        try:
            send_response(fd, notif.id, 0, error)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # ENOENT: the task is gone
                raise

    def _mkdir(self, fd: int, notif: SeccompNotif, name: str) -> int:
        args = notif.data.args
        pid = notif.pid
        if name == "mkdir":
            dirfd, address, mode = AT_FDCWD, args[0], args[1]
        else:
            dirfd, address, mode = ctypes.c_int32(args[0] & 0xFFFFFFFF).value, args[1], args[2]
        try:
            path = read_string(pid, address)
            if not os.path.isabs(path):
                base = f"/proc/{pid}/cwd" if dirfd == AT_FDCWD else f"/proc/{pid}/fd/{dirfd}"
                path = os.path.join(os.readlink(base), path)
        except OSError:
            return errno.EPERM
        # The memory read raced with nothing only if the task is still waiting on this id.
        if not id_valid(fd, notif.id):
            return errno.EPERM
        path = os.path.normpath(path)
        if path not in self.allow_mkdir:
            return errno.EPERM
        try:
            os.mkdir(f"/proc/{pid}/root{path}", mode & 0o7777)
        except OSError as exc:
            return exc.errno or errno.EPERM
        return 0


def receive_listener(conn: socket.socket) -> tuple[int, dict[str, object]]:
    """The listener fd and the ``ContainerProcessState`` a runtime sent."""
    data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
    if not fds:
        raise RuntimeError("the runtime sent no file descriptor")
    for extra in fds[1:]:
        os.close(extra)
    state: dict[str, object] = json.loads(data)
    names = state.get("fds")
    if not isinstance(names, list) or "seccompFd" not in names:
        os.close(fds[0])
        raise RuntimeError(f"unexpected container process state: {state}")
    return fds[names.index("seccompFd")], state


def serve(sock_path: str, agent: Agent, once: bool) -> None:
    """Accept runtimes on ``sock_path``; one thread per container's listener fd."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(sock_path)
        server.listen()
        log.info("listening on %s", sock_path)
        # Readiness for whoever started us: the socket exists and accepts.
        print("ready", flush=True)
        try:
            while True:
                conn, _ = server.accept()
                with conn:
                    fd, state = receive_listener(conn)
                log.info("pid %s metadata %r", state.get("pid"), state.get("metadata"))
                if once:
                    agent.serve_listener(fd, state)
                    return
                threading.Thread(target=agent.serve_listener, args=(fd, state), daemon=True).start()
        finally:
            os.unlink(sock_path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--socket", required=True, help="unix socket path to listen on")
    parser.add_argument(
        "--allow-mkdir", action="append", default=[], help="a path whose mkdir succeeds"
    )
    parser.add_argument("--once", action="store_true", help="serve one container, then exit")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="seccomp-agent: %(message)s",
    )
    try:
        serve(args.socket, Agent(set(args.allow_mkdir)), args.once)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
