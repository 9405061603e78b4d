"""What every command receives: the global options, and the error type commands raise."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CliError", "Globals", "error_message"]


class CliError(Exception):
    """An error to report as runc does: one log line, exit status 1."""


@dataclass(frozen=True)
class Globals:
    """The global options every command sees."""

    root: str
    log: str
    log_format: str
    debug: bool
    systemd_cgroup: bool
    rootless: str
    criu: str


def error_message(e: BaseException) -> str:
    """The one-line message for an error, without Python's decorations."""
    if isinstance(e, OSError) and e.strerror and not isinstance(e, CliError):
        text = e.strerror.lower()
        return f"{e.filename}: {text}" if e.filename else text
    return str(e) or type(e).__name__
