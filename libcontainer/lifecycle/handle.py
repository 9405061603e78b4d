"""``ContainerHandle``: the one place the lifecycle verbs live.

Status (with the start-time check against pid reuse), signals, pause and resume, start
(releasing ``exec.fifo``), delete and destroy are implemented here once, on what
``state.json`` records, and used by :class:`libcontainer.Container` and ``pyrunc`` alike.
This module imports nothing heavy, so the command line's frequent verbs start at the
interpreter's floor.

Every mutating verb holds the container's lock (:class:`~.store.ContainerLock`) and re-reads
``state.json`` under it, as runc serialises operations on a container. Nothing is signalled,
frozen or removed before it is proven the container's own: its cgroups by confinement and
owner mark (:mod:`libcontainer.cgroups.owned`), its init by pid, start time and membership
of those cgroups (or, without cgroups, by having the container's rootfs as its root).
"""

from __future__ import annotations

import os
import time

from libcontainer.cgroups.freezerstate import FROZEN, THAWED
from libcontainer.errors import (
    CgroupError,
    ContainerNotExistsError,
    ContainerNotPausedError,
    ContainerNotRunningError,
    ContainerNotStoppedError,
    HookError,
    InvalidStateError,
    OwnershipError,
)
from libcontainer.lazylog import lazy_logger
from libcontainer.lifecycle.execfifo import EXEC_FIFO, release
from libcontainer.lifecycle.record import StateRecord
from libcontainer.lifecycle.status import CREATED, PAUSED, RUNNING, STOPPED
from libcontainer.procinfo import SIGKILL, has_exited, is_alive, root_is

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from libcontainer.cgroups.host import HostCgroups
    from libcontainer.cgroups.owned import ContainerCgroups
    from libcontainer.lifecycle.store import Store

__all__ = ["ContainerHandle"]

log = lazy_logger("libcontainer")

#: How long destroy waits for a killed init to be gone (runc's killContainer: 10 s).
KILL_TIMEOUT = 10.0


class ContainerHandle:
    """One container in a state root, as the lifecycle verbs see it.

    Build one with :meth:`load`; ``record`` is what its ``state.json`` says. Read-only
    methods use the record as it is; mutating ones lock the container and re-read it.
    """

    def __init__(
        self, store: Store, record: StateRecord, *, host: HostCgroups | None = None
    ) -> None:
        self.store = store
        self.id = record.id
        self.dir = store.container_dir(record.id)
        self.record = record
        self.lock = store.lock(record.id)
        self._host = host
        self._cgroups: ContainerCgroups | None = None

    def __repr__(self) -> str:
        return f"<ContainerHandle {self.id!r} pid={self.record.pid}>"

    @classmethod
    def load(
        cls, store: Store, container_id: str, *, host: HostCgroups | None = None
    ) -> ContainerHandle:
        """Read the container's ``state.json`` (ContainerNotExistsError, StateFileError)."""
        return cls(store, _read_record(store, container_id), host=host)

    def refresh(self) -> None:
        """Re-read ``state.json`` (ContainerNotExistsError once the container is gone)."""
        self.set_record(_read_record(self.store, self.id))

    def set_record(self, record: StateRecord) -> None:
        """Adopt ``record`` (after the caller wrote the matching ``state.json``)."""
        self.record = record
        self._cgroups = None

    @property
    def owner(self) -> str:
        """The owner mark of the container's cgroups: its state directory."""
        return self.dir

    def cgroups(self) -> ContainerCgroups:
        """The recorded cgroups, confined (OwnershipError if ``state.json`` names any
        directory outside the cgroup mounts or a hierarchy's root)."""
        if self._cgroups is None:
            from libcontainer.cgroups.owned import ContainerCgroups

            self._cgroups = ContainerCgroups(self.record.cgroup_paths, self.owner, self._host)
        return self._cgroups

    # -- reading ------------------------------------------------------------------------------

    def init_alive(self) -> bool:
        """Whether the recorded init still runs (same pid *and* start time: no pid reuse)."""
        rec = self.record
        return rec.pid > 0 and is_alive(rec.pid, rec.start)

    def status(self) -> str:
        """Stopped, paused, created or running, as runc decides them."""
        if not self.init_alive():
            return STOPPED
        if self._frozen():
            return PAUSED
        if os.path.exists(os.path.join(self.dir, EXEC_FIFO)):
            return CREATED
        return RUNNING

    def _frozen(self) -> bool:
        if not self.record.cgroup_paths:
            return False
        try:
            return self.cgroups().freezer_state() == FROZEN
        except (OwnershipError, CgroupError) as e:
            log.debug("container %s: no freezer state: %s", self.id, e)
            return False

    def oci_state(self) -> dict[str, Any]:
        """The OCI state, as ``runc state`` prints it."""
        return self.record.oci_state(self.status())

    def pids(self) -> list[int]:
        """Every process of the container (in its own cgroups; the init without cgroups)."""
        if self.record.cgroup_paths:
            return self.cgroups().all_pids()
        return [self.record.pid] if self._init_proven() else []

    def _init_proven(self) -> bool:
        """Whether the recorded init is alive and provably this container's process."""
        if not self.init_alive():
            return False
        rec = self.record
        if rec.cgroup_paths:
            cgroups = self.cgroups()
            if cgroups.any_owned():
                return cgroups.contains(rec.pid)
        return bool(rec.rootfs) and root_is(rec.pid, rec.rootfs)

    def _require_init(self) -> int | None:
        """The init's pid once proven the container's; None if it has exited meanwhile."""
        if not self._init_proven():
            if not self.init_alive():
                return None  # it exited while we looked (it leaves its cgroups first)
            raise OwnershipError(
                f"refusing to signal pid {self.record.pid}: it is not provably container "
                f"{self.id}'s init (not in the container's own cgroup, nor in its rootfs)"
                + self._proof_details()
            )
        return self.record.pid

    def _proof_details(self) -> str:
        rec = self.record
        try:
            with open(f"/proc/{rec.pid}/cgroup", encoding="utf-8") as f:
                theirs = f.read().strip().replace("\n", ", ")
        except OSError as e:
            theirs = e.strerror or str(e)
        owned = [k for k in rec.cgroup_paths if self.cgroups().owned(k)] if rec.cgroup_paths else []
        return f"; its cgroups: {theirs}; the container's own: {', '.join(owned) or 'none'}"

    # -- verbs --------------------------------------------------------------------------------

    def signal(self, sig: int, all: bool = False) -> None:
        """runc's Signal: ``sig`` to the init, or with ``all`` to every process in the
        container's own cgroups (frozen meanwhile)."""
        with self.lock:
            self.refresh()
            status = self.status()
            if all:
                if status == STOPPED and not self.cgroups().exists():
                    return
                cgroups = self.cgroups()
                if not cgroups.any_owned():
                    raise OwnershipError(
                        f"cannot signal all processes of {self.id}: it has no cgroup of its own"
                    )
                cgroups.signal_all(sig)
                return
            pid = self._require_init() if status != STOPPED else None
            if pid is None:
                raise ContainerNotRunningError("container not running")
            os.kill(pid, sig)
            if status == PAUSED and sig == SIGKILL:
                # A frozen (v1) task acts on SIGKILL only once thawed.
                self.cgroups().freeze(THAWED)

    def pause(self) -> None:
        """Freeze every process of a running or created container."""
        with self.lock:
            self.refresh()
            if self.status() not in (RUNNING, CREATED):
                raise ContainerNotRunningError(f"container {self.id} is not running")
            self.cgroups().freeze(FROZEN)

    def resume(self) -> None:
        """Thaw a paused container."""
        with self.lock:
            self.refresh()
            if self.status() != PAUSED:
                raise ContainerNotPausedError(f"container {self.id} is not paused")
            self.cgroups().freeze(THAWED)

    def start(
        self, timeout: float | None = None, poststart: Sequence[object] | None = None
    ) -> None:
        """runc's start: release the created init (it execs the user's program), then run
        the poststart hooks (the record's, or ``poststart``); a failing hook kills it."""
        with self.lock:
            self.refresh()
            status = self.status()
            if status == STOPPED:
                raise ContainerNotRunningError("cannot start a container that has stopped")
            if status == RUNNING:
                raise InvalidStateError("cannot start an already running container")
            if status != CREATED:
                raise InvalidStateError(f"cannot start a container in the {status} state")
            pid = self._require_init()
            if pid is None:
                raise ContainerNotRunningError("cannot start a container that has stopped")
            release(os.path.join(self.dir, EXEC_FIFO), self.init_alive, timeout)
            hooks = self.record.hook_list("poststart") if poststart is None else poststart
            if hooks:
                try:
                    self._run_hooks("poststart", hooks, "running", pid)
                except HookError:
                    _kill(pid)
                    raise

    def delete(self, force: bool = False, **destroy_options: Any) -> None:
        """runc's delete: a stopped or created container is destroyed; a running or paused
        one only with ``force`` (ContainerNotStoppedError otherwise)."""
        with self.lock:
            self.refresh()
            status = self.status()
            if status not in (STOPPED, CREATED) and not force:
                raise ContainerNotStoppedError(
                    f"cannot delete container {self.id} that is not stopped: {status}"
                )
            self.destroy(**destroy_options)

    def destroy(
        self,
        *,
        wait_init: Callable[[], None] | None = None,
        poststop: Sequence[object] | None = None,
        remove_cgroups: Callable[[], None] | None = None,
    ) -> None:
        """Kill the container's processes, remove its cgroups and state dir, run poststop.

        What is killed or removed is proven the container's own first: a forged or corrupt
        ``state.json`` makes this fail (OwnershipError) before anything is touched. Like
        runc, a cgroup that cannot be removed does not keep the state dir; the first error
        is raised at the end. Idempotent: nothing happens once the container is gone.

        ``wait_init`` waits for the killed init (the library reaps its own child that way);
        ``remove_cgroups`` replaces the removal of the cgroups (a manager's ``destroy``);
        ``poststop`` replaces the record's poststop hooks.
        """
        try:
            self.lock.__enter__()
        except ContainerNotExistsError:
            return  # destroyed already
        try:
            self._destroy_locked(wait_init, poststop, remove_cgroups)
        finally:
            self.lock.__exit__(None, None, None)

    def _destroy_locked(
        self,
        wait_init: Callable[[], None] | None,
        poststop: Sequence[object] | None,
        remove_cgroups: Callable[[], None] | None,
    ) -> None:
        try:
            self.refresh()
        except ContainerNotExistsError:
            return
        rec = self.record
        cgroups = self.cgroups() if rec.cgroup_paths else None  # proven before any kill
        alive = self.init_alive() and self._require_init() is not None
        errors: list[BaseException] = []
        if alive:
            _kill(rec.pid)
            if cgroups is not None and cgroups.has_freezer():
                _collect(errors, cgroups.freeze, THAWED)
            (wait_init or (lambda: _wait_gone(rec.pid, rec.start)))()
        # Without a PID namespace of its own, killing the init leaves the rest (runc's
        # destroy); and whatever a crashed start left in the container's own cgroups.
        if cgroups is not None and (not rec.own_pid_namespace or not alive):
            _collect(errors, cgroups.kill_all)
        if remove_cgroups is not None:
            _collect(errors, remove_cgroups)
        elif cgroups is not None:
            _collect(errors, self._remove_cgroups, cgroups)
        if rec.has_veth_networks:
            from libcontainer.network import remove_interfaces

            network_error = remove_interfaces(self.dir, raise_errors=False)
            if network_error is not None:
                errors.append(network_error)
        self.store.remove(self.id)
        if rec.started:
            hooks = rec.hook_list("poststop") if poststop is None else poststop
            if hooks:
                _collect(errors, self._run_hooks, "poststop", hooks, "stopped", 0)
        if errors:
            raise errors[0]

    def _remove_cgroups(self, cgroups: ContainerCgroups) -> None:
        if self.record.systemd:
            from libcontainer.lifecycle.systemd import remove_scope

            remove_scope(self.record, self.owner)
        else:
            cgroups.remove()

    def _run_hooks(self, kind: str, hooks: Sequence[object], status: str, pid: int) -> None:
        from libcontainer.hooks import run_hooks
        from libcontainer.ocistate import state_json

        rec = self.record
        state = state_json(self.id, status, pid, rec.bundle, rec.annotations, rec.version)
        run_hooks(kind, hooks, state)


def _read_record(store: Store, container_id: str) -> StateRecord:
    return StateRecord.from_json(
        store.read(container_id), store.state_path(container_id), container_id
    )


def _kill(pid: int) -> None:
    try:
        os.kill(pid, SIGKILL)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, start: int, timeout: float = KILL_TIMEOUT) -> None:
    """Wait until ``pid`` (started at ``start``) has exited; reap it if it is our child."""
    deadline = time.monotonic() + timeout
    while not has_exited(pid, start):
        try:
            os.waitpid(pid, os.WNOHANG)
        except (ChildProcessError, OSError):
            pass
        if time.monotonic() > deadline:
            log.warning("pid %d is still alive %.0f s after SIGKILL", pid, timeout)
            return
        time.sleep(0.002)


def _collect(errors: list[BaseException], fn: Callable[..., object], *args: object) -> None:
    try:
        fn(*args)
    except Exception as e:
        errors.append(e)
