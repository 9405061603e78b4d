"""configs.validate: cgroups, Intel RDT, rootless, mounts, devices, seccomp, process."""

from __future__ import annotations

import attrs
import pytest
from configs_helpers import ALL_NS, HOST, NS, _fails, _userns

from libcontainer.configs import (
    Action,
    Arg,
    Cgroup,
    Config,
    Device,
    DeviceRule,
    DeviceType,
    HostFeatures,
    IDMap,
    IntelRdt,
    Mount,
    Namespace,
    Resources,
    Rlimit,
    Seccomp,
    Syscall,
    validate,
)

V2 = HostFeatures(cgroup2_unified=True)

# -- cgroups ---------------------------------------------------------------------------------


def test_cgroup_path_and_name_are_exclusive(base: Config) -> None:
    validate(attrs.evolve(base, cgroups=Cgroup(path="/a/b")), host=HOST)
    validate(attrs.evolve(base, cgroups=Cgroup(name="c", parent="p")), host=HOST)
    _fails(attrs.evolve(base, cgroups=Cgroup(name="c", path="/a")), "cgroups.path")
    _fails(attrs.evolve(base, cgroups=Cgroup(parent="p", path="/a")), "cgroups.path")


def test_systemd_unit_names(base: Config) -> None:
    good = Cgroup(systemd=True, parent="system.slice", scope_prefix="runc", name="c1")
    validate(attrs.evolve(base, cgroups=good), host=HOST)
    bad_parent = attrs.evolve(good, parent="system")
    _fails(attrs.evolve(base, cgroups=bad_parent), "cgroups.parent")
    _fails(attrs.evolve(base, cgroups=attrs.evolve(good, parent="a/b.slice")), "cgroups.parent")
    _fails(attrs.evolve(base, cgroups=attrs.evolve(good, name="a/b")), "cgroups.name")
    _fails(attrs.evolve(base, cgroups=attrs.evolve(good, path="/x")), "cgroups.path")


def test_skip_devices_cannot_start(base: Config) -> None:
    cg = Cgroup(resources=Resources(skip_devices=True))
    _fails(attrs.evolve(base, cgroups=cg), "cgroups.skip_devices")


def test_unified_needs_cgroup_v2(base: Config) -> None:
    cg = Cgroup(resources=Resources(unified={"memory.high": "1G"}))
    _fails(attrs.evolve(base, cgroups=cg), "cgroups.unified")
    validate(attrs.evolve(base, cgroups=cg), host=V2)


@pytest.mark.parametrize(
    ("memory", "swap", "field"),
    [
        (0, 0, None),
        (-1, 0, None),
        (100, -1, None),
        (100, 200, None),
        (100, 100, None),
        (0, 200, "cgroups.memory_swap"),
        (-1, 200, "cgroups.memory_swap"),
        (-5, 200, "cgroups.memory"),
        (200, 100, "cgroups.memory_swap"),
    ],
)
def test_swap_on_cgroup_v2(base: Config, memory: int, swap: int, field: str | None) -> None:
    config = attrs.evolve(
        base, cgroups=Cgroup(resources=Resources(memory=memory, memory_swap=swap))
    )
    validate(config, host=HOST)  # v1 takes memory+swap as is
    if field is None:
        validate(config, host=V2)
    else:
        _fails(config, field, V2)


def test_cgroup_device_rules(base: Config) -> None:
    ok = DeviceRule(type=DeviceType.CHAR, major=1, minor=3, permissions="rwm", allow=True)
    validate(attrs.evolve(base, cgroups=Cgroup(resources=Resources(devices=(ok,)))), host=HOST)
    fifo = attrs.evolve(ok, type=DeviceType.FIFO)
    bad = Cgroup(resources=Resources(devices=(ok, fifo)))
    _fails(attrs.evolve(base, cgroups=bad), "cgroups.devices[1].type")
    perms = Cgroup(resources=Resources(devices=(attrs.evolve(ok, permissions="rwx"),)))
    _fails(attrs.evolve(base, cgroups=perms), "cgroups.devices[0].permissions")


# -- Intel RDT -------------------------------------------------------------------------------


def test_intel_rdt(base: Config) -> None:
    cat = HostFeatures(intel_rdt_cat=True)
    mba = HostFeatures(intel_rdt_mba=True)
    l3 = attrs.evolve(base, intel_rdt=IntelRdt(l3_cache_schema="L3:0=ff"))
    mb = attrs.evolve(base, intel_rdt=IntelRdt(mem_bw_schema="MB:0=50"))
    validate(l3, host=cat)
    validate(mb, host=mba)
    _fails(l3, "intel_rdt")  # no RDT at all
    _fails(l3, "intel_rdt.l3_cache_schema", mba)
    _fails(mb, "intel_rdt.mem_bw_schema", cat)
    for clos in (".", "..", "a/b"):
        _fails(attrs.evolve(base, intel_rdt=IntelRdt(clos_id=clos)), "intel_rdt.clos_id", cat)
    validate(attrs.evolve(base, intel_rdt=IntelRdt(clos_id="gold")), host=cat)


# -- rootless --------------------------------------------------------------------------------


def test_rootless_needs_a_user_namespace(base: Config) -> None:
    _fails(attrs.evolve(base, rootless_euid=True), "namespaces")
    validate(_userns(base, rootless_euid=True), host=HOST)


def test_rootless_joined_userns_needs_no_mappings(base: Config) -> None:
    joined = attrs.evolve(
        base,
        rootless_euid=True,
        namespaces=(*ALL_NS, Namespace(NS.NEWUSER, "/proc/self/ns/user")),
    )
    validate(joined, host=HOST)


def test_rootless_mount_ids_must_be_mapped(base: Config) -> None:
    maps = (IDMap(0, 1000, 1), IDMap(5, 100000, 1))
    config = _userns(base, rootless_euid=True, uid_mappings=maps, gid_mappings=maps)
    good = Mount(destination="/dev/pts", device="devpts", data="newinstance,gid=5,mode=0620")
    validate(attrs.evolve(config, mounts=(good,)), host=HOST)
    ignored = attrs.evolve(good, data="uid=abc,gidx=7")
    validate(attrs.evolve(config, mounts=(ignored,)), host=HOST)
    bad = attrs.evolve(good, data="newinstance,uid=7")
    _fails(attrs.evolve(config, mounts=(good, bad)), "mounts[1].data")
    bad_gid = attrs.evolve(good, data="gid=6")
    _fails(attrs.evolve(config, mounts=(bad_gid,)), "mounts[0].data")


def test_host_id_helpers(base: Config) -> None:
    config = _userns(base, uid_mappings=(IDMap(0, 1000, 10),), gid_mappings=(IDMap(0, 2000, 10),))
    assert config.host_uid() == 1000 and config.host_uid(9) == 1009 and config.host_gid(1) == 2001
    assert base.host_uid(5) == 5  # no user namespace: unchanged
    with pytest.raises(ValueError):
        config.host_uid(10)


# -- mounts and devices ----------------------------------------------------------------------


def test_mount_destination_absolute(base: Config) -> None:
    validate(attrs.evolve(base, mounts=(Mount(destination="/proc", device="proc"),)), host=HOST)
    bad = (Mount(destination="/proc"), Mount(destination="sys"))
    _fails(attrs.evolve(base, mounts=bad), "mounts[1].destination")


def test_device_nodes(base: Config) -> None:
    null = Device(type=DeviceType.CHAR, major=1, minor=3, path="/dev/null", file_mode=0o666)
    validate(attrs.evolve(base, devices=(null,)), host=HOST)
    fifo = Device(type=DeviceType.FIFO, path="/dev/fifo")
    validate(attrs.evolve(base, devices=(fifo,)), host=HOST)
    cases = [
        (attrs.evolve(null, type=DeviceType.WILDCARD), "devices[0].type"),
        (attrs.evolve(null, path="dev/null"), "devices[0].path"),
        (attrs.evolve(null, minor=-1), "devices[0].minor"),
        (attrs.evolve(null, major=-1), "devices[0].major"),
    ]
    for device, field in cases:
        _fails(attrs.evolve(base, devices=(device,)), field)


# -- seccomp ---------------------------------------------------------------------------------


def _seccomp(base: Config, **kw: object) -> Config:
    return attrs.evolve(base, seccomp=Seccomp(**kw))  # type: ignore[arg-type]


def test_seccomp_good(base: Config) -> None:
    rules = (
        Syscall(name="mkdir", action=Action.ERRNO, errno_ret=1),
        Syscall(name="kill", action=Action.ALLOW, args=(Arg(index=1, value=9),)),
        Syscall(name="mount", action=Action.NOTIFY),
    )
    validate(
        _seccomp(
            base,
            default_action=Action.ERRNO,
            default_errno_ret=1,
            syscalls=rules,
            listener_path="/run/a.sock",
        ),
        host=HOST,
    )


def test_seccomp_unknown_action_and_operator(base: Config) -> None:
    _fails(_seccomp(base, default_action=99), "seccomp.default_action")
    _fails(_seccomp(base, syscalls=(Syscall(name="x", action=0),)), "seccomp.syscalls[0].action")  # type: ignore[arg-type]
    bad_op = Syscall(name="x", args=(Arg(op=8),))  # type: ignore[arg-type]
    _fails(_seccomp(base, syscalls=(bad_op,)), "seccomp.syscalls[0].args[0].op")
    good_int = Syscall(name="x", action=4, args=(Arg(op=7),))  # type: ignore[arg-type]
    validate(_seccomp(base, syscalls=(good_int,)), host=HOST)


def test_seccomp_rule_shape(base: Config) -> None:
    _fails(_seccomp(base, syscalls=(Syscall(name=""),)), "seccomp.syscalls[0].name")
    six = Syscall(name="x", args=(Arg(index=6),))
    _fails(_seccomp(base, syscalls=(six,)), "seccomp.syscalls[0].args[0].index")
    errno_on_allow = Syscall(name="x", action=Action.ALLOW, errno_ret=1)
    _fails(_seccomp(base, syscalls=(errno_on_allow,)), "seccomp.syscalls[0].errno_ret")
    _fails(
        _seccomp(base, default_action=Action.KILL, default_errno_ret=1), "seccomp.default_errno_ret"
    )
    validate(
        _seccomp(base, syscalls=(Syscall(name="x", action=Action.TRACE, errno_ret=1),)), host=HOST
    )


def test_seccomp_notify(base: Config) -> None:
    _fails(
        _seccomp(base, default_action=Action.NOTIFY, listener_path="/s"), "seccomp.default_action"
    )
    notify = Syscall(name="mount", action=Action.NOTIFY)
    _fails(_seccomp(base, syscalls=(notify,)), "seccomp.listener_path")
    write = Syscall(name="write", action=Action.NOTIFY)
    _fails(_seccomp(base, syscalls=(write,), listener_path="/s"), "seccomp.syscalls[0].action")


# -- process settings ------------------------------------------------------------------------


def test_rlimits(base: Config) -> None:
    validate(
        attrs.evolve(base, rlimits=(Rlimit(7, 1024, 1024), Rlimit(0, 2**64 - 1, 10))), host=HOST
    )
    _fails(attrs.evolve(base, rlimits=(Rlimit(16, 1, 1),)), "rlimits[0].type")
    _fails(attrs.evolve(base, rlimits=(Rlimit(-1, 1, 1),)), "rlimits[0].type")
    _fails(attrs.evolve(base, rlimits=(Rlimit(7, 1, 1), Rlimit(7, 2, 2))), "rlimits[1].type")
    _fails(attrs.evolve(base, rlimits=(Rlimit(7, 10, 20),)), "rlimits[0].soft")
    _fails(attrs.evolve(base, rlimits=(Rlimit(7, 2**64, 1),)), "rlimits[0].hard")


def test_oom_score_umask_pdeathsig(base: Config) -> None:
    validate(attrs.evolve(base, oom_score_adj=-1000, umask=0o077, parent_death_signal=9), host=HOST)
    _fails(attrs.evolve(base, oom_score_adj=1001), "oom_score_adj")
    _fails(attrs.evolve(base, umask=0o1000), "umask")
    _fails(attrs.evolve(base, parent_death_signal=65), "parent_death_signal")
