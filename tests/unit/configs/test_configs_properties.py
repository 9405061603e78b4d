"""Property tests: any config built in Python survives dump -> JSON text -> load."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from libcontainer.configs import (
    Action,
    Arg,
    Capabilities,
    Cgroup,
    Command,
    Config,
    Device,
    DeviceRule,
    DeviceType,
    FreezerState,
    Hooks,
    HugepageLimit,
    IDMap,
    Mount,
    Namespace,
    NamespaceType,
    Operator,
    Resources,
    Rlimit,
    Seccomp,
    Syscall,
    ThrottleDevice,
    config_from_dict,
    config_to_dict,
)
from libcontainer.state import State

text = st.text(max_size=8)
i64 = st.integers(-(2**63), 2**63 - 1)
u64 = st.integers(0, 2**64 - 1)
small = st.integers(-5, 5)


def tuples(
    strategy: st.SearchStrategy[object], n: int = 3
) -> st.SearchStrategy[tuple[object, ...]]:
    return st.lists(strategy, max_size=n).map(tuple)


commands = st.builds(
    Command,
    path=text,
    args=tuples(text),
    env=tuples(text),
    dir=text,
    timeout=st.none() | st.integers(0, 2**40).map(lambda ns: ns / 1e9),
)
rules = st.builds(
    DeviceRule,
    type=st.sampled_from(DeviceType),
    major=small,
    minor=small,
    permissions=st.sampled_from(["", "r", "rwm"]),
    allow=st.booleans(),
)
devices = st.builds(
    Device,
    type=st.sampled_from(DeviceType),
    major=small,
    path=text,
    file_mode=st.integers(0, 0o7777),
    uid=st.integers(0, 2**32 - 1),
)
resources = st.builds(
    Resources,
    devices=tuples(rules | devices),
    memory=i64,
    cpu_shares=u64,
    cpuset_cpus=text,
    freezer=st.sampled_from(FreezerState),
    memory_swappiness=st.none() | u64,
    hugetlb_limit=tuples(st.builds(HugepageLimit, page_size=text, limit=u64)),
    blkio_throttle_read_bps_device=tuples(st.builds(ThrottleDevice, small, small, u64)),
    unified=st.dictionaries(text, text, max_size=3),
    kernel_memory=i64,
)
cgroups = st.builds(
    Cgroup,
    name=text,
    parent=text,
    path=text,
    paths=st.dictionaries(text, text, max_size=2),
    resources=resources,
    systemd=st.booleans(),
    owner_uid=st.none() | small,
)
seccomps = st.builds(
    Seccomp,
    default_action=st.sampled_from(Action),
    architectures=tuples(text),
    syscalls=tuples(
        st.builds(
            Syscall,
            name=text,
            action=st.sampled_from(Action),
            errno_ret=st.none() | st.integers(0, 4095),
            args=tuples(
                st.builds(Arg, index=st.integers(0, 5), value=u64, op=st.sampled_from(Operator))
            ),
        )
    ),
    default_errno_ret=st.none() | st.integers(0, 4095),
    listener_path=text,
)
configs = st.builds(
    Config,
    rootfs=text,
    umask=st.none() | st.integers(0, 0o777),
    mounts=tuples(
        st.builds(
            Mount,
            destination=text,
            flags=i64,
            propagation_flags=tuples(small),
            premount_cmds=tuples(commands),
        )
    ),
    devices=tuples(devices),
    hostname=text,
    namespaces=tuples(st.builds(Namespace, st.sampled_from(NamespaceType), text)),
    capabilities=st.none() | st.builds(Capabilities, bounding=tuples(text), ambient=tuples(text)),
    cgroups=st.none() | cgroups,
    rlimits=tuples(st.builds(Rlimit, small, u64, u64)),
    oom_score_adj=st.none() | st.integers(-1000, 1000),
    uid_mappings=tuples(st.builds(IDMap, small, small, small)),
    sysctl=st.dictionaries(text, text, max_size=3),
    seccomp=st.none() | seccomps,
    no_new_privileges=st.booleans(),
    hooks=st.builds(Hooks, prestart=tuples(commands), poststop=tuples(commands)),
    labels=tuples(text),
    rootless=st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(configs)
def test_config_round_trip(config: Config) -> None:
    loaded = config_from_dict(json.loads(json.dumps(config_to_dict(config))))
    assert loaded == config
    # A loaded config dumps to the same JSON as the one it was loaded from.
    assert config_to_dict(loaded) == config_to_dict(config)


@settings(max_examples=30, deadline=None)
@given(configs, st.integers(0, 2**62), st.dictionaries(text, text, max_size=3))
def test_state_round_trip(config: Config, ns: int, cgroup_paths: dict[str, str]) -> None:
    from libcontainer.configs import Timestamp

    state = State(
        id="x",
        created=Timestamp.from_unix_ns(ns),
        config=config,
        cgroup_paths=cgroup_paths,
    )
    again = State.from_json(state.to_json())
    assert again == state
    assert again.created.text == state.created.text
    assert json.loads(again.to_json()) == json.loads(state.to_json())
