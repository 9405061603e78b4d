"""Lifecycle events on the ``libcontainer`` logger, at DEBUG, with ids and timings.

The events are named after the methods: ``create`` (:meth:`Factory.create`), ``start``
(:meth:`Container.start`; ``init=True`` for the container's first process, ``init=False``
for one exec'd into it), ``exec`` (:meth:`Container.exec`, the init released to run its
program), ``signal`` and ``destroy``.

Each event is one record on ``libcontainer.events`` (a child of ``libcontainer``) whose
message reads ``<event> <container id> ... (<ms> ms)`` and whose ``extra`` fields carry the
same data for filters and structured handlers: ``event``, ``container_id``,
``duration_ms`` and the event's own fields (``pid``, ``signal``, ...). Nothing is printed:
the application decides where records go (``logging.basicConfig(level=logging.DEBUG)``).
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("libcontainer.events")


def started() -> float:
    """A start time for :func:`done`."""
    return time.monotonic()


def done(event: str, container_id: str, since: float | None = None, **fields: object) -> None:
    """Log ``event`` for ``container_id`` (with its duration if ``since`` is given)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    ms = (time.monotonic() - since) * 1000 if since is not None else None
    details = "".join(f" {k}={v}" for k, v in fields.items())
    timing = f" ({ms:.1f} ms)" if ms is not None else ""
    log.debug(
        "%s %s%s%s",
        event,
        container_id,
        details,
        timing,
        extra={"event": event, "container_id": container_id, "duration_ms": ms, **fields},
    )
