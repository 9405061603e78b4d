"""The one error hierarchy of the library.

Every error the library raises on purpose is a :class:`LibcontainerError`. Messages say what
was wrong and, where it helps, what to do about it. Subclasses also inherit the matching
builtin (``ValueError``, ``FileExistsError``, ...) so callers that already catch those keep
working.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CgroupError",
    "ConfigError",
    "ContainerExistsError",
    "ContainerNotExistsError",
    "ContainerNotPausedError",
    "ContainerNotRunningError",
    "ContainerNotStoppedError",
    "ContainerPausedError",
    "HookError",
    "InvalidIdError",
    "InvalidStateError",
    "LibcontainerError",
    "NetworkError",
    "NotADeviceError",
    "OwnershipError",
    "ProcessStartError",
    "RootlessError",
    "StateFileError",
    "SyscallError",
    "os_reason",
    "shown",
]


class LibcontainerError(Exception):
    """Base class of every error raised by libcontainer."""


class ConfigError(LibcontainerError, ValueError):
    """A configuration (library config or OCI spec) is invalid.

    ``field`` names the offending field, as a dotted/indexed path where one is known
    (``linux.seccomp.syscalls[3].action``); ``value`` is the bad value.
    """

    _unset: Any = object()

    def __init__(self, message: str, *, field: str | None = None, value: Any = _unset) -> None:
        self.message = message
        self.field = field
        self.value = None if value is ConfigError._unset else value
        self.has_value = value is not ConfigError._unset
        text = message
        if field:
            text = f"{field}: {text}"
        if self.has_value:
            text = f"{text} (got {shown(value)})"
        super().__init__(text)


class RootlessError(ConfigError):
    """The config asks for what an unprivileged user cannot have here (a cgroup limit
    without a cgroup delegated to it, id mappings without ``newuidmap`` or subordinate ids,
    rlimits above its own). Raised before anything is created."""


class InvalidIdError(LibcontainerError, ValueError):
    """A container id does not match ``^[\\w+\\-\\.]+$`` or is otherwise unusable."""


class ContainerExistsError(LibcontainerError, FileExistsError):
    """A container with this id already exists in the factory root."""


class ContainerNotExistsError(LibcontainerError, FileNotFoundError):
    """No container with this id exists in the factory root."""


class StateFileError(LibcontainerError):
    """A ``state.json`` could not be read or written (corrupt, unknown keys, I/O error)."""


class InvalidStateError(LibcontainerError):
    """The operation is not allowed in the container's current status."""


class ContainerNotRunningError(InvalidStateError):
    """The container is not running."""


class ContainerNotStoppedError(InvalidStateError):
    """The container is still running (or paused) and must be stopped first."""


class ContainerPausedError(InvalidStateError):
    """The container is paused."""


class ContainerNotPausedError(InvalidStateError):
    """The container is not paused."""


class ProcessStartError(LibcontainerError):
    """Starting a process in a container failed; the message is the one the init sent back."""


class HookError(LibcontainerError):
    """A lifecycle hook failed or timed out."""


class CgroupError(LibcontainerError):
    """A cgroup operation failed."""


class OwnershipError(LibcontainerError, PermissionError):
    """Refused: the process, cgroup or path is not provably the container's own.

    Raised before anything is signalled or removed, e.g. when a ``state.json`` names a
    cgroup outside the cgroup mounts or a pid that is not in the container.
    """


class NetworkError(LibcontainerError):
    """Creating, configuring or removing a container's network interfaces failed."""


class NotADeviceError(LibcontainerError, ValueError):
    """A path is not a device node (runc's ``ErrNotADevice``)."""


class SyscallError(LibcontainerError, OSError):
    """A system call failed; ``errno`` and ``strerror`` are set as for :class:`OSError`."""


#: Longest representation of a bad value an error message repeats.
MAX_SHOWN = 200


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr(value)``, bounded: an error message must stay readable whatever it quotes
    (a 5,000-digit number, a megabyte of environment)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"<an integer of about {digits} digits>"
    try:
        text = repr(value)
    except ValueError:  # a container holding such an integer
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def os_reason(e: OSError) -> str:
    """The reason part of an OSError in Go's style: ``no such file or directory``."""
    if e.errno:
        return os.strerror(e.errno).lower()
    return (e.strerror or str(e)).lower()
