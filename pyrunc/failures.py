"""runc's wording of failures, where engines and scripts read it.

runc wraps an error by where it happened: ``runc create failed: ...``, ``exec failed:
...`` (and exit status 255 for ``exec``), ``unable to start container process: ...`` once
the container process exists, ``invalid configuration: ...`` for a config it refuses.
Engines match on these substrings (containerd's shim shows the last error line of
``log.json``; CRI clients look for ``executable file not found``), so pyrunc keeps them.
"""

from __future__ import annotations

from pyrunc.context import error_message

__all__ = ["EXEC_FAILED_STATUS", "describe"]

#: runc exec's exit status when the process could not be started (the process's own status
#: otherwise).
EXEC_FAILED_STATUS = 255


def describe(e: BaseException) -> str:
    """The one-line message for ``e``, prefixed the way runc words that kind of failure."""
    from libcontainer.errors import ConfigError, ProcessStartError

    text = error_message(e)
    if isinstance(e, ConfigError) and not text.startswith("invalid configuration"):
        return f"invalid configuration: {text}"
    if isinstance(e, ProcessStartError):
        return f"unable to start container process: {text}"
    return text
