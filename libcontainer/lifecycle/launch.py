"""The parent's side of starting a container process (runc's initProcess / setnsProcess).

Builds the bootstrap message, has the spawner clone the process, puts it in the cgroups,
then answers the init's typed messages until it reports success (by closing the channel)
or an error. On any failure the process is killed and reaped before the error is raised;
the caller (the container) undoes the rest.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping

import attrs

from libcontainer import apparmor, mountsources, rootless, selinux, stagelog, sync
from libcontainer.capabilities import last_cap
from libcontainer.cgroups import Manager
from libcontainer.configs import Config, IDMap, NamespaceType, Rlimit, Seccomp
from libcontainer.console import send_console
from libcontainer.errors import ProcessStartError
from libcontainer.init.finalize import capability_sets
from libcontainer.init.payload import CompiledSeccomp, FdLayout, InitPayload
from libcontainer.process import Process
from libcontainer.spawner import Guard, SpawnerLike, SpawnRequest

# NAMESPACE_ORDER without user (handled by the handshake) and cgroup (unshared by the init
# after it has been put into its cgroup, so the cgroup namespace is rooted there).
_UNSHARED_BY_STAGE1 = (
    NamespaceType.NEWIPC,
    NamespaceType.NEWUTS,
    NamespaceType.NEWNET,
    NamespaceType.NEWPID,
    NamespaceType.NEWNS,
)


@attrs.define
class LaunchContext:
    """What the parent needs to start one process in a container."""

    container_id: str
    config: Config
    bundle: str
    manager: Manager | None
    spawner: SpawnerLike
    newuidmap: str | None = None
    newgidmap: str | None = None


def _id_maps_needed(config: Config) -> bool:
    return any(ns.type == NamespaceType.NEWUSER and not ns.path for ns in config.namespaces)


def host_root_ids(config: Config) -> tuple[int, int]:
    """The host uid/gid that container root maps to (0/0 without a user namespace)."""
    return _host_id(config.uid_mappings, 0), _host_id(config.gid_mappings, 0)


def _host_id(maps: tuple[IDMap, ...], cid: int) -> int:
    for m in maps:
        if m.container_id <= cid < m.container_id + m.size:
            return m.host_id + cid - m.container_id
    return cid if not maps else 65534


def _setgroups_denied(config: Config) -> bool:
    """runc's rule: a rootless container denies setgroups(2) when its gid map is the one the
    kernel lets an unprivileged process write itself (which it requires); a map written by
    newgidmap leaves it allowed, so the container's processes can have their groups."""
    from libcontainer.idmap import direct_write_allowed

    return config.rootless_euid and direct_write_allowed(config.gid_mappings, os.getegid())


def clone_request_for_init(
    ctx: LaunchContext, payload: InitPayload, guard: Guard | None = None
) -> SpawnRequest:
    """Namespaces to create and join for a new container's init."""
    config = ctx.config
    flags = 0
    join: list[tuple[str, int]] = []
    for ns in config.namespaces:
        if ns.path:
            join.append((ns.path, ns.type.clone_flag))
        elif ns.type in _UNSHARED_BY_STAGE1 or ns.type == NamespaceType.NEWUSER:
            flags |= ns.type.clone_flag
    userns = any(ns.type == NamespaceType.NEWUSER for ns in config.namespaces)
    return SpawnRequest(
        payload=payload,
        clone_flags=flags,
        join=tuple(join),
        uid_mappings=config.uid_mappings if _id_maps_needed(config) else (),
        gid_mappings=config.gid_mappings if _id_maps_needed(config) else (),
        setgroups_deny=_setgroups_denied(config),
        become_root=userns,
        newuidmap=ctx.newuidmap,
        newgidmap=ctx.newgidmap,
        guard=guard,
    )


def clone_request_for_setns(
    ctx: LaunchContext, payload: InitPayload, namespace_paths: Mapping[NamespaceType, str]
) -> SpawnRequest:
    """Join every namespace the container was configured with (runc orderNamespacePaths)."""
    join: list[tuple[str, int]] = []
    for ns in ctx.config.namespaces:
        path = namespace_paths.get(ns.type) or ns.path
        if path:
            join.append((path, ns.type.clone_flag))
    userns = any(ns.type == NamespaceType.NEWUSER for ns in ctx.config.namespaces)
    return SpawnRequest(payload=payload, clone_flags=0, join=tuple(join), become_root=userns)


@contextlib.contextmanager
def _closing(fds: Iterable[int]) -> Iterator[None]:
    try:
        yield
    finally:
        for fd in fds:
            os.close(fd)


@contextlib.contextmanager
def _channel() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        yield ours, theirs
    finally:
        theirs.close()


def spawn(
    ctx: LaunchContext,
    process: Process,
    kind: str,
    make_request: Callable[[InitPayload], SpawnRequest],
    fifo_fd: int | None = None,
    *,
    go_early: bool = False,
) -> socket.socket:
    """Clone the process; returns our end of its channel. The process is attached on return.

    ``go_early``: the first Go is queued on the channel before the process exists, so it
    starts on its setup at once (see :func:`waits_for_parent`); ``converse`` must then be
    told so (``go_sent``).
    """
    config = ctx.config
    # Unknown capability names are the caller's mistake: say so here, as a ConfigError,
    # rather than from inside a half-made container. The masks go to the process as they
    # are (it would compute them again, and read cap_last_cap twice on its way).
    top = last_cap()
    capabilities = capability_sets(process.capabilities or config.capabilities, last=top)
    selinux.check_process_label(
        process.label or config.process_label, enabled=selinux.host_enabled()
    )
    stdio = process._child_stdio()
    if config.is_private(NamespaceType.NEWUSER):
        rootless.share_stdio_pipes(stdio, host_root_ids(config)[0])
    # Bind sources the container's root could not reach (see libcontainer.mountsources).
    sources = mountsources.open_mount_sources(config) if kind == "standard" else {}
    with _channel() as (ours, theirs), _closing(sources.values()):
        fds = [theirs.fileno(), *stdio, *process.pass_fds]
        extra_start = 4
        fifo = None
        if fifo_fd is not None:
            fifo = len(fds)
            fds.append(fifo_fd)
        mounts = []
        for index, fd in sources.items():
            mounts.append((index, len(fds)))
            fds.append(fd)
        layout = FdLayout(
            sync=0,
            stdio=(1, 2, 3),
            extra=tuple(range(extra_start, extra_start + len(process.pass_fds))),
            fifo=fifo,
            mounts=tuple(mounts),
        )
        if go_early:
            sync.send(ours, sync.Go())
        payload = InitPayload(
            kind="standard" if kind == "standard" else "setns",
            container_id=ctx.container_id,
            config=_for_the_init(config),
            process=process._spec(),
            fds=layout,
            capabilities=capabilities,
            last_cap=top,
            bundle=ctx.bundle,
            seccomp=compile_seccomp(config.seccomp) if config.seccomp is not None else None,
            unshare_cgroupns=kind == "standard"
            and any(ns.type == NamespaceType.NEWCGROUP and not ns.path for ns in config.namespaces),
            apparmor_enabled=apparmor.host_enabled(),
            selinux_enabled=selinux.host_enabled(),
            log_level=stagelog.parent_level(),
        )
        try:
            result = ctx.spawner.spawn(make_request(payload), fds)
        finally:
            process._close_child_fds()
    if result.stage1_pid:
        _reap(result.stage1_pid)
    if result.error or not result.pid:
        stagelog.drain(ours)
        ours.close()
        process._close_parent_streams()
        raise ProcessStartError(result.error or "container process was not created")
    process._attach(result.pid)
    return ours


def _for_the_init(config: Config) -> Config:
    """The config the container process receives: without the hooks the runtime runs itself.

    The payload is pickled to the spawner helper; a Python-function hook (a lambda) cannot
    be, and it has no business in the container anyway: prestart, createRuntime, poststart
    and poststop run here, in the caller.
    """
    h = config.hooks
    if not (h.prestart or h.create_runtime or h.poststart or h.poststop):
        return config
    import attrs

    parent_side = {"prestart": (), "create_runtime": (), "poststart": (), "poststop": ()}
    return attrs.evolve(config, hooks=attrs.evolve(h, **parent_side))


def needs_cgroups_first(config: Config) -> bool:
    """Must the init be in its cgroups before it starts (cgroupns, premount commands)?"""
    if any(ns.type == NamespaceType.NEWCGROUP for ns in config.namespaces):
        return True
    return any(m.premount_cmds or m.postmount_cmds for m in config.mounts)


def waits_for_parent(config: Config) -> bool:
    """Must a new init wait for the parent before its first step?

    It must when it is to be in its cgroups first (:func:`needs_cgroups_first`), and when
    it configures interfaces the parent makes after the clone (veth pairs, and routes,
    which name them). Otherwise nothing the parent does before its first Go (oom score,
    attaching the pidfd) touches what the init does before it next waits (session,
    keyring, loopback, the mounts up to the first cgroup mount), so Go can be queued
    before the clone: the init starts while the parent joins its cgroups.
    """
    if needs_cgroups_first(config):
        return True
    return bool(config.routes) or any(n.type != "loopback" for n in config.networks)


def compile_seccomp(config: Seccomp) -> CompiledSeccomp:
    """Build the BPF program here, in the runtime, where libseccomp is the host's."""
    from libcontainer.configs import Action
    from libcontainer.seccomp import filter as seccomp_filter

    program = seccomp_filter.patched_program(config)
    flags, no_new_privs = seccomp_filter.filter_flags(config, seccomp_filter.build_filter(config))
    return CompiledSeccomp(
        program=program,
        flags=flags,
        set_no_new_privs=no_new_privs,
        notify=any(call.action == Action.NOTIFY for call in config.syscalls),
    )


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def set_rlimits(pid: int, rlimits: tuple[Rlimit, ...]) -> None:
    """Set rlimits from outside (a process in a user namespace could not raise them)."""
    for rl in rlimits:
        try:
            resource.prlimit(pid, rl.type, (rl.soft, rl.hard))
        except (OSError, ValueError) as e:
            name = _RLIMIT_NAMES.get(rl.type, str(rl.type))
            hard_now = resource.prlimit(pid, rl.type)[1] if isinstance(e, OSError) else None
            hint = (
                f" (the hard limit is {hard_now} and this process cannot raise it: "
                "CAP_SYS_RESOURCE is not in its bounding set)"
                if hard_now is not None and rl.hard > hard_now >= 0
                else ""
            )
            raise ProcessStartError(
                f"error setting rlimit {name} to soft={rl.soft} hard={rl.hard}: {e}{hint}"
            ) from None


_RLIMIT_NAMES = {getattr(resource, n): n for n in dir(resource) if n.startswith("RLIMIT_")}


def write_oom_score_adj(pid: int, value: int | None) -> None:
    """Set the process's oom_score_adj (before it can lose the right to)."""
    if value is None:
        return
    with open(f"/proc/{pid}/oom_score_adj", "w") as f:
        f.write(str(value))


def kill_and_reap(process: Process) -> None:
    """SIGKILL a half-started process and wait for it."""
    if process.pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.wait()


def converse(
    sock: socket.socket,
    process: Process,
    *,
    on_hooks: Callable[[], None] | None = None,
    on_ready: Callable[[], None] | None = None,
    on_seccomp: Callable[[int], None] | None = None,
    join_cgroups: Callable[[], None] | None = None,
    cgroups_first: bool = True,
    expect_alive: bool = False,
    go_sent: bool = False,
) -> None:
    """Answer the init until it closes the channel (success) or reports an error.

    ``join_cgroups`` puts the process in its cgroups, before or after the first Go as
    ``cgroups_first`` says. ``go_sent``: the first Go was queued before the clone
    (``spawn(go_early=True)``), so it is not sent again.

    ``expect_alive``: a standard init closes the channel and then waits on exec.fifo, so
    finding it dead at that point means it crashed without a word.
    """
    # The process waits for Go before doing anything. When nothing it does early depends
    # on being in its cgroups (no cgroup namespace to unshare, no premount commands to
    # fork), let it start on its mounts while we join the cgroups: they overlap. Either
    # way the cgroups are joined before the process forks anything or is told to go on
    # past the hooks, since we only answer RunHooks after join_cgroups returned.
    if go_sent and cgroups_first:
        raise ValueError("Go was sent before the cgroups could be joined")
    if join_cgroups is not None and cgroups_first:
        join_cgroups()
    if not go_sent:
        _send_go(sock)
    if join_cgroups is not None:
        if not cgroups_first:
            join_cgroups()
        _send_or_read_error(sock, sync.CgroupsJoined())
    while True:
        msg, fds = sync.recv(sock)
        if msg is None:
            if expect_alive and process.poll() is not None:
                raise ProcessStartError(
                    f"container process exited during setup (status {process.returncode})"
                )
            return
        if isinstance(msg, sync.Error):
            raise ProcessStartError(msg.message)
        if isinstance(msg, sync.RunHooks):
            if on_hooks:
                on_hooks()
            sync.send(sock, sync.HooksDone())
        elif isinstance(msg, sync.Console):
            if not fds:
                raise ProcessStartError("console message without a pty")
            if process.console_socket:
                try:
                    send_console(process.console_socket, fds[0])
                finally:
                    os.close(fds[0])
            else:
                process._set_console(fds[0])
        elif isinstance(msg, sync.SeccompFd):
            if not fds:
                raise ProcessStartError("seccomp message without a listener fd")
            try:
                if on_seccomp:
                    on_seccomp(fds[0])
            finally:
                os.close(fds[0])
            sync.send(sock, sync.SeccompDone())
        elif isinstance(msg, sync.Ready):
            if on_ready:
                on_ready()
            _send_go(sock)
        else:
            raise ProcessStartError(f"unexpected {msg.kind!r} message from container process")


def _send_go(sock: socket.socket) -> None:
    """Send Go; if the process already failed, raise the error it left in the channel."""
    _send_or_read_error(sock, sync.Go())


def _send_or_read_error(sock: socket.socket, msg: sync.Message) -> None:
    """Send ``msg``; if the process already failed, raise the error it left in the channel."""
    try:
        sync.send(sock, msg)
    except OSError:
        reply, fds = sync.recv(sock)
        for fd in fds:
            os.close(fd)
        if isinstance(reply, sync.Error):
            raise ProcessStartError(reply.message) from None
        raise ProcessStartError("container process exited during setup") from None
