"""The name tables match what runc 1.1.5 reports in ``runc features`` and the kernel's ABI."""

from __future__ import annotations

import json
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from specconv import tables

FixturePath = Callable[[str], Path]


@pytest.fixture
def features(runc_fixture: FixturePath) -> Any:
    return json.loads(runc_fixture("runc-1.1.5-features.json").read_text())


def test_mount_options_match_runc_features(features: Any) -> None:
    assert tables.known_mount_options() == features["mountOptions"]


def test_namespaces_match_runc_features(features: Any) -> None:
    assert sorted(tables.NAMESPACES) == features["linux"]["namespaces"]


def test_capabilities_match_runc_features_in_kernel_order(features: Any) -> None:
    assert list(tables.CAPABILITIES) == features["linux"]["capabilities"]
    assert list(tables.CAPABILITIES.values()) == list(range(len(tables.CAPABILITIES)))


def test_seccomp_names_match_runc_features(features: Any) -> None:
    seccomp = features["linux"]["seccomp"]
    assert sorted(tables.SECCOMP_ACTIONS) == seccomp["actions"]
    assert sorted(tables.SECCOMP_OPERATORS) == seccomp["operators"]
    assert sorted(tables.SECCOMP_ARCHES) == seccomp["archs"]


def test_hooks_match_runc_features(features: Any) -> None:
    import attrs

    from specconv._fields import json_name
    from specconv.spec import Hooks

    assert [json_name(f) for f in attrs.fields(Hooks)] == features["hooks"]


# <asm-generic/resource.h>, which every architecture runc supports uses for these names.
KERNEL_RLIMITS = [
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
]


def test_rlimit_numbers_are_the_kernels() -> None:
    assert dict(tables.RLIMITS) == {name: i for i, name in enumerate(KERNEL_RLIMITS)}
    for name, number in tables.RLIMITS.items():
        # Python's resource module lacks a few (RLIMIT_LOCKS); check the ones it has.
        assert getattr(resource, name, number) == number


def test_seccomp_enum_names_exist_in_configs() -> None:
    from libcontainer.configs import Action, Operator

    assert {Action[m] for m in tables.SECCOMP_ACTIONS.values()} == set(Action)
    assert {Operator[m] for m in tables.SECCOMP_OPERATORS.values()} == set(Operator)


def test_namespace_enum_names_exist_in_configs() -> None:
    from libcontainer.configs import NamespaceType

    assert {NamespaceType[m] for m in tables.NAMESPACES.values()} == set(NamespaceType)


def test_mount_flag_values() -> None:
    # <linux/mount.h>; the fixture state.json has /dev as nosuid|strictatime = 16777218.
    assert tables.MS_NOSUID | tables.MS_STRICTATIME == 16777218
    assert [tables.MS_RDONLY, tables.MS_NOSUID, tables.MS_NODEV, tables.MS_NOEXEC] == [1, 2, 4, 8]
    assert tables.MS_BIND == 4096 and tables.MS_REC == 16384
    assert tables.MS_RELATIME == 1 << 21 and tables.MS_LAZYTIME == 1 << 25


def test_allowed_devices_are_runc_1_1s() -> None:
    assert [d.path for d in tables.ALLOWED_DEVICE_NODES] == [
        "/dev/null",
        "/dev/random",
        "/dev/full",
        "/dev/tty",
        "/dev/zero",
        "/dev/urandom",
    ]
    assert len(tables.ALLOWED_DEVICES) == 11
