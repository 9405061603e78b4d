"""Running a function in another network namespace without moving the caller.

A network namespace is per thread: a fresh thread enters the target namespace, opens its
netlink socket there, does its work and ends; the caller's threads never change namespace.
This works in a threaded caller (where entering a mount namespace would not), and since
the thread has no running asyncio loop, pyroute2's synchronous API works there even when
the caller is inside one. (pyroute2's own ``netns=`` option forks a child instead, which is
unsafe in a threaded caller, and creates the namespace when the name does not exist.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

from libcontainer.errors import NetworkError, os_reason

__all__ = ["NetnsId", "current_netns_id", "netns_id_of", "run_in_netns"]

T = TypeVar("T")
NetnsId = tuple[int, int]

_CLONE_NEWNET = 0x40000000


def netns_id_of(fd: int) -> NetnsId:
    """``(st_dev, st_ino)`` of the namespace file open as ``fd``: what identifies it."""
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def current_netns_id() -> NetnsId:
    """The identity of the calling thread's network namespace."""
    st = os.stat("/proc/thread-self/ns/net")
    return st.st_dev, st.st_ino


def run_in_netns(
    fn: Callable[[], T],
    *,
    path: str = "",
    fd: int | None = None,
    expect: NetnsId | None = None,
) -> T:
    """Call ``fn`` in a new thread in the network namespace ``fd`` or ``path`` and return
    its result (or raise its exception).

    Without ``fd`` and ``path`` the thread stays in the caller's namespace. ``expect``
    refuses (:class:`NetworkError`) a namespace other than the one identified so.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            _enter(path, fd, expect)
            result.append(fn())
        except BaseException as e:
            error.append(e)

    thread = threading.Thread(target=target, name="libcontainer-netns", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _enter(path: str, fd: int | None, expect: NetnsId | None) -> None:
    from libcontainer.system import linux

    if fd is None and not path:
        if expect is not None and current_netns_id() != expect:
            raise NetworkError(
                "this process is not in the network namespace the interface was created in"
            )
        return
    opened = -1
    if fd is None:
        try:
            fd = opened = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise NetworkError(f"open network namespace {path}: {os_reason(e)}") from None
    try:
        if expect is not None and netns_id_of(fd) != expect:
            raise NetworkError(
                f"{path or 'the network namespace'} is no longer the namespace the "
                "interface was created in"
            )
        try:
            linux().setns(fd, _CLONE_NEWNET)
        except OSError as e:
            raise NetworkError(
                f"enter network namespace {path or fd}: {os_reason(e)}"
                " (is it a network namespace file?)"
            ) from None
    finally:
        if opened >= 0:
            os.close(opened)
