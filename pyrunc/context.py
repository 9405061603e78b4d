"""What every command receives: the global options, and the error type commands raise."""

from __future__ import annotations

__all__ = ["CliError", "Globals", "error_message"]


class CliError(Exception):
    """An error to report as runc does: one log line, exit status 1."""


class Globals:
    """The global options every command sees."""

    __slots__ = ("criu", "debug", "log", "log_format", "root", "rootless", "systemd_cgroup")

    def __init__(
        self,
        *,
        root: str,
        log: str = "",
        log_format: str = "text",
        debug: bool = False,
        systemd_cgroup: bool = False,
        rootless: str = "auto",
        criu: str = "criu",
    ) -> None:
        self.root = root
        self.log = log
        self.log_format = log_format
        self.debug = debug
        self.systemd_cgroup = systemd_cgroup
        self.rootless = rootless
        self.criu = criu


def error_message(e: BaseException) -> str:
    """The one-line message for an error, without Python's decorations."""
    if isinstance(e, OSError) and e.strerror and not isinstance(e, CliError):
        text = e.strerror.lower()
        return f"{e.filename}: {text}" if e.filename else text
    return str(e) or type(e).__name__
