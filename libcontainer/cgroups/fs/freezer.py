"""The freezer controller: pause and resume every task of a cgroup."""

from __future__ import annotations

import errno
import time

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.freezerstate import FROZEN, THAWED, UNDEFINED
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.errors import CgroupError
from libcontainer.lazylog import lazy_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Resources

__all__ = ["FreezerGroup", "freeze", "get_state"]

log = lazy_logger(__name__)


STATE = "freezer.state"
_FROZEN = FROZEN
_THAWED = THAWED


class FreezerGroup:
    """The freezer controller."""

    name = "freezer"

    def apply(self, path: str, resources: Resources, pid: int) -> None:
        """Create and join the cgroup."""
        from libcontainer.cgroups.fs.subsystem import join

        join(path, pid)

    def set(self, path: str, resources: Resources) -> None:
        """Freeze or thaw as ``resources.freezer`` says; an empty state leaves it alone."""
        freeze(path, resources.freezer)

    def get_stats(self, path: str, stats: Stats) -> None:
        """Nothing to report."""


def freeze(path: str, state: str) -> None:
    """Write ``state`` to ``freezer.state``; for FROZEN, wait until the kernel is done."""
    value = str(getattr(state, "value", state))
    if value == "":
        return
    if value == _THAWED:
        fscommon.write_file(path, STATE, _THAWED)
        return
    if value != _FROZEN:
        raise CgroupError(f"invalid freezer state {value!r}: use FROZEN, THAWED or ''")
    try:
        _freeze(path)
    except BaseException:
        # Never leave a cgroup FREEZING (or half frozen) behind.
        try:
            fscommon.write_file(path, STATE, _THAWED)
        except CgroupError as exc:
            log.warning("could not thaw %s after a failed freeze: %s", path, exc)
        raise


def _freeze(path: str) -> None:
    # A v1 cgroup can stay FREEZING while tasks keep forking or joining. runc's recipe:
    # rewrite FROZEN and re-read many times, with an occasional thaw and short sleeps, and
    # long, doubling sleeps for very slow machines.
    long_sleep = 1.0
    for i in range(1000):
        if i % 50 == 49:
            fscommon.write_file(path, STATE, _THAWED)
            time.sleep(0.01)
        fscommon.write_file(path, STATE, _FROZEN)
        if i % 25 == 24:
            time.sleep(0.00001)
        if i % 200 == 199:
            time.sleep(long_sleep)
            long_sleep *= 2
        current = fscommon.read_string(path, STATE)
        if current == "FREEZING":
            continue
        if current == _FROZEN:
            if i > 1:
                log.debug("cgroup %s frozen after %d retries", path, i)
            return
        raise CgroupError(f"unexpected freezer state {current!r} in {path} while freezing")
    raise CgroupError(
        f"unable to freeze {path}: it stayed FREEZING (tasks keep being added to it?)"
    )


def get_state(path: str) -> str:
    """The freezer state of the cgroup itself (frozen only through a parent reads THAWED)."""
    while True:
        try:
            current = fscommon.read_string(path, STATE)
        except CgroupFileError as exc:
            # Without freezer.state (old kernel, or the root cgroup) the state is unknown.
            if exc.errno in (errno.ENOENT, errno.ENODEV):
                return UNDEFINED
            raise
        if current == _THAWED:
            return THAWED
        if current == "FREEZING":
            # Transient; wait for a stable answer.
            time.sleep(0.001)
            continue
        if current != _FROZEN:
            raise CgroupError(f"unknown freezer state {current!r} in {path}")
        try:
            self_freezing = fscommon.read_string(path, "freezer.self_freezing")
        except CgroupFileError as exc:
            if exc.errno in (errno.ENOENT, errno.ENODEV):
                return FROZEN
            raise
        if self_freezing == "0":
            return THAWED
        if self_freezing == "1":
            return FROZEN
        raise CgroupError(f"unknown freezer.self_freezing value {self_freezing!r} in {path}")
