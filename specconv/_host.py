"""The one host fact specconv needs: is ``/sys/fs/cgroup`` a cgroup v2 (unified) mount?"""

from __future__ import annotations

__all__ = ["is_cgroup2_unified_mode"]

_CGROUP_ROOT = "/sys/fs/cgroup"


def is_cgroup2_unified_mode(mountinfo: str = "/proc/self/mountinfo") -> bool:
    """True when the topmost mount on ``/sys/fs/cgroup`` is ``cgroup2`` (read from mountinfo).

    runc asks ``statfs(2)`` for the filesystem magic; the last mountinfo entry for the path is
    the mount that a lookup would reach, which gives the same answer without a syscall binding.
    """
    fstype = ""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                pre, sep, post = line.partition(" - ")
                fields = pre.split()
                if sep and len(fields) > 4 and fields[4] == _CGROUP_ROOT:
                    fstype = post.split(" ", 1)[0]
    except OSError:
        return False
    return fstype == "cgroup2"
