"""Building spawn requests and the small decisions of the parent side."""

from __future__ import annotations

import socket
import threading

import attrs
import pytest

from libcontainer import sync
from libcontainer.configs import Config, IDMap, Mount, Namespace, NamespaceType
from libcontainer.init.payload import FdLayout, InitPayload, ProcessSpec
from libcontainer.lifecycle import launch
from libcontainer.spawner import SpawnRequest, SpawnResult
from libcontainer.system import CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER


def ctx(config: Config) -> launch.LaunchContext:
    return launch.LaunchContext(
        container_id="c",
        config=config,
        bundle="/b",
        manager=None,
        spawner=None,  # type: ignore[arg-type]
    )


def payload(config: Config) -> InitPayload:
    return InitPayload(
        kind="standard",
        container_id="c",
        config=config,
        process=ProcessSpec(args=("true",)),
        fds=FdLayout(sync=0, stdio=(1, 2, 3)),
        capabilities=None,
        last_cap=40,
    )


def test_init_request_unshares_new_namespaces_and_joins_paths() -> None:
    config = Config(
        namespaces=(
            Namespace(type=NamespaceType.NEWPID),
            Namespace(type=NamespaceType.NEWNS),
            Namespace(type=NamespaceType.NEWNET, path="/proc/1/ns/net"),
            Namespace(type=NamespaceType.NEWCGROUP),
            Namespace(type=NamespaceType.NEWUSER),
        ),
        uid_mappings=(IDMap(container_id=0, host_id=1000, size=10),),
        gid_mappings=(IDMap(container_id=0, host_id=2000, size=10),),
    )
    req = launch.clone_request_for_init(ctx(config), payload(config))
    assert req.clone_flags == CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUSER
    assert req.join == (("/proc/1/ns/net", CLONE_NEWNET),)
    assert req.become_root
    assert req.uid_mappings == config.uid_mappings
    assert launch.host_root_ids(config) == (1000, 2000)


def test_setns_request_joins_every_configured_namespace_from_the_state() -> None:
    config = Config(
        namespaces=(Namespace(type=NamespaceType.NEWPID), Namespace(type=NamespaceType.NEWNS))
    )
    paths = {t: f"/proc/42/ns/{t.file_name}" for t in NamespaceType}
    req = launch.clone_request_for_setns(ctx(config), payload(config), paths)
    assert req.clone_flags == 0
    assert req.join == (
        ("/proc/42/ns/pid", CLONE_NEWPID),
        ("/proc/42/ns/mnt", CLONE_NEWNS),
    )
    assert not req.become_root


def test_cgroups_first_only_when_something_early_needs_them() -> None:
    plain = Config(namespaces=(Namespace(type=NamespaceType.NEWPID),))
    assert not launch.needs_cgroups_first(plain)
    cgroupns = attrs.evolve(plain, namespaces=(Namespace(type=NamespaceType.NEWCGROUP),))
    assert launch.needs_cgroups_first(cgroupns)
    from libcontainer.configs import Command

    premount = attrs.evolve(
        plain, mounts=(Mount(destination="/x", premount_cmds=(Command(path="/bin/true"),)),)
    )
    assert launch.needs_cgroups_first(premount)


def test_root_without_user_namespace_is_host_root() -> None:
    assert launch.host_root_ids(Config()) == (0, 0)


def test_the_init_waits_for_the_parent_only_when_it_must() -> None:
    from libcontainer.configs import Network, Route

    plain = Config(namespaces=(Namespace(type=NamespaceType.NEWPID),))
    assert not launch.waits_for_parent(plain)
    assert not launch.waits_for_parent(attrs.evolve(plain, networks=(Network(type="loopback"),)))
    cgroupns = attrs.evolve(plain, namespaces=(Namespace(type=NamespaceType.NEWCGROUP),))
    assert launch.waits_for_parent(cgroupns)  # unshares its cgroup namespace once joined
    veth = attrs.evolve(plain, networks=(Network(type="veth", name="eth0"),))
    assert launch.waits_for_parent(veth)  # the parent moves the pair in after the clone
    routes = attrs.evolve(plain, routes=(Route(destination="0.0.0.0/0", interface_name="lo"),))
    assert launch.waits_for_parent(routes)


class _Process:
    """What converse asks of a process that stays alive."""

    def poll(self) -> int | None:
        return None


def _init_side(sock: socket.socket, seen: list[str]) -> threading.Thread:
    """A fake init: records what it receives, asks for the hooks after CgroupsJoined."""

    def run() -> None:
        with sock:
            while True:
                msg, _fds = sync.recv(sock)
                if msg is None:
                    return
                seen.append(msg.kind)
                if isinstance(msg, sync.CgroupsJoined):
                    sync.send(sock, sync.RunHooks())
                elif isinstance(msg, sync.HooksDone):
                    return  # closing the channel: creation succeeded

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("go_sent", [False, True])
def test_go_once_and_before_cgroups_joined(go_sent: bool) -> None:
    """With Go queued before the clone, converse does not send it again; either way the
    init sees Go, then CgroupsJoined, and joining happened in between."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    seen: list[str] = []
    if go_sent:
        sync.send(ours, sync.Go())
    init = _init_side(theirs, seen)
    joined: list[list[str]] = []
    try:
        launch.converse(
            ours,
            _Process(),  # type: ignore[arg-type]
            join_cgroups=lambda: joined.append(list(seen)),
            cgroups_first=False,
            go_sent=go_sent,
        )
    finally:
        ours.close()
        init.join()
    assert seen == ["go", "cgroups-joined", "hooks-done"]
    assert len(joined) == 1


def test_go_sent_early_cannot_be_cgroups_first() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs, pytest.raises(ValueError, match="before the cgroups"):
        launch.converse(
            ours,
            _Process(),  # type: ignore[arg-type]
            join_cgroups=lambda: None,
            cgroups_first=True,
            go_sent=True,
        )


class _RecordingSpawner:
    """Keeps the request and refuses it (nothing is cloned)."""

    def __init__(self) -> None:
        self.requests: list[SpawnRequest] = []

    def spawn(self, request: SpawnRequest, fds: list[int]) -> SpawnResult:
        self.requests.append(request)
        return SpawnResult(error="not cloning in a unit test")

    def release(self, pid: int) -> None:
        """Nothing guarded."""


@pytest.mark.parametrize("own", [False, True])
def test_the_payload_carries_the_capability_masks(own: bool) -> None:
    """The parent turns the names (the process's, else the config's) into masks once;
    the init applies them as they are."""
    from libcontainer.capabilities import last_cap, to_mask
    from libcontainer.configs import Capabilities
    from libcontainer.errors import ProcessStartError
    from libcontainer.process import Process

    names = ("CAP_CHOWN", "CAP_KILL") if own else ("CAP_NET_RAW",)
    caps = Capabilities(
        bounding=names, effective=names, permitted=names, inheritable=(), ambient=()
    )
    config = Config(capabilities=None if own else caps)
    spawner = _RecordingSpawner()
    launch_ctx = attrs.evolve(ctx(config), spawner=spawner)
    process = Process(["true"], capabilities=caps if own else None)
    with pytest.raises(ProcessStartError, match="not cloning"):
        launch.spawn(
            launch_ctx, process, "standard", lambda p: launch.clone_request_for_init(launch_ctx, p)
        )
    (request,) = spawner.requests
    sent = request.payload.capabilities
    assert sent is not None
    assert (sent.bounding, sent.effective, sent.permitted, sent.inheritable, sent.ambient) == (
        to_mask(names),
        to_mask(names),
        to_mask(names),
        0,
        0,
    )
    assert request.payload.last_cap == last_cap()


def test_no_capabilities_leaves_them_alone() -> None:
    from libcontainer.errors import ProcessStartError
    from libcontainer.process import Process

    spawner = _RecordingSpawner()
    launch_ctx = attrs.evolve(ctx(Config()), spawner=spawner)
    with pytest.raises(ProcessStartError):
        launch.spawn(
            launch_ctx,
            Process(["true"]),
            "standard",
            lambda p: launch.clone_request_for_init(launch_ctx, p),
        )
    assert spawner.requests[0].payload.capabilities is None
