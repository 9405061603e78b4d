"""runc's log lines: logrus text (``time="..." level=error msg="..."``) or JSON lines.

containerd's shim passes ``--log BUNDLE/log.json --log-format json`` and shows the user the
last ``"level":"error"`` line when a command fails, so the JSON form is what logrus writes:
one object per line, keys sorted, ``<``, ``>`` and ``&`` escaped as Go escapes them. The
text form puts ``time``, ``level``, ``msg`` first, then the caller, then the other fields
sorted.

With ``--debug`` runc reports where each of its own lines comes from (``func="..."
file="..."``), and forwards the lines of the container's setup stages (``nsexec-0[...]``,
``child process in init()``, ...) without a caller, as they come from other processes.
Lines from the library come through :mod:`logging`, which is only hooked up
(:func:`capture_library_logs`) once something is logged: the frequent light commands never
import it.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than a whole command
    import logging
    from typing import IO, Any

__all__ = ["Logger", "capture_library_logs", "logger"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "fatal": 50}
#: Python's directories of the code whose lines name their caller (runc trims its module
#: path the same way).
_PACKAGES = ("libcontainer", "pyrunc", "specconv")


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


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\v": "\\v", "\\": "\\\\", '"': '\\"'}  # fmt: skip


def _go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (what logrus' text format uses for values that need it)."""
    out = []
    for ch in text:
        escaped = _GO_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _text_value(value: object) -> str:
    text = str(value)
    return _go_quote(text) if _needs_quoting(text) else text


def _go_json(record: dict[str, Any]) -> str:
    """One JSON line as Go's encoding/json writes a map (sorted keys, Go's escaping)."""
    from libcontainer.jsontext import marshal

    return marshal(dict(sorted(record.items())))


def source_location(path: str, line: int, function: str) -> tuple[str, str] | None:
    """``(func, file)`` for a caller in one of our packages, relative to it as runc's are
    (``pyrunc.tty.forward_signals``, ``pyrunc/tty.py:42``); None for other code."""
    parts = path.replace(os.sep, "/").split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in _PACKAGES:
            relative = "/".join(parts[i:])
            module = relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            return f"{module}.{function}", f"{relative}:{line}"
    return None


class Logger:
    """Writes log lines to stderr or to the ``--log`` file in the chosen format."""

    def __init__(self) -> None:
        self.stream: IO[str] = sys.stderr
        self.to_file = False
        self.json = False
        self.level = _LEVELS["info"]
        self.report_caller = False
        """``--debug``: name the function and line of each of our own lines (runc's
        ``logrus.SetReportCaller(true)``)."""

    def configure(self, path: str, fmt: str, debug: bool) -> None:
        """Apply ``--log``, ``--log-format`` and ``--debug``."""
        if fmt not in ("text", "json"):
            raise ValueError(f"invalid log-format: {fmt}")
        self.json = fmt == "json"
        if debug:
            self.level = _LEVELS["debug"]
            self.report_caller = True
            # The container's stages format times in clones of this process, some of them
            # after entering the container: the local zone must be read here, on the host.
            _now()
        if path and path != "/dev/stderr":
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC, 0o644)
            self.stream = os.fdopen(fd, "a", buffering=1)
            self.to_file = True
        _route_library_logs_on_first_use()

    def enabled(self, level: str) -> bool:
        """Whether lines of ``level`` are written."""
        return _LEVELS[level] >= self.level

    def log(
        self,
        level: str,
        msg: str,
        *,
        caller: tuple[str, str] | None = None,
        **fields: Any,
    ) -> None:
        """Write one line if ``level`` is enabled. ``caller`` is ``(func, file)``; with
        ``--debug`` it is shown (in JSON as is, in text with ``()`` after the function)."""
        if _LEVELS[level] < self.level:
            return
        if self.json:
            record: dict[str, Any] = {**fields, "level": level, "msg": msg, "time": _now()}
            if caller is not None and self.report_caller:
                record["func"], record["file"] = caller
            line = _go_json(record)
        else:
            parts = [f'time="{_now()}"', f"level={level}", f"msg={_text_value(msg)}"]
            if caller is not None and self.report_caller:
                parts += [f"func={_text_value(caller[0] + '()')}", f"file={_text_value(caller[1])}"]
            parts += [f"{k}={_text_value(fields[k])}" for k in sorted(fields)]
            line = " ".join(parts)
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except OSError:
            pass

    def _ours(self, level: str, msg: str, fields: dict[str, Any]) -> None:
        """A line of pyrunc's own, naming its caller (two frames up) with ``--debug``."""
        caller = None
        if self.report_caller:
            frame = sys._getframe(2)
            code = frame.f_code
            caller = source_location(code.co_filename, frame.f_lineno, code.co_qualname)
        self.log(level, msg, caller=caller, **fields)

    def debug(self, msg: str, **fields: Any) -> None:
        """A debug line (only with ``--debug``)."""
        if self.level <= _LEVELS["debug"]:
            self._ours("debug", msg, fields)

    def warning(self, msg: str, **fields: Any) -> None:
        """A warning line."""
        self._ours("warning", msg, fields)

    def error(self, msg: str, **fields: Any) -> None:
        """An error line."""
        self._ours("error", msg, fields)

    def fatal(self, msg: str) -> None:
        """What runc's ``fatal()`` does before exiting 1: log the error, and when logs go
        to a file also print the bare message on stderr for the user."""
        self._ours("error", msg, {})
        if self.to_file:
            try:
                sys.stderr.write(msg + "\n")
                sys.stderr.flush()
            except OSError:
                pass


logger = Logger()


def _emit(record: logging.LogRecord) -> None:
    level = record.levelname.lower()
    level = level if level in _LEVELS else ("fatal" if record.levelno >= 50 else "error")
    if getattr(record, "stage", None):
        # A line from a container process's setup stage, forwarded: no caller (runc's
        # ForwardLogs turns caller reporting off for these).
        logger.log(level, record.getMessage())
        return
    caller = source_location(record.pathname, record.lineno, record.funcName)
    fields = getattr(record, "log_fields", None) or {}
    logger.log(level, record.getMessage(), caller=caller, **fields)


_captured = False


def capture_library_logs() -> None:
    """Route the library's ``logging`` records (warnings and up, or all with --debug)."""
    global _captured
    if _captured:
        return
    _captured = True
    import logging

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _emit(record)

    root = logging.getLogger("libcontainer")
    root.addHandler(_Handler())
    root.setLevel(logging.DEBUG if logger.level <= _LEVELS["debug"] else logging.WARNING)
    root.propagate = False


def _route_library_logs_on_first_use() -> None:
    """Have the lifecycle core's lazy loggers hook :func:`capture_library_logs` up when
    they first log (a warning of ``delete``, say), instead of Python's bare last resort."""
    from libcontainer import lazylog

    lazylog.on_first_use(capture_library_logs)
