"""The v2 freezer: ``cgroup.freeze``, confirmed by ``frozen 1`` in ``cgroup.events``.

Writing ``1`` to ``cgroup.freeze`` only asks the kernel to freeze; the cgroup is frozen once
every task has stopped, which ``cgroup.events`` reports. runc polls it (10 ms, up to 10 s).
"""

from __future__ import annotations

import errno
import time

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.freezerstate import FROZEN, THAWED, UNDEFINED
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.errors import CgroupError

__all__ = ["get_freezer", "set_freezer"]

FREEZE = "cgroup.freeze"
EVENTS = "cgroup.events"
_WAIT = 0.01
_MAX_ITER = 1000


def set_freezer(path: str, state: str) -> None:
    """Freeze or thaw; ``""`` leaves the cgroup alone."""
    value = str(getattr(state, "value", state))
    if value == "":
        return
    if value not in (FROZEN, THAWED):
        raise CgroupError(f"invalid freezer state {value!r}: use FROZEN, THAWED or ''")
    try:
        fscommon.write_file(path, FREEZE, "1" if value == FROZEN else "0")
    except CgroupFileError as exc:
        # Without cgroup.freeze (kernel < 5.2) thawing is a no-op; freezing is impossible.
        if value == THAWED and exc.errno in (errno.ENOENT, errno.ENODEV):
            return
        raise CgroupError(f"freezer not supported in {path}: {exc}") from exc
    actual = get_freezer(path)
    if actual != value:
        raise CgroupError(
            f"expected {path}/{FREEZE} to be in state {value!r} but it is in {actual!r}"
        )


def get_freezer(path: str) -> str:
    """The state asked for in ``cgroup.freeze``; FROZEN only once ``cgroup.events`` agrees."""
    try:
        current = fscommon.read_string(path, FREEZE)
    except CgroupFileError as exc:
        if exc.errno in (errno.ENOENT, errno.ENODEV):
            return UNDEFINED
        raise
    if current == "0":
        return THAWED
    if current == "1":
        return _wait_frozen(path)
    raise CgroupError(f"unknown {FREEZE} state {current!r} in {path}")


def _wait_frozen(path: str) -> str:
    for _ in range(_MAX_ITER):
        frozen = fscommon.get_value_by_key(path, EVENTS, "frozen")
        if frozen == 1:
            return FROZEN
        time.sleep(_WAIT)
    raise CgroupError(f"timeout of {_WAIT * _MAX_ITER:.0f}s reached waiting for {path} to freeze")
