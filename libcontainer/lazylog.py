"""A logger for the light modules of the lifecycle core, importing :mod:`logging` on first use.

``logging`` costs more to import than a light module and everything it needs together, and
most command-line calls log nothing: so these modules write ``log = lazy_logger(__name__)``
and call ``log.debug(...)``/``log.warning(...)`` as usual.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

__all__ = ["LazyLogger", "lazy_logger", "on_first_use"]

_first_use: list[Callable[[], None]] = []


def on_first_use(hook: Callable[[], None]) -> None:
    """Call ``hook`` (once) just before a lazy logger first touches :mod:`logging`, so that
    an application that does not import it up front can still set up its handlers in time
    (the command line's ``delete`` warns, rarely)."""
    if hook not in _first_use:
        _first_use.append(hook)


class LazyLogger:
    """The subset of :class:`logging.Logger` the library uses, bound on first call."""

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    def _get(self) -> logging.Logger:
        if self._logger is None:
            import logging

            while _first_use:
                _first_use.pop(0)()
            self._logger = logging.getLogger(self.name)
        return self._logger

    def debug(self, msg: str, *args: object) -> None:
        """:meth:`logging.Logger.debug`."""
        self._get().debug(msg, *args)

    def info(self, msg: str, *args: object) -> None:
        """:meth:`logging.Logger.info`."""
        self._get().info(msg, *args)

    def warning(self, msg: str, *args: object) -> None:
        """:meth:`logging.Logger.warning`."""
        self._get().warning(msg, *args)

    def error(self, msg: str, *args: object) -> None:
        """:meth:`logging.Logger.error`."""
        self._get().error(msg, *args)


def lazy_logger(name: str) -> LazyLogger:
    """A :class:`LazyLogger` for ``name`` (usually ``__name__``)."""
    return LazyLogger(name)
