"""The ``process`` object of the OCI runtime spec as frozen attrs models.

Its own module so that reading a process alone (``runc exec --process process.json``)
builds these five models and not the whole spec's; :mod:`specconv.spec` re-exports them.
"""

from __future__ import annotations

import attrs

from specconv._fields import Int64, Uint32, Uint64, always, to_tuple

__all__ = ["Box", "LinuxCapabilities", "POSIXRlimit", "Process", "User"]


@attrs.frozen
class Box:
    """A console size in character cells."""

    height: Uint64 = attrs.field(default=0, metadata=always())
    width: Uint64 = attrs.field(default=0, metadata=always())


@attrs.frozen
class User:
    """The user the container process runs as: numeric ids, umask and extra groups."""

    uid: Uint32 = attrs.field(default=0, metadata=always())
    gid: Uint32 = attrs.field(default=0, metadata=always())
    umask: Uint32 | None = None
    additional_gids: tuple[Uint32, ...] = attrs.field(default=(), converter=to_tuple)
    username: str = ""


@attrs.frozen
class LinuxCapabilities:
    """The five capability sets of the process, as ``CAP_*`` names."""

    bounding: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    effective: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    inheritable: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    permitted: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    ambient: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen
class POSIXRlimit:
    """A resource limit by ``RLIMIT_*`` name."""

    type: str = attrs.field(default="", metadata=always())
    hard: Uint64 = attrs.field(default=0, metadata=always())
    soft: Uint64 = attrs.field(default=0, metadata=always())


@attrs.frozen
class Process:
    """``process``: what runs as the container's first process, and how."""

    terminal: bool = False
    console_size: Box | None = None
    user: User = attrs.field(factory=User, metadata=always())
    args: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    env: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    cwd: str = attrs.field(default="", metadata=always())
    capabilities: LinuxCapabilities | None = None
    rlimits: tuple[POSIXRlimit, ...] = attrs.field(default=(), converter=to_tuple)
    no_new_privileges: bool = False
    apparmor_profile: str = ""
    oom_score_adj: Int64 | None = None
    selinux_label: str = ""
