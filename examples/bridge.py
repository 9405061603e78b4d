"""Two busybox containers on a bridge, pinging each other over IPv4 and IPv6.

Each container gets a veth pair (``Network(type="veth")``): the container side is ``eth0``
with a static address, the host side joins the bridge. To leave your host's network alone,
the bridge lives in a network namespace this example makes (and removes at the end), and
the host sides are created there (``host_netns``). With a bridge on the host itself, leave
``host_netns`` empty.

    sudo python3 examples/bridge.py [--netns NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs

import specconv
from libcontainer import Factory, Process
from libcontainer.configs import Network
from libcontainer.container import Container

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_busybox import make_rootfs

HAVE_IPV6 = os.path.exists("/proc/sys/net/ipv6")


def make_bridge(netns: str) -> None:
    """A network namespace holding ``br0`` (10.88.0.1/24, fd88::1/64)."""
    subprocess.run(["ip", "netns", "add", netns], check=True)
    steps = ["link add br0 type bridge", "addr add 10.88.0.1/24 dev br0", "link set br0 up"]
    if HAVE_IPV6:
        steps.append("addr add fd88::1/64 dev br0 nodad")
    try:
        for step in steps:
            subprocess.run(["ip", "-n", netns, *step.split()], check=True)
    except BaseException:
        subprocess.run(["ip", "netns", "del", netns], check=False)
        raise


def container_on_bridge(
    factory: Factory, bundle: Path, name: str, host: int, netns: str
) -> Container:
    spec = specconv.load_spec(str(bundle / "config.json"))
    config = specconv.create_config(spec, bundle=str(bundle), cgroup_name=name)
    eth0 = Network(
        type="veth",
        name="eth0",
        bridge="br0",
        host_netns=f"/run/netns/{netns}",
        address=f"10.88.0.{host}/24",
        gateway="10.88.0.1",
        ipv6_address=f"fd88::{host}/64" if HAVE_IPV6 else "",
    )
    config = attrs.evolve(config, networks=(*config.networks, eth0))
    container = factory.create(name, config)
    container.run(Process(["sleep", "1000"]))
    return container


def sh(container: Container, script: str) -> str:
    proc = Process(
        ["sh", "-c", script], init=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    container.start(proc)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    proc.wait()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netns", default=f"pylibcontainer-bridge-{os.getpid()}")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("run me as root: containers need namespaces, mounts and cgroups", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pylibcontainer-example-") as tmp:
        bundle = Path(tmp)
        make_rootfs(bundle / "rootfs")
        spec = json.loads(specconv.dump_spec(specconv.example()))
        for caps in spec["process"]["capabilities"].values():
            caps.append("CAP_NET_RAW")  # ping opens a raw socket
        (bundle / "config.json").write_text(json.dumps(spec))

        factory = Factory(bundle / "state")
        make_bridge(args.netns)
        made: list[Container] = []
        try:
            for host in (2, 3):
                made.append(
                    container_on_bridge(factory, bundle, f"{args.netns}-{host}", host, args.netns)
                )
            a, b = made
            print(sh(a, "ip -o -4 addr show eth0; ip route"), end="")
            print("a -> b:", sh(a, "ping -c 2 -W 5 10.88.0.3 | grep transmitted"), end="")
            print("b -> a:", sh(b, "ping -c 2 -W 5 10.88.0.2 | grep transmitted"), end="")
            if HAVE_IPV6:
                print("a -> b (IPv6):", sh(a, "ping -c 2 -W 5 fd88::3 | grep transmitted"), end="")
            for c in made:
                for i in c.stats().interfaces:
                    print(
                        f"{c.id}: {i.name} rx {i.rx_packets} packets / {i.rx_bytes} bytes,"
                        f" tx {i.tx_packets} packets / {i.tx_bytes} bytes"
                    )
        finally:
            for c in made:
                c.destroy()
            subprocess.run(["ip", "netns", "del", args.netns], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
