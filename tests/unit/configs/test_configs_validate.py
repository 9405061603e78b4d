"""configs.validate: every rule, accepted and refused."""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import pytest
from configs_helpers import ALL_NS, HOST, NS, _fails, _userns, _with_ns

from libcontainer.configs import (
    Config,
    HostFeatures,
    IDMap,
    Namespace,
    Network,
    Route,
    validate,
)
from libcontainer.configs.validation.namespaces import namespace_file_type


def test_base_config_is_valid(base: Config) -> None:
    validate(base, host=HOST)


def test_validate_probes_the_host_by_default(base: Config) -> None:
    validate(attrs.evolve(base, namespaces=ALL_NS))
    assert isinstance(HostFeatures.detect(), HostFeatures)


# -- rootfs ----------------------------------------------------------------------------------


def test_rootfs_must_exist(base: Config, tmp_path: Path) -> None:
    err = _fails(attrs.evolve(base, rootfs=str(tmp_path / "nope")), "rootfs")
    assert err.value == str(tmp_path / "nope")


def test_rootfs_must_be_a_directory(base: Config, tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("")
    _fails(attrs.evolve(base, rootfs=os.path.realpath(f)), "rootfs")


def test_rootfs_must_not_be_a_symlink(base: Config, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(base.rootfs)
    _fails(attrs.evolve(base, rootfs=os.path.realpath(tmp_path) + "/link"), "rootfs")


def test_rootfs_must_be_absolute(base: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(os.path.dirname(base.rootfs))
    _fails(attrs.evolve(base, rootfs="rootfs"), "rootfs")


def test_rootfs_trailing_slash_is_fine(base: Config) -> None:
    validate(attrs.evolve(base, rootfs=base.rootfs + "/"), host=HOST)


# -- network, uts, security ------------------------------------------------------------------


def test_networks_and_routes_need_netns(base: Config) -> None:
    no_net = tuple(n for n in ALL_NS if n.type != NS.NEWNET)
    validate(attrs.evolve(base, networks=(Network(type="loopback"),)), host=HOST)
    _fails(attrs.evolve(base, namespaces=no_net, networks=(Network(type="loopback"),)), "networks")
    _fails(attrs.evolve(base, namespaces=no_net, routes=(Route(gateway="10.0.0.1"),)), "routes")


def test_hostname_needs_uts(base: Config) -> None:
    no_uts = tuple(n for n in ALL_NS if n.type != NS.NEWUTS)
    validate(attrs.evolve(base, namespaces=no_uts, hostname=""), host=HOST)
    err = _fails(attrs.evolve(base, namespaces=no_uts), "hostname")
    assert err.value == "c"


def test_masked_and_readonly_paths_need_mntns_and_absolute_paths(base: Config) -> None:
    no_mnt = tuple(n for n in ALL_NS if n.type != NS.NEWNS)
    validate(
        attrs.evolve(base, mask_paths=("/proc/kcore",), readonly_paths=("/proc/sys",)), host=HOST
    )
    _fails(attrs.evolve(base, namespaces=no_mnt, mask_paths=("/proc/kcore",)), "mask_paths")
    _fails(attrs.evolve(base, namespaces=no_mnt, readonly_paths=("/proc/sys",)), "readonly_paths")
    _fails(attrs.evolve(base, mask_paths=("/a", "proc/kcore")), "mask_paths[1]")
    _fails(attrs.evolve(base, readonly_paths=("sys",)), "readonly_paths[0]")


def test_process_label_needs_selinux(base: Config) -> None:
    labelled = attrs.evolve(base, process_label="system_u:system_r:container_t:s0")
    _fails(labelled, "process_label")
    validate(labelled, host=HostFeatures(selinux_enabled=True))


# -- namespaces ------------------------------------------------------------------------------


def test_duplicate_namespace_types(base: Config) -> None:
    _fails(_with_ns(base, *ALL_NS, Namespace(NS.NEWPID)), "namespaces[5].type")


def test_namespace_path_good(base: Config) -> None:
    joined = _with_ns(base, *ALL_NS[:4], Namespace(NS.NEWNET, "/proc/self/ns/net"))
    validate(joined, host=HOST)
    assert namespace_file_type("/proc/self/ns/mnt") == "mnt"


def test_namespace_path_missing(base: Config, tmp_path: Path) -> None:
    bad = _with_ns(base, *ALL_NS[:4], Namespace(NS.NEWNET, str(tmp_path / "missing")))
    _fails(bad, "namespaces[4].path")


def test_namespace_path_regular_file(base: Config, tmp_path: Path) -> None:
    f = tmp_path / "netns"
    f.write_text("")
    err = _fails(_with_ns(base, *ALL_NS[:4], Namespace(NS.NEWNET, str(f))), "namespaces[4].path")
    assert "not a namespace file" in str(err)
    assert namespace_file_type(str(f)) is None


def test_namespace_path_of_the_wrong_type(base: Config) -> None:
    bad = _with_ns(base, *ALL_NS[:4], Namespace(NS.NEWNET, "/proc/self/ns/uts"))
    err = _fails(bad, "namespaces[4].path")
    assert "uts" in str(err)


def test_namespace_path_must_be_absolute(base: Config) -> None:
    _fails(
        _with_ns(base, *ALL_NS[:4], Namespace(NS.NEWNET, "proc/self/ns/net")), "namespaces[4].path"
    )


def test_kernel_support_for_user_and_cgroup_namespaces(base: Config) -> None:
    _fails(_userns(base), "namespaces", HostFeatures(user_namespaces=False))
    cg = _with_ns(base, *ALL_NS, Namespace(NS.NEWCGROUP))
    validate(cg, host=HOST)
    _fails(cg, "namespaces", HostFeatures(cgroup_namespaces=False))


def test_mappings_need_a_user_namespace(base: Config) -> None:
    _fails(attrs.evolve(base, uid_mappings=(IDMap(0, 1000, 1),)), "uid_mappings")
    _fails(attrs.evolve(base, gid_mappings=(IDMap(0, 1000, 1),)), "gid_mappings")


def test_new_user_namespace_needs_mappings(base: Config) -> None:
    validate(_userns(base), host=HOST)
    _fails(_userns(base, uid_mappings=()), "uid_mappings")
    _fails(_userns(base, gid_mappings=()), "gid_mappings")


def test_joined_user_namespace_needs_no_mappings(base: Config) -> None:
    joined = _with_ns(base, *ALL_NS, Namespace(NS.NEWUSER, "/proc/self/ns/user"))
    validate(joined, host=HOST)


def test_mapping_values(base: Config) -> None:
    _fails(_userns(base, uid_mappings=(IDMap(0, 1000, 0),)), "uid_mappings[0].size")
    _fails(_userns(base, gid_mappings=(IDMap(0, -1, 1),)), "gid_mappings[0].host_id")


# -- sysctl ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["kernel.msgmax", "kernel.shm_rmid_forced", "fs.mqueue.queues_max", "kernel/sem"],
)
def test_ipc_sysctls_need_ipcns(base: Config, key: str) -> None:
    validate(attrs.evolve(base, sysctl={key: "1"}), host=HOST)
    no_ipc = tuple(n for n in ALL_NS if n.type != NS.NEWIPC)
    _fails(attrs.evolve(base, namespaces=no_ipc, sysctl={key: "1"}), f'sysctl["{key}"]')


def test_net_sysctls_need_a_private_netns(base: Config, tmp_path: Path) -> None:
    key = "net.ipv4.ip_forward"
    validate(attrs.evolve(base, sysctl={key: "1"}), host=HOST)
    no_net = tuple(n for n in ALL_NS if n.type != NS.NEWNET)
    _fails(attrs.evolve(base, namespaces=no_net, sysctl={key: "1"}), f'sysctl["{key}"]')
    host_net = (*no_net, Namespace(NS.NEWNET, "/proc/self/ns/net"))
    _fails(attrs.evolve(base, namespaces=host_net, sysctl={key: "1"}), f'sysctl["{key}"]')


def test_net_sysctls_with_slashes(base: Config) -> None:
    key = "net/ipv4/conf/eth0.100/rp_filter"
    no_net = tuple(n for n in ALL_NS if n.type != NS.NEWNET)
    validate(attrs.evolve(base, sysctl={key: "1"}), host=HOST)
    _fails(attrs.evolve(base, namespaces=no_net, sysctl={key: "1"}), f'sysctl["{key}"]')


def test_uts_sysctls(base: Config) -> None:
    validate(attrs.evolve(base, sysctl={"kernel.domainname": "x"}), host=HOST)
    validate(attrs.evolve(base, hostname="", sysctl={"kernel.hostname": "x"}), host=HOST)
    _fails(attrs.evolve(base, sysctl={"kernel.hostname": "x"}), 'sysctl["kernel.hostname"]')
    no_uts = tuple(n for n in ALL_NS if n.type != NS.NEWUTS)
    bad = attrs.evolve(base, hostname="", namespaces=no_uts, sysctl={"kernel.domainname": "x"})
    _fails(bad, 'sysctl["kernel.domainname"]')


def test_unnamespaced_sysctl(base: Config) -> None:
    _fails(attrs.evolve(base, sysctl={"vm.swappiness": "1"}), 'sysctl["vm.swappiness"]')
