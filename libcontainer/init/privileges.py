"""The privilege drop both inits end with, in runc's order."""

from __future__ import annotations

import socket

from libcontainer import apparmor, selinux
from libcontainer.init.fds import FdSet
from libcontainer.init.finalize import (
    finalize_process,
    set_no_new_privs,
    set_parent_death_signal,
)
from libcontainer.init.payload import InitPayload
from libcontainer.init.seccomp import load_seccomp
from libcontainer.system import Syscalls


def drop_privileges(
    sock: socket.socket,
    payload: InitPayload,
    syscalls: Syscalls,
    fds: FdSet,
    *,
    label: str,
    profile: str,
) -> tuple[str, list[str], dict[str, str]]:
    """Exec label, seccomp, user/caps/cwd, AppArmor, no_new_privs; returns what to execve.

    Without no_new_privs loading a seccomp filter needs CAP_SYS_ADMIN, so it happens before
    capabilities are dropped; with it, as late as possible. The AppArmor profile must be
    asked for before no_new_privs, which forbids profile transitions.
    """
    config, process = payload.config, payload.process
    fds.close_strays()  # while close_range is still allowed: the filter may forbid it
    no_new_privs = (
        process.no_new_privileges
        if process.no_new_privileges is not None
        else config.no_new_privileges
    )
    selinux.set_exec_label(label, enabled=payload.selinux_enabled)
    if payload.seccomp is not None and not no_new_privs:
        load_seccomp(sock, payload.seccomp, syscalls)
    path, argv, env = finalize_process(process, payload.capabilities, payload.last_cap, syscalls)
    if payload.kind == "standard" and config.parent_death_signal:
        # Changing uid clears the parent-death signal; set it again (runc's pdeath.Restore).
        set_parent_death_signal(syscalls, config.parent_death_signal)
    apparmor.apply_profile(profile, enabled=payload.apparmor_enabled)
    if no_new_privs:
        set_no_new_privs(syscalls)
        if payload.seccomp is not None:
            load_seccomp(sock, payload.seccomp, syscalls)
    return path, argv, env
