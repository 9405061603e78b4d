"""The CLI side by side with runc: ``create`` + ``start`` + ``delete`` and ``state``.

Both binaries get the same busybox bundle (runc's default spec running ``true``, terminal
off) and their own ``--root`` in a temp dir; runs are interleaved so machine noise hits
both alike. Prints medians, the pyrunc/runc ratios, the interpreter's own start-up cost on
this machine (the floor under every pyrunc command) and the import-time profile of
``pyrunc state``.

Bytecode matters: with ``PYTHONDONTWRITEBYTECODE`` set (as in some sandboxes) every run
recompiles the library from source, which an installed package never does, so the
benchmark compiles it first unless ``--no-compile`` is given.

    sudo python3 benchmarks/cli.py [--runs 20]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import build_busybox_rootfs  # noqa: E402


def pyrunc_binary() -> str:
    """The installed console script (the pyenv shim would add its own start-up)."""
    path = Path(sysconfig.get_path("scripts")) / "pyrunc"
    return str(path) if path.exists() else shutil.which("pyrunc") or "pyrunc"


def make_bundle(base: Path, binary: str) -> Path:
    """busybox rootfs + ``pyrunc spec`` running ``true``."""
    bundle = base / "bundle"
    build_busybox_rootfs(bundle / "rootfs")
    subprocess.run([binary, "spec", "--bundle", str(bundle)], check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
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
    """Times of create, state (of the created container), start and delete --force."""
    base = [binary, "--root", str(root)]
    out = {"create": timed([*base, "create", "--bundle", str(bundle), cid])}
    out["state"] = timed([*base, "state", cid])
    out["start"] = timed([*base, "start", cid])
    out["delete"] = timed([*base, "delete", "--force", cid])
    out["lifecycle"] = out["create"] + out["start"] + out["delete"]
    return out


def import_profile(binary_python: str, root: Path, top: int = 12) -> tuple[float, list[str]]:
    """Total import time of ``pyrunc state x`` (ms) and its heaviest imports."""
    proc = subprocess.run(
        [binary_python, "-X", "importtime", "-m", "pyrunc", "--root", str(root), "state", "x"],
        capture_output=True,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, self_us, cum_us, name = (part.strip() for part in line.replace(":", "|", 1).split("|"))
        rows.append((int(cum_us), int(self_us), name))
    # Top-level imports after ``site`` are the command's own (site is the interpreter's).
    top_level = [i for i, r in enumerate(rows) if not r[2].startswith(" ")]
    after_site = [
        i for i in top_level if i > max((j for j in top_level if rows[j][2] == "site"), default=-1)
    ]
    total = sum(rows[i][0] for i in after_site) / 1000
    start = min(after_site, default=len(rows))
    first = max((j for j in top_level if j < start), default=-1) + 1
    heaviest = sorted(rows[first:], reverse=True)[:top]
    return total, [
        f"{cum / 1000:8.1f} ms {own / 1000:7.1f} ms  {name}" for cum, own, name in heaviest
    ]


def startup_floor(python: str, runs: int = 10) -> tuple[float, float]:
    """Median ``python -c pass`` and ``python -S -c pass`` (no site: no .pth files)."""
    with_site = statistics.median(timed([python, "-c", "pass"]) for _ in range(runs))
    without = statistics.median(timed([python, "-S", "-c", "pass"]) for _ in range(runs))
    return with_site, without


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile first")
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
    binary = pyrunc_binary()
    results: dict[str, dict[str, list[float]]] = {"runc": {}, "pyrunc": {}}
    with tempfile.TemporaryDirectory(prefix="pyrunc-bench-") as tmp:
        base = Path(tmp)
        bundle = make_bundle(base, binary)
        roots = {"runc": base / "runc-root", "pyrunc": base / "pyrunc-root"}
        binaries = {"runc": "runc", "pyrunc": binary}
        for name in binaries:  # warm the page cache, not measured
            lifecycle(binaries[name], roots[name], bundle, "warmup")
        for i in range(args.runs):
            for name in binaries:
                for step, t in lifecycle(binaries[name], roots[name], bundle, f"b{i}").items():
                    results[name].setdefault(step, []).append(t)
        total, heaviest = import_profile(sys.executable, base / "pyrunc-root")
    floor, floor_nosite = startup_floor(sys.executable)

    print(f"pyrunc vs runc, median of {args.runs} runs (ms)")
    print(f"{'step':<10} {'runc':>8} {'pyrunc':>8} {'ratio':>7}")
    for step in ("create", "start", "delete", "lifecycle", "state"):
        r = statistics.median(results["runc"][step]) * 1000
        p = statistics.median(results["pyrunc"][step]) * 1000
        print(f"{step:<10} {r:8.1f} {p:8.1f} {p / r:6.1f}x")
    print(
        f"\npython start-up floor here: {floor * 1000:.1f} ms "
        f"({floor_nosite * 1000:.1f} ms with -S, i.e. without site-packages .pth files)"
    )
    print(f"\nimport time of `pyrunc state` (pyrunc's own modules): {total:.1f} ms; heaviest:")
    print("\n".join(heaviest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
