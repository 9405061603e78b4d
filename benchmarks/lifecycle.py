"""Median create -> start -> wait -> destroy of busybox ``true``, side by side with runc/crun.

Same bundle (runc's default spec: all namespaces incl. network, cgroups, terminal off), same
run, interleaved so that machine noise hits all three alike. The library runs in-process
with a warm spawner (its one-off start is reported separately). crun refuses this hybrid
host unless cgroup2 is hidden, so it runs inside ``unshare -m`` with an empty tmpfs over
/sys/fs/cgroup/unified.

``--phases`` also shows where the library's time goes, measured from inside the init
(see ``phase_probe.py``): its spawner then carries probes (a clock read per phase).
``--cpu`` also reports the CPU time and page faults of each library lifecycle by process:
this one (the caller), the spawner helper, and the children it reaped (stage-1 and the
container's init, which is a copy-on-write clone of the helper, and its program).
``--baseline DIR`` (repeatable) adds another checkout of the library (e.g. the main
branch, its C extension built in place) to the same run: each runs the same lifecycle in a
process of its own, driven one run at a time, interleaved with the others. A checkout run
that way reads a few per cent slower than the same code in-process (0.88-0.99x on the
development VM): compare baselines with each other (pass this checkout as one of them) for
differences that small.

    sudo python3 benchmarks/lifecycle.py [--runs 30] [--phases] [--cpu] [--baseline DIR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import build_busybox_rootfs
from phase_probe import Probe, make_spawner

#: Phases of one library lifecycle: (name, from point, to point). Points ending in
#: ``_p`` are taken in the caller, the others inside the container's init.
PHASES = (
    ("create (validate, state dir)", "create_p", "created_p"),
    ("clone (spawner, nsenter stages)", "start_p", "init_entry"),
    ("init prelude (Go, setsid, keyring, lo)", "init_entry", "mounts_start"),
    ("mounts (+ cgroup join, hooks sync)", "mounts_start", "pivot_start"),
    ("pivot_root", "pivot_start", "pivot_end"),
    ("rootfs finalize, paths, Ready/Go", "pivot_end", "privileges_start"),
    ("privileges (caps, user, cwd, lookup)", "privileges_start", "privileges_end"),
    ("created -> released (exec())", "privileges_end", "released"),
    ("exec (hooks, fds, execve call)", "released", "execve"),
    ("program runs, exits, reaped (wait)", "execve", "waited_p"),
    ("destroy", "waited_p", "destroyed_p"),
)


def make_bundle(base: Path) -> Path:
    """A bundle with a busybox rootfs and runc's default spec running ``true``."""
    bundle = base / "bundle"
    build_busybox_rootfs(bundle / "rootfs")
    spec = json.loads(specconv.dump_spec(specconv.example()))
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
    (bundle / "config.json").write_text(json.dumps(spec))
    return bundle


#: The baseline's side: the same lifecycle as ``library`` below (config conversion included),
#: in a process whose ``libcontainer`` and ``specconv`` are the baseline checkout's; it reads
#: a run number per line and answers with the seconds that run took.
BASELINE_RUNNER = """
import sys, time
sys.path.insert(0, sys.argv[1])
import specconv
from libcontainer import Factory, Process
bundle, root = sys.argv[2], sys.argv[3]
spec = specconv.load_spec(bundle + "/config.json")
factory = Factory(root)
for line in sys.stdin:
    i = int(line)
    t = time.perf_counter()
    config = specconv.create_config(spec, bundle=bundle, cgroup_name=f"base-{i}")
    c = factory.create(f"base-{i}", config)
    p = Process(["true"], env=["PATH=/bin"])
    c.run(p)
    p.wait()
    c.destroy()
    print(time.perf_counter() - t, flush=True)
"""


class Baseline:
    """Another checkout's library, run one lifecycle at a time in a process of its own."""

    def __init__(self, checkout: str, bundle: Path, root: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", BASELINE_RUNNER, checkout, str(bundle), str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, i: int) -> float:
        """One lifecycle (run number ``i``); the seconds it took, as the baseline timed it."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{i}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the baseline runner exited")
        return float(answer)

    def close(self) -> None:
        """Let the runner finish (its containers are destroyed already)."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


class CpuMeter:
    """CPU time and minor page faults of one lifecycle, by process (see ``--cpu``)."""

    def __init__(self) -> None:
        self.spawner_pid = 0
        self.samples: list[dict[str, float]] = []

    def _now(self) -> dict[str, float]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = {
            "caller user": me.ru_utime,
            "caller sys": me.ru_stime,
            "caller faults": me.ru_minflt,
            "children user": kids.ru_utime,
            "children sys": kids.ru_stime,
            "children faults": kids.ru_minflt,
        }
        if self.spawner_pid:
            with open(f"/proc/{self.spawner_pid}/schedstat") as f:
                out["spawner cpu"] = int(f.read().split()[0]) / 1e9
            with open(f"/proc/{self.spawner_pid}/stat") as f:
                out["spawner faults"] = int(f.read().rsplit(")", 1)[1].split()[7])
        return out

    def measure(self, fn: Callable[[int], None]) -> Callable[[int], None]:
        """``fn`` with its resource use recorded (runs numbered below 0 are not)."""

        def measured(i: int) -> None:
            before = self._now()
            fn(i)
            after = self._now()
            if i >= 0 and self.spawner_pid:
                self.samples.append({k: after[k] - before[k] for k in after})

        return measured

    def report(self) -> None:
        """Medians per lifecycle."""
        med = {k: statistics.median(s[k] for s in self.samples) for k in self.samples[0]}
        ms = {k: v * 1000 for k, v in med.items() if not k.endswith("faults")}
        print(f"\nCPU and page faults per library lifecycle (medians of {len(self.samples)}):")
        print(
            f"  caller (this process)        {ms['caller user'] + ms['caller sys']:5.2f} ms "
            f"(user {ms['caller user']:.2f}, sys {ms['caller sys']:.2f}), "
            f"{med['caller faults']:.0f} faults"
        )
        print(
            f"  spawner helper               {ms['spawner cpu']:5.2f} ms, "
            f"{med['spawner faults']:.0f} faults"
        )
        print(
            f"  stage-1, init and program    {ms['children user'] + ms['children sys']:5.2f} ms "
            f"(user {ms['children user']:.2f}, sys {ms['children sys']:.2f}), "
            f"{med['children faults']:.0f} faults"
        )


def _baseline_runner(baseline: Baseline, results: list[float]) -> Callable[[int], None]:
    return lambda i: results.append(baseline.run(i))


def time_it(fn: Callable[[int], None], runs: int, results: list[float]) -> Callable[[int], None]:
    def timed(i: int) -> None:
        t = time.perf_counter()
        fn(i)
        results.append(time.perf_counter() - t)

    return timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--phases", action="store_true", help="also time the init's phases")
    parser.add_argument("--cpu", action="store_true", help="also CPU time and page faults")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        action="append",
        default=[],
        help="another checkout, in the same run (repeatable)",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    probe = Probe() if args.phases else None
    timelines: list[dict[str, float]] = []
    base = Path(tempfile.mkdtemp(prefix="pylibcontainer-bench-"))
    baselines: dict[str, Baseline] = {}
    try:
        bundle = make_bundle(base)
        spec = specconv.load_spec(str(bundle / "config.json"))
        factory = Factory(base / "state", spawner=make_spawner(probe) if probe else None)

        def library(i: int) -> None:
            config = specconv.create_config(spec, bundle=str(bundle), cgroup_name=f"bench-{i}")
            if probe is None:
                c = factory.create(f"bench-{i}", config)
                p = Process(["true"], env=["PATH=/bin"])
                c.run(p)
                p.wait()
                c.destroy()
                return
            probe.clear()
            mark = {"create_p": time.monotonic()}
            c = factory.create(f"bench-{i}", config)
            mark["created_p"] = mark["start_p"] = time.monotonic()
            p = Process(["true"], env=["PATH=/bin"])
            c.run(p)
            p.wait()
            mark["waited_p"] = time.monotonic()
            c.destroy()
            mark["destroyed_p"] = time.monotonic()
            if i >= 0:
                timelines.append({**mark, **probe.read()})

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

        meter = CpuMeter() if args.cpu else None
        if meter is not None:
            library = meter.measure(library)
        t = time.perf_counter()
        library(-1)  # first run pays for the spawner helper start
        first = time.perf_counter() - t
        if meter is not None:
            meter.spawner_pid = factory.spawner._proc.pid  # type: ignore[attr-defined]
        results: dict[str, list[float]] = {"library": [], "runc": [], "crun": []}
        runners = {
            name: time_it(fn, args.runs, results[name])
            for name, fn in (("library", library), ("runc", runc), ("crun", crun))
        }
        have = {name for name in runners if name == "library" or shutil.which(name)}
        for n, checkout in enumerate(args.baseline, 1):
            name = f"B{n}"
            baselines[name] = Baseline(checkout, bundle, base / name)
            baselines[name].run(-1)  # its spawner's start, as for the library
            results[name] = []
            runners[name] = _baseline_runner(baselines[name], results[name])
            have.add(name)
        for i in range(args.runs):
            for name in sorted(have):
                runners[name](i)
        med = {name: statistics.median(v) * 1000 for name, v in results.items() if v}
        print(f"first library run (starts the spawner): {first * 1000:.1f} ms")
        for n, checkout in enumerate(args.baseline, 1):
            print(f"B{n}: {checkout}")
        names = ["library", *baselines]
        for name, ms in med.items():
            ratios = "".join(
                f"  {ms / med[other]:5.2f}x {other}" for other in ("crun", "runc") if other in med
            )
            ratios = ratios if name in names else ""
            print(f"{name:8s} median {ms:6.1f} ms over {len(results[name])} runs{ratios}")
        for name in baselines:
            print(f"library / {name}: {med['library'] / med[name]:.2f}x")
        for i, a in enumerate(list(baselines)):
            for b in list(baselines)[i + 1 :]:
                print(f"{a} / {b}: {med[a] / med[b]:.2f}x")
        load_after = os.getloadavg()
        print(
            "load average before/after (1/5/15 min): "
            + " ".join(f"{x:.2f}" for x in load_before)
            + " / "
            + " ".join(f"{x:.2f}" for x in load_after)
        )
        if timelines:
            print_phases(timelines, med.get("crun"))
        if meter is not None:
            meter.report()
    finally:
        for runner in baselines.values():
            runner.close()
        subprocess.run(["rm", "-rf", str(base)], check=False)
    return 0


def print_phases(timelines: list[dict[str, float]], crun_ms: float | None) -> None:
    """Median of each phase over the runs, and its share of the median total."""
    total = statistics.median(t["destroyed_p"] - t["create_p"] for t in timelines) * 1000
    print(f"\nwhere the library's time goes (medians of {len(timelines)} runs, ms):")
    for name, start, end in PHASES:
        ms = statistics.median(t[end] - t[start] for t in timelines) * 1000
        share = f"{ms / crun_ms:5.2f}x crun" if crun_ms else ""
        print(f"  {name:40s} {ms:6.2f}  {100 * ms / total:4.0f}%  {share}")
    print(f"  {'total (create to destroyed)':40s} {total:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
