"""A container's own cgroups: proving ownership, and acting only on what is proven.

Two proofs guard every signal, freeze or removal that goes through a cgroup:

- **confinement**: the path lies strictly below a cgroup mount of the hierarchy it is
  recorded for (never a hierarchy root, never outside cgroupfs, no ``..``), checked against
  this process's mount table;
- **ownership**: the directory carries the owner mark its manager wrote when it *created*
  it (an extended attribute, ``trusted.pylibcontainer.owner`` as root and
  ``user.pylibcontainer.owner`` otherwise, holding the container's state directory). A
  cgroup that existed before (the host's, another container's, one a caller asked to join)
  has no mark, or another one, and is left alone. Where the kernel keeps no extended
  attributes (cgroup v1 as an unprivileged user), a cgroup counts as owned when it is owned
  by our uid: the kernel's own permission checks then bound what we can touch.

Paths read back from ``state.json`` are untrusted: a forged file can make an operation fail
with :class:`~libcontainer.errors.OwnershipError`, never widen what it touches.
"""

from __future__ import annotations

import errno
import os
import posixpath
import time

from libcontainer.cgroups import utils
from libcontainer.cgroups.freezerstate import FROZEN, THAWED, UNDEFINED
from libcontainer.errors import CgroupError, OwnershipError
from libcontainer.lazylog import lazy_logger
from libcontainer.procinfo import SIGKILL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from libcontainer.cgroups.host import CgroupMount, HostCgroups

__all__ = [
    "ContainerCgroups",
    "claim",
    "confine",
    "is_owned",
    "owner_of",
    "private_owner",
]

log = lazy_logger(__name__)

_XATTR_ROOT = "trusted.pylibcontainer.owner"
_XATTR_USER = "user.pylibcontainer.owner"
_NO_XATTRS = (errno.ENOTSUP, errno.EOPNOTSUPP)
# Which recorded cgroup to list processes from: one that every container process is in.
_PIDS_KEYS = ("", "devices", "pids", "freezer", "memory", "cpu", "name=systemd")


def _xattr_name() -> str:
    return _XATTR_ROOT if os.geteuid() == 0 else _XATTR_USER


def claim(path: str, owner: str) -> bool:
    """Mark the cgroup at ``path`` (just created by a manager) as ``owner``'s.

    Returns False where the kernel keeps no such attribute (then uid ownership stands in).
    """
    try:
        os.setxattr(path, _xattr_name(), owner.encode())
        return True
    except OSError as e:
        if e.errno in (*_NO_XATTRS, errno.EPERM, errno.EACCES):
            log.debug("cannot mark cgroup %s as %s's: %s", path, owner, e.strerror)
            return False
        raise CgroupError(f"cannot mark cgroup {path} as the container's: {e.strerror}") from e


def owner_of(path: str) -> str | None:
    """The owner mark of the cgroup at ``path``, or None if it has none."""
    for name in (_XATTR_ROOT, _XATTR_USER):
        try:
            return os.getxattr(path, name).decode(errors="replace")
        except OSError as e:
            if e.errno in (errno.ENODATA, *_NO_XATTRS, errno.EPERM, errno.EACCES):
                continue
            if e.errno == errno.ENOENT:
                return None
            raise CgroupError(f"cannot read the owner of cgroup {path}: {e.strerror}") from e
    return None


def is_owned(path: str, owner: str) -> bool:
    """Whether the (existing) cgroup at ``path`` is ``owner``'s, by mark or by uid (above)."""
    mark = owner_of(path)
    if mark is not None:
        return mark == owner
    if os.geteuid() == 0:
        return False
    try:
        return os.stat(path).st_uid == os.geteuid() and not _keeps_xattrs(path)
    except FileNotFoundError:
        return False


def _keeps_xattrs(path: str) -> bool:
    try:
        os.getxattr(path, _XATTR_USER)
    except OSError as e:
        return e.errno not in _NO_XATTRS
    return True


def _mount_for(host: HostCgroups, key: str) -> CgroupMount | None:
    return host.unified_mount() if key == "" else host.find_mount(key)


def confine(host: HostCgroups, key: str, path: object) -> str:
    """Check that ``path``, a container's cgroup for hierarchy ``key`` (``""``: cgroup v2),
    lies strictly below a cgroup mount of that hierarchy; return it.

    Raises :class:`OwnershipError` naming the path otherwise.
    """
    what = f"cgroup path {path!r} (for {key or 'cgroup v2'})"
    if not isinstance(path, str) or not path.startswith("/") or "\0" in path:
        raise OwnershipError(f"refusing to use {what}: not an absolute path")
    if posixpath.normpath(path) != path:
        raise OwnershipError(f"refusing to use {what}: not a clean path")
    mount = _mount_for(host, key)
    if mount is None:
        raise OwnershipError(f"refusing to use {what}: this host has no such cgroup hierarchy")
    top = mount.mountpoint.rstrip("/")
    if not path.startswith(top + "/"):
        problem = "it is the hierarchy's root" if path == top else "it is outside"
        raise OwnershipError(f"refusing to use {what}: {problem} of {mount.mountpoint}")
    try:
        if os.stat(path).st_dev != os.stat(top).st_dev:
            raise OwnershipError(f"refusing to use {what}: another filesystem is mounted there")
    except FileNotFoundError:
        pass  # nothing there to act on; callers check existence
    return path


class ContainerCgroups:
    """One container's cgroup directories (``key -> path``), each confined when built.

    ``owner`` is the container's owner mark (its state directory). Every action works on
    the directories that exist and are owned; the others are left alone.
    """

    def __init__(
        self,
        paths: Mapping[str, str],
        owner: str,
        host: HostCgroups | None = None,
        *,
        created: Iterable[str] = (),
    ) -> None:
        if host is None:
            from libcontainer.cgroups.host import HostCgroups

            host = HostCgroups.load()
        self.host = host
        self.owner = owner
        self.paths = {key: confine(host, key, path) for key, path in paths.items()}
        # Directories this process's manager made itself: owned even where no mark sticks.
        self._created = frozenset(created)

    def __repr__(self) -> str:
        return f"ContainerCgroups({self.paths!r}, owner={self.owner!r})"

    def owned(self, key: str) -> str | None:
        """The path for ``key`` if it exists and is the container's own."""
        path = self.paths.get(key)
        if path and os.path.isdir(path) and (path in self._created or is_owned(path, self.owner)):
            return path
        return None

    def any_owned(self) -> bool:
        """Whether at least one of the container's cgroups exists and is its own."""
        return any(self.owned(key) for key in self.paths)

    def exists(self) -> bool:
        """Whether any of the container's cgroup directories exists."""
        return any(os.path.isdir(p) for p in self.paths.values())

    def _pids_dir(self) -> str | None:
        for key in (*_PIDS_KEYS, *self.paths):
            path = self.owned(key)
            if path:
                return path
        return None

    def all_pids(self) -> list[int]:
        """Every pid in the container's own cgroup tree ([] without an owned cgroup)."""
        path = self._pids_dir()
        if path is None:
            return []
        try:
            return utils.get_all_pids(path)
        except CgroupError:
            if not os.path.isdir(path):
                return []
            raise

    def contains(self, pid: int) -> bool:
        """Whether ``pid`` is in (or below) one of the container's own cgroups."""
        from libcontainer.cgroups.host import parse_proc_cgroup

        try:
            with open(f"/proc/{pid}/cgroup", encoding="utf-8") as f:
                theirs = parse_proc_cgroup(f.read())
        except (OSError, CgroupError):
            return False
        for key, path in self.paths.items():
            mount = _mount_for(self.host, key)
            current = theirs.get(key)
            if mount is None or current is None or not self.owned(key):
                continue
            relative = path[len(mount.mountpoint.rstrip("/")) :]
            expected = posixpath.normpath(mount.root.rstrip("/") + relative)
            if current == expected or current.startswith(expected.rstrip("/") + "/"):
                return True
        return False

    # -- freezer ------------------------------------------------------------------------------

    def _freezer(self) -> tuple[str, str] | None:
        """("v1"|"v2", path) of the container's own freezer, if it has one."""
        path = self.owned("freezer")
        if path:
            return "v1", path
        path = self.owned("")
        if path and os.path.exists(posixpath.join(path, "cgroup.freeze")):
            return "v2", path
        return None

    def has_freezer(self) -> bool:
        """Whether the container can be paused (it has a freezer cgroup of its own)."""
        return self._freezer() is not None

    def freezer_state(self) -> str:
        """FROZEN or THAWED (UNDEFINED without an own freezer)."""
        freezer = self._freezer()
        if freezer is None:
            return UNDEFINED
        kind, path = freezer
        if kind == "v1":
            from libcontainer.cgroups.fs import freezer as v1

            return v1.get_state(path)
        from libcontainer.cgroups.fs2 import freezer as v2

        return v2.get_freezer(path)

    def freeze(self, state: str) -> None:
        """Freeze or thaw the container's own freezer cgroup (CgroupError if it has none)."""
        freezer = self._freezer()
        if freezer is None:
            raise CgroupError("the container has no freezer cgroup of its own to pause with")
        kind, path = freezer
        if kind == "v1":
            from libcontainer.cgroups.fs import freezer as v1

            v1.freeze(path, state)
        else:
            from libcontainer.cgroups.fs2 import freezer as v2

            v2.set_freezer(path, state)

    # -- signals and removal ------------------------------------------------------------------

    def signal_all(self, sig: int) -> list[int]:
        """Send ``sig`` to every process in the container's own cgroups, frozen meanwhile
        (runc's signalAllProcesses: nothing forks away between listing and signalling).

        Returns the pids signalled.
        """
        frozen = False
        if self.has_freezer() and self.freezer_state() != FROZEN:
            try:
                self.freeze(FROZEN)
                frozen = True
            except CgroupError as e:
                log.warning("signalling without freezing first: %s", e)
        try:
            pids = self.all_pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        finally:
            if frozen or (sig == SIGKILL and self.has_freezer()):
                # A frozen task acts on SIGKILL only once thawed.
                try:
                    self.freeze(THAWED)
                except CgroupError as e:
                    log.warning("could not thaw after signalling: %s", e)
        return pids

    def kill_all(self, timeout: float = 10.0) -> None:
        """SIGKILL everything in the container's own cgroups until they are empty."""
        if not self.all_pids():
            return  # the usual case (an init's death took its namespace along): no freeze
        deadline = time.monotonic() + timeout
        while True:
            # No reaping here: an exec'd process is its starter's child, whose Process
            # must get its status; a dead task leaves the cgroup before it is reaped.
            pids = self.signal_all(SIGKILL)
            if not pids:
                return
            if time.monotonic() > deadline:
                raise CgroupError(f"processes {sorted(pids)[:10]} did not die after SIGKILL")
            time.sleep(0.002)

    def remove(self) -> None:
        """Remove the container's own cgroups (with their sub-cgroups); leave every other
        directory alone. Parent levels stay, as with runc: they may be shared (a pod's
        cgroup is kubelet's), and removing one could race another container's mkdir."""
        owned = {key: path for key in self.paths if (path := self.owned(key))}
        for key, path in self.paths.items():
            if key not in owned and os.path.isdir(path):
                log.warning("leaving cgroup %s: the container did not create it", path)
        utils.remove_paths(owned)


def private_owner() -> str:
    """An owner mark for a manager used on its own (no container state dir to name)."""
    return f"pid:{os.getpid()}:{os.urandom(8).hex()}"
