"""Fixtures for the specconv tests: runc 1.1.5 outputs and a bundle with a rootfs dir."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(os.environ["PYLIBCONTAINER_FIXTURES"])


@pytest.fixture
def runc_fixture() -> Callable[[str], Path]:
    """Path of a runc 1.1.5 reference file in tests/fixtures/ by file name."""

    def path_of(name: str) -> Path:
        path = FIXTURES / name
        assert path.exists(), f"tests/fixtures/{name} is missing"
        return path

    return path_of


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """An empty bundle directory with a ``rootfs`` directory in it."""
    (tmp_path / "rootfs").mkdir()
    return tmp_path


# A spec that sets every field the models know, with values create_config accepts.
FULL_SPEC: dict[str, Any] = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": True,
        "consoleSize": {"height": 24, "width": 80},
        "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3, 4], "username": "u"},
        "args": ["a", "b"],
        "env": ["A=1"],
        "cwd": "/w",
        "capabilities": {
            "bounding": ["CAP_KILL"],
            "effective": ["CAP_KILL"],
            "inheritable": ["CAP_KILL"],
            "permitted": ["CAP_KILL"],
            "ambient": ["CAP_KILL"],
        },
        "rlimits": [{"type": "RLIMIT_CORE", "hard": 1, "soft": 0}],
        "noNewPrivileges": True,
        "apparmorProfile": "prof",
        "oomScoreAdj": -500,
        "selinuxLabel": "lbl",
    },
    "root": {"path": "/r", "readonly": True},
    "hostname": "h",
    "domainname": "d",
    "mounts": [{"destination": "/m", "type": "bind", "source": "/s", "options": ["rbind"]}],
    "hooks": {
        "prestart": [{"path": "/p", "args": ["p"], "env": ["E=1"], "timeout": 3}],
        "createRuntime": [{"path": "/cr"}],
        "createContainer": [{"path": "/cc"}],
        "startContainer": [{"path": "/sc"}],
        "poststart": [{"path": "/ps"}],
        "poststop": [{"path": "/pst"}],
    },
    "annotations": {"b": "2", "a": "1"},
    "linux": {
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
        "sysctl": {"net.ipv4.ip_forward": "1"},
        "resources": {
            "devices": [{"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
            "memory": {
                "limit": 100,
                "reservation": 50,
                "swap": 200,
                "kernel": 1,
                "kernelTCP": 2,
                "swappiness": 10,
                "disableOOMKiller": True,
                "useHierarchy": False,
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
            "pids": {"limit": 0},
            "blockIO": {
                "weight": 10,
                "leafWeight": 11,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 5, "leafWeight": 6}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}],
                "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2}],
                "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 3}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 4}],
            },
            "hugepageLimits": [{"pageSize": "2MB", "limit": 4096}],
            "network": {"classID": 7, "priorities": [{"name": "eth0", "priority": 2}]},
            "rdma": {"mlx": {"hcaHandles": 1, "hcaObjects": 2}},
            "unified": {"memory.high": "100"},
        },
        "cgroupsPath": "/c",
        "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
        "devices": [
            {
                "path": "/dev/x",
                "type": "c",
                "major": 1,
                "minor": 2,
                "fileMode": 420,
                "uid": 0,
                "gid": 0,
            }
        ],
        "seccomp": {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64"],
            "listenerPath": "/l",
            "listenerMetadata": "m",
            "syscalls": [
                {
                    "names": ["read"],
                    "action": "SCMP_ACT_ALLOW",
                    "errnoRet": 2,
                    "args": [{"index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_EQ"}],
                }
            ],
        },
        "rootfsPropagation": "rslave",
        "maskedPaths": ["/m"],
        "readonlyPaths": ["/r"],
        "mountLabel": "ml",
        "intelRdt": {
            "closID": "c",
            "l3CacheSchema": "L3:0=f",
            "memBwSchema": "MB:0=50",
            "enableCMT": True,
            "enableMBM": True,
        },
        "personality": {"domain": "LINUX", "flags": ["x"]},
    },
}


@pytest.fixture(scope="session")
def full_spec() -> dict[str, Any]:
    """JSON data of a spec that sets every modelled field."""
    return copy.deepcopy(FULL_SPEC)
