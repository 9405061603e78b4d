"""Device nodes and cgroup device rules (runc ``libcontainer/devices/device.go``)."""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

import enum

import attrs

from .jsonmodel import Model, jf

__all__ = ["WILDCARD", "Device", "DeviceRule", "DeviceType"]

#: Major/minor number meaning "any" (``*`` in a cgroup v1 rule).
WILDCARD = -1


class DeviceType(enum.StrEnum):
    """A device type. In JSON it is the Go rune, i.e. the code point (``'c'`` is 99)."""

    WILDCARD = "a"
    BLOCK = "b"
    CHAR = "c"
    FIFO = "p"

    @property
    def can_mknod(self) -> bool:
        """Whether a node of this type can be created with ``mknod(2)``."""
        return self is not DeviceType.WILDCARD

    @property
    def can_cgroup(self) -> bool:
        """Whether this type can appear in a cgroup device rule."""
        return self is not DeviceType.FIFO


@attrs.frozen(kw_only=True)
class DeviceRule(Model):
    """A cgroup device access rule (runc ``devices.Rule``).

    ``type`` ``a`` is a wildcard rule: everything but ``allow`` is ignored. ``major``/``minor``
    may be :data:`WILDCARD`. ``permissions`` is any combination of ``r``, ``w``, ``m``.
    """

    type: DeviceType = jf("type", DeviceType.WILDCARD)
    major: int = jf("major", 0)
    minor: int = jf("minor", 0)
    permissions: str = jf("permissions", "")
    allow: bool = jf("allow", False)

    def cgroup_string(self) -> str:
        """The cgroup v1 ``devices.allow``/``devices.deny`` line, e.g. ``c 1:3 rwm``."""
        major = "*" if self.major == WILDCARD else str(self.major)
        minor = "*" if self.minor == WILDCARD else str(self.minor)
        return f"{self.type.value} {major}:{minor} {self.permissions}"


@attrs.frozen(kw_only=True)
class Device(DeviceRule):
    """A device node to create in the container (runc ``devices.Device``: a Rule plus a node).

    Go embeds ``Rule`` in ``Device``; here ``Device`` subclasses :class:`DeviceRule`, so a
    device can be used wherever a rule is expected. Older runc (2018) wrote whole devices in
    the cgroup device lists; those load as :class:`Device` objects.
    """

    path: str = jf("path", "")
    file_mode: int = jf("file_mode", 0)
    uid: int = jf("uid", 0)
    gid: int = jf("gid", 0)
