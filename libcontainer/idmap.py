"""User-namespace id mappings an unprivileged user may write, and what it takes.

The kernel lets a process without privileges write one line to a new user namespace's
``uid_map``: its own uid, size 1 (and to ``gid_map`` its own gid, once ``setgroups`` is
``deny``). Anything else (several ranges, other host ids) goes through the setuid helpers
``newuidmap``/``newgidmap`` of shadow (Debian's ``uidmap`` package), which allow the caller's
own id (size 1) and the subordinate ranges ``/etc/subuid`` and ``/etc/subgid`` give its
user name or uid. runc 1.1 writes the map itself first and falls back to the helper on
``EPERM``; :func:`check_mappings` tells, before anything is created, whether that can work.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import attrs

from libcontainer.configs import Config, IDMap, NamespaceType
from libcontainer.errors import RootlessError

__all__ = [
    "SUBGID_FILE",
    "SUBUID_FILE",
    "SubIdRange",
    "check_mappings",
    "direct_write_allowed",
    "read_subids",
]

SUBUID_FILE = "/etc/subuid"
SUBGID_FILE = "/etc/subgid"


@attrs.frozen
class SubIdRange:
    """``count`` host ids from ``start``, as a line of ``/etc/subuid`` grants them."""

    start: int
    count: int

    def holds(self, host_id: int, size: int) -> bool:
        """Whether ``size`` ids from ``host_id`` lie inside this range."""
        return self.start <= host_id and host_id + size <= self.start + self.count


def read_subids(path: str, user: str, uid: int) -> list[SubIdRange]:
    """The ranges ``path`` (``/etc/subuid`` format: ``name:start:count``) grants the user
    named ``user`` or with uid ``uid``; malformed lines are skipped, a missing file is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    ranges = []
    for line in lines:
        owner, sep, rest = line.strip().partition(":")
        start, sep2, count = rest.partition(":")
        if not (sep and sep2 and start.isdigit() and count.isdigit()):
            continue
        if owner in (user, str(uid)):
            ranges.append(SubIdRange(int(start), int(count)))
    return ranges


def direct_write_allowed(maps: Sequence[IDMap], own_id: int) -> bool:
    """Whether an unprivileged process may write ``maps`` itself: one line, its own id, size 1."""
    return len(maps) == 1 and maps[0].host_id == own_id and maps[0].size == 1


def check_mappings(
    config: Config,
    *,
    newuidmap: str | None,
    newgidmap: str | None,
    subuid_file: str = SUBUID_FILE,
    subgid_file: str = SUBGID_FILE,
) -> None:
    """Raise :class:`RootlessError` if this (unprivileged) user cannot have the config's
    mappings written: a helper that is needed but missing, or a range neither its own id
    nor inside its subordinate ranges. A joined user namespace needs no mappings."""
    if not config.is_private(NamespaceType.NEWUSER):
        return
    import pwd

    uid, gid = os.geteuid(), os.getegid()
    try:
        entry = pwd.getpwuid(os.getuid())
        user, passwd_uid, passwd_gid = entry.pw_name, entry.pw_uid, entry.pw_gid
    except KeyError:
        user, passwd_uid, passwd_gid = str(os.getuid()), os.getuid(), os.getgid()
    for kind, maps, own, tool, path, passwd_id, field in (
        ("uid", config.uid_mappings, uid, newuidmap, subuid_file, passwd_uid, "uid_mappings"),
        ("gid", config.gid_mappings, gid, newgidmap, subgid_file, passwd_gid, "gid_mappings"),
    ):
        if direct_write_allowed(maps, own):
            continue
        shown = ", ".join(f"{m.container_id}:{m.host_id}:{m.size}" for m in maps)
        helper = "newuidmap" if kind == "uid" else "newgidmap"
        if not tool or not os.access(tool, os.X_OK):
            raise RootlessError(
                f"mapping {shown} needs {helper} (Debian's uidmap package; "
                f"{tool or 'not found on PATH'}) for an unprivileged user; without it only "
                f"one {kind}, your own ({own}), can be mapped, with size 1",
                field=field,
            )
        granted = read_subids(path, user, passwd_uid)
        for m in maps:
            if m.size == 1 and m.host_id == passwd_id:
                continue  # the helpers allow the caller's own id
            if not any(r.holds(m.host_id, m.size) for r in granted):
                ranges = ", ".join(f"{r.start}-{r.start + r.count - 1}" for r in granted)
                raise RootlessError(
                    f"cannot map host {kind}s {m.host_id}-{m.host_id + m.size - 1}: {path} "
                    f"grants {user} {ranges or 'no ranges'} (and its own {kind} {passwd_id}); "
                    f"add a range with usermod --add-sub{kind}s, or map only those",
                    field=field,
                )
