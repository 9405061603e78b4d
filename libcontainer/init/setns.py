"""The setns init: a process exec'd into a running container (runc's setns_init_linux.go)."""

from __future__ import annotations

import os
import socket

from libcontainer import selinux, stagelog, sync
from libcontainer.init.fds import FdSet
from libcontainer.init.finalize import (
    attach_terminal,
    execve_program,
    lsm_labels,
)
from libcontainer.init.payload import InitPayload
from libcontainer.init.privileges import drop_privileges
from libcontainer.keys import join_session_keyring
from libcontainer.system import linux


def run(payload: InitPayload, fds: FdSet, sock: socket.socket) -> None:
    """Finish entering the container and exec the process."""
    syscalls = linux()
    config = payload.config
    process = payload.process
    profile, label = lsm_labels(config, process)
    selinux.check_process_label(label, enabled=payload.selinux_enabled)
    sync.expect(sock, sync.Go, what="waiting for cgroups to be joined")
    fds.install_stdio()
    if not config.no_new_keyring:
        selinux.set_key_label(label, enabled=payload.selinux_enabled)
        join_session_keyring(syscalls, payload.container_id)
    if process.terminal:
        os.setsid()
        master, slave = os.openpty()
        sync.send(sock, sync.Console(), [master])
        os.close(master)
        fds.install_stdio((slave, slave, slave))
        attach_terminal(slave, process.console_size)
        os.close(slave)
    path, argv, env = drop_privileges(sock, payload, syscalls, fds, label=label, profile=profile)
    stagelog.init_line(payload, sock, "setns_init: about to exec")
    sock.close()
    fds.install_extra()
    execve_program(path, argv, env)
