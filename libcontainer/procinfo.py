"""Facts about a process from /proc: start time (against PID reuse) and liveness."""

from __future__ import annotations

#: SIGKILL's number, the same on every Linux architecture (the signal module costs an enum
#: to import, which the command line's light verbs do without).
SIGKILL = 9


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


# PF_EXITING in the flags field of /proc/PID/stat: the task has begun to exit. It has left
# its cgroups and namespaces already, though it is not a zombie yet.
_PF_EXITING = 0x4


def is_alive(pid: int, expected_start: int | None = None) -> bool:
    """True if ``pid`` exists, is neither exiting nor a zombie, and (if given) started at
    ``expected_start``."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if not fields or fields[0] in (b"Z", b"X") or int(fields[6]) & _PF_EXITING:
        return False
    return expected_start is None or int(fields[19]) == expected_start


def has_exited(pid: int, expected_start: int) -> bool:
    """True once ``pid`` (started at ``expected_start``) is gone or a zombie: unlike
    :func:`is_alive`, an exiting task is not done yet (it may still hold its cgroups)."""
    fields = _stat_fields(pid)
    return not fields or fields[0] in (b"Z", b"X") or int(fields[19]) != expected_start


def parent_pid(pid: int) -> int | None:
    """The parent pid of ``pid``."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def root_is(pid: int, path: str) -> bool:
    """Whether ``pid``'s root directory is ``path`` (and not this process's own root).

    A process of a container has the container's rootfs as its root; a process of the
    host shares ours. Compared by device and inode, as the paths differ between views.
    """
    import os

    try:
        theirs = os.stat(f"/proc/{pid}/root")
        wanted = os.stat(path)
        ours = os.stat("/proc/self/root")
    except OSError:
        return False
    key = (theirs.st_dev, theirs.st_ino)
    return key == (wanted.st_dev, wanted.st_ino) and key != (ours.st_dev, ours.st_ino)
