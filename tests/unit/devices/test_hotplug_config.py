"""What a hot-add and a hot-remove do to the config (the part ``state.json`` records)."""

from __future__ import annotations

import attrs
import pytest

from libcontainer.configs import Cgroup, Config, Device, DeviceRule, DeviceType, Resources
from libcontainer.hotplug import with_device, without_device

DENY_ALL = DeviceRule(type=DeviceType.WILDCARD, major=-1, minor=-1, permissions="rwm")
NULL = Device(type=DeviceType.CHAR, major=1, minor=3, permissions="rwm", path="/dev/null")
NULL_RULE = DeviceRule(type=DeviceType.CHAR, major=1, minor=3, permissions="rwm", allow=True)
LOOP = Device(type=DeviceType.BLOCK, major=7, minor=3, permissions="rw", path="/dev/loop3")
LOOP_RULE = DeviceRule(type=DeviceType.BLOCK, major=7, minor=3, permissions="rw", allow=True)


@pytest.fixture
def config() -> Config:
    return Config(
        rootfs="/r",
        devices=(NULL,),
        cgroups=Cgroup(path="/x", resources=Resources(devices=(DENY_ALL, NULL_RULE))),
    )


def _rules(config: Config) -> tuple[DeviceRule, ...]:
    assert config.cgroups is not None
    return config.cgroups.resources.devices


def test_add_appends_the_device_and_its_rule(config: Config) -> None:
    added = with_device(config, LOOP, LOOP_RULE)
    assert added.devices == (NULL, LOOP)
    assert _rules(added) == (DENY_ALL, NULL_RULE, LOOP_RULE)
    assert added.rootfs == config.rootfs  # nothing else changes


def test_remove_takes_away_the_device_and_its_allow_rules(config: Config) -> None:
    added = with_device(config, LOOP, LOOP_RULE)
    # Another allow rule for the same number (say, from an update) goes too.
    extra = DeviceRule(type=DeviceType.BLOCK, major=7, minor=3, permissions="m", allow=True)
    assert added.cgroups is not None
    resources = added.cgroups.resources
    added = attrs.evolve(
        added,
        cgroups=attrs.evolve(
            added.cgroups, resources=attrs.evolve(resources, devices=(*resources.devices, extra))
        ),
    )
    removed = without_device(added, LOOP)
    assert removed.devices == (NULL,)
    assert _rules(removed) == (DENY_ALL, NULL_RULE)


def test_remove_by_path_keeps_a_rule_another_device_still_needs(config: Config) -> None:
    """Two nodes of one device: removing one keeps the number usable for the other."""
    second = Device(type=DeviceType.CHAR, major=1, minor=3, permissions="rwm", path="/dev/null2")
    both = with_device(config, second, NULL_RULE)
    removed = without_device(both, second)
    assert removed.devices == (NULL,)
    assert NULL_RULE in _rules(removed)


def test_remove_keeps_deny_rules_and_rules_for_other_types(config: Config) -> None:
    deny = DeviceRule(type=DeviceType.BLOCK, major=7, minor=3, permissions="w", allow=False)
    char_7_3 = DeviceRule(type=DeviceType.CHAR, major=7, minor=3, permissions="r", allow=True)
    assert config.cgroups is not None
    c = attrs.evolve(
        config,
        cgroups=attrs.evolve(
            config.cgroups,
            resources=attrs.evolve(config.cgroups.resources, devices=(DENY_ALL, deny, char_7_3)),
        ),
    )
    removed = without_device(with_device(c, LOOP, LOOP_RULE), LOOP)
    assert _rules(removed) == (DENY_ALL, deny, char_7_3)
