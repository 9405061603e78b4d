"""The CLI side by side with runc, in one run: each verb, the lifecycle, and 50 at a time.

Both binaries get the same busybox bundle (runc's default spec running ``sleep inf``,
terminal off) and their own ``--root`` in a temp dir, and run as an engine runs them: this
process is a child subreaper (as containerd's shim and conmon are) and reaps the container
inits it inherits. Runs are interleaved so machine noise hits both alike. Prints:

1. ``create``, ``state`` (of the created container), ``start``, ``kill`` (SIGKILL) and
   ``delete --force``, each a fresh process, and the lifecycle (create + start + delete),
   as medians and pyrunc/runc ratios;
2. ``--concurrent N`` (default 50) containers at once: ``run -d`` then ``delete --force``
   each, N threads, the wall time of the whole batch per runtime;
3. the start-up floors on this machine (``python -I -S -c pass``, which the launcher
   starts, and ``python -c pass`` with ``site``) and ``/bin/sh`` (the launcher's first step);
4. the import profile (``-X importtime``, self times by package) of ``create`` and ``state``.

The machine's load average is printed next to the figures: the ratios are only as good as
the quiet they were measured in.

Bytecode matters: with ``PYTHONDONTWRITEBYTECODE`` set (as in some sandboxes) every run
recompiles the library from source, which an installed package never does, so the
benchmark compiles it first unless ``--no-compile`` is given.

``--baseline PATH`` adds another pyrunc (say, an older checkout's) to the same run.

    sudo .venv/bin/python benchmarks/cli.py [--runs 20] [--concurrent 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import compileall
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import build_busybox_rootfs  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36
#: Container ids name their cgroups (runc's default ``/<id>``): ours carry this run's pid and
#: the runtime's name, so no two containers, of this run or another, share a cgroup.
RUN = f"clibench{os.getpid()}"
STEPS = ("create", "state", "start", "kill", "delete", "lifecycle")


def pyrunc_binary() -> str:
    """The installed ``pyrunc`` (the launcher in the environment's scripts directory)."""
    path = Path(sysconfig.get_path("scripts")) / "pyrunc"
    return str(path) if path.exists() else shutil.which("pyrunc") or "pyrunc"


def launcher_argv(binary: str, *python_flags: str) -> list[str]:
    """The launcher run by this interpreter as the launcher runs it (``-I -S``), with extra
    interpreter flags (``-X importtime``): the launcher file is a Python program too."""
    return [sys.executable, "-I", "-S", *python_flags, binary]


def become_subreaper() -> None:
    """Inherit orphaned container inits, as an engine's shim does."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans() -> None:
    """Reap the exited container inits we inherited (call with no command running)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def make_bundle(base: Path, binary: str, args: list[str] | None = None) -> Path:
    """busybox rootfs + ``pyrunc spec`` running ``args`` (default ``sleep inf``)."""
    bundle = base / "bundle"
    build_busybox_rootfs(bundle / "rootfs")
    subprocess.run([binary, "spec", "--bundle", str(bundle)], check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["process"]["terminal"] = False
    spec["process"]["args"] = args or ["sleep", "inf"]
    (bundle / "config.json").write_text(json.dumps(spec))
    return bundle


def timed(argv: list[str]) -> float:
    """Seconds one command takes; it must succeed. Its stdio is /dev/null (the init's)."""
    t = time.perf_counter()
    subprocess.run(
        argv,
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def lifecycle(binary: str, root: Path, bundle: Path, cid: str) -> dict[str, float]:
    """Times of create, state (of the created container), start, kill and delete --force."""
    base = [binary, "--root", str(root)]
    out = {"create": timed([*base, "create", "--bundle", str(bundle), cid])}
    out["state"] = timed([*base, "state", cid])
    out["start"] = timed([*base, "start", cid])
    out["kill"] = timed([*base, "kill", cid, "KILL"])
    out["delete"] = timed([*base, "delete", "--force", cid])
    out["lifecycle"] = out["create"] + out["start"] + out["delete"]
    reap_orphans()
    return out


def concurrent(binary: str, root: Path, bundle: Path, prefix: str, n: int) -> float:
    """Wall seconds for ``n`` threads each running ``run -d`` then ``delete --force``."""
    base = [binary, "--root", str(root)]

    def one(i: int) -> None:
        cid = f"{prefix}-{i}"
        timed([*base, "run", "-d", "--bundle", str(bundle), cid])
        timed([*base, "delete", "--force", cid])

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(one, range(n)))
    took = time.perf_counter() - t
    reap_orphans()
    return took


def import_profile(
    argv: list[str], top: int = 12, runs: int = 1, after: list[str] | None = None
) -> tuple[float, list[tuple[str, float]]]:
    """Import time (ms, self times summed) of a command and its heaviest packages (the
    library's subpackages apart: ``libcontainer.cgroups``, ``specconv.spec``): medians over
    ``runs`` runs (one ``-X importtime`` sample is noisy), ``after`` run after each."""
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        # stderr to a file, not a pipe: a created container's init keeps our stdio open.
        with tempfile.TemporaryFile("w+") as err:
            subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            err.seek(0)
            lines = err.read().splitlines()
        if after:
            timed(after)
            reap_orphans()
        by_package: dict[str, float] = defaultdict(float)
        for line in lines:
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            _, own, _, name = (part.strip() for part in line.replace(":", "|", 1).split("|"))
            parts = name.split(".")
            lib = parts[0] in ("libcontainer", "specconv", "pyrunc")
            by_package[".".join(parts[:2]) if lib else parts[0]] += int(own) / 1000
        samples.append(by_package)
    names = {name for sample in samples for name in sample}
    medians = {name: statistics.median(s.get(name, 0.0) for s in samples) for name in names}
    ranked = sorted(medians.items(), key=lambda kv: -kv[1])
    return statistics.median(sum(s.values()) for s in samples), ranked[:top]


def startup_floors(runs: int = 20) -> dict[str, float]:
    """Medians (s) of the interpreter's start-up with and without ``site``, and of sh."""
    commands = {
        "python -I -S -c pass (what the launcher starts)": [
            sys.executable,
            "-I",
            "-S",
            "-c",
            "pass",
        ],
        "python -c pass (with site and its .pth files)": [sys.executable, "-c", "pass"],
        "/bin/sh -c : (the launcher's first step)": ["/bin/sh", "-c", ":"],
    }
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(timed(argv))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=50, help="containers at once")
    parser.add_argument("--rounds", type=int, default=3, help="concurrent batches per runtime")
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile first")
    parser.add_argument("--baseline", help="another pyrunc to measure in the same run")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 1
    if not shutil.which("runc"):
        print("runc is not installed (apt-get install runc)", file=sys.stderr)
        return 1
    if not args.no_compile:
        for pkg in ("pyrunc", "libcontainer", "specconv"):
            compileall.compile_dir(str(REPO / pkg), quiet=1)
    become_subreaper()
    binary = pyrunc_binary()
    binaries = {"runc": "runc", "pyrunc": binary}
    if args.baseline:
        binaries["baseline"] = args.baseline
    results: dict[str, dict[str, list[float]]] = {name: {} for name in binaries}
    batches: dict[str, list[float]] = {name: [] for name in binaries}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pyrunc-bench-") as tmp:
        base = Path(tmp)
        bundle = make_bundle(base, binary)
        roots = {name: base / f"{name}-root" for name in binaries}
        for name in binaries:  # warm the page cache, not measured
            lifecycle(binaries[name], roots[name], bundle, f"{RUN}-{name}-warmup")
        for i in range(args.runs):
            for name in binaries:
                cid = f"{RUN}-{name}-b{i}"
                for step, t in lifecycle(binaries[name], roots[name], bundle, cid).items():
                    results[name].setdefault(step, []).append(t)
        for r in range(args.rounds):
            for name in binaries:
                batches[name].append(
                    concurrent(
                        binaries[name], roots[name], bundle, f"{RUN}-{name}-c{r}", args.concurrent
                    )
                )
        load_after = os.getloadavg()
        pr = ["--root", str(roots["pyrunc"])]
        profiled = [*launcher_argv(binary, "-X", "importtime"), *pr]
        create_total, create_top = import_profile(
            [*profiled, "create", "--bundle", str(bundle), f"{RUN}-profiled"],
            runs=5,
            after=[binary, *pr, "delete", "--force", f"{RUN}-profiled"],
        )
        timed([binary, *pr, "create", "--bundle", str(bundle), f"{RUN}-profiled"])
        state_total, state_top = import_profile([*profiled, "state", f"{RUN}-profiled"], runs=5)
        timed([binary, *pr, "delete", "--force", f"{RUN}-profiled"])
        reap_orphans()
    floors = startup_floors()

    def load(avg: tuple[float, float, float]) -> str:
        return "/".join(f"{x:.2f}" for x in avg)

    print(f"load average (1/5/15 min) before: {load(load_before)}, after: {load(load_after)}")
    others = [name for name in binaries if name != "runc"]
    print(f"\npyrunc vs runc, median of {args.runs} runs (ms)")
    if args.baseline:
        print(f"(baseline: {args.baseline})")
    header = "".join(f" {name:>8} {'ratio':>6}" for name in others)
    print(f"{'step':<10} {'runc':>8}{header}")
    for step in STEPS:
        r = statistics.median(results["runc"][step]) * 1000
        cells = ""
        for name in others:
            p = statistics.median(results[name][step]) * 1000
            cells += f" {p:8.1f} {p / r:5.1f}x"
        print(f"{step:<10} {r:8.1f}{cells}")
    r = statistics.median(batches["runc"])
    print(
        f"\n{args.concurrent} at once (run -d, then delete --force), median of {args.rounds} "
        f"batches: runc {r:.2f} s"
        + "".join(
            f", {name} {statistics.median(batches[name]):.2f} s "
            f"({statistics.median(batches[name]) / r:.1f}x)"
            for name in others
        )
    )
    print("\nstart-up floors here (median ms)")
    for name, value in floors.items():
        print(f"  {value * 1000:6.1f}  {name}")
    for verb, total, top in (
        ("create", create_total, create_top),
        ("state", state_total, state_top),
    ):
        print(
            f"\nimports of `pyrunc {verb}` (-X importtime self times, median of 5): "
            f"{total:.1f} ms; heaviest:"
        )
        print("\n".join(f"  {ms:7.1f} ms  {package}" for package, ms in top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
