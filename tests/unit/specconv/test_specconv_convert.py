"""create_config: runc 1.1's CreateLibcontainerConfig, checked against runc's own output."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from libcontainer.configs import (
    Action,
    Arg,
    Command,
    Config,
    Device,
    DeviceRule,
    DeviceType,
    IDMap,
    Namespace,
    NamespaceType,
    Network,
    Operator,
    Syscall,
    config_to_dict,
)
from libcontainer.errors import ConfigError
from specconv import create_config, example, parse_spec, spec_to_dict
from specconv.spec import Spec

FixturePath = Callable[[str], Path]


def convert(data: dict[str, Any], bundle: Path | str, **kwargs: Any) -> Config:
    """create_config for a spec given as JSON data, with root defaulting to the bundle's."""
    data = {"root": {"path": "rootfs"}, **data}
    return create_config(parse_spec(data), bundle=bundle, **kwargs)


def test_default_spec_gives_runcs_config(runc_fixture: FixturePath, bundle: Path) -> None:
    state = json.loads(runc_fixture("runc-1.1.5-state.json").read_text())
    state_cmd = json.loads(runc_fixture("runc-1.1.5-state-command.json").read_text())
    expected = state["config"]
    config = create_config(example(cgroup_ns=False), bundle=bundle, cgroup_name=state["id"])
    got = config_to_dict(config)
    # Only where the bundle is differs: runc ran in /srv/bundles/fixture1.
    assert expected["rootfs"] == state_cmd["rootfs"]
    assert expected["labels"] == [f"bundle={state_cmd['bundle']}"]
    assert got["rootfs"] == str(bundle / "rootfs")
    assert got["labels"] == [f"bundle={bundle}"]
    host_dependent = {"rootfs", "labels"}
    assert {k: v for k, v in got.items() if k not in host_dependent} == {
        k: v for k, v in expected.items() if k not in host_dependent
    }
    assert list(got) == list(expected)


def test_rootless_spec(bundle: Path) -> None:
    from specconv import to_rootless

    spec = to_rootless(example(cgroup_ns=False), uid=1000, gid=1001)
    config = create_config(spec, bundle=bundle, rootless_euid=True, rootless_cgroups=True)
    assert config.rootless_euid and config.rootless_cgroups
    assert config.cgroups is not None and config.cgroups.rootless
    assert config.uid_mappings == (IDMap(container_id=0, host_id=1000, size=1),)
    assert config.gid_mappings == (IDMap(container_id=0, host_id=1001, size=1),)
    assert not config.has_namespace(NamespaceType.NEWNET)
    assert config.networks == ()
    # Device nodes belong to the host ids of container root.
    assert {(d.uid, d.gid) for d in config.devices} == {(1000, 1001)}
    sys_mount = next(m for m in config.mounts if m.destination == "/sys")
    assert (sys_mount.device, sys_mount.source) == ("bind", "/sys")
    # Without resources only runc's default device rules remain.
    assert config.cgroups.resources.devices[0] == DeviceRule(
        type=DeviceType.CHAR, major=-1, minor=-1, permissions="m", allow=True
    )


def test_root_is_required(bundle: Path) -> None:
    with pytest.raises(ConfigError) as info:
        create_config(Spec(), bundle=bundle)
    assert info.value.field == "root"


def test_rootfs_and_bundle_paths(bundle: Path, tmp_path: Path) -> None:
    assert convert({"root": {"path": "a/../b"}}, bundle).rootfs == str(bundle / "b")
    assert convert({"root": {"path": "/abs//x"}}, bundle).rootfs == "/abs//x"
    link = tmp_path.parent / (tmp_path.name + "-link")
    link.symlink_to(bundle)
    try:
        config = convert({}, link)
    finally:
        link.unlink()
    assert config.labels == (f"bundle={bundle}",)  # runc's getwd() resolves symlinks
    assert config.rootfs == str(bundle / "rootfs")


def test_relative_bundle_is_made_absolute(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(bundle.parent)
    config = convert({}, Path(bundle.name))
    assert config.rootfs == str(bundle / "rootfs")


def test_top_level_fields(bundle: Path) -> None:
    config = convert(
        {
            "root": {"path": "rootfs", "readonly": True},
            "hostname": "h",
            "domainname": "d",
            "annotations": {"x": "1", "y": "2"},
            "linux": {"mountLabel": "ml", "sysctl": {"a.b": "1"}},
        },
        bundle,
        no_pivot_root=True,
        no_new_keyring=True,
    )
    assert config.readonlyfs and config.no_pivot_root and config.no_new_keyring
    assert config.hostname == "h"
    assert config.labels == ("x=1", "y=2", f"bundle={bundle}")
    assert config.mount_label == "ml"
    assert config.sysctl == {"a.b": "1"}
    assert config.version == "1.0.2-dev"


def test_namespaces(bundle: Path) -> None:
    types = ["pid", "network", "mount", "user", "ipc", "uts", "cgroup"]
    config = convert(
        {
            "linux": {
                "namespaces": [{"type": t} for t in types[:-1]]
                + [{"type": "cgroup", "path": "/proc/1/ns/cgroup"}],
                "uidMappings": [{"containerID": 0, "hostID": 100, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 200, "size": 1}],
            }
        },
        bundle,
    )
    assert config.namespaces == (
        Namespace(NamespaceType.NEWPID),
        Namespace(NamespaceType.NEWNET),
        Namespace(NamespaceType.NEWNS),
        Namespace(NamespaceType.NEWUSER),
        Namespace(NamespaceType.NEWIPC),
        Namespace(NamespaceType.NEWUTS),
        Namespace(NamespaceType.NEWCGROUP, "/proc/1/ns/cgroup"),
    )
    assert config.networks == (Network(type="loopback"),)


def test_joined_network_namespace_gets_no_loopback(bundle: Path) -> None:
    config = convert({"linux": {"namespaces": [{"type": "network", "path": "/x"}]}}, bundle)
    assert config.networks == ()


@pytest.mark.parametrize(
    ("namespaces", "message"),
    [
        ([{"type": "time"}], "unknown namespace"),
        ([{"type": "pid"}, {"type": "pid", "path": "/x"}], "twice"),
    ],
)
def test_bad_namespaces(bundle: Path, namespaces: list[Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        convert({"linux": {"namespaces": namespaces}}, bundle)
    assert info.value.field == f"linux.namespaces[{len(namespaces) - 1}].type"


@pytest.mark.parametrize(
    ("linux", "field"),
    [
        ({}, "linux.uidMappings"),
        ({"uidMappings": [{"containerID": 1, "hostID": 5, "size": 1}]}, "linux.uidMappings"),
        ({"uidMappings": [{"containerID": 0, "hostID": 5, "size": 1}]}, "linux.gidMappings"),
    ],
)
def test_user_namespace_needs_root_mapping(bundle: Path, linux: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        convert({"linux": {"namespaces": [{"type": "user"}], **linux}}, bundle)
    assert info.value.field == field


def test_mappings_ignored_without_user_namespace(bundle: Path) -> None:
    config = convert(
        {"linux": {"uidMappings": [{"containerID": 0, "hostID": 5, "size": 1}]}}, bundle
    )
    assert config.uid_mappings == ()


def test_root_propagation(bundle: Path) -> None:
    assert convert({"linux": {"rootfsPropagation": "rslave"}}, bundle).root_propagation == (
        0x80000 | 0x4000
    )
    assert convert({"linux": {}}, bundle).root_propagation == 0
    with pytest.raises(ConfigError) as info:
        convert({"linux": {"rootfsPropagation": "bogus"}}, bundle)
    assert info.value.field == "linux.rootfsPropagation"
    with pytest.raises(ConfigError, match="pivot_root"):
        convert({"linux": {"rootfsPropagation": "rprivate"}}, bundle, no_pivot_root=True)
    assert convert({"linux": {"rootfsPropagation": "shared"}}, bundle, no_pivot_root=True)


def test_spec_devices_replace_defaults_and_are_appended(bundle: Path) -> None:
    config = convert(
        {
            "linux": {
                "devices": [
                    {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o20600},
                    {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0, "uid": 5, "gid": 6},
                    {"path": "/dev/fifo", "type": "p"},
                    {"path": "/dev/u", "type": "u", "major": 4, "minor": 1},
                ]
            }
        },
        bundle,
    )
    paths = [d.path for d in config.devices]
    assert paths == [
        "/dev/random",
        "/dev/full",
        "/dev/tty",
        "/dev/zero",
        "/dev/urandom",
        "/dev/null",
        "/dev/sda",
        "/dev/fifo",
        "/dev/u",
    ]
    null, sda, fifo, u = config.devices[5:]
    assert null == Device(type=DeviceType.CHAR, major=1, minor=3, path="/dev/null", file_mode=0o600)
    assert (sda.type, sda.uid, sda.gid, sda.file_mode) == (DeviceType.BLOCK, 5, 6, 0o666)
    assert fifo.type is DeviceType.FIFO and u.type is DeviceType.CHAR
    # The replaced default is gone from the cgroup rules too; spec devices add no rules.
    assert config.cgroups is not None
    rules = config.cgroups.resources.devices
    assert (1, 3) not in {(r.major, r.minor) for r in rules}
    assert len(rules) == 10


def test_bad_device_type(bundle: Path) -> None:
    with pytest.raises(ConfigError) as info:
        convert(
            {"linux": {"devices": [{"path": "/dev/x", "type": "c"}, {"path": "/y", "type": "x"}]}},
            bundle,
        )
    assert info.value.field == "linux.devices[1].type"


def test_cgroup_device_rules(bundle: Path) -> None:
    config = convert(
        {
            "linux": {
                "resources": {
                    "devices": [
                        {"allow": False, "access": "rwm"},
                        {"allow": True, "type": "b", "major": 8, "access": "r"},
                        {"allow": True, "type": "c", "minor": 1, "access": "w"},
                    ]
                }
            }
        },
        bundle,
    )
    assert config.cgroups is not None
    assert config.cgroups.resources.devices[:3] == (
        DeviceRule(type=DeviceType.WILDCARD, major=-1, minor=-1, permissions="rwm", allow=False),
        DeviceRule(type=DeviceType.BLOCK, major=8, minor=-1, permissions="r", allow=True),
        DeviceRule(type=DeviceType.CHAR, major=-1, minor=1, permissions="w", allow=True),
    )
    assert len(config.cgroups.resources.devices) == 3 + 11


@pytest.mark.parametrize(
    ("access", "permissions"),
    [("wr", "rw"), ("rrw", "rw"), ("mwr", "rwm"), ("rwmrwm", "rwm"), ("rwx", "rw"), ("xm", "m")],
)
def test_device_access_strings_as_runc_reads_them(
    bundle: Path, access: str, permissions: str
) -> None:
    # runc 1.1 takes any non-empty string; only r, w and m count, each once.
    rule = {"allow": True, "type": "c", "major": 1, "minor": 1, "access": access}
    config = convert({"linux": {"resources": {"devices": [rule]}}}, bundle)
    assert config.cgroups is not None
    assert config.cgroups.resources.devices[0].permissions == permissions


def test_device_access_without_r_w_or_m(bundle: Path) -> None:
    # A deny rule that denies nothing has no effect (runc applies it as a no-op) ...
    deny = {"allow": False, "type": "c", "major": 1, "minor": 1, "access": "R"}
    config = convert({"linux": {"resources": {"devices": [deny]}}}, bundle)
    assert config.cgroups is not None
    assert all(rule.major != 1 or rule.minor != 1 for rule in config.cgroups.resources.devices)
    # ... an allow rule that allows nothing is refused (runc fails to start the container).
    with pytest.raises(ConfigError, match="grants none of r, w and m") as info:
        convert({"linux": {"resources": {"devices": [{**deny, "allow": True}]}}}, bundle)
    assert info.value.field == "linux.resources.devices[0].access"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"allow": True}, "linux.resources.devices[0].access"),
        ({"allow": True, "type": "p", "access": "r"}, "linux.resources.devices[0].type"),
    ],
)
def test_bad_cgroup_device_rules(bundle: Path, rule: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        convert({"linux": {"resources": {"devices": [rule]}}}, bundle)
    assert info.value.field == field


def test_resources(bundle: Path) -> None:
    resources = {
        "memory": {
            "limit": 100,
            "reservation": 50,
            "swap": 200,
            "kernel": 1,
            "swappiness": 10,
            "disableOOMKiller": True,
        },
        "cpu": {
            "shares": 1024,
            "quota": 1000,
            "period": 100000,
            "realtimeRuntime": 5,
            "realtimePeriod": 6,
            "cpus": "0-1",
            "mems": "0",
        },
        "pids": {"limit": 42},
        "blockIO": {
            "weight": 10,
            "leafWeight": 11,
            "weightDevice": [{"major": 8, "minor": 0, "weight": 5}],
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}],
            "throttleWriteBpsDevice": [{"major": 8, "minor": 1, "rate": 2}],
            "throttleReadIOPSDevice": [{"major": 8, "minor": 2, "rate": 3}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 3, "rate": 4}],
        },
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4096}],
        "network": {"classID": 7, "priorities": [{"name": "eth0", "priority": 2}]},
        "rdma": {"mlx": {"hcaHandles": 1}},
        "unified": {"memory.high": "100"},
    }
    config = convert({"linux": {"resources": resources}}, bundle)
    assert config.cgroups is not None
    got = config_to_dict(config)["cgroups"]
    assert {k: got[k] for k in got if k != "devices"} == {
        "path": "",
        "scope_prefix": "",
        "memory": 100,
        "memory_reservation": 50,
        "memory_swap": 200,
        "cpu_shares": 1024,
        "cpu_quota": 1000,
        "cpu_period": 100000,
        "cpu_rt_quota": 5,
        "cpu_rt_period": 6,
        "cpuset_cpus": "0-1",
        "cpuset_mems": "0",
        "pids_limit": 42,
        "blkio_weight": 10,
        "blkio_leaf_weight": 11,
        "blkio_weight_device": [{"major": 8, "minor": 0, "weight": 5, "leafWeight": 0}],
        "blkio_throttle_read_bps_device": [{"major": 8, "minor": 0, "rate": 1}],
        "blkio_throttle_write_bps_device": [{"major": 8, "minor": 1, "rate": 2}],
        "blkio_throttle_read_iops_device": [{"major": 8, "minor": 2, "rate": 3}],
        "blkio_throttle_write_iops_device": [{"major": 8, "minor": 3, "rate": 4}],
        "freezer": "",
        "hugetlb_limit": [{"page_size": "2MB", "limit": 4096}],
        "oom_kill_disable": True,
        "memory_swappiness": 10,
        "net_prio_ifpriomap": [{"interface": "eth0", "priority": 2}],
        "net_cls_classid_u": 7,
        "rdma": {"mlx": {"hca_handles": 1}},
        "cpu_weight": 39,
        "unified": {"memory.high": "100"},
        "Systemd": False,
        "Rootless": False,
    }


@pytest.mark.parametrize(
    ("shares", "weight"),
    [(0, 0), (2, 1), (1024, 39), (262144, 10000), (1, 70369281052672)],
)
def test_cpu_shares_to_weight(shares: int, weight: int) -> None:
    from specconv.convert_cgroups import convert_cpu_shares_to_cgroup_v2

    assert convert_cpu_shares_to_cgroup_v2(shares) == weight


@pytest.mark.parametrize(
    ("path", "systemd", "expected"),
    [
        ("", False, {"name": "c1", "path": "", "parent": "", "scope_prefix": ""}),
        ("/a/../b//c", False, {"name": "", "path": "/b/c", "parent": "", "scope_prefix": ""}),
        ("../../x", False, {"name": "", "path": "x", "parent": "", "scope_prefix": ""}),
        ("", True, {"name": "c1", "path": "", "parent": "", "scope_prefix": "runc"}),
        (
            "system.slice:docker:abc",
            True,
            {"name": "abc", "path": "", "parent": "system.slice", "scope_prefix": "docker"},
        ),
    ],
)
def test_cgroup_placement(bundle: Path, path: str, systemd: bool, expected: dict[str, str]) -> None:
    config = convert(
        {"linux": {"cgroupsPath": path}}, bundle, cgroup_name="c1", use_systemd_cgroup=systemd
    )
    assert config.cgroups is not None
    got = {k: getattr(config.cgroups, k) for k in expected}
    assert got == expected
    assert config.cgroups.systemd is systemd


def test_systemd_cgroup_path_must_have_three_parts(bundle: Path) -> None:
    with pytest.raises(ConfigError) as info:
        convert({"linux": {"cgroupsPath": "/a/b"}}, bundle, use_systemd_cgroup=True)
    assert info.value.field == "linux.cgroupsPath"


def test_systemd_properties_from_annotations(bundle: Path) -> None:
    config = convert(
        {"annotations": {"org.systemd.property.TimeoutStopSec": "uint64 5", "other": "x"}},
        bundle,
        use_systemd_cgroup=True,
    )
    assert config.cgroups is not None
    assert config.cgroups.systemd_props == (("TimeoutStopUSec", ("t", 5_000_000)),)
    plain = convert({"annotations": {"org.systemd.property.A": "bad"}}, bundle)
    assert plain.cgroups is not None and plain.cgroups.systemd_props == ()


def test_cgroup_owner_with_cgroupns_and_writable_cgroupfs(bundle: Path) -> None:
    linux = {
        "namespaces": [{"type": "user"}, {"type": "cgroup"}],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 100}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 100}],
    }
    rw = [{"destination": "/sys/fs/cgroup/", "type": "cgroup", "source": "cgroup"}]
    ro = [{**rw[0], "options": ["ro"]}]
    process = {"user": {"uid": 7}, "cwd": "/", "args": ["sh"]}
    owned = convert({"linux": linux, "mounts": rw, "process": process}, bundle)
    assert owned.cgroups is not None and owned.cgroups.owner_uid == 1007
    unowned = convert({"linux": linux, "mounts": ro, "process": process}, bundle)
    assert unowned.cgroups is not None and unowned.cgroups.owner_uid is None
    unmapped = convert(
        {"linux": linux, "mounts": rw, "process": {**process, "user": {"uid": 500}}}, bundle
    )
    assert unmapped.cgroups is not None and unmapped.cgroups.owner_uid is None


def test_seccomp(bundle: Path) -> None:
    seccomp = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
        "flags": [],
        "listenerPath": "/run/l.sock",
        "listenerMetadata": "meta",
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {
                "names": ["personality"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 1,
                "args": [{"index": 0, "value": 8, "valueTwo": 9, "op": "SCMP_CMP_MASKED_EQ"}],
            },
        ],
    }
    config = convert({"linux": {"seccomp": seccomp}}, bundle)
    sc = config.seccomp
    assert sc is not None
    assert sc.default_action is Action.ERRNO
    assert sc.default_errno_ret == 38
    assert sc.architectures == ("amd64", "x86", "arm64")
    assert sc.flags == ()
    assert (sc.listener_path, sc.listener_metadata) == ("/run/l.sock", "meta")
    assert sc.syscalls == (
        Syscall(name="read", action=Action.ALLOW),
        Syscall(name="write", action=Action.ALLOW),
        Syscall(
            name="personality",
            action=Action.ERRNO,
            errno_ret=1,
            args=(Arg(index=0, value=8, value_two=9, op=Operator.MASK_EQUAL_TO),),
        ),
    )


@pytest.mark.parametrize(
    "action",
    [
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_LOG",
        "SCMP_ACT_NOTIFY",
    ],
)
def test_seccomp_actions(bundle: Path, action: str) -> None:
    config = convert({"linux": {"seccomp": {"defaultAction": action}}}, bundle)
    assert config.seccomp is not None
    assert config.seccomp.default_action.name == action.removeprefix("SCMP_ACT_")


@pytest.mark.parametrize(
    ("op", "member"),
    [
        ("SCMP_CMP_NE", Operator.NOT_EQUAL_TO),
        ("SCMP_CMP_LT", Operator.LESS_THAN),
        ("SCMP_CMP_LE", Operator.LESS_THAN_OR_EQUAL_TO),
        ("SCMP_CMP_EQ", Operator.EQUAL_TO),
        ("SCMP_CMP_GE", Operator.GREATER_THAN_OR_EQUAL_TO),
        ("SCMP_CMP_GT", Operator.GREATER_THAN),
        ("SCMP_CMP_MASKED_EQ", Operator.MASK_EQUAL_TO),
    ],
)
def test_seccomp_operators(bundle: Path, op: str, member: Operator) -> None:
    rule = {"names": ["x"], "action": "SCMP_ACT_LOG", "args": [{"index": 1, "value": 2, "op": op}]}
    config = convert(
        {"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}}}, bundle
    )
    assert config.seccomp is not None
    assert config.seccomp.syscalls[0].args[0].op is member


def test_empty_seccomp_means_none(bundle: Path) -> None:
    assert convert({"linux": {"seccomp": {"architectures": ["bogus"]}}}, bundle).seccomp is None


@pytest.mark.parametrize(
    ("seccomp", "field"),
    [
        ({"defaultAction": "SCMP_ACT_NOPE"}, "linux.seccomp.defaultAction"),
        (
            {"syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW"}]},
            "linux.seccomp.defaultAction",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"action": "SCMP_ACT_LOG"}] * 3 + [{"names": ["x"], "action": "kill"}],
            },
            "linux.seccomp.syscalls[3].action",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {
                        "names": ["x"],
                        "action": "SCMP_ACT_LOG",
                        "args": [{"op": "SCMP_CMP_EQ"}, {"op": "=="}],
                    }
                ],
            },
            "linux.seccomp.syscalls[0].args[1].op",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_RISCV64"],
            },
            "linux.seccomp.architectures[1]",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"]},
            "linux.seccomp.flags[0]",
        ),
    ],
)
def test_bad_seccomp(bundle: Path, seccomp: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        convert({"linux": {"seccomp": seccomp}}, bundle)
    assert info.value.field == field


def test_hooks(bundle: Path) -> None:
    names = [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ]
    hooks = {n: [{"path": f"/{n}", "args": [n, "x"], "env": ["A=1"], "timeout": 3}] for n in names}
    hooks["poststop"].append({"path": "/bin/true"})
    config = convert({"hooks": hooks}, bundle)
    assert config.hooks.create_runtime == (
        Command(path="/createRuntime", args=("createRuntime", "x"), env=("A=1",), timeout=3.0),
    )
    assert config.hooks.poststop[1] == Command(path="/bin/true")
    for n in names:
        assert len(config.hooks.get(n)) == len(hooks[n])
    assert config_to_dict(config)["Hooks"]["prestart"][0]["timeout"] == 3_000_000_000


def test_process_fields(bundle: Path) -> None:
    process = {
        "user": {"uid": 1, "gid": 2, "umask": 0o22},
        "cwd": "/",
        "args": ["sh"],
        "capabilities": {"bounding": ["CAP_KILL"], "inheritable": []},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 2, "soft": 1}],
        "noNewPrivileges": True,
        "apparmorProfile": "prof",
        "oomScoreAdj": 100,
        "selinuxLabel": "label",
    }
    config = convert({"process": process}, bundle)
    assert config.umask == 0o22
    assert config.oom_score_adj == 100
    assert config.no_new_privileges
    assert config.process_label == "label"
    assert config.capabilities is not None and config.capabilities.bounding == ("CAP_KILL",)
    # As in runc 1.1, rlimits and the AppArmor profile travel with the process, not the config.
    assert config.rlimits == ()
    assert config.app_armor_profile == ""


@pytest.mark.parametrize(
    ("process", "field"),
    [
        (
            {"capabilities": {"effective": ["CAP_KILL", "CAP_NOPE"]}},
            "process.capabilities.effective[1]",
        ),
        ({"capabilities": {"ambient": ["kill"]}}, "process.capabilities.ambient[0]"),
        ({"rlimits": [{"type": "RLIMIT_CPU"}, {"type": "RLIMIT_FOO"}]}, "process.rlimits[1].type"),
    ],
)
def test_bad_process_names(bundle: Path, process: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        convert({"process": process}, bundle)
    assert info.value.field == field


def test_mounts(bundle: Path) -> None:
    config = convert(
        {
            "mounts": [
                {
                    "destination": "/data",
                    "type": "bind",
                    "source": "data",
                    "options": ["rbind", "rro", "rprivate"],
                },
                {
                    "destination": "/tmp",
                    "type": "tmpfs",
                    "source": "tmpfs",
                    "options": ["tmpcopyup", "size=1m"],
                },
            ]
        },
        bundle,
    )
    data, tmp = config.mounts
    assert (data.device, data.source, data.destination) == ("bind", str(bundle / "data"), "/data")
    assert data.propagation_flags == (0x40000 | 0x4000,)
    assert data.rec_attr is not None and data.rec_attr.attr_set == 1
    assert (tmp.extensions, tmp.data) == (1, "size=1m")


def test_relative_mount_destination_is_an_error(bundle: Path) -> None:
    with pytest.raises(ConfigError) as info:
        convert({"mounts": [{"destination": "/ok"}, {"destination": "rel/path"}]}, bundle)
    assert info.value.field == "mounts[1].destination"


def test_intel_rdt(bundle: Path) -> None:
    rdt = {"closID": "c", "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=5"}
    config = convert({"linux": {"intelRdt": rdt}}, bundle)
    assert config.intel_rdt is not None
    assert (
        config.intel_rdt.clos_id,
        config.intel_rdt.l3_cache_schema,
        config.intel_rdt.mem_bw_schema,
    ) == (
        "c",
        "L3:0=f",
        "MB:0=5",
    )


def test_create_config_does_not_mutate_spec(bundle: Path) -> None:
    spec = example(cgroup_ns=False)
    before = spec_to_dict(spec)
    create_config(spec, bundle=bundle)
    assert spec_to_dict(spec) == before
    assert attrs.has(type(spec))


def test_bundle_accepts_str(bundle: Path) -> None:
    assert convert({}, os.fspath(bundle)).rootfs == str(bundle / "rootfs")


def test_seccomp_flags_load_but_runc_1_1_rejects_them(bundle: Path) -> None:
    data = {
        "linux": {
            "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC"]}
        }
    }
    spec = parse_spec({"root": {"path": "rootfs"}, **data})
    assert spec_to_dict(spec)["linux"] == data["linux"]
    with pytest.raises(ConfigError, match="not supported") as info:
        create_config(spec, bundle=bundle)
    assert info.value.field == "linux.seccomp.flags[0]"


DATA = Path(__file__).parent / "data"


def test_rich_spec_gives_runcs_config(bundle: Path) -> None:
    """A spec with mounts options, devices, resources, seccomp and hooks, run by runc 1.1.5.

    ``data/runc-1.1.5-rich-*.json``: the bundle's config.json and the state.json that
    ``runc create`` wrote for it in /tmp/specconv-verify-bundle.
    """
    runc_bundle = "/tmp/specconv-verify-bundle"
    spec = parse_spec((DATA / "runc-1.1.5-rich-config.json").read_bytes())
    state_text = (DATA / "runc-1.1.5-rich-state.json").read_text()
    expected = json.loads(state_text.replace(runc_bundle, str(bundle)))["config"]
    got = config_to_dict(create_config(spec, bundle=bundle, cgroup_name="specconv-verify"))
    # Known differences, all "null versus []" (a Go nil slice versus an empty one), which a
    # Python-built config cannot express yet: runc copies the spec's "inheritable": [] and
    # always gives seccomp rules an empty args list. runc 1.1's seccomp config has no flags.
    assert expected["capabilities"]["Inheritable"] == []
    expected["capabilities"]["Inheritable"] = None
    for rule in expected["seccomp"]["syscalls"]:
        if rule["args"] == []:
            rule["args"] = None
    if got["seccomp"].get("flags", "absent") is None:
        del got["seccomp"]["flags"]
    assert got == expected
