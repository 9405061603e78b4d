"""Container statuses, spelled as runc and the OCI state spell them."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """Where a container is in its lifecycle."""

    CREATED = "created"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPED = "stopped"
