"""One sandbox's container, from creation to removal (shared by run, run_async and Pool).

Every box has its own container id, its own cgroup (``<cgroup_parent>/<id>``), its own
state directory and, with ``rootfs=None``, its own skeleton root; :meth:`Box.destroy`
removes all of them and is safe to call at any point, including after a failed create.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import shutil
import signal
import threading
import time
from pathlib import Path

from libcontainer.configs import Rlimit
from libcontainer.container import Container
from libcontainer.errors import ContainerNotRunningError
from libcontainer.factory import Factory
from libcontainer.process import Process
from libcontainer.sandbox.accounting import Usage, read_usage, reset_peak
from libcontainer.sandbox.config import container_config, make_skeleton, nofile_limit
from libcontainer.sandbox.location import Placement
from libcontainer.sandbox.options import SandboxOptions

log = logging.getLogger(__name__)

_FACTORIES: dict[Path, Factory] = {}
_FACTORIES_LOCK = threading.Lock()


def factory_for(place: Placement) -> Factory:
    """The factory of a placement's state root (one per root, shared)."""
    with _FACTORIES_LOCK:
        factory = _FACTORIES.get(place.state_root)
        if factory is None:
            factory = _FACTORIES[place.state_root] = Factory(place.state_root)
        return factory


def rlimits() -> list[Rlimit]:
    """The rlimits of every sandboxed program (runc's spec: 1024 open files)."""
    n = nofile_limit()
    return [Rlimit(type=resource.RLIMIT_NOFILE, soft=n, hard=n)]


class Box:
    """One sandbox's container."""

    def __init__(self, options: SandboxOptions, place: Placement) -> None:
        self.options = options
        self.place = place
        self.id = place.new_id()
        self.container: Container | None = None
        self._skeleton: Path | None = None
        self.released_at = 0.0
        """``time.monotonic()`` when the program was released."""
        # start and destroy may come from different threads (a cancelled run_async):
        # a destroy waits for a start in progress, and nothing starts after a destroy.
        self._lock = threading.Lock()
        self._destroyed = False

    def create(self) -> Container:
        """Make the container (stopped): its rootfs, config and state directory."""
        rootfs = self.options.rootfs
        if rootfs is None:
            self.place.rootfs_root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._skeleton = self.place.rootfs_root / self.id
            make_skeleton(self._skeleton)
            rootfs = str(self._skeleton)
        config = container_config(
            self.options, rootfs=rootfs, cgroup_path=self.place.cgroup_path(self.id)
        )
        self.container = factory_for(self.place).create(self.id, config)
        return self.container

    def start(self, process: Process) -> None:
        """Create the container and start ``process`` as its init (it waits on exec.fifo)."""
        with self._lock:
            if self._destroyed:
                raise ContainerNotRunningError(f"sandbox {self.id} was destroyed")
            container = self.container or self.create()
            container.start(process)

    def baseline(self) -> Usage:
        """Right before the program starts: restart the peak count, note the counters."""
        manager = self._container().cgroup_manager
        assert manager is not None
        reset_peak(manager)
        before = read_usage(manager)
        self.released_at = time.monotonic()
        return before

    def release(self) -> Usage:
        """Let the created init exec its program; the cgroup's counters just before."""
        before = self.baseline()
        self._container().exec()
        return before

    def usage(self) -> Usage:
        """The cgroup's counters now."""
        manager = self._container().cgroup_manager
        assert manager is not None
        return read_usage(manager)

    def kill(self) -> None:
        """SIGKILL every process in the sandbox (freezing the cgroup around it)."""
        container = self._container()
        with contextlib.suppress(ContainerNotRunningError):
            container.signal(signal.SIGKILL, all=True)

    def destroy(self) -> None:
        """Kill what is left and remove the container, its cgroup and its directories."""
        with self._lock:
            self._destroyed = True
            try:
                if self.container is not None:
                    self.container.destroy()
            finally:
                if self._skeleton is not None:
                    shutil.rmtree(self._skeleton, ignore_errors=True)
                    self._skeleton = None

    def _container(self) -> Container:
        if self.container is None:
            raise ContainerNotRunningError(f"sandbox {self.id} has no container")
        return self.container
