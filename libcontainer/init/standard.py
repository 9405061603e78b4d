"""The standard init: PID 1 of a new container (runc's standard_init_linux.go)."""

from __future__ import annotations

import os
import socket

from libcontainer import rootfs, selinux, stagelog, sync
from libcontainer.configs import Config
from libcontainer.hooks import run_hooks
from libcontainer.init import deferred
from libcontainer.init.fds import FdSet
from libcontainer.init.finalize import (
    attach_terminal,
    execve_program,
    lsm_labels,
    set_parent_death_signal,
)
from libcontainer.init.payload import InitPayload
from libcontainer.init.privileges import drop_privileges
from libcontainer.keys import join_session_keyring
from libcontainer.network import add_routes, link_up
from libcontainer.ocistate import hook_state
from libcontainer.procfs import apply_sysctls
from libcontainer.system import CLONE_NEWCGROUP, Syscalls, linux


def run(payload: InitPayload, fds: FdSet, sock: socket.socket) -> None:
    """Set the container up, wait on exec.fifo, exec the user's program."""
    syscalls = linux()
    config = payload.config
    process = payload.process
    profile, label = lsm_labels(config, process)
    # Refuse a process label SELinux cannot enforce before anything is set up (runc 1.1).
    selinux.check_process_label(label, enabled=payload.selinux_enabled)
    sync.expect(sock, sync.Go, what="waiting for cgroups to be applied")
    if payload.unshare_cgroupns:
        syscalls.unshare(CLONE_NEWCGROUP)
    # PID 1 leads its own session: no controlling terminal of the caller leaks in.
    os.setsid()
    fds.install_stdio()
    if not config.no_new_keyring:
        selinux.set_key_label(label, enabled=payload.selinux_enabled)
        join_session_keyring(syscalls, payload.container_id)
    if any(n.type == "loopback" for n in config.networks or ()):
        link_up("lo")
    if config.routes:
        add_routes(config.routes)

    joined = False

    def in_cgroups() -> None:
        nonlocal joined
        if not joined:
            sync.expect(sock, sync.CgroupsJoined, what="waiting to be put in the cgroups")
            joined = True

    def hooks_before_pivot() -> None:
        in_cgroups()  # hooks and everything after run inside the container's cgroups
        sync.send(sock, sync.RunHooks())
        sync.expect(sock, sync.HooksDone, what="running prestart hooks")
        _container_hooks(config, payload.container_id, "createContainer", "creating")

    rootfs.prepare_rootfs(
        config,
        syscalls=syscalls,
        run_hooks=hooks_before_pivot,
        in_cgroups=in_cgroups,
        mount_sources=fds.mounts,
    )
    fds.drop_mounts()
    if process.terminal:
        _setup_console(sock, fds, syscalls, process.console_size)
    rootfs.finalize_rootfs(config, syscalls=syscalls)
    _set_names(config, syscalls)
    apply_sysctls(dict(config.sysctl or {}))
    rootfs.apply_readonly_paths(config.readonly_paths or (), syscalls=syscalls)
    mount_label = config.mount_label if payload.selinux_enabled else ""
    rootfs.apply_masked_paths(config.mask_paths or (), mount_label, syscalls=syscalls)
    if config.parent_death_signal:
        set_parent_death_signal(syscalls, config.parent_death_signal)

    sync.send(sock, sync.Ready())
    sync.expect(sock, sync.Go, what="waiting for the state to be recorded")
    path, argv, env = drop_privileges(sock, payload, syscalls, fds, label=label, profile=profile)
    # Closing the channel tells the parent that creation succeeded.
    stagelog.init_line(payload, sock, "init: closing the pipe to signal completion")
    sock.close()
    _wait_for_start(fds)
    _container_hooks(config, payload.container_id, "startContainer", "created")
    if process.deferred:  # the program comes now, on its own channel (init/deferred.py)
        deferred.exec_program(fds, process, env)
    fds.install_extra()
    execve_program(path, argv, env)


def _setup_console(
    sock: socket.socket, fds: FdSet, syscalls: Syscalls, size: tuple[int, int] | None
) -> None:
    # /dev/ptmx is the container's now (after pivot_root), so the pty is too.
    master, slave = os.openpty()
    rootfs.mount_console(os.ttyname(slave), syscalls=syscalls)
    sync.send(sock, sync.Console(), [master])
    os.close(master)
    fds.install_stdio((slave, slave, slave))
    attach_terminal(slave, size)
    os.close(slave)


def _set_names(config: Config, syscalls: Syscalls) -> None:
    if config.hostname:
        syscalls.sethostname(config.hostname)
    domainname = getattr(config, "domainname", "")
    if domainname:
        syscalls.setdomainname(domainname)


def _wait_for_start(fds: FdSet) -> None:
    """Block until ``container.exec()`` opens exec.fifo for reading (runc's start)."""
    assert fds.fifo is not None
    fd = os.open(f"/proc/self/fd/{fds.fifo}", os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, b"0")
    finally:
        os.close(fd)
    os.close(fds.fifo)
    fds.fifo = None


def _container_hooks(config: Config, container_id: str, kind: str, status: str) -> None:
    hooks = getattr(config.hooks, _HOOK_ATTRS[kind], ()) if config.hooks else ()
    if hooks:
        state = hook_state(container_id, status, os.getpid(), config.labels or (), config.version)
        run_hooks(kind, hooks, state)


_HOOK_ATTRS = {"createContainer": "create_container", "startContainer": "start_container"}
