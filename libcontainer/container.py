"""``Container``: one container's lifecycle (runc's linuxContainer).

A container made by :meth:`Factory.create` starts *stopped*; ``start(Process(init=True))``
brings it to *created* (the init waits on ``exec.fifo``), ``exec()`` to *running*;
``run()`` does both. ``start(Process(init=False))`` execs into a running container.
``destroy()`` kills everything and removes cgroups and state; it is idempotent.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal as signal_mod
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from libcontainer import eventlog
from libcontainer.cgroups import Manager
from libcontainer.configs import Config, FreezerState, NamespaceType
from libcontainer.errors import (
    ContainerNotExistsError,
    ContainerNotPausedError,
    ContainerNotRunningError,
    ContainerNotStoppedError,
    ContainerPausedError,
    LibcontainerError,
    ProcessStartError,
)
from libcontainer.hooks import run_hooks
from libcontainer.lifecycle import execfifo, launch, teardown
from libcontainer.lifecycle.background import Background
from libcontainer.lifecycle.status import Status
from libcontainer.ocistate import OCI_VERSION, bundle_and_annotations, hook_state
from libcontainer.process import Process
from libcontainer.procinfo import is_alive, start_time
from libcontainer.spawner import Guard, SpawnerLike
from libcontainer.state import State, StateStore

if TYPE_CHECKING:
    from libcontainer.cgroups.oom import OomNotifier
    from libcontainer.cgroups.stats import Stats

log = logging.getLogger(__name__)

EXEC_FIFO = "exec.fifo"


class Container:
    """A container in a factory's state root. Get one from a :class:`Factory`."""

    def __init__(
        self,
        container_id: str,
        config: Config,
        store: StateStore,
        manager: Manager | None,
        spawner: SpawnerLike,
        *,
        state: State | None = None,
        newuidmap: str | None = None,
        newgidmap: str | None = None,
    ) -> None:
        self.id = container_id
        self.config = config
        self._store = store
        self._manager = manager
        self._spawner = spawner
        self._state = state
        self._init: Process | None = None
        self._lock = threading.RLock()
        self._newuidmap = newuidmap
        self._newgidmap = newgidmap

    def __repr__(self) -> str:
        return f"<Container {self.id!r} {self.status().value}>"

    @property
    def root(self) -> Path:
        """This container's state directory."""
        return self._store.container_dir(self.id)

    @property
    def bundle(self) -> str:
        """The bundle directory recorded in the config's labels (``bundle=...``)."""
        return bundle_and_annotations(self.config.labels)[0]

    @property
    def cgroup_manager(self) -> Manager | None:
        """The cgroup manager (None when the config has no cgroups)."""
        return self._manager

    # -- status ---------------------------------------------------------------------------

    def _init_alive(self) -> bool:
        st = self._state
        return st is not None and is_alive(st.init_process_pid, st.init_process_start)

    def status(self) -> Status:
        """The current status, from the init's liveness, the freezer and exec.fifo."""
        if not self._init_alive():
            return Status.STOPPED
        if self._manager is not None:
            with contextlib.suppress(Exception):
                if self._manager.get_freezer_state() == FreezerState.FROZEN:
                    return Status.PAUSED
        if (self.root / EXEC_FIFO).exists():
            return Status.CREATED
        return Status.RUNNING

    def state(self) -> State:
        """The recorded state (what state.json holds); raises if never started."""
        if self._state is None:
            raise ContainerNotRunningError(f"container {self.id} has not been started")
        return self._state

    def oci_state(self) -> dict[str, Any]:
        """The OCI state, as ``runc state`` prints it."""
        status = self.status()
        st = self._state
        pid = st.init_process_pid if st is not None and status != Status.STOPPED else 0
        bundle, annotations = bundle_and_annotations(self.config.labels)
        out: dict[str, Any] = {
            "ociVersion": self.config.version or OCI_VERSION,
            "id": self.id,
            "pid": pid,
            "status": status.value,
            "bundle": bundle,
            "rootfs": self.config.rootfs,
            "created": str(st.created) if st is not None else "0001-01-01T00:00:00Z",
        }
        if annotations:
            out["annotations"] = annotations
        out["owner"] = ""
        return out

    def processes(self) -> list[int]:
        """Pids of every process in the container's cgroups."""
        if self._manager is None:
            st = self._state
            return [st.init_process_pid] if st and self._init_alive() else []
        if not self._manager.exists():
            return []
        return self._manager.get_all_pids()

    # -- start / exec / run ---------------------------------------------------------------

    def _ctx(self) -> launch.LaunchContext:
        return launch.LaunchContext(
            container_id=self.id,
            config=self.config,
            bundle=self.bundle,
            manager=self._manager,
            spawner=self._spawner,
            newuidmap=self._newuidmap,
            newgidmap=self._newgidmap,
        )

    def start(self, process: Process, *, ignore_paused: bool = False) -> None:
        """Start ``process``: the container's init (``init=True``) or an exec into it.

        ``ignore_paused`` allows an exec into a paused container (runc exec
        --ignore-paused): the new process joins the frozen cgroup, so its setup (and this
        call) completes only once the container is resumed from another thread or process.
        """
        with self._lock:
            if process.init:
                if self.status() != Status.STOPPED or self._state is not None:
                    raise ContainerNotStoppedError(_HINT_STARTED.format(id=self.id))
                self._start_init(process)
            else:
                status = self.status()
                if status == Status.PAUSED and not ignore_paused:
                    raise ContainerPausedError(f"container {self.id} is paused")
                if status == Status.PAUSED:
                    status = Status.RUNNING
                if status not in (Status.CREATED, Status.RUNNING):
                    hint = _HINT_EXEC_FIRST if self._state is None else ""
                    raise ContainerNotRunningError(f"container {self.id} is not running{hint}")
                self._start_setns(process)

    def run(self, process: Process) -> None:
        """Start the process and, for an init, release it at once (runc's run)."""
        self.start(process)
        if process.init:
            self.exec()

    def _start_init(self, process: Process) -> None:
        since = eventlog.started()
        ctx = self._ctx()
        fifo_path = self.root / EXEC_FIFO
        uid, gid = launch.host_root_ids(self.config)
        fifo_fd = -1
        sock = None
        saver = Background("libcontainer-state")
        try:
            os.mkfifo(fifo_path, 0o622)
            # Any user the container runs as must be able to open it for writing; the
            # umask would have taken those bits away.
            os.chmod(fifo_path, 0o622)
            os.chown(fifo_path, uid, gid)
            fifo_fd = os.open(fifo_path, os.O_PATH | os.O_CLOEXEC)
            sock = launch.spawn(
                ctx,
                process,
                "standard",
                lambda p: launch.clone_request_for_init(ctx, p, self._guard()),
                fifo_fd=fifo_fd,
            )
            os.close(fifo_fd)
            fifo_fd = -1
            self._init = process
            assert process.pid is not None
            pid = process.pid
            launch.write_oom_score_adj(pid, self.config.oom_score_adj)
            manager = self._manager

            def on_hooks() -> None:
                if self._manager is not None and self.config.cgroups is not None:
                    self._manager.set(self.config.cgroups.resources)
                state = hook_state(
                    self.id, "creating", pid, self.config.labels, self.config.version
                )
                run_hooks("prestart", self.config.hooks.prestart, state)
                run_hooks("createRuntime", self.config.hooks.create_runtime, state)

            def join_cgroups() -> None:
                if manager is not None:
                    manager.apply(pid)
                # Everything state.json records is known now (pid, start time, cgroup and
                # namespace paths): write it (two fsyncs) while the init sets itself up.
                # It is joined before start() returns; a failed start removes it again.
                saver.start(lambda: self._record_state(pid))

            def on_ready() -> None:
                launch.set_rlimits(pid, process.rlimits or self.config.rlimits)

            launch.converse(
                sock,
                process,
                on_hooks=on_hooks,
                on_ready=on_ready,
                on_seccomp=lambda fd: self._send_seccomp_fd(fd, pid, "creating"),
                join_cgroups=join_cgroups,
                cgroups_first=launch.needs_cgroups_first(self.config),
                expect_alive=True,
            )
            saver.join()
            eventlog.done("start", self.id, since, pid=pid, init=True)
        except BaseException as e:
            saver.join(raise_error=False)
            if fifo_fd >= 0:
                os.close(fifo_fd)
            launch.kill_and_reap(process)
            process._close_parent_streams()
            self._undo_start()
            if isinstance(e, LibcontainerError | KeyboardInterrupt):
                raise
            if isinstance(e, OSError):
                raise ProcessStartError(f"starting container {self.id}: {e}") from e
            raise
        finally:
            if sock is not None:
                sock.close()
            if process.pid is not None:
                self._spawner.release(process.pid)

    def _guard(self) -> Guard:
        """What the spawner undoes if we die before the container is created."""
        paths = self._manager.get_paths().values() if self._manager is not None else ()
        return Guard(state_dir=str(self.root), cgroup_paths=tuple(paths))

    def _undo_start(self) -> None:
        """After a failed start: back to a clean *stopped* container (dir kept, as created)."""
        self._state = None
        self._init = None
        with contextlib.suppress(FileNotFoundError):
            (self.root / EXEC_FIFO).unlink()
        with contextlib.suppress(FileNotFoundError):
            (self.root / "state.json").unlink()
        if self._manager is not None:
            teardown.kill_cgroup_processes(self._manager, self.id)
            with contextlib.suppress(Exception):
                self._manager.destroy()

    def _record_state(self, pid: int) -> None:
        from libcontainer.configs import Timestamp

        started = start_time(pid)
        if started is None:
            raise ProcessStartError("container init exited before it was ready")
        namespace_paths = {t: f"/proc/{pid}/ns/{t.file_name}" for t in NamespaceType}
        for ns in self.config.namespaces:
            if ns.path:
                namespace_paths[ns.type] = ns.path
        descriptors = []
        for fd in range(3):
            try:
                descriptors.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                descriptors.append("/dev/null")
        self._state = State(
            id=self.id,
            init_process_pid=pid,
            init_process_start=started,
            created=Timestamp.now(),
            config=self.config,
            rootless=self.config.rootless_euid,
            cgroup_paths=self._manager.get_paths() if self._manager else {},
            namespace_paths={
                t: namespace_paths[t] for t in sorted(namespace_paths, key=lambda x: x.value)
            },
            external_descriptors=tuple(descriptors),
        )
        self._store.save(self._state)

    def _start_setns(self, process: Process) -> None:
        since = eventlog.started()
        ctx = self._ctx()
        state = self.state()
        sock = launch.spawn(
            ctx,
            process,
            "setns",
            lambda p: launch.clone_request_for_setns(ctx, p, state.namespace_paths),
        )
        try:
            assert process.pid is not None
            launch.write_oom_score_adj(process.pid, self.config.oom_score_adj)
            if self._manager is not None:
                self._manager.apply(process.pid)
            launch.set_rlimits(process.pid, process.rlimits or self.config.rlimits)
            launch.converse(
                sock,
                process,
                on_seccomp=lambda fd: self._send_seccomp_fd(fd, process.pid or 0, "running"),
            )
            if self._init is not None:
                self._init._add_companion(process)
            eventlog.done("start", self.id, since, pid=process.pid, init=False)
        except BaseException:
            launch.kill_and_reap(process)
            process._close_parent_streams()
            raise
        finally:
            sock.close()

    def _send_seccomp_fd(self, fd: int, pid: int, status: str) -> None:
        """Give a seccomp listener fd to the agent at the config's listener_path (as runc)."""
        from libcontainer.seccomp import send_listener_fd

        seccomp = self.config.seccomp
        assert seccomp is not None
        state = hook_state(self.id, status, pid, self.config.labels, self.config.version)
        send_listener_fd(seccomp.listener_path, fd, state, seccomp.listener_metadata, pid)

    def exec(self, timeout: float | None = None) -> None:
        """Release the init waiting on exec.fifo so it execs the user's program (runc start)."""
        with self._lock:
            since = eventlog.started()
            if self.status() != Status.CREATED:
                raise ContainerNotRunningError(
                    f"container {self.id} is not in created state" + _HINT_RELEASE
                )
            execfifo.release(self.root / EXEC_FIFO, self._init_alive, timeout)
            eventlog.done("exec", self.id, since)
            if self.config.hooks.poststart:
                state = hook_state(
                    self.id,
                    "running",
                    self.state().init_process_pid,
                    self.config.labels,
                    self.config.version,
                )
                try:
                    run_hooks("poststart", self.config.hooks.poststart, state)
                except LibcontainerError:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.state().init_process_pid, signal_mod.SIGKILL)
                    raise

    # -- signals, pause, destroy ------------------------------------------------------------

    def signal(self, sig: int, all: bool = False) -> None:
        """Send ``sig`` to the init, or with ``all`` to every process in the container."""
        status = self.status()
        if status == Status.STOPPED:
            raise ContainerNotRunningError(f"container {self.id} is not running")
        eventlog.done("signal", self.id, signal=sig, all=all)
        if all and self._manager is not None:
            teardown.signal_all(self._manager, sig)
            return
        os.kill(self.state().init_process_pid, sig)

    def pause(self) -> None:
        """Freeze every process in the container."""
        status = self.status()
        if status not in (Status.RUNNING, Status.CREATED):
            raise ContainerNotRunningError(f"container {self.id} is not running")
        assert self._manager is not None, "pause needs a cgroup manager"
        self._manager.freeze(FreezerState.FROZEN)

    def resume(self) -> None:
        """Thaw a paused container."""
        if self.status() != Status.PAUSED:
            raise ContainerNotPausedError(f"container {self.id} is not paused")
        assert self._manager is not None
        self._manager.freeze(FreezerState.THAWED)

    def set(self, config: Config) -> None:
        """Change the cgroup resources of a running container (runc update)."""
        if self._manager is None or config.cgroups is None:
            return
        self._manager.set(config.cgroups.resources)
        self.config = config
        if self._state is not None:
            import attrs

            self._state = attrs.evolve(self._state, config=config)
            self._store.save(self._state)

    def stats(self) -> Stats:
        """Cgroup statistics (:class:`libcontainer.cgroups.Stats`)."""
        if self._manager is None:
            raise ContainerNotRunningError("container has no cgroups")
        return self._manager.get_stats()

    def notify_oom(self) -> OomNotifier:
        """An OOM notifier for the container's memory cgroup (runc's NotifyOOM).

        Returns :class:`libcontainer.cgroups.oom.OomNotifier`: ``wait(timeout)`` returns
        when the kernel OOM-killed something in the container, ``fileno()`` for select.
        """
        from libcontainer.cgroups.oom import notify_oom

        if self._manager is None:
            raise ContainerNotRunningError(f"container {self.id} has no cgroups")
        return notify_oom(self._manager)

    def destroy(self) -> None:
        """Kill every process, remove cgroups and the state dir, run poststop hooks.

        Safe to call more than once, and on a container that never started.
        """
        with self._lock:
            since = eventlog.started()
            existed = self._store.exists(self.id)
            ran = self._state is not None
            if self._state is not None:
                teardown.kill_init(
                    self._state.init_process_pid,
                    self._state.init_process_start,
                    self._manager,
                    self._init,
                    self.id,
                )
            # Like runc: a cgroup that cannot be removed does not keep the state dir (and
            # so the container) alive; the first error is raised once all is done.
            error: BaseException | None = None
            if self._manager is not None:
                teardown.kill_cgroup_processes(self._manager, self.id)
                try:
                    self._manager.destroy()
                except Exception as e:
                    error = e
            self._store.remove(self.id)
            self._state = None
            if existed and ran and self.config.hooks.poststop:
                state = hook_state(self.id, "stopped", 0, self.config.labels, self.config.version)
                try:
                    run_hooks("poststop", self.config.hooks.poststop, state)
                except Exception as e:
                    error = error or e
            eventlog.done("destroy", self.id, since)
            if error is not None:
                raise error

    # -- context manager (issue 11) ----------------------------------------------------------

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        """Destroy the container, also when the block raised."""
        self.destroy()


# What the caller may have meant (runc's names in brackets), added to the errors.
_HINT_STARTED = (
    "container {id} has already been started: to run another process in it, pass "
    "Process(..., init=False) to start() (runc exec); to let its created init run its "
    "program, call exec() (runc start)"
)
_HINT_EXEC_FIRST = (
    ": it has not been started, and Process(init=False) runs a process in a running "
    "container (runc exec); start the container's first process with start(Process(...)) "
    "and exec() (runc create + start), or run() (runc run)"
)
_HINT_RELEASE = (
    ": exec() releases the init that start(Process(...)) left waiting (runc start), once; "
    "to run another process in a running container, pass Process(..., init=False) to "
    "start() (runc exec)"
)


def load_container(
    store: StateStore, container_id: str, spawner: SpawnerLike, **kwargs: Any
) -> Container:
    """A Container from its state.json (for Factory.load)."""
    from libcontainer.cgroups import new_manager

    try:
        state = store.load(container_id)
    except ContainerNotExistsError:
        raise
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise ContainerNotExistsError(f"container {container_id} does not exist") from None
        raise
    config = state.config
    manager = (
        new_manager(config.cgroups, paths=dict(state.cgroup_paths))
        if config.cgroups is not None
        else None
    )
    return Container(container_id, config, store, manager, spawner, state=state, **kwargs)


__all__ = ["EXEC_FIFO", "Container", "load_container"]
