"""Facts about a process from /proc: start time (against PID reuse) and liveness."""

from __future__ import annotations


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    return data.rsplit(b")", 1)[1].split()


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot), or None if there is no such pid."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_alive(pid: int, expected_start: int | None = None) -> bool:
    """True if ``pid`` exists, is not a zombie and (if given) started at ``expected_start``."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if not fields or fields[0] in (b"Z", b"X"):
        return False
    return expected_start is None or int(fields[19]) == expected_start


def parent_pid(pid: int) -> int | None:
    """The parent pid of ``pid``."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None
