"""Median create -> start -> wait -> destroy of busybox ``true``, side by side with runc/crun.

Same bundle (runc's default spec: all namespaces incl. network, cgroups, terminal off), same
run, interleaved so that machine noise hits all three alike. The library runs in-process
with a warm spawner (its one-off start is reported separately). crun refuses this hybrid
host unless cgroup2 is hidden, so it runs inside ``unshare -m`` with an empty tmpfs over
/sys/fs/cgroup/unified.

    sudo python3 benchmarks/lifecycle.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import specconv
from libcontainer import Factory, Process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import build_busybox_rootfs


def make_bundle(base: Path) -> Path:
    """A bundle with a busybox rootfs and runc's default spec running ``true``."""
    bundle = base / "bundle"
    build_busybox_rootfs(bundle / "rootfs")
    spec = json.loads(specconv.dump_spec(specconv.example()))
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
    (bundle / "config.json").write_text(json.dumps(spec))
    return bundle


def time_it(fn: Callable[[int], None], runs: int, results: list[float]) -> Callable[[int], None]:
    def timed(i: int) -> None:
        t = time.perf_counter()
        fn(i)
        results.append(time.perf_counter() - t)

    return timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="pylibcontainer-bench-"))
    try:
        bundle = make_bundle(base)
        spec = specconv.load_spec(str(bundle / "config.json"))
        factory = Factory(base / "state")

        def library(i: int) -> None:
            config = specconv.create_config(spec, bundle=str(bundle), cgroup_name=f"bench-{i}")
            c = factory.create(f"bench-{i}", config)
            p = Process(["true"], env=["PATH=/bin"])
            c.run(p)
            p.wait()
            c.destroy()

        def runc(i: int) -> None:
            subprocess.run(
                ["runc", "--root", str(base / "runc"), "run", "-b", str(bundle), f"runc-{i}"],
                check=True,
                stdin=subprocess.DEVNULL,
            )

        crun_script = (
            "mount -t tmpfs none /sys/fs/cgroup/unified && "
            f"crun --root {base / 'crun'} run -b {bundle} crun-$1"
        )

        def crun(i: int) -> None:
            subprocess.run(
                ["unshare", "-m", "sh", "-c", crun_script, "sh", str(i)],
                check=True,
                stdin=subprocess.DEVNULL,
            )

        t = time.perf_counter()
        library(-1)  # first run pays for the spawner helper start
        first = time.perf_counter() - t
        results: dict[str, list[float]] = {"library": [], "runc": [], "crun": []}
        runners = {
            name: time_it(fn, args.runs, results[name])
            for name, fn in (("library", library), ("runc", runc), ("crun", crun))
        }
        have = {name for name in runners if name == "library" or shutil.which(name)}
        for i in range(args.runs):
            for name in sorted(have):
                runners[name](i)
        med = {name: statistics.median(v) * 1000 for name, v in results.items() if v}
        print(f"first library run (starts the spawner): {first * 1000:.1f} ms")
        for name, ms in med.items():
            print(f"{name:8s} median {ms:6.1f} ms over {len(results[name])} runs")
        for other in ("crun", "runc"):
            if other in med:
                print(f"library / {other}: {med['library'] / med[other]:.2f}x")
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
