"""runc's log lines: logrus text (``time="..." level=error msg="..."``) or JSON lines.

containerd's shim passes ``--log BUNDLE/log.json --log-format json`` and shows the user the
last ``"level":"error"`` line when a command fails, so the JSON form is
``{"level":..,"msg":..,"time":..}`` exactly as logrus writes it. The standard ``logging``
module is only hooked up (:func:`capture_library_logs`) by commands that load the library.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than a whole command
    from typing import IO, Any

__all__ = ["Logger", "capture_library_logs", "logger"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "fatal": 50}


def _now() -> str:
    """RFC 3339 in local time, seconds precision, as logrus prints it."""
    t = time.time()
    lt = time.localtime(t)
    off = lt.tm_gmtoff or 0
    zone = (
        "Z"
        if off == 0
        else f"{'+' if off > 0 else '-'}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"
    )
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + zone


def _needs_quoting(text: str) -> bool:
    return not text or any(not (ch.isascii() and (ch.isalnum() or ch in "-._/@^+")) for ch in text)


def _text_value(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False) if _needs_quoting(text) else text


class Logger:
    """Writes log lines to stderr or to the ``--log`` file in the chosen format."""

    def __init__(self) -> None:
        self.stream: IO[str] = sys.stderr
        self.to_file = False
        self.json = False
        self.level = _LEVELS["info"]

    def configure(self, path: str, fmt: str, debug: bool) -> None:
        """Apply ``--log``, ``--log-format`` and ``--debug``."""
        if fmt not in ("text", "json"):
            raise ValueError(f"invalid log-format: {fmt}")
        self.json = fmt == "json"
        if debug:
            self.level = _LEVELS["debug"]
        if path and path != "/dev/stderr":
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC, 0o644)
            self.stream = os.fdopen(fd, "a", buffering=1)
            self.to_file = True

    def log(self, level: str, msg: str, **fields: Any) -> None:
        """Write one line if ``level`` is enabled."""
        if _LEVELS[level] < self.level:
            return
        name = "warning" if level == "warning" else level
        if self.json:
            import json

            record = {"level": name, "msg": msg, **fields, "time": _now()}
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        else:
            parts = [f'time="{_now()}"', f"level={name}", f"msg={_text_value(msg)}"]
            parts += [f"{k}={_text_value(str(v))}" for k, v in fields.items()]
            line = " ".join(parts)
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except OSError:
            pass

    def debug(self, msg: str) -> None:
        """A debug line (only with ``--debug``)."""
        self.log("debug", msg)

    def warning(self, msg: str) -> None:
        """A warning line."""
        self.log("warning", msg)

    def error(self, msg: str) -> None:
        """An error line."""
        self.log("error", msg)

    def fatal(self, msg: str) -> None:
        """What runc's ``fatal()`` does before exiting 1: log the error, and when logs go
        to a file also print the bare message on stderr for the user."""
        self.error(msg)
        if self.to_file:
            try:
                sys.stderr.write(msg + "\n")
                sys.stderr.flush()
            except OSError:
                pass


logger = Logger()


def capture_library_logs() -> None:
    """Route the library's ``logging`` records (warnings and up, or all with --debug)."""
    import logging

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            level = record.levelname.lower()
            logger.log(level if level in _LEVELS else "error", record.getMessage())

    root = logging.getLogger("libcontainer")
    root.addHandler(_Handler())
    root.setLevel(logging.DEBUG if logger.level <= _LEVELS["debug"] else logging.WARNING)
    root.propagate = False
