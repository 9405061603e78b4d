"""A small reader of ``/proc/self/mountinfo`` (what moby/sys/mountinfo gives runc)."""

from __future__ import annotations

import re

import attrs

__all__ = ["MountInfo", "parent_mount", "parse_mountinfo", "read_mountinfo"]

_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    # The kernel octal-escapes space, tab, newline and backslash in paths.
    if "\\" not in field:
        return field
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


@attrs.frozen
class MountInfo:
    """One line of ``mountinfo(5)``."""

    mount_id: int
    parent_id: int
    major_minor: str
    root: str
    mountpoint: str
    options: str
    optional: str
    fstype: str
    source: str
    super_options: str

    @property
    def is_shared(self) -> bool:
        """Whether the mount is in a shared peer group (propagates to its peers)."""
        return any(f.startswith("shared:") for f in self.optional.split())


def parse_mountinfo(text: str) -> list[MountInfo]:
    """Parse the text of a ``mountinfo`` file; malformed lines are skipped."""
    out: list[MountInfo] = []
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-", 6)
        except ValueError:
            continue
        if len(fields) < sep + 3:
            continue
        out.append(
            MountInfo(
                mount_id=int(fields[0]),
                parent_id=int(fields[1]),
                major_minor=fields[2],
                root=_unescape(fields[3]),
                mountpoint=_unescape(fields[4]),
                options=fields[5],
                optional=" ".join(fields[6:sep]),
                fstype=fields[sep + 1],
                source=_unescape(fields[sep + 2]),
                super_options=fields[sep + 3] if len(fields) > sep + 3 else "",
            )
        )
    return out


def read_mountinfo(path: str = "/proc/self/mountinfo") -> list[MountInfo]:
    """The mounts of the calling process's mount namespace."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return parse_mountinfo(f.read())


def parent_mount(mounts: list[MountInfo], path: str) -> MountInfo | None:
    """The mount ``path`` lives on: the last-mounted entry with the longest matching prefix."""
    best: MountInfo | None = None
    for m in mounts:
        mp = m.mountpoint
        if (path == mp or mp == "/" or path.startswith(mp.rstrip("/") + "/")) and (
            best is None or len(mp) >= len(best.mountpoint)
        ):
            best = m
    return best
