"""Converter edge cases: unknown keys, wrong types, enums, hooks, legacy and extra keys."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from libcontainer.configs import (
    Action,
    Arg,
    Cgroup,
    Command,
    Config,
    DeviceRule,
    DeviceType,
    FuncHook,
    HookName,
    Hooks,
    IDMap,
    IntelRdt,
    LinuxRdma,
    Mount,
    MountAttr,
    Operator,
    Resources,
    Rlimit,
    Seccomp,
    Syscall,
    config_from_dict,
    config_from_json,
    config_to_dict,
)
from libcontainer.errors import ConfigError, StateFileError
from libcontainer.state import State

FIXTURE = Path(os.environ["PYLIBCONTAINER_FIXTURES"]) / "runc-1.1.5-state.json"


def _config_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())["config"]
    return data


def test_unknown_key_is_an_error_naming_its_path() -> None:
    data = _config_dict()
    data["cgroups"]["devices"][3]["bogus"] = 1
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert info.value.field == "cgroups.devices[3].bogus"
    assert "bogus" in str(info.value)


def test_unknown_top_level_key_in_state_is_a_state_file_error() -> None:
    data = json.loads(FIXTURE.read_text())
    data["config"]["mounts"][0]["future_key"] = True
    with pytest.raises(StateFileError, match=r"config\.mounts\[0\]\.future_key"):
        State.from_json(json.dumps(data))
    del data["config"]["mounts"][0]["future_key"]
    data["surprise"] = 1
    with pytest.raises(StateFileError, match="surprise"):
        State.from_json(json.dumps(data))


def test_non_strict_keeps_unknown_keys_for_the_round_trip() -> None:
    data = json.loads(FIXTURE.read_text())
    data["config"]["mounts"][0]["future_key"] = {"a": [1]}
    data["surprise"] = "x"
    state = State.from_json(json.dumps(data), strict=False)
    assert json.loads(state.to_json()) == data


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(readonlyfs="yes"), "readonlyfs"),
        (lambda d: d.update(rootfs=3), "rootfs"),
        (lambda d: d.update(parent_death_signal=1.5), "parent_death_signal"),
        (lambda d: d.update(parent_death_signal=True), "parent_death_signal"),
        (lambda d: d.update(mounts={}), "mounts"),
        (lambda d: d.update(sysctl=[]), "sysctl"),
        (lambda d: d["namespaces"][1].update(type="NEWTIME"), "namespaces[1].type"),
        (lambda d: d["devices"][0].update(type=120), "devices[0].type"),
        (lambda d: d["devices"][0].update(type="c"), "devices[0].type"),
        (lambda d: d["cgroups"].update(freezer="MELTED"), "cgroups.freezer"),
        (lambda d: d["cgroups"].update(memory="1G"), "cgroups.memory"),
        (lambda d: d.update(mask_paths=["/a", 2]), "mask_paths[1]"),
        (lambda d: d.update(capabilities=[]), "capabilities"),
        (lambda d: d.update(seccomp={"default_action": 99}), "seccomp.default_action"),
        (lambda d: d.update(sysctl={"a": 1}), 'sysctl["a"]'),
    ],
)
def test_wrong_types_name_the_field(mutate: Any, field: str) -> None:
    data = _config_dict()
    mutate(data)
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert info.value.field == field


def test_null_scalars_load_as_zero_and_dump_as_null() -> None:
    data = _config_dict()
    data["hostname"] = None
    data["Hooks"] = None
    config = config_from_dict(data)
    assert config.hostname == "" and config.hooks == Hooks()
    out = config_to_dict(config)
    assert out["hostname"] is None and out["Hooks"] is None


def test_config_from_json_rejects_garbage() -> None:
    with pytest.raises(ConfigError):
        config_from_json("{")
    with pytest.raises(ConfigError):
        config_from_json("[]")


def test_state_from_json_rejects_garbage() -> None:
    for text in ("{", "[1]", '{"created": "yesterday"}', '{"id": 3}'):
        with pytest.raises(StateFileError):
            State.from_json(text)


def test_seccomp_round_trip_python_built() -> None:
    seccomp = Seccomp(
        default_action=Action.ERRNO,
        default_errno_ret=1,
        architectures=("SCMP_ARCH_X86_64",),
        syscalls=(
            Syscall(name="mkdir", action=Action.ALLOW),
            Syscall(
                name="personality",
                action=Action.ERRNO,
                errno_ret=38,
                args=(Arg(index=0, value=8, op=Operator.EQUAL_TO),),
            ),
        ),
    )
    config = Config(seccomp=seccomp)
    d = config_to_dict(config)
    assert d["seccomp"]["default_action"] == 2
    assert d["seccomp"]["syscalls"][1]["errnoRet"] == 38
    assert d["seccomp"]["syscalls"][1]["args"][0] == {
        "index": 0,
        "value": 8,
        "value_two": 0,
        "op": 1,
    }
    assert d["seccomp"]["syscalls"][0]["args"] is None
    assert "listener_path" not in d["seccomp"]
    back = config_from_dict(d)
    assert back.seccomp == seccomp
    assert back.seccomp is not None and back.seccomp.syscalls[1].args[0].op is Operator.EQUAL_TO


def test_hooks_round_trip_timeout_nanoseconds() -> None:
    hook = Command(path="/bin/true", args=("true", "x"), env=("A=1",), dir="/", timeout=1.5)
    config = Config(hooks=Hooks(prestart=(hook,), poststop=(hook,)))
    d = config_to_dict(config)
    assert d["Hooks"]["prestart"][0]["timeout"] == 1_500_000_000
    assert d["Hooks"]["createRuntime"] is None
    back = config_from_dict(d)
    assert back.hooks.prestart == (hook,)
    assert back.hooks.get(HookName.POSTSTOP) == (hook,)
    assert back.hooks.get("poststop") == (hook,)


def test_hook_timeout_exact_nanoseconds_survive() -> None:
    d = config_to_dict(Config())
    d["Hooks"] = {
        "prestart": [{"path": "/x", "args": None, "env": None, "dir": "", "timeout": 1234567891}]
    }
    back = config_to_dict(config_from_dict(d))
    assert back["Hooks"] == d["Hooks"]


def test_function_hooks_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    hooks = Hooks(poststart=(FuncHook(lambda state: None), Command(path="/bin/true")))
    with caplog.at_level(logging.WARNING):
        d = config_to_dict(Config(hooks=hooks))
    assert [h["path"] for h in d["Hooks"]["poststart"]] == ["/bin/true"]
    assert "function hook" in caplog.text


def test_small_models_round_trip() -> None:
    config = Config(
        uid_mappings=(IDMap(0, 1000, 1),),
        gid_mappings=(IDMap(container_id=0, host_id=1000, size=1),),
        rlimits=(Rlimit(7, 1024, 1024),),
        oom_score_adj=0,
        umask=0o022,
        intel_rdt=IntelRdt(clos_id="c1", l3_cache_schema="L3:0=f"),
        mounts=(Mount(destination="/x", rec_attr=MountAttr(attr_set=1)),),
        cgroups=Cgroup(
            parent="system.slice",
            name="c",
            systemd=True,
            owner_uid=0,
            paths={"memory": "/sys/fs/cgroup/memory/x"},
            resources=Resources(
                rdma={"mlx4_0": LinuxRdma(hca_handles=3)},
                unified={"memory.max": "1G"},
                memory_swappiness=60,
                devices=(DeviceRule(type=DeviceType.BLOCK, major=8, minor=0, permissions="r"),),
            ),
        ),
    )
    d = config_to_dict(config)
    assert d["oom_score_adj"] == 0  # a set pointer is not empty
    assert d["umask"] == 0o022
    assert d["uid_mappings"] == [{"container_id": 0, "host_id": 1000, "size": 1}]
    assert d["intel_rdt"] == {"closID": "c1", "l3_cache_schema": "L3:0=f"}
    assert d["mounts"][0]["rec_attr"] == {
        "Attr_set": 1,
        "Attr_clr": 0,
        "Propagation": 0,
        "Userns_fd": 0,
    }
    cg = d["cgroups"]
    assert cg["rdma"] == {"mlx4_0": {"hca_handles": 3}}
    assert cg["devices"][0]["type"] == ord("b")
    assert cg["paths"] == {"memory": "/sys/fs/cgroup/memory/x"}
    assert cg["Systemd"] is True and cg["owner_uid"] == 0
    assert config_from_dict(d) == config


def test_legacy_values_set_in_python_are_not_lost() -> None:
    config = Config(rootless=True, cgroups=Cgroup(resources=Resources(kernel_memory=5)))
    d = config_to_dict(config)
    assert d["rootless"] is True and d["cgroups"]["kernel_memory"] == 5


def test_map_keys_are_sorted_like_go() -> None:
    d = config_to_dict(Config(sysctl={"z.b": "1", "a.b": "2"}))
    assert list(d["sysctl"]) == ["a.b", "z.b"]


def test_missing_required_key_names_the_object() -> None:
    data = _config_dict()
    data["namespaces"][2] = {"path": ""}
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert info.value.field == "namespaces[2]"
    assert "type" in str(info.value)
