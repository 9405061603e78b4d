"""Handing a seccomp listener fd to the agent at ``listenerPath`` (runc 1.1's
``sendContainerProcessState``).

The agent receives one message on a fresh ``SOCK_STREAM`` connection: the OCI
``ContainerProcessState`` JSON with the listener fd attached as ``SCM_RIGHTS``::

    {"ociVersion": "...", "fds": ["seccompFd"], "pid": 1234,
     "metadata": "...", "state": {"ociVersion": ..., "id": ..., "status": "creating", ...}}
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from typing import Any

from libcontainer.errors import LibcontainerError, os_reason
from libcontainer.ocistate import OCI_VERSION

__all__ = ["SECCOMP_FD_NAME", "container_process_state", "send_listener_fd"]

# specs.SeccompFdName: the name of the listener fd in "fds".
SECCOMP_FD_NAME = "seccompFd"


def container_process_state(
    state: Mapping[str, Any] | str, metadata: str = "", pid: int | None = None
) -> dict[str, Any]:
    """The ``specs.ContainerProcessState`` for ``state`` (a ``specs.State``, dict or JSON).

    ``pid`` defaults to the state's; ``metadata`` is left out when empty (Go's omitempty).
    """
    st = json.loads(state) if isinstance(state, str) else dict(state)
    cps: dict[str, Any] = {
        "ociVersion": st.get("ociVersion") or OCI_VERSION,
        "fds": [SECCOMP_FD_NAME],
        "pid": st.get("pid", 0) if pid is None else pid,
    }
    if metadata:
        cps["metadata"] = metadata
    cps["state"] = st
    return cps


def send_listener_fd(
    listener_path: str,
    fd: int,
    state: Mapping[str, Any] | str,
    metadata: str = "",
    pid: int | None = None,
) -> None:
    """Connect to the agent at ``listener_path`` and send ``fd`` with the process state.

    ``fd`` stays open in the caller (close it after this returns). Raises
    :class:`LibcontainerError` when the agent cannot be reached.
    """
    payload = json.dumps(
        container_process_state(state, metadata, pid), separators=(",", ":")
    ).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(listener_path)
        except OSError as exc:
            # runc's words: engines and users search for them.
            raise LibcontainerError(
                "failed to connect with seccomp agent specified in the seccomp profile: "
                f"dial unix {listener_path}: connect: {os_reason(exc)} (is the seccomp agent "
                "named by seccomp.listener_path running?)"
            ) from exc
        try:
            socket.send_fds(sock, [payload], [fd])
        except OSError as exc:
            raise LibcontainerError(
                f"cannot send seccomp fd to the agent at {listener_path}: {os_reason(exc)}"
            ) from exc
