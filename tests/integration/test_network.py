"""veth networks on real containers, all inside a network namespace each test makes.

The host's network is never touched: every test creates its own namespace (its name
carries the run token) holding a bridge, and the containers'
host sides are created there through ``Network.host_netns``. Removing the namespace at the
end takes whatever a failing test left behind with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from ctutil import Factories, example_spec_dict, unique_id
from testrun import RUN_TOKEN, unique_name

from libcontainer import Factory, Process
from libcontainer.configs import Config, Mount, Network, Route
from libcontainer.container import Container
from libcontainer.errors import ConfigError, NetworkError, ProcessStartError
from libcontainer.lifecycle.status import Status
from libcontainer.network.record import RECORD_FILE

pytestmark = pytest.mark.root

HAVE_IPV6 = os.path.exists("/proc/sys/net/ipv6")
MS_BIND = 4096


class Netns:
    """A network namespace of the test's own: ``br0`` (10.77.0.1/24, fd77::1/64) and
    10.78.0.1/24 on ``lo``, which the containers reach only through a route."""

    def __init__(self) -> None:
        self.name = unique_name("net")
        self.path = f"/run/netns/{self.name}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        setup = [
            "link set lo up",
            "link add br0 type bridge",
            "addr add 10.77.0.1/24 dev br0",
            "link set br0 up",
            "addr add 10.78.0.1/24 dev lo",
        ]
        if HAVE_IPV6:
            setup.append("addr add fd77::1/64 dev br0 nodad")
        try:
            for cmd in setup:
                self.ip(*cmd.split())
        except BaseException:
            self.remove()
            raise

    def ip(self, *args: str) -> str:
        """``ip -n <this namespace> args``; its stdout."""
        return subprocess.run(
            ["ip", "-n", self.name, *args], check=True, capture_output=True, text=True
        ).stdout

    def links(self, *args: str) -> list[dict[str, Any]]:
        """``ip -j -d link show args`` as JSON."""
        out = self.ip("-j", "-d", "link", "show", *args)
        return list(json.loads(out or "[]"))

    def veths(self) -> list[str]:
        """Names of the veth interfaces in the namespace."""
        return [link["ifname"] for link in self.links("type", "veth")]

    def bridge_ports(self) -> list[str]:
        """Names of br0's ports."""
        return [link["ifname"] for link in self.links("master", "br0")]

    def remove(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], check=True)


@pytest.fixture
def netns() -> Iterator[Netns]:
    ns = Netns()
    try:
        yield ns
    finally:
        ns.remove()


def veth(netns: Netns, **kwargs: Any) -> Network:
    """A veth on br0 of the test's namespace."""
    kwargs.setdefault("bridge", "br0")
    return Network(type="veth", host_netns=netns.path, **kwargs)


@pytest.fixture
def net_config(make_config: Callable[..., Config]) -> Callable[..., Config]:
    """A busybox config that may ping (CAP_NET_RAW) with ``networks`` and ``routes``."""

    def edit(spec: dict[str, Any]) -> None:
        for caps in spec["process"]["capabilities"].values():
            caps.append("CAP_NET_RAW")

    def make(*networks: Network, routes: tuple[Route, ...] = (), userns: bool = False) -> Config:
        def edits(spec: dict[str, Any]) -> None:
            edit(spec)
            if userns:
                user_namespace(spec)

        config = make_config(edits)
        return attrs.evolve(config, networks=(Network(type="loopback"), *networks), routes=routes)

    return make


def user_namespace(spec: dict[str, Any]) -> None:
    """Container root is host uid 100000 (the rootfs must be chowned to match)."""
    spec["linux"]["namespaces"].append({"type": "user"})
    spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    spec["mounts"] = [m for m in spec["mounts"] if m["type"] != "cgroup"]


def chown_rootfs_for_userns(bundle: Path) -> None:
    subprocess.run(["chown", "-R", "100000:100000", str(bundle / "rootfs")], check=True)
    for parent in (bundle / "rootfs").parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)


def run_sleeper(c: Container) -> Process:
    init = Process(["sleep", "1000"])
    c.run(init)
    return init


def exec_output(c: Container, script: str) -> tuple[str, int]:
    proc = Process(
        ["sh", "-c", script], init=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    c.start(proc)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return out, proc.wait(timeout=60)


def host_name() -> str:
    """A host side name of at most 15 characters carrying the run token."""
    return f"v{RUN_TOKEN}{os.urandom(2).hex()}"


def test_two_containers_on_a_bridge(
    containers: Factories, netns: Netns, net_config: Callable[..., Config]
) -> None:
    a_host = host_name()
    a = containers.create(
        net_config(
            veth(
                netns,
                host_interface_name=a_host,
                address="10.77.0.2/24",
                gateway="10.77.0.1",
                mac_address="02:42:0a:4d:00:02",
                mtu=1400,
                tx_queue_len=700,
                hairpin_mode=True,
                **({"ipv6_address": "fd77::2/64", "ipv6_gateway": "fd77::1"} if HAVE_IPV6 else {}),
            )
        )
    )
    # B: a generated host name, no default route, a route to 10.78.0.0/24 via the bridge.
    b = containers.create(
        net_config(
            veth(
                netns,
                name="net1",
                address="10.77.0.3/24",
                **({"ipv6_address": "fd77::3/64"} if HAVE_IPV6 else {}),
            ),
            routes=(Route(destination="10.78.0.0/24", gateway="10.77.0.1"),),
        )
    )
    run_sleeper(a)
    run_sleeper(b)

    # The host sides, in the test's namespace, as configured.
    (a_link,) = netns.links(a_host)
    assert a_link["master"] == "br0"
    assert (a_link["mtu"], a_link["txqlen"]) == (1400, 700)
    assert a_link["linkinfo"]["info_slave_data"]["hairpin"] is True
    assert a_link["operstate"] in ("UP", "LOWERLAYERDOWN", "UNKNOWN") or "UP" in a_link["flags"]
    assert sorted(netns.bridge_ports()) == sorted(netns.veths())
    assert len(netns.veths()) == 2
    b_host = next(n for n in netns.veths() if n != a_host)
    assert b_host.startswith("veth") and len(b_host) == 11

    # The container sides.
    out, code = exec_output(
        a, "cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -o addr; ip route"
    )
    assert code == 0, out
    lines = out.splitlines()
    assert lines[:2] == ["02:42:0a:4d:00:02", "1400"]
    assert "inet 10.77.0.2/24" in out
    assert "default via 10.77.0.1 dev eth0" in out
    out, code = exec_output(b, "ip -o link; ip route")
    assert code == 0, out
    assert ": net1@" in out and "eth0" not in out
    assert "default" not in out
    assert "10.78.0.0/24 via 10.77.0.1 dev net1" in out

    before = {i.name: i for i in a.stats().interfaces}
    assert set(before) == {a_host}

    # IPv4 both ways, and 10.78.0.1 (through A's default route, through B's route).
    out, code = exec_output(a, "ping -c 2 -W 5 10.77.0.3 && ping -c 1 -W 5 10.78.0.1")
    assert code == 0, out
    out, code = exec_output(b, "ping -c 2 -W 5 10.77.0.2 && ping -c 1 -W 5 10.78.0.1")
    assert code == 0, out
    out, code = exec_output(b, "ping -c 1 -W 2 10.79.0.1")
    assert code != 0, out  # no default route in B
    if HAVE_IPV6:
        out, code = exec_output(a, "ip -6 route; ping -c 2 -W 5 fd77::3")
        assert code == 0, out
        assert "default via fd77::1 dev eth0" in out
        out, code = exec_output(b, "ping -c 2 -W 5 fd77::2")
        assert code == 0, out

    after = {i.name: i for i in a.stats().interfaces}
    for counter in ("rx_bytes", "rx_packets", "tx_bytes", "tx_packets"):
        assert getattr(after[a_host], counter) > getattr(before[a_host], counter), counter
    # runc's view: what the container received is what its host side transmitted.
    (counted,) = json.loads(netns.ip("-j", "-s", "link", "show", a_host))
    host_tx = counted["stats64"]["tx"]["packets"]
    assert after[a_host].rx_packets <= host_tx <= a.stats().interfaces[0].rx_packets

    # A container loaded from state.json knows its interfaces too.
    loaded = Factory(containers.factory.root).load(a.id)
    assert [i.name for i in loaded.stats().interfaces] == [a_host]

    a.destroy()
    assert netns.veths() == [b_host]
    b.destroy()
    assert netns.veths() == []
    assert netns.bridge_ports() == []


def test_veth_in_a_container_with_a_user_namespace(
    containers: Factories, netns: Netns, net_config: Callable[..., Config], bundle: Path
) -> None:
    """The container's network namespace belongs to its user namespace; the parent (host
    root) still creates and configures the peer in it."""
    chown_rootfs_for_userns(bundle)
    c = containers.create(net_config(veth(netns, address="10.77.0.9/24"), userns=True))
    run_sleeper(c)
    out, code = exec_output(c, "cat /proc/self/uid_map; ip -o -4 addr; ping -c 1 -W 5 10.77.0.1")
    assert code == 0, out
    assert out.split()[:3] == ["0", "100000", "65536"]
    assert "inet 10.77.0.9/24" in out
    c.destroy()
    assert netns.veths() == []


def _assert_nothing_left(c: Container, netns: Netns) -> None:
    assert netns.veths() == []
    assert netns.bridge_ports() == []
    assert c.status() == Status.STOPPED
    assert not (c.root / RECORD_FILE).exists()
    # Back to unstarted (init pid 0 on disk), as any failed start leaves a container.
    assert json.loads((c.root / "state.json").read_text())["init_process_pid"] == 0


@pytest.mark.parametrize(
    ("networks", "error", "text"),
    [
        pytest.param(
            lambda ns: [
                veth(ns, address="10.77.0.4/24"),
                veth(ns, name="eth1", bridge="nosuchbr"),
            ],
            ConfigError,
            "networks[2].bridge: no such bridge",
            id="bad-bridge-after-a-good-veth",
        ),
        pytest.param(
            lambda ns: [veth(ns, bridge="lo")],
            ConfigError,
            "not a bridge",
            id="not-a-bridge",
        ),
        pytest.param(
            lambda ns: [veth(ns, address="10.77.0.4/24", gateway="10.99.0.1")],
            NetworkError,
            "adding the default route via 10.99.0.1",
            id="unreachable-gateway-after-the-pair-exists",
        ),
    ],
)
def test_a_failure_midway_leaves_nothing(
    containers: Factories,
    netns: Netns,
    net_config: Callable[..., Config],
    networks: Callable[[Netns], list[Network]],
    error: type[Exception],
    text: str,
) -> None:
    c = containers.create(net_config(*networks(netns)))
    with pytest.raises(error) as info:
        c.run(Process(["sleep", "1000"]))
    assert text in str(info.value)
    _assert_nothing_left(c, netns)
    c.destroy()


def test_a_failure_later_in_start_removes_the_veth(
    containers: Factories, netns: Netns, net_config: Callable[..., Config]
) -> None:
    """The pair exists, then the init fails (a mount source that does not exist)."""
    config = net_config(veth(netns, address="10.77.0.4/24"))
    bad = Mount(
        source="/nonexistent-" + RUN_TOKEN, destination="/mnt", device="bind", flags=MS_BIND
    )
    c = containers.create(attrs.evolve(config, mounts=(*config.mounts, bad)))
    with pytest.raises(ProcessStartError):
        c.run(Process(["sleep", "1000"]))
    _assert_nothing_left(c, netns)


def test_an_existing_host_name_is_refused_and_left_alone(
    containers: Factories, netns: Netns, net_config: Callable[..., Config]
) -> None:
    taken = host_name()
    netns.ip("link", "add", taken, "type", "bridge")
    c = containers.create(net_config(veth(netns, host_interface_name=taken)))
    with pytest.raises(ConfigError, match="exists in the host's network namespace"):
        c.run(Process(["sleep", "1000"]))
    assert [link["ifname"] for link in netns.links(taken)] == [taken]
    assert netns.veths() == []


def test_destroy_removes_only_its_own_interface(
    containers: Factories, netns: Netns, net_config: Callable[..., Config]
) -> None:
    """The host side vanished and someone reused its name: destroy leaves that one alone."""
    name = host_name()
    c = containers.create(net_config(veth(netns, host_interface_name=name)))
    run_sleeper(c)
    netns.ip("link", "del", name)
    netns.ip("link", "add", name, "type", "veth", "peer", "name", name[:-1] + "p")
    c.destroy()
    assert sorted(netns.veths()) == sorted([name, name[:-1] + "p"])


def test_host_side_in_a_namespace_that_is_gone(
    containers: Factories, net_config: Callable[..., Config]
) -> None:
    """Deleting the host's namespace took the pair with it: destroy just forgets it."""
    ns = Netns()
    try:
        c = containers.create(net_config(veth(ns)))
        run_sleeper(c)
    finally:
        ns.remove()
    c.destroy()
    assert not c.root.exists()


def test_pyroute2_is_imported_only_for_veth_networks(
    bundle: Path, netns: Netns, tmp_path: Path
) -> None:
    """A container with only loopback never imports pyroute2 in the caller."""
    script = textwrap.dedent(
        f"""
        import sys, attrs, specconv
        from libcontainer import Factory, Process
        from libcontainer.configs import Network
        spec = specconv.load_spec({str(bundle / "config.json")!r})
        config = specconv.create_config(spec, bundle={str(bundle)!r}, cgroup_name=sys.argv[2])
        if sys.argv[1] == "veth":
            config = attrs.evolve(config, networks=config.networks + (
                Network(type="veth", bridge="br0", host_netns={netns.path!r}),))
        c = Factory({str(tmp_path / "state")!r}).create(sys.argv[2], config)
        try:
            p = Process(["true"])
            c.run(p)
            p.wait()
            c.stats()
        finally:
            c.destroy()
        print("pyroute2" in sys.modules)
        """
    )
    (bundle / "config.json").write_text(json.dumps(example_spec_dict(["true"])))
    for kind, expected in (("loopback", "False"), ("veth", "True")):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", script, kind, unique_id(kind)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == expected, kind
        assert (" pyroute2\n" in out.stderr) is (expected == "True"), kind
    assert netns.veths() == []
