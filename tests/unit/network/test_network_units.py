"""The network package's logic without a kernel: validation, the record, counters, threads."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest

from libcontainer.configs import Config, Namespace, NamespaceType, Network, validate
from libcontainer.configs.convert import config_from_json, config_to_json
from libcontainer.configs.validation import HostFeatures
from libcontainer.errors import ConfigError, NetworkError
from libcontainer.network import record
from libcontainer.network.interfaces import (
    generate_host_name,
    interface_stats,
    remove_interfaces,
)
from libcontainer.network.netns import current_netns_id, run_in_netns
from libcontainer.network.stats import NetworkInterface, from_host_counters

HOST = HostFeatures()


@pytest.fixture
def base(tmp_path: Path) -> Config:
    (tmp_path / "rootfs").mkdir()
    return Config(
        rootfs=str(tmp_path / "rootfs"),
        namespaces=(Namespace(type=NamespaceType.NEWNS), Namespace(type=NamespaceType.NEWNET)),
    )


def _with(base: Config, *networks: Network, **changes: Any) -> Config:
    return attrs.evolve(base, networks=networks, **changes)


def _fails(config: Config, field: str, text: str = "") -> None:
    with pytest.raises(ConfigError) as info:
        validate(config, host=HOST)
    assert info.value.field == field, info.value
    assert text in str(info.value)


def test_a_full_veth_is_valid(base: Config) -> None:
    validate(
        _with(
            base,
            Network(type="loopback"),
            Network(
                type="veth",
                name="eth0",
                bridge="br0",
                host_interface_name="vethx",
                mac_address="02:42:ac:11:00:02",
                address="10.0.0.2/24",
                gateway="10.0.0.1",
                ipv6_address="fd00::2/64",
                ipv6_gateway="fd00::1",
                mtu=1400,
                tx_queue_len=1000,
                hairpin_mode=True,
                host_netns="/run/netns/x",
            ),
            Network(type="veth", name="eth1"),
        ),
        host=HOST,
    )


@pytest.mark.parametrize(
    ("network", "field", "text"),
    [
        (Network(type="macvlan"), "networks[0].type", "unknown network type"),
        (Network(type="veth", name="a" * 16), "networks[0].name", "not a valid interface name"),
        (Network(type="veth", name="a/b"), "networks[0].name", "not a valid interface name"),
        (Network(type="veth", name="lo"), "networks[0].name", "already has lo"),
        (Network(type="veth", host_interface_name="x y"), "networks[0].host_interface_name", ""),
        (Network(type="veth", bridge="a:b"), "networks[0].bridge", ""),
        (Network(type="veth", hairpin_mode=True), "networks[0].hairpin_mode", "needs a bridge"),
        (Network(type="veth", mac_address="01:00:5e:00:00:01"), "networks[0].mac_address", ""),
        (Network(type="veth", mac_address="02:42:ac:11:00"), "networks[0].mac_address", ""),
        (Network(type="veth", mac_address="00:00:00:00:00:00"), "networks[0].mac_address", ""),
        (Network(type="veth", address="10.0.0.2"), "networks[0].address", "CIDR"),
        (Network(type="veth", address="fd00::2/64"), "networks[0].address", "IPv4"),
        (Network(type="veth", ipv6_address="10.0.0.2/24"), "networks[0].ipv6_address", "IPv6"),
        (Network(type="veth", gateway="fd00::1"), "networks[0].gateway", "IPv4"),
        (Network(type="veth", ipv6_gateway="10.0.0.1"), "networks[0].ipv6_gateway", "IPv6"),
        (Network(type="veth", mtu=67), "networks[0].mtu", "68 to 65535"),
        (Network(type="veth", tx_queue_len=-1), "networks[0].txqueuelen", "negative"),
        (Network(type="veth", host_netns="run/netns/x"), "networks[0].host_netns", "absolute"),
    ],
)
def test_bad_veth_values(base: Config, network: Network, field: str, text: str) -> None:
    _fails(_with(base, network), field, text)


def test_names_must_be_unique_per_side(base: Config) -> None:
    _fails(
        _with(base, Network(type="veth"), Network(type="veth", name="eth0")),
        "networks[1].name",
        "networks[0]",
    )
    _fails(
        _with(
            base,
            Network(type="veth", name="a", host_interface_name="h"),
            Network(type="veth", name="b", host_interface_name="h"),
        ),
        "networks[1].host_interface_name",
    )
    # The same name on both sides is fine: they live in different namespaces.
    validate(_with(base, Network(type="veth", name="x", host_interface_name="x")), host=HOST)


def test_veth_needs_root(base: Config) -> None:
    _fails(_with(base, Network(type="veth"), rootless_euid=True), "networks[0].type", "root")


def test_networks_need_a_network_namespace(base: Config) -> None:
    no_net = (Namespace(type=NamespaceType.NEWNS),)
    _fails(_with(base, Network(type="veth"), namespaces=no_net), "networks")


def test_host_netns_is_written_only_when_set(base: Config) -> None:
    """runc's Network has no such key: state.json stays runc's unless it is used."""
    plain = _with(base, Network(type="veth", name="eth0"))
    assert "host_netns" not in json.loads(config_to_json(plain))["networks"][0]
    ours = _with(base, Network(type="veth", host_netns="/run/netns/x"))
    assert json.loads(config_to_json(ours))["networks"][0]["host_netns"] == "/run/netns/x"
    assert config_from_json(config_to_json(ours)).networks == ours.networks


def test_generated_host_names_are_runc_like_and_distinct() -> None:
    names = {generate_host_name() for _ in range(200)}
    assert len(names) == 200
    assert all(n.startswith("veth") and len(n) == 11 for n in names)


def test_counters_are_the_containers_view() -> None:
    """The host side's transmit is the container's receive (as runc)."""
    counters = {
        "rx_bytes": 1,
        "rx_packets": 2,
        "rx_errors": 3,
        "rx_dropped": 4,
        "tx_bytes": 10,
        "tx_packets": 20,
        "tx_errors": 30,
        "tx_dropped": 40,
    }
    assert from_host_counters("vethx", counters) == NetworkInterface(
        name="vethx",
        rx_bytes=10,
        rx_packets=20,
        rx_errors=30,
        rx_dropped=40,
        tx_bytes=1,
        tx_packets=2,
        tx_errors=3,
        tx_dropped=4,
    )


def test_record_round_trip_and_clear(tmp_path: Path) -> None:
    sides = [
        record.HostSide("vethA", 7, "/run/netns/x", (1, 2), "eth0"),
        record.HostSide("vethB", 8, "", (3, 4), "eth1"),
    ]
    assert record.load(tmp_path) == []
    record.save(tmp_path, sides)
    assert record.load(tmp_path) == sides
    assert sorted(os.listdir(tmp_path)) == [record.RECORD_FILE]
    record.clear(tmp_path)
    record.clear(tmp_path)
    assert record.load(tmp_path) == []


def test_nothing_recorded_means_nothing_to_do(tmp_path: Path) -> None:
    assert remove_interfaces(tmp_path) is None
    assert interface_stats(tmp_path) == []


def test_run_in_netns_returns_and_raises_from_its_own_thread() -> None:
    seen: list[str] = []

    def work() -> int:
        seen.append(threading.current_thread().name)
        return 42

    assert run_in_netns(work) == 42
    assert seen == ["libcontainer-netns"]

    def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        run_in_netns(boom)


def test_run_in_netns_refuses_another_namespace(tmp_path: Path) -> None:
    me = current_netns_id()
    with pytest.raises(NetworkError, match="not in the network namespace"):
        run_in_netns(lambda: None, expect=(me[0], me[1] + 1))
    with pytest.raises(NetworkError, match="open network namespace"):
        run_in_netns(lambda: None, path=str(tmp_path / "nope"))
    (tmp_path / "file").write_text("")
    with pytest.raises(NetworkError, match="no longer the namespace"):
        run_in_netns(lambda: None, path=str(tmp_path / "file"), expect=me)
