"""Resolve a process's ``user[:group]`` and additional groups from the container's files.

Reads ``/etc/passwd`` and ``/etc/group`` as the container has them, so the files are hostile
input: lines are length-bounded, malformed entries are skipped, and reading stops at a
size limit instead of loading a huge file into memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from libcontainer.errors import ConfigError

MAX_LINE = 64 * 1024
MAX_BYTES = 16 * 1024 * 1024


@attrs.frozen
class ExecUser:
    """The resolved identity of a process."""

    uid: int
    gid: int
    sgids: tuple[int, ...]
    home: str


def _entries(path: str) -> Iterator[list[str]]:
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed in finally
    except OSError:
        return
    try:
        total = 0
        while total < MAX_BYTES:
            raw = f.readline(MAX_LINE)
            if not raw:
                return
            total += len(raw)
            if not raw.endswith(b"\n") and len(raw) >= MAX_LINE:
                # Over-long line: skip the rest of it, within the same byte budget (a
                # 200 GB line without a newline must not be read to its end).
                while raw and not raw.endswith(b"\n") and total < MAX_BYTES:
                    raw = f.readline(MAX_LINE)
                    total += len(raw)
                continue
            line = raw.decode("utf-8", "replace").strip()
            if not line or line.startswith("#"):
                continue
            yield line.split(":")
    finally:
        f.close()


def _id(text: str) -> int | None:
    if text.isdigit() and len(text) < 11:
        value = int(text)
        if value < 2**32 - 1:
            return value
    return None


def lookup_user(
    spec: str,
    additional_groups: Sequence[str] = (),
    *,
    passwd: str = "/etc/passwd",
    group: str = "/etc/group",
) -> ExecUser:
    """Resolve ``user[:group]`` like runc's user.GetExecUserPath (numeric ids need no files)."""
    user_part, _, group_part = (spec or "0").partition(":")
    uid = _id(user_part)
    gid = 0
    home = "/"
    matched_name: str | None = None
    for fields in _entries(passwd):
        if len(fields) < 7:
            continue
        p_uid, p_gid = _id(fields[2]), _id(fields[3])
        if p_uid is None or p_gid is None:
            continue
        if (uid is not None and p_uid == uid) or (uid is None and fields[0] == user_part):
            uid, gid, home, matched_name = p_uid, p_gid, fields[5] or "/", fields[0]
            break
    if uid is None:
        raise ConfigError("unable to find user", field="process.user", value=user_part)
    sgids: list[int] = []
    if group_part:
        gid = _resolve_group(group_part, group, field="process.user")
    elif matched_name is not None:
        # The matched user's supplementary groups, as login(1) would set them.
        for fields in _entries(group):
            if len(fields) >= 4 and matched_name in fields[3].split(","):
                g = _id(fields[2])
                if g is not None and g not in sgids:
                    sgids.append(g)
    for extra in additional_groups:
        g = _resolve_group(extra, group, field="process.additional_groups")
        if g not in sgids:
            sgids.append(g)
    return ExecUser(uid=uid, gid=gid, sgids=tuple(sgids), home=home)


def _resolve_group(spec: str, group: str, *, field: str) -> int:
    numeric = _id(spec)
    if numeric is not None:
        return numeric
    for fields in _entries(group):
        if len(fields) >= 3 and fields[0] == spec:
            gid = _id(fields[2])
            if gid is not None:
                return gid
    raise ConfigError("unable to find group", field=field, value=spec)
