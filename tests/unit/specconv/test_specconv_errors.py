"""Wrong JSON types are ConfigErrors naming the JSON path of the bad value."""

from __future__ import annotations

from typing import Any

import pytest

from libcontainer.errors import ConfigError
from specconv import parse_spec


@pytest.mark.parametrize(
    ("data", "field", "value"),
    [
        ({"ociVersion": 1}, "ociVersion", 1),
        ({"process": {"args": ["sh", "-c", 3]}}, "process.args[2]", 3),
        ({"process": {"args": "sh"}}, "process.args", "sh"),
        ({"process": {"terminal": "yes"}}, "process.terminal", "yes"),
        ({"process": {"terminal": 1}}, "process.terminal", 1),
        ({"process": {"user": {"uid": -1}}}, "process.user.uid", -1),
        ({"process": {"user": {"uid": 2**32}}}, "process.user.uid", 2**32),
        ({"process": {"user": {"gid": "0"}}}, "process.user.gid", "0"),
        (
            {"process": {"user": {"additionalGids": [1, True]}}},
            "process.user.additionalGids[1]",
            True,
        ),
        ({"process": {"consoleSize": {"height": 1.5}}}, "process.consoleSize.height", 1.5),
        (
            {"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": -1}]}},
            "process.rlimits[0].hard",
            -1,
        ),
        ({"process": {"oomScoreAdj": 2**63}}, "process.oomScoreAdj", 2**63),
        (
            {"process": {"capabilities": {"bounding": [None]}}},
            "process.capabilities.bounding[0]",
            None,
        ),
        ({"process": []}, "process", []),
        ({"root": "rootfs"}, "root", "rootfs"),
        ({"root": {"readonly": "true"}}, "root.readonly", "true"),
        ({"mounts": [{"destination": "/a"}, {"options": "ro"}]}, "mounts[1].options", "ro"),
        ({"mounts": [{}, {}, {"destination": 5}]}, "mounts[2].destination", 5),
        (
            {"hooks": {"prestart": [{"path": "/x", "timeout": "5"}]}},
            "hooks.prestart[0].timeout",
            "5",
        ),
        ({"hooks": {"createRuntime": {}}}, "hooks.createRuntime", {}),
        ({"annotations": {"a": 1}}, 'annotations["a"]', 1),
        ({"annotations": []}, "annotations", []),
        (
            {"linux": {"resources": {"memory": {"limit": "1G"}}}},
            "linux.resources.memory.limit",
            "1G",
        ),
        (
            {"linux": {"resources": {"memory": {"swappiness": -1}}}},
            "linux.resources.memory.swappiness",
            -1,
        ),
        (
            {"linux": {"resources": {"memory": {"disableOOMKiller": 0}}}},
            "linux.resources.memory.disableOOMKiller",
            0,
        ),
        ({"linux": {"resources": {"cpu": {"cpus": 0}}}}, "linux.resources.cpu.cpus", 0),
        ({"linux": {"resources": {"pids": {"limit": "max"}}}}, "linux.resources.pids.limit", "max"),
        (
            {"linux": {"resources": {"blockIO": {"weight": 70000}}}},
            "linux.resources.blockIO.weight",
            70000,
        ),
        (
            {"linux": {"resources": {"blockIO": {"throttleReadIOPSDevice": [{"rate": -5}]}}}},
            "linux.resources.blockIO.throttleReadIOPSDevice[0].rate",
            -5,
        ),
        (
            {"linux": {"resources": {"hugepageLimits": [{"pageSize": 2}]}}},
            "linux.resources.hugepageLimits[0].pageSize",
            2,
        ),
        (
            {"linux": {"resources": {"network": {"classID": -1}}}},
            "linux.resources.network.classID",
            -1,
        ),
        (
            {"linux": {"resources": {"rdma": {"mlx": {"hcaHandles": "x"}}}}},
            'linux.resources.rdma["mlx"].hcaHandles',
            "x",
        ),
        (
            {"linux": {"resources": {"unified": {"memory.max": 5}}}},
            'linux.resources.unified["memory.max"]',
            5,
        ),
        (
            {"linux": {"resources": {"devices": [{"allow": "yes"}]}}},
            "linux.resources.devices[0].allow",
            "yes",
        ),
        (
            {"linux": {"uidMappings": [{"containerID": 0, "hostID": 1.0}]}},
            "linux.uidMappings[0].hostID",
            1.0,
        ),
        ({"linux": {"namespaces": [{"type": 1}]}}, "linux.namespaces[0].type", 1),
        ({"linux": {"devices": [{"major": "8"}]}}, "linux.devices[0].major", "8"),
        ({"linux": {"devices": [{"fileMode": -1}]}}, "linux.devices[0].fileMode", -1),
        ({"linux": {"sysctl": {"kernel.shmmax": 1}}}, 'linux.sysctl["kernel.shmmax"]', 1),
        (
            {"linux": {"seccomp": {"syscalls": [{}, {}, {}, {"action": 1}]}}},
            "linux.seccomp.syscalls[3].action",
            1,
        ),
        (
            {"linux": {"seccomp": {"syscalls": [{"args": [{"index": -1}]}]}}},
            "linux.seccomp.syscalls[0].args[0].index",
            -1,
        ),
        (
            {"linux": {"seccomp": {"defaultErrnoRet": "EPERM"}}},
            "linux.seccomp.defaultErrnoRet",
            "EPERM",
        ),
        ({"linux": {"maskedPaths": [1]}}, "linux.maskedPaths[0]", 1),
        ({"linux": {"intelRdt": {"enableCMT": "no"}}}, "linux.intelRdt.enableCMT", "no"),
        ({"linux": {"personality": {"flags": "x"}}}, "linux.personality.flags", "x"),
    ],
)
def test_wrong_type_names_json_path(data: dict[str, Any], field: str, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(data)
    assert info.value.field == field
    assert info.value.has_value
    assert info.value.value == value
    assert type(info.value.value) is type(value)
    assert field in str(info.value)


@pytest.mark.parametrize("text", ["", "{", "nope", '{"a": NaN}', '{"a": Infinity}', "[" * 100000])
def test_invalid_json_text(text: str) -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_spec(text)


@pytest.mark.parametrize("text", ["[]", "1", '"x"', "null", "true"])
def test_top_level_must_be_an_object(text: str) -> None:
    with pytest.raises(ConfigError, match="JSON object"):
        parse_spec(text)


def test_invalid_utf8_is_replaced_like_go() -> None:
    spec = parse_spec(b'{"hostname": "a\xffb"}')
    assert spec.hostname == "a\ufffdb"


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_spec({"hostname": 1})
