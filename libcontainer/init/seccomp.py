"""Loading the parent-compiled seccomp filter, at runc's points in both inits."""

from __future__ import annotations

import os
import socket

from libcontainer import sync
from libcontainer.init.finalize import set_no_new_privs
from libcontainer.init.payload import CompiledSeccomp
from libcontainer.system import Syscalls


def load_seccomp(sock: socket.socket, compiled: CompiledSeccomp, syscalls: Syscalls) -> None:
    """Load the filter; with SCMP_ACT_NOTIFY rules hand the listener fd to the parent.

    From here on every syscall the init makes passes through the user's filter, so this
    runs as late as possible (runc's rule), right before the channel is closed.
    """
    if compiled.set_no_new_privs:
        set_no_new_privs(syscalls)
    fd = syscalls.seccomp_load(compiled.program, compiled.flags)
    if compiled.notify and fd > 0:
        try:
            sync.send(sock, sync.SeccompFd(), [fd])
        finally:
            os.close(fd)
        sync.expect(sock, sync.SeccompDone, what="handing the seccomp listener to the agent")
