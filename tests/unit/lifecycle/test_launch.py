"""Building spawn requests and the small decisions of the parent side."""

from __future__ import annotations

import attrs

from libcontainer.configs import Config, IDMap, Mount, Namespace, NamespaceType
from libcontainer.init.payload import FdLayout, InitPayload, ProcessSpec
from libcontainer.lifecycle import launch
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
