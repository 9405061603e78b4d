"""Mounts (runc ``configs/mount.go``)."""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

import attrs

from .hooks import Command
from .jsonmodel import Model, jf

__all__ = ["EXT_COPYUP", "MS_BIND", "MS_MOVE", "Mount", "MountAttr"]

#: ``Mount.extensions`` bit: copy the directory's contents up into a tmpfs mounted over it.
EXT_COPYUP = 1 << 0

MS_BIND = 0x1000
MS_MOVE = 0x2000


@attrs.frozen(kw_only=True)
class MountAttr(Model):
    """``struct mount_attr`` for ``mount_setattr(2)`` (Go ``unix.MountAttr``, untagged keys)."""

    attr_set: int = jf("Attr_set", 0)
    attr_clr: int = jf("Attr_clr", 0)
    propagation: int = jf("Propagation", 0)
    userns_fd: int = jf("Userns_fd", 0)


@attrs.frozen(kw_only=True)
class Mount(Model):
    """A mount inside the container's root filesystem.

    ``flags`` are ``MS_*`` mount flags, ``propagation_flags`` the propagation changes applied
    afterwards, ``rec_attr`` attributes applied recursively with ``mount_setattr(2)``,
    ``extensions`` runc-specific bits (:data:`EXT_COPYUP`). ``premount_cmds`` and
    ``postmount_cmds`` run around the mount (runc 1.1 still carries them).
    """

    source: str = jf("source", "")
    destination: str = jf("destination", "")
    device: str = jf("device", "")
    flags: int = jf("flags", 0)
    propagation_flags: tuple[int, ...] = jf("propagation_flags", ())
    data: str = jf("data", "")
    relabel: str = jf("relabel", "")
    rec_attr: MountAttr | None = jf("rec_attr", None)
    extensions: int = jf("extensions", 0)
    premount_cmds: tuple[Command, ...] = jf("premount_cmds", ())
    postmount_cmds: tuple[Command, ...] = jf("postmount_cmds", ())

    def is_bind(self) -> bool:
        """Whether this is a bind mount (``MS_BIND``)."""
        return bool(self.flags & MS_BIND)

    def is_move(self) -> bool:
        """Whether this mount is moved (``MS_MOVE``)."""
        return bool(self.flags & MS_MOVE)
