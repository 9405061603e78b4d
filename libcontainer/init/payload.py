"""The bootstrap message: everything a container process needs, decided by the parent.

It travels from the caller to the spawner (pickled: both are the caller's own code) and
from there, by memory inheritance, into stage-2. Nothing here is re-parsed from JSON.
"""

from __future__ import annotations

from typing import Literal

import attrs

from libcontainer.capabilities import CapabilitySets
from libcontainer.configs import Capabilities, Config, Rlimit


@attrs.frozen
class ProcessSpec:
    """What to run and how: the pickleable part of :class:`libcontainer.Process`."""

    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    user: str = "0:0"
    additional_groups: tuple[str, ...] = ()
    capabilities: Capabilities | None = None
    no_new_privileges: bool | None = None
    rlimits: tuple[Rlimit, ...] | None = None
    apparmor_profile: str | None = None
    label: str | None = None
    terminal: bool = False
    console_size: tuple[int, int] | None = None
    extra_fds: int = 0
    """How many fds after stdio are preserved (numbered 3, 4, ... in the container)."""
    deferred: bool = False
    """The program comes later: the last preserved fd is a channel on which the init,
    once everything else is set up, waits for it (:mod:`libcontainer.init.deferred`)."""


@attrs.frozen
class FdLayout:
    """Positions, in the list of fds handed over with the request, of each fd's role."""

    sync: int
    stdio: tuple[int, int, int]
    extra: tuple[int, ...] = ()
    fifo: int | None = None
    """O_PATH fd of exec.fifo (standard init only)."""
    mounts: tuple[tuple[int, int], ...] = ()
    """(index in ``config.mounts``, position): bind sources the runtime opened (see
    :mod:`libcontainer.mountsources`; standard init only)."""


@attrs.frozen
class CompiledSeccomp:
    """A seccomp filter compiled by the parent: the init only loads the bytes.

    libseccomp never runs inside the container (it would be loaded from the container's
    files after pivot_root), and the init needs no more than one seccomp(2) call.
    """

    program: bytes
    flags: int
    set_no_new_privs: bool = False
    notify: bool = False


@attrs.frozen
class InitPayload:
    """The whole bootstrap message for one container process."""

    kind: Literal["standard", "setns"]
    container_id: str
    config: Config
    process: ProcessSpec
    fds: FdLayout
    capabilities: CapabilitySets | None
    """The process's capability sets as masks, from its names (or the config's) by the
    parent, which checks them anyway; None leaves the capabilities as they are."""
    last_cap: int
    """The kernel's highest capability number (the bounding set is dropped up to it)."""
    bundle: str = ""
    unshare_cgroupns: bool = False
    seccomp: CompiledSeccomp | None = None
    log_level: int = 30
    apparmor_enabled: bool = False
    """AppArmor is active on the host (decided by the parent: the container has no securityfs)."""
    selinux_enabled: bool = False
    """SELinux is active on the host (decided by the parent, like ``apparmor_enabled``)."""
