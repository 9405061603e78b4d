"""The fixtures runc wrote load into typed objects and dump back unchanged."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
import pytest

from libcontainer.configs import (
    Cgroup,
    Config,
    Device,
    DeviceRule,
    DeviceType,
    FreezerState,
    Hooks,
    Namespace,
    NamespaceType,
    Resources,
    config_from_dict,
    config_from_json,
    config_to_dict,
    config_to_json,
)
from libcontainer.state import State

FIXTURES = Path(os.environ["PYLIBCONTAINER_FIXTURES"])
STATE_FIXTURES = ["runc-1.1.5-state.json", "runc-2018-state-from-design-notes.json"]


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.mark.parametrize("name", STATE_FIXTURES)
def test_state_fixture_round_trips(name: str) -> None:
    text = (FIXTURES / name).read_text()
    state = State.from_json(text)
    assert isinstance(state.config, Config)
    assert json.loads(state.to_json()) == json.loads(text)


@pytest.mark.parametrize("name", STATE_FIXTURES)
def test_state_fixture_round_trip_keeps_key_order(name: str) -> None:
    text = (FIXTURES / name).read_text()
    out = State.from_json(text).to_json()
    assert list(json.loads(out)["config"]) == list(json.loads(text)["config"])
    assert list(json.loads(out)["config"]["cgroups"]) == list(json.loads(text)["config"]["cgroups"])


@pytest.mark.parametrize("name", STATE_FIXTURES)
def test_config_round_trips_and_reload_is_equal(name: str) -> None:
    data = _fixture(name)["config"]
    config = config_from_dict(data)
    assert config_to_dict(config) == data
    again = config_from_json(config_to_json(config))
    assert again == config


def test_runc_115_values_are_typed() -> None:
    state = State.from_json((FIXTURES / "runc-1.1.5-state.json").read_text())
    c = state.config
    assert state.id == "fixture1"
    assert state.created.nanosecond == 235625666
    assert state.created.text == "2026-11-28T15:20:05.235625666Z"
    assert state.namespace_paths[NamespaceType.NEWCGROUP] == "/proc/14806/ns/cgroup"
    assert c.readonlyfs is True and c.no_new_privileges is True
    assert c.umask is None
    assert c.namespace(NamespaceType.NEWPID) == Namespace(NamespaceType.NEWPID)
    assert not c.has_namespace(NamespaceType.NEWUSER)
    assert c.devices[0] == Device(
        type=DeviceType.CHAR,
        major=1,
        minor=3,
        permissions="rwm",
        allow=True,
        path="/dev/null",
        file_mode=0o666,
    )
    assert c.cgroups is not None
    rules = c.cgroups.resources.devices
    assert type(rules[0]) is DeviceRule
    assert rules[0].type is DeviceType.WILDCARD and rules[0].allow is False
    assert rules[0].cgroup_string() == "a *:* rwm"
    assert rules[9].cgroup_string() == "c 136:* rwm"
    assert c.cgroups.systemd is False and c.cgroups.name == "fixture1"
    assert c.cgroups.resources.freezer is FreezerState.UNDEFINED
    assert c.capabilities is not None and c.capabilities.inheritable == ()
    assert "CAP_KILL" in c.capabilities.ambient
    assert c.hooks == Hooks()
    assert c.mounts[1].flags == 16777218 and c.mounts[1].propagation_flags == ()
    assert state.external_descriptors == ("/dev/null",) * 3


def test_2018_legacy_keys_load() -> None:
    state = State.from_json((FIXTURES / "runc-2018-state-from-design-notes.json").read_text())
    c = state.config
    assert c.rootless is False
    assert c.cgroups is not None
    r = c.cgroups.resources
    assert r.kernel_memory == 0 and r.kernel_memory_tcp == 0
    assert len(r.allowed_devices) == 12 and isinstance(r.allowed_devices[0], Device)
    # 2018 cgroup device lists held whole devices: they load as Device (a DeviceRule).
    assert all(isinstance(d, Device) for d in r.devices)
    assert r.devices[3].path == "/dev/null"
    assert c.cgroups.paths == {}
    assert c.umask is None and not c.no_new_privileges


def test_python_built_config_dumps_like_runc_11() -> None:
    config = Config(
        rootfs="/rootfs",
        namespaces=(Namespace(NamespaceType.NEWPID),),
        cgroups=Cgroup(path="/x", resources=Resources(memory=1 << 20)),
    )
    d = config_to_dict(config)
    # nil slices and maps are null; omitempty keys are absent.
    assert d["mounts"] is None and d["sysctl"] is None and d["labels"] is None
    assert d["umask"] is None
    for key in ("apparmor_profile", "process_label", "rlimits", "oom_score_adj"):
        assert key not in d
    for key in ("no_new_privileges", "intel_rdt", "rootless_euid", "rootless_cgroups"):
        assert key not in d
    assert "rootless" not in d  # legacy key, empty
    assert d["namespaces"] == [{"type": "NEWPID", "path": ""}]
    assert list(d["Hooks"]) == sorted(d["Hooks"]) and all(v is None for v in d["Hooks"].values())
    cg = d["cgroups"]
    assert "name" not in cg and "parent" not in cg and "paths" not in cg
    assert cg["path"] == "/x" and cg["memory"] == 1 << 20 and cg["devices"] is None
    assert cg["Systemd"] is False and cg["Rootless"] is False
    assert "kernel_memory" not in cg and "allowed_devices" not in cg
    assert "skip_devices" not in cg and "systemd_props" not in cg
    # The same keys runc 1.1.5 wrote, no more, no fewer.
    fixture = _fixture("runc-1.1.5-state.json")["config"]
    assert set(d) | {"no_new_privileges"} == set(fixture)  # it is true in the fixture
    assert set(cg) == set(fixture["cgroups"]) - {"name"} | {"path"}


def test_python_built_mount_and_device_keys_match_runc_115() -> None:
    fixture = _fixture("runc-1.1.5-state.json")["config"]
    from libcontainer.configs import Mount

    assert set(config_to_dict(Config(mounts=(Mount(),)))["mounts"][0]) == set(fixture["mounts"][0])
    assert set(config_to_dict(Config(devices=(Device(),)))["devices"][0]) == set(
        fixture["devices"][0]
    )


def test_evolved_object_is_dumped_as_runc_11_children_keep_memory() -> None:
    data = _fixture("runc-2018-state-from-design-notes.json")["config"]
    config = config_from_dict(data)
    changed = attrs.evolve(config, hostname="other")
    d = config_to_dict(changed)
    assert d["hostname"] == "other"
    assert "umask" in d  # Config itself is now "built in Python"
    assert "kernel_memory" in d["cgroups"]  # the untouched Cgroup keeps its 2018 keys
    assert d["mounts"] == data["mounts"]


def test_null_and_empty_list_both_survive() -> None:
    data = config_to_dict(Config())
    data["mounts"] = []
    data["labels"] = None
    data["sysctl"] = {}
    back = config_to_dict(config_from_dict(data))
    assert back["mounts"] == [] and back["labels"] is None and back["sysctl"] == {}


def test_case_insensitive_keys_keep_their_spelling() -> None:
    data = config_to_dict(Config())
    data["RootFS"] = data.pop("rootfs")
    data["RootFS"] = "/r"
    config = config_from_dict(data)
    assert config.rootfs == "/r"
    assert config_to_dict(config)["RootFS"] == "/r"
    assert "rootfs" not in config_to_dict(config)


def test_model_equality_ignores_key_memory() -> None:
    data = _fixture("runc-2018-state-from-design-notes.json")["config"]
    loaded = config_from_dict(data)
    rebuilt = attrs.evolve(loaded)
    assert loaded == rebuilt
    assert repr(loaded) == repr(rebuilt)
    assert loaded.json_meta() is not None and rebuilt.json_meta() is None
