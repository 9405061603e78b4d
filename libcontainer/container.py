"""``Container``: one container's lifecycle (runc's linuxContainer).

A container made by :meth:`Factory.create` starts *stopped*, with its ``state.json`` on disk
(so any process can :meth:`Factory.load` it); ``start(Process(init=True))`` brings it to
*created* (the init waits on ``exec.fifo``), ``exec()`` to *running*; ``run()`` does both.
``start(Process(init=False))`` runs another process in a running container (runc exec).
``destroy()`` kills everything and removes cgroups and state; it is idempotent.

Status, signals, pause/resume, the release of ``exec.fifo`` and destroy are the lifecycle
core's (:class:`~libcontainer.lifecycle.handle.ContainerHandle`), shared with ``pyrunc``;
this class adds what needs the config models: starting processes, ``set`` and statistics.
Every mutating operation holds the container's lock, across threads and processes.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from libcontainer import eventlog, network
from libcontainer.cgroups.subcgroups import join_sub_cgroups
from libcontainer.configs import Config, NamespaceType
from libcontainer.errors import (
    ConfigError,
    ContainerNotExistsError,
    ContainerNotRunningError,
    ContainerNotStoppedError,
    ContainerPausedError,
    InvalidStateError,
    LibcontainerError,
    ProcessStartError,
)
from libcontainer.hooks import run_hooks
from libcontainer.lifecycle import launch
from libcontainer.lifecycle.background import Background
from libcontainer.lifecycle.execfifo import EXEC_FIFO
from libcontainer.lifecycle.handle import KILL_TIMEOUT, ContainerHandle
from libcontainer.lifecycle.record import StateRecord
from libcontainer.lifecycle.status import Status
from libcontainer.ocistate import bundle_and_annotations, hook_state
from libcontainer.process import Process
from libcontainer.procinfo import start_time
from libcontainer.spawner import Guard, SpawnerLike
from libcontainer.state import State, StateStore

if TYPE_CHECKING:
    from libcontainer.cgroups import Manager
    from libcontainer.cgroups.oom import OomNotifier
    from libcontainer.cgroups.stats import Stats
    from libcontainer.configs import Device

log = logging.getLogger("libcontainer")


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
        state: State,
        state_json: bytes | None = None,
        newuidmap: str | None = None,
        newgidmap: str | None = None,
    ) -> None:
        self.id = container_id
        self.config = config
        self._store = store
        self._manager = manager
        self._spawner = spawner
        self._state = state
        data = state_json if state_json is not None else state.to_json().encode()
        # The manager's view of the host's cgroup mounts serves the lifecycle core too: it
        # would read the mount table again on every exec() and destroy().
        host = getattr(manager, "host", None)
        self._handle = ContainerHandle(store, self._record(data), host=host)
        self._init: Process | None = None
        self._destroyed = False
        self._newuidmap = newuidmap
        self._newgidmap = newgidmap

    def __repr__(self) -> str:
        status = "destroyed" if self._destroyed else self.status().value
        return f"<Container {self.id!r} {status}>"

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    def _record(self, data: bytes) -> StateRecord:
        return StateRecord.from_json(data, self._store.state_path(self.id), self.id)

    def _save(self, state: State) -> None:
        """Write ``state`` as state.json and make it what the lifecycle core acts on."""
        data = self._store.save(state)
        self._state = state
        self._handle.set_record(self._record(data))

    def _check_exists(self) -> None:
        if self._destroyed:
            raise ContainerNotExistsError(f"container {self.id} has been destroyed")

    @property
    def root(self) -> Path:
        """This container's state directory."""
        return Path(self._handle.dir)

    @property
    def bundle(self) -> str:
        """The bundle directory recorded in the config's labels (``bundle=...``)."""
        return bundle_and_annotations(self.config.labels)[0]

    @property
    def cgroup_manager(self) -> Manager | None:
        """The cgroup manager (None when the config has no cgroups)."""
        return self._manager

    # -- status ---------------------------------------------------------------------------

    def status(self) -> Status:
        """The current status, from the init's liveness, the freezer and exec.fifo."""
        return Status(self._handle.status())

    def state(self) -> State:
        """What state.json holds (``init_process_pid`` is 0 until the init is started)."""
        return self._state

    def oci_state(self) -> dict[str, Any]:
        """The OCI state, as ``runc state`` prints it."""
        return self._handle.oci_state()

    def processes(self) -> list[int]:
        """Pids of every process in the container's own cgroups."""
        return self._handle.pids()

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
        self._check_exists()
        if not isinstance(process, Process):
            raise ConfigError(
                f"Container.start takes a libcontainer.Process, not {type(process).__name__}"
            )
        if process.pid is not None:
            raise InvalidStateError(f"{process!r} has already been started")
        process._check()
        if process.init:
            with self._handle.lock:
                self._handle.refresh()
                if self._handle.record.started:
                    raise ContainerNotStoppedError(_HINT_STARTED.format(id=self.id))
                self._start_init(process)
        else:
            self._start_setns(process, ignore_paused)

    def run(self, process: Process) -> None:
        """Start the process and, for an init, release it at once (runc's run)."""
        self.start(process)
        if process.init:
            self.exec()

    def _start_init(self, process: Process) -> None:
        ctx = self._ctx()
        fifo_path = self.root / EXEC_FIFO
        uid, gid = launch.host_root_ids(self.config)
        fifo_fd = -1
        sock = None
        saver = Background("libcontainer-state")
        since = eventlog.started()
        try:
            # A start killed midway (in another process) may have left its fifo.
            with contextlib.suppress(FileNotFoundError):
                fifo_path.unlink()
            os.mkfifo(fifo_path, 0o622)
            # Any user the container runs as must be able to open it for writing; the
            # umask would have taken those bits away.
            os.chmod(fifo_path, 0o622)
            try:
                os.chown(fifo_path, uid, gid)
            except PermissionError:
                # Unprivileged, with the container's root mapped to a subordinate uid:
                # runc fails here; the mode alone lets that root write it.
                if os.geteuid() == 0:
                    raise
            fifo_fd = os.open(fifo_path, os.O_PATH | os.O_CLOEXEC)
            go_early = not launch.waits_for_parent(self.config)
            sock = launch.spawn(
                ctx,
                process,
                "standard",
                lambda p: launch.clone_request_for_init(ctx, p, self._guard()),
                fifo_fd=fifo_fd,
                go_early=go_early,
            )
            os.close(fifo_fd)
            fifo_fd = -1
            self._init = process
            pid = _pid_of(process)
            launch.write_oom_score_adj(pid, self.config.oom_score_adj)
            # Without a veth network (a new netns has only loopback) the module is not loaded.
            if any(n.type == "veth" for n in self.config.networks):
                network.create_interfaces(self.config.networks, pid, self.root)
            manager = self._manager

            def on_hooks() -> None:
                if manager is not None and self.config.cgroups is not None:
                    manager.set(self.config.cgroups.resources)
                state = hook_state(
                    self.id, "creating", pid, self.config.labels, self.config.version
                )
                run_hooks("prestart", self.config.hooks.prestart, state)
                run_hooks("createRuntime", self.config.hooks.create_runtime, state)

            def join_cgroups() -> None:
                if manager is not None:
                    manager.apply(pid)
                # Everything state.json records is known now (pid, start time, cgroup and
                # namespace paths): write it while the init sets itself up. It is joined
                # before start() returns; a failed start writes the unstarted state back.
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
                go_sent=go_early,
            )
            saver.join()
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
        eventlog.done("start", self.id, since, pid=process.pid, init=True)

    def _guard(self) -> Guard:
        """What the spawner undoes if we die before the container is created."""
        paths = self._manager.get_paths().values() if self._manager is not None else ()
        return Guard(state_dir=str(self.root), cgroup_paths=tuple(paths))

    def _unstarted_state(self) -> State:
        from libcontainer.configs import Timestamp

        return State(
            id=self.id,
            created=Timestamp.now(),
            config=self.config,
            rootless=self.config.rootless_euid,
            cgroup_paths=self._manager.get_paths() if self._manager is not None else {},
        )

    def _undo_start(self) -> None:
        """After a failed start: back to a clean, unstarted container (as created)."""
        self._init = None
        with contextlib.suppress(FileNotFoundError):
            (self.root / EXEC_FIFO).unlink()
        network.remove_interfaces(self.root, raise_errors=False)
        if self._manager is not None:
            from libcontainer.cgroups.owned import ContainerCgroups

            try:
                ContainerCgroups(self._manager.get_paths(), self._handle.owner).kill_all()
                self._manager.destroy()
            except LibcontainerError as e:
                log.warning("container %s: cleaning up after a failed start: %s", self.id, e)
        try:
            self._save(self._unstarted_state())
        except LibcontainerError as e:
            log.warning("container %s: cannot rewrite its state: %s", self.id, e)

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
        self._save(
            State(
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
        )

    def _start_setns(self, process: Process, ignore_paused: bool) -> None:
        since = eventlog.started()
        ctx = self._ctx()
        with self._handle.lock:
            self._handle.refresh()
            status = self.status()
            if status == Status.PAUSED and not ignore_paused:
                raise ContainerPausedError(f"container {self.id} is paused")
            if status not in (Status.CREATED, Status.RUNNING, Status.PAUSED):
                hint = "" if self._handle.record.started else _HINT_EXEC_FIRST
                raise ContainerNotRunningError(f"container {self.id} is not running{hint}")
            namespace_paths = self._state.namespace_paths
            sock = launch.spawn(
                ctx,
                process,
                "setns",
                lambda p: launch.clone_request_for_setns(ctx, p, namespace_paths),
            )
            try:
                pid = _pid_of(process)
                launch.write_oom_score_adj(pid, self.config.oom_score_adj)
                if self._manager is not None:
                    self._manager.apply(pid)
                join_sub_cgroups(self._manager, pid, process.sub_cgroup_paths)
                launch.set_rlimits(pid, process.rlimits or self.config.rlimits)
            except BaseException:
                sock.close()
                launch.kill_and_reap(process)
                process._close_parent_streams()
                raise
        # Unlocked from here: in a paused container (ignore_paused) the process sits frozen
        # until someone resumes it, and resume needs the lock.
        try:
            launch.converse(
                sock,
                process,
                on_seccomp=lambda fd: self._send_seccomp_fd(fd, pid, "running"),
            )
            if self._init is not None:
                self._init._add_companion(process)
        except BaseException:
            launch.kill_and_reap(process)
            process._close_parent_streams()
            raise
        finally:
            sock.close()
        eventlog.done("start", self.id, since, pid=pid, init=False)

    def _send_seccomp_fd(self, fd: int, pid: int, status: str) -> None:
        """Give a seccomp listener fd to the agent at the config's listener_path (as runc)."""
        from libcontainer.seccomp import send_listener_fd

        seccomp = self.config.seccomp
        if seccomp is None:
            raise ProcessStartError("a seccomp listener fd arrived without a seccomp config")
        state = hook_state(self.id, status, pid, self.config.labels, self.config.version)
        send_listener_fd(seccomp.listener_path, fd, state, seccomp.listener_metadata, pid)

    def exec(self, timeout: float | None = None) -> None:
        """Release the init waiting on exec.fifo so it execs the user's program (runc start).

        Then the poststart hooks run; if one fails, the init is killed and HookError raised.
        """
        self._check_exists()
        since = eventlog.started()
        try:
            self._handle.start(timeout, poststart=self.config.hooks.poststart)
        except InvalidStateError as e:
            if not self._handle.record.started:
                raise type(e)(
                    f"container {self.id} has not been started{_HINT_EXEC_FIRST}"
                ) from None
            if self.status() == Status.RUNNING:
                raise ContainerNotRunningError(f"{e}{_HINT_RELEASE}") from None
            raise
        eventlog.done("exec", self.id, since)

    # -- signals, pause, destroy ------------------------------------------------------------

    def signal(self, sig: int, all: bool = False) -> None:
        """Send ``sig`` to the init, or with ``all`` to every process in the container."""
        self._check_exists()
        self._handle.signal(sig, all)
        eventlog.done("signal", self.id, signal=sig, all=all)

    def pause(self) -> None:
        """Freeze every process in the container."""
        self._check_exists()
        self._handle.pause()

    def resume(self) -> None:
        """Thaw a paused container."""
        self._check_exists()
        self._handle.resume()

    def set(self, config: Config) -> None:
        """Change the cgroup resources of a running container (runc update)."""
        self._check_exists()
        if not isinstance(config, Config):
            raise ConfigError(f"Container.set takes a Config, not {type(config).__name__}")
        import attrs

        with self._handle.lock:
            self._handle.refresh()
            if self._manager is None or config.cgroups is None:
                return
            self._manager.set(config.cgroups.resources)
            self.config = config
            self._save(attrs.evolve(self._state, config=config))

    def stats(self) -> Stats:
        """Cgroup statistics (:class:`libcontainer.cgroups.Stats`), with the veth networks'
        counters."""
        self._check_exists()
        if self._manager is None:
            raise ContainerNotRunningError("container has no cgroups")
        return network.with_interface_stats(self._manager.get_stats(), self.root)

    def notify_oom(self) -> OomNotifier:
        """An OOM notifier for the container's memory cgroup (runc's NotifyOOM).

        Returns :class:`libcontainer.cgroups.oom.OomNotifier`: ``wait(timeout)`` returns
        when the kernel OOM-killed something in the container, ``fileno()`` for select.
        """
        from libcontainer.cgroups.oom import notify_oom

        self._check_exists()
        if self._manager is None:
            raise ContainerNotRunningError(f"container {self.id} has no cgroups")
        return notify_oom(self._manager)

    def destroy(self) -> None:
        """Kill every process, remove cgroups and the state dir, run poststop hooks.

        Safe to call more than once, and on a container that never started.
        """
        if self._destroyed:
            return
        since = eventlog.started()
        init = self._init
        wait_init = None
        if init is not None:  # our own child: wait() reaps it (and its companions)

            def wait_init() -> None:
                with contextlib.suppress(Exception):
                    init.wait(timeout=KILL_TIMEOUT)

        try:
            self._handle.destroy(
                wait_init=wait_init,
                poststop=self.config.hooks.poststop,
                remove_cgroups=self._manager.destroy if self._manager is not None else None,
            )
        finally:
            if not self._store.exists(self.id):  # gone, even if some step failed
                self._destroyed = True
                if init is not None and init.pid is not None:
                    init.poll()  # an init that had exited before (not waited for above)
                self._init = None
        eventlog.done("destroy", self.id, since)

    # -- devices (libcontainer.hotplug) ------------------------------------------------------

    def add_device(
        self, path: str, permissions: str = "rwm", *, container_path: str | None = None
    ) -> Device:
        """Hot-add the host's device node ``path`` to this running container (at
        ``container_path``, default the same path); recorded in state.json."""
        from libcontainer import hotplug

        self._check_exists()
        with self._handle.lock:
            return hotplug.add_device(self, path, permissions, container_path=container_path)

    def remove_device(self, path: str) -> Device:
        """Take the device at ``path`` (in the container) away again; recorded in state.json."""
        from libcontainer import hotplug

        self._check_exists()
        with self._handle.lock:
            return hotplug.remove_device(self, path)


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


def _pid_of(process: Process) -> int:
    if process.pid is None:
        raise ProcessStartError("the container process was not created")
    return process.pid


def load_container(
    store: StateStore, container_id: str, spawner: SpawnerLike, **kwargs: Any
) -> Container:
    """A Container from its state.json (for Factory.load)."""
    from libcontainer.cgroups import new_manager

    try:
        data = store.read(container_id)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise ContainerNotExistsError(f"container {container_id} does not exist") from None
        raise
    state = store.parse(container_id, data)
    config = state.config
    manager = (
        new_manager(
            config.cgroups,
            paths=dict(state.cgroup_paths),
            owner=store.container_dir(container_id),
        )
        if config.cgroups is not None
        else None
    )
    return Container(
        container_id, config, store, manager, spawner, state=state, state_json=data, **kwargs
    )


__all__ = ["EXEC_FIFO", "Container", "load_container"]
