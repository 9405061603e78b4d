"""Where sandboxes live on the machine: state directory, cgroup parent, container ids.

Every sandbox gets a container id of its own (``<prefix>-<random>``), a state and rootfs
directory under :attr:`Placement.root`, and the cgroup ``<cgroup_parent>/<id>``; all three
are removed when the sandbox ends. :func:`placement` changes these for the code in a
``with`` block (a test suite uses it to put its token in every name).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import posixpath
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from libcontainer.errors import ConfigError

_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,100}$")


@dataclasses.dataclass(frozen=True)
class Placement:
    """The on-machine names of sandboxes."""

    root: str = "/run/pylibcontainer-sandbox"
    """Holds ``state/`` (the factory's state root) and ``rootfs/`` (per-sandbox roots)."""
    cgroup_parent: str = "/pylibcontainer-sandbox"
    """Cgroup path (relative to each hierarchy's root) under which each sandbox's is made."""
    prefix: str = "sandbox"
    """Start of every container id."""

    def __post_init__(self) -> None:
        if not posixpath.isabs(self.root):
            raise ConfigError("placement root must be an absolute path", value=self.root)
        if not posixpath.isabs(self.cgroup_parent) or ".." in self.cgroup_parent.split("/"):
            raise ConfigError(
                "cgroup parent must be an absolute cgroup path", value=self.cgroup_parent
            )
        if posixpath.normpath(self.cgroup_parent) == "/":
            raise ConfigError(
                "cgroup parent must be below a hierarchy's root, not the root itself",
                value=self.cgroup_parent,
            )
        if not _PREFIX.match(self.prefix):
            raise ConfigError("id prefix must be a short container id", value=self.prefix)

    @property
    def state_root(self) -> Path:
        """The factory's state root."""
        return Path(self.root) / "state"

    @property
    def rootfs_root(self) -> Path:
        """Where each ``rootfs=None`` sandbox's skeleton root directory is made."""
        return Path(self.root) / "rootfs"

    def new_id(self) -> str:
        """A fresh container id."""
        return f"{self.prefix}-{os.getpid()}-{secrets.token_hex(6)}"

    def cgroup_path(self, container_id: str) -> str:
        """The sandbox's own cgroup path."""
        return posixpath.join(self.cgroup_parent, container_id)

    def leftovers(self) -> list[str]:
        """What sandboxes of this placement left behind (empty when all were removed).

        State and root directories, cgroups below :attr:`cgroup_parent` in every
        hierarchy, and processes in them.
        """
        found: list[str] = []
        for d in (self.state_root, self.rootfs_root):
            with contextlib.suppress(FileNotFoundError):
                found += sorted(str(d / name) for name in os.listdir(d))
        for top in self._cgroup_tops():
            for dirpath, dirnames, _ in os.walk(top):
                found += [os.path.join(dirpath, d) for d in sorted(dirnames)]
                with contextlib.suppress(OSError), open(os.path.join(dirpath, "cgroup.procs")) as f:
                    found += [f"process {pid} in {dirpath}" for pid in f.read().split()]
        return found

    def sweep(self) -> None:
        """Remove everything of this placement: its containers, cgroups and directories.

        Containers are destroyed through their state (what a container owns is known from
        it); processes still in cgroups below :attr:`cgroup_parent` are killed (they are
        in this placement's own cgroups); then the cgroups and :attr:`root` go.
        Use only on a placement of one's own (a test's, say).
        """
        import shutil
        import signal

        from libcontainer.cgroups.owned import owner_of
        from libcontainer.factory import Factory

        factory = Factory(self.state_root)
        for container_id in factory.list():
            with contextlib.suppress(Exception):
                factory.load(container_id).destroy()
        ours = str(self.state_root) + "/"
        for top in self._cgroup_tops():
            # Only the cgroups one of this placement's containers made (their owner marks
            # name its state root) and what is below them: never anyone else's processes.
            dirs = [
                dirpath
                for dirpath, _, _ in os.walk(top)
                if any(
                    (owner_of(d) or "").startswith(ours) for d in _self_and_parents(dirpath, top)
                )
            ]
            for _attempt in range(100):
                pids = _pids_in(dirs)
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, os.WNOHANG)
                time.sleep(0.01)
            for d in sorted(dirs, key=len, reverse=True):
                with contextlib.suppress(OSError):
                    os.rmdir(d)
            with contextlib.suppress(OSError):
                os.rmdir(top)  # the parent level, once empty (never killed through)
        shutil.rmtree(self.root, ignore_errors=True)

    def _cgroup_tops(self) -> list[str]:
        """:attr:`cgroup_parent` in each mounted hierarchy, where it exists."""
        from libcontainer.cgroups import HostCgroups

        tops = []
        for mount in HostCgroups.load().mounts:
            if mount.root != "/":
                continue
            top = os.path.join(mount.mountpoint, self.cgroup_parent.lstrip("/"))
            if os.path.isdir(top):
                tops.append(top)
        return tops


def _self_and_parents(path: str, top: str) -> Iterator[str]:
    """``path`` and its parents down to (not including) ``top``."""
    while path != top and path.startswith(top + "/"):
        yield path
        path = os.path.dirname(path)


def _pids_in(dirs: list[str]) -> list[int]:
    pids: list[int] = []
    for d in dirs:
        with contextlib.suppress(OSError), open(os.path.join(d, "cgroup.procs")) as f:
            pids += [int(p) for p in f.read().split()]
    return pids


_DEFAULT = Placement()
_CURRENT: contextvars.ContextVar[Placement | None] = contextvars.ContextVar(
    "libcontainer_sandbox_placement", default=None
)


def current() -> Placement:
    """The placement in effect here."""
    return _CURRENT.get() or _DEFAULT


@contextlib.contextmanager
def placement(
    *, root: str | None = None, cgroup_parent: str | None = None, prefix: str | None = None
) -> Iterator[Placement]:
    """Use another placement for sandboxes (and pools) made inside the block.

    It is a context variable: it holds in this thread and in asyncio tasks started here;
    a thread started inside the block starts without it (run its target through
    ``contextvars.copy_context().run`` to pass it on). A :class:`Pool` keeps the placement
    it was made in.
    """
    base = current()
    new = Placement(
        root=root if root is not None else base.root,
        cgroup_parent=cgroup_parent if cgroup_parent is not None else base.cgroup_parent,
        prefix=prefix if prefix is not None else base.prefix,
    )
    token = _CURRENT.set(new)
    try:
        yield new
    finally:
        _CURRENT.reset(token)
