"""One piece of work on a thread, whose error surfaces when it is joined."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Background:
    """Run ``work`` on a daemon thread; :meth:`join` re-raises what it raised."""

    def __init__(self, name: str = "libcontainer-background") -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self, work: Callable[[], None]) -> None:
        """Start ``work``."""

        def run() -> None:
            try:
                work()
            except BaseException as e:  # handed to join()
                self._error = e

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()

    def join(self, *, raise_error: bool = True) -> None:
        """Wait for the work; raise its error unless ``raise_error`` is False."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None and raise_error:
            error, self._error = self._error, None
            raise error
