"""The harness API's speed, side by side in one run: medians and ratios.

1. ``pool.run(["true"])`` (a warm sandbox) against ``crun run`` of runc's default spec
   running busybox ``true`` (the issue's target: at most 0.25x). Two figures for the pool:
   *latency* (each run starts once the pool is full again, as when a harness's runs are
   spaced) and *back-to-back* (runs one after the other: then the background refill,
   which is a full container creation, competes for the CPU and, once the pool is empty,
   sets the pace).
2. ``sandbox.run(["true"])`` with ``rootfs=None`` against ``bwrap --unshare-all --ro-bind
   / / true`` and against ``subprocess.run(["true"])``: one at a time, then 8 at a time
   (8 threads; ``run_async`` from one event loop for the library as well).

Everything is interleaved so that machine noise hits all alike. crun refuses this hybrid
host unless cgroup2 is hidden: it runs in ``unshare -m`` with a tmpfs over
/sys/fs/cgroup/unified (as in ``lifecycle.py``).

    sudo python3 benchmarks/sandbox.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lifecycle import make_bundle

from libcontainer import sandbox

BWRAP = ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"]
CONCURRENCY = 8


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def burst(fn: Callable[[], object], total: int, width: int = CONCURRENCY) -> float:
    """Wall time of ``total`` calls of ``fn`` made by ``width`` threads; per call."""
    left = list(range(total))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not left:
                    return
                left.pop()
            fn()

    # Threads start without context variables: carry the sandbox placement over.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(worker,))
        for _ in range(width)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - start) / total


def async_burst(total: int, width: int = CONCURRENCY) -> float:
    """Like :func:`burst` for ``sandbox.run_async``, from one event loop."""

    async def main() -> None:
        gate = asyncio.Semaphore(width)

        async def one() -> None:
            async with gate:
                result = await sandbox.run_async(["true"])
                assert result.returncode == 0

        await asyncio.gather(*(one() for _ in range(total)))

    start = time.perf_counter()
    asyncio.run(main())
    return (time.perf_counter() - start) / total


def wait_full(*pools: sandbox.Pool) -> None:
    """Until the pools have all their sandboxes ready again (and used ones are gone)."""
    for pool in pools:
        while len(pool._ready) < pool.size or pool._used:
            time.sleep(0.002)
    time.sleep(0.01)  # let the workers' last steps finish


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="pylibcontainer-bench-"))
    # The benchmark's sandboxes live under its own names, removed at the end.
    place = sandbox.placement(
        root=str(base / "sandbox"), cgroup_parent=f"/pylibcontainer-bench-{os.getpid()}"
    )
    with place as placed:
        try:
            return run(args, base)
        finally:
            placed.sweep()
            subprocess.run(["rm", "-rf", str(base)], check=False)


def run(args: argparse.Namespace, base: Path) -> int:
    """The measurements (``main`` sets up and cleans up)."""
    have_bwrap = shutil.which("bwrap") is not None
    have_crun = shutil.which("crun") is not None
    bundle = make_bundle(base)
    crun_script = (
        "mount -t tmpfs none /sys/fs/cgroup/unified && "
        f"crun --root {base / 'crun'} run -b {bundle} crun-$1"
    )
    counter = iter(range(1 << 30))

    def crun() -> None:
        subprocess.run(
            ["unshare", "-m", "sh", "-c", crun_script, "sh", str(next(counter))],
            check=True,
            stdin=subprocess.DEVNULL,
        )

    def one_sandbox() -> None:
        assert sandbox.run(["true"]).returncode == 0

    def bwrap() -> None:
        subprocess.run(BWRAP, check=True)

    def plain() -> None:
        subprocess.run(["true"], check=True)

    results: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    one_sandbox()  # starts the spawner helper
    with sandbox.Pool(size=4) as pool, sandbox.Pool(size=4, rootfs=bundle / "rootfs") as bb:
        for _ in range(args.runs):
            # Both pools full: no background refill competes with the measured run.
            wait_full(pool, bb)
            add("pool.run latency (host programs)", timed(lambda: pool.run(["true"])))
            wait_full(pool, bb)
            add("pool.run latency (busybox rootfs)", timed(lambda: bb.run(["true"])))
            wait_full(pool, bb)
            if have_crun:
                add("crun run (busybox, runc spec)", timed(crun))
            add("sandbox.run", timed(one_sandbox))
            if have_bwrap:
                add("bwrap --unshare-all", timed(bwrap))
            add("subprocess.run", timed(plain))
        wait_full(pool, bb)
        rounds = max(1, args.runs // 10)
        for _ in range(rounds):
            total = 10
            add(
                "pool.run back-to-back (host programs)",
                sum(timed(lambda: pool.run(["true"])) for _ in range(total)) / total,
            )
            wait_full(pool)
    for _ in range(max(1, args.runs // 10)):
        n = 4 * CONCURRENCY
        add("sandbox.run x8 threads (per run)", burst(one_sandbox, n))
        add("sandbox.run_async x8 (per run)", async_burst(n))
        if have_bwrap:
            add("bwrap x8 threads (per run)", burst(bwrap, n))
        add("subprocess.run x8 threads (per run)", burst(plain, n))
    med = {name: statistics.median(v) * 1000 for name, v in results.items()}
    for name, ms in med.items():
        print(f"{name:42s} {ms:7.2f} ms  (median of {len(results[name])})")
    print()
    crun_ms = med.get("crun run (busybox, runc spec)")
    for name in (
        "pool.run latency (host programs)",
        "pool.run latency (busybox rootfs)",
        "pool.run back-to-back (host programs)",
    ):
        if crun_ms:
            print(f"{name} / crun run: {med[name] / crun_ms:.2f}x")
    for ours, theirs in (
        ("sandbox.run", "bwrap --unshare-all"),
        ("sandbox.run", "subprocess.run"),
        ("sandbox.run x8 threads (per run)", "bwrap x8 threads (per run)"),
        ("sandbox.run_async x8 (per run)", "bwrap x8 threads (per run)"),
        ("sandbox.run x8 threads (per run)", "subprocess.run x8 threads (per run)"),
    ):
        if ours in med and theirs in med:
            print(f"{ours} / {theirs}: {med[ours] / med[theirs]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
