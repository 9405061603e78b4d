"""What a veth network and a hot-added device cost, as ratios within one run.

Interleaved, same bundle (runc's default spec running ``true``):

* the library's create -> start -> wait -> destroy with loopback only, and with one veth on
  a bridge (in a network namespace this script makes and removes), next to ``runc run`` of
  the same bundle (runc has no veth strategy: it is the loopback-only reference);
* on one running container: ``add_device`` + ``remove_device`` of a loop device, next to a
  ``Container.set`` of the unchanged config (what an update costs anyway).

The pyroute2 import, paid once by the first veth container of a process, is reported apart.

    sudo python3 benchmarks/network.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

import specconv
from libcontainer import Factory, Process
from libcontainer.configs import Network

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lifecycle import make_bundle


def timed(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="pylibcontainer-bench-"))
    netns = f"pylibcontainer-bench-{os.getpid()}"
    loop = ""
    subprocess.run(["ip", "netns", "add", netns], check=True)  # ours from here on
    try:
        for step in ("link add br0 type bridge", "link set br0 up"):
            subprocess.run(["ip", "-n", netns, *step.split()], check=True)
        bundle = make_bundle(base)
        spec = specconv.load_spec(str(bundle / "config.json"))
        factory = Factory(base / "state")
        veth = Network(type="veth", bridge="br0", host_netns=f"/run/netns/{netns}")

        def library(name: str, with_veth: bool) -> None:
            config = specconv.create_config(spec, bundle=str(bundle), cgroup_name=name)
            if with_veth:
                config = attrs.evolve(config, networks=(*config.networks, veth))
            c = factory.create(name, config)
            p = Process(["true"], env=["PATH=/bin"])
            c.run(p)
            p.wait()
            c.destroy()

        def runc(name: str) -> None:
            subprocess.run(
                ["runc", "--root", str(base / "runc"), "run", "-b", str(bundle), name],
                check=True,
                stdin=subprocess.DEVNULL,
            )

        library("warm-up", False)  # starts the spawner
        first_veth = timed(lambda: library("first-veth", True))
        times: dict[str, list[float]] = {"loopback": [], "veth": [], "runc": []}
        for i in range(args.runs):
            times["loopback"].append(timed(lambda i=i: library(f"lo-{i}", False)))
            times["veth"].append(timed(lambda i=i: library(f"veth-{i}", True)))
            times["runc"].append(timed(lambda i=i: runc(f"runc-{i}")))
        med = {k: statistics.median(v) * 1000 for k, v in times.items()}
        print(f"first veth container of the process (pyroute2 import): {first_veth * 1000:.1f} ms")
        for k, v in med.items():
            print(f"{k:>9}: {v:6.1f} ms (median of {args.runs})")
        print(f"veth / loopback (library): {med['veth'] / med['loopback']:.2f}x")
        print(f"veth (library) / runc run (loopback): {med['veth'] / med['runc']:.2f}x")

        img = base / "disk.img"
        img.write_bytes(bytes(1024 * 1024))
        loop = subprocess.run(
            ["losetup", "--find", "--show", str(img)], capture_output=True, text=True, check=True
        ).stdout.strip()
        config = specconv.create_config(spec, bundle=str(bundle), cgroup_name="hotplug")
        c = factory.create("hotplug", config)
        init = Process(["sleep", "1000"], env=["PATH=/bin"])
        c.run(init)
        try:

            def hotplug() -> None:
                c.add_device(loop)
                c.remove_device(loop)

            hot: list[float] = []
            upd: list[float] = []
            for _ in range(args.runs):
                hot.append(timed(hotplug))
                upd.append(timed(lambda: c.set(c.config)))
            h, u = statistics.median(hot) * 1000, statistics.median(upd) * 1000
            print(f"add_device + remove_device: {h:.2f} ms; Container.set: {u:.2f} ms")
            print(f"hot-add + remove / one update: {h / u:.2f}x")
        finally:
            c.destroy()
    finally:
        if loop:
            subprocess.run(["losetup", "--detach", loop], check=False)
        subprocess.run(["ip", "netns", "del", netns], check=False)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
