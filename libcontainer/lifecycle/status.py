"""Container statuses, spelled as runc and the OCI state spell them.

The lifecycle core works with the plain values (:data:`RUNNING`...); :class:`Status`, the
enum :class:`libcontainer.Container` returns, is made on first use so that the command
line's light verbs never import :mod:`enum`. Its members are those strings.
"""

from __future__ import annotations

TYPE_CHECKING = False

__all__ = ["CREATED", "PAUSED", "PAUSING", "RUNNING", "STOPPED", "Status"]

CREATED = "created"
RUNNING = "running"
PAUSING = "pausing"
PAUSED = "paused"
STOPPED = "stopped"

if TYPE_CHECKING:
    import enum

    class Status(enum.StrEnum):
        """Where a container is in its lifecycle."""

        CREATED = "created"
        RUNNING = "running"
        PAUSING = "pausing"
        PAUSED = "paused"
        STOPPED = "stopped"

else:

    def __getattr__(name: str) -> object:
        if name != "Status":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from libcontainer.lazyenum import str_enum

        members = {
            "CREATED": CREATED,
            "RUNNING": RUNNING,
            "PAUSING": PAUSING,
            "PAUSED": PAUSED,
            "STOPPED": STOPPED,
        }
        return str_enum(globals(), name, "Where a container is in its lifecycle.", members)
