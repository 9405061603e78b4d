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
    except PermissionError:
        # Not dumpable (a container process before it execs its program) and we lack
        # CAP_SYS_PTRACE (an unprivileged caller): its mount table is still readable.
        return _root_mount_is(pid, path)
    except OSError:
        return False
    try:
        wanted = os.stat(path)
        ours = os.stat("/proc/self/root")
    except OSError:
        return False
    key = (theirs.st_dev, theirs.st_ino)
    return key == (wanted.st_dev, wanted.st_ino) and key != (ours.st_dev, ours.st_ino)


def _root_mount_is(pid: int, path: str) -> bool:
    """Whether the mount at ``/`` for ``pid`` is ``path`` (its device and its path inside
    that filesystem, as ``mountinfo`` shows them) and not the mount at our own ``/``."""
    import os

    try:
        real = os.path.realpath(path)
        dev = os.stat(real).st_dev
        with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="replace") as f:
            theirs = _root_mounts(f.read())
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            ours_text = f.read()
    except OSError:
        return False
    wanted = _fs_path(ours_text, real, f"{os.major(dev)}:{os.minor(dev)}")
    return wanted is not None and wanted in theirs and wanted not in _root_mounts(ours_text)


def _mount_lines(text: str) -> list[tuple[str, str, str]]:
    """(major:minor, root, mount point) of each line of a mountinfo text (octal escapes
    left as they are: both sides of every comparison carry them)."""
    out = []
    for line in text.splitlines():
        fields = line.split(" ", 5)
        if len(fields) == 6:
            out.append((fields[2], fields[3], fields[4]))
    return out


def _root_mounts(text: str) -> set[tuple[str, str]]:
    return {(dev, root) for dev, root, point in _mount_lines(text) if point == "/"}


def _fs_path(text: str, real: str, dev: str) -> tuple[str, str] | None:
    """(major:minor, path inside the filesystem) of the directory ``real`` in our view: by
    the deepest mount of that device holding it (the last one, where mounts are stacked)."""
    best: tuple[str, str] | None = None
    best_len = -1
    escaped = real.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
    escaped = escaped.replace("\n", "\\012")
    for mdev, root, point in _mount_lines(text):
        inside = escaped == point or escaped.startswith(point.rstrip("/") + "/")
        if mdev == dev and inside and len(point) >= best_len:
            rest = escaped[len(point) :].strip("/")
            best = (mdev, root.rstrip("/") + "/" + rest if rest else root)
            best_len = len(point)
    return best
