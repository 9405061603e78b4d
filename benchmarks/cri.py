"""The CRI calls kubelet makes, on the ``runc`` and the ``pyrunc`` handler of one containerd.

Starts the private containerd of ``tests/integration/cri_env.py`` (CRI config version 2,
two ``io.containerd.runc.v2`` handlers differing only in ``BinaryName`` and ``Root``,
host-network pods, the busybox image imported), then times, per run and handler, one whole
pod: RunPodSandbox, CreateContainer, StartContainer, ExecSync (``hostname``, as an exec
probe would, several times), StopContainer with grace 0, StopPodSandbox, RemovePodSandbox.
Runs alternate between the handlers so machine noise hits both alike. Prints the medians,
the quartiles and the pyrunc/runc ratios.

``--invocations`` instead runs one pod on a handler whose binary is a logging wrapper
around pyrunc, and prints which runtime commands each CRI call ran, and how long each took:
the count of pyrunc processes per call is what the medians multiply.

    sudo python3 benchmarks/cri.py [--runs 10] [--execs 5] [--invocations]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration")]
from cli import pyrunc_binary  # noqa: E402
from conftest import build_busybox_rootfs  # noqa: E402
from cri_api.v1 import api_pb2 as cri  # noqa: E402
from cri_env import CriNode  # noqa: E402

STEPS = (
    "RunPodSandbox",
    "CreateContainer",
    "StartContainer",
    "ExecSync",
    "StopContainer",
    "StopPodSandbox",
    "RemovePodSandbox",
    "pod lifecycle",
)


def one_pod(node: CriNode, handler: str, name: str, execs: int) -> dict[str, list[float]]:
    """Seconds each CRI call of one pod's life takes on ``handler``."""
    times: dict[str, list[float]] = {}

    def timed(step: str, call: Callable[[], object]) -> object:
        t = time.perf_counter()
        out = call()
        times.setdefault(step, []).append(time.perf_counter() - t)
        return out

    config = node.pod_config(name)
    pod = str(timed("RunPodSandbox", lambda: node.run_pod(config, handler)))
    try:
        spec = node.container_config("app", ["sleep", "inf"])
        cid = str(timed("CreateContainer", lambda: node.create(pod, config, spec)))
        timed("StartContainer", lambda: node.start(cid))
        for _ in range(execs):
            reply = timed("ExecSync", lambda: node.exec_sync(cid, "hostname"))
            assert isinstance(reply, cri.ExecSyncResponse) and reply.exit_code == 0
        timed("StopContainer", lambda: node.stop_container(cid, timeout=0))
        timed(
            "StopPodSandbox",
            lambda: node.runtime.StopPodSandbox(
                cri.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=60
            ),
        )
        timed(
            "RemovePodSandbox",
            lambda: node.runtime.RemovePodSandbox(
                cri.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=60
            ),
        )
    finally:
        if pod in node.pods():
            node.remove_pod(pod)
        node.remove_pod_cgroup(name)
    # One ExecSync per pod counts in the lifecycle (kubelet's probes are periodic, not a step).
    times["pod lifecycle"] = [sum(v[0] for v in times.values())]
    return times


WRAPPER = """#!/bin/sh
# Logs "<start ns> <end ns> <exit status> <argv>" per runtime command, then passes the status.
start=$(date +%s%N)
{binary} "$@"
status=$?
echo "$start $(date +%s%N) $status $*" >> {log}
exit $status
"""


GLOBAL_FLAGS = ("--root", "--log", "--log-format")


def invocations(node: CriNode, handler: str, log: Path) -> None:
    """One pod's CRI calls with the runtime commands each one ran (from the wrapper's log)."""
    config = node.pod_config("invocations")
    pod = ""
    cid = ""

    def run_pod() -> None:
        nonlocal pod
        pod = node.run_pod(config, handler)

    def create() -> None:
        nonlocal cid
        cid = node.create(pod, config, node.container_config("app", ["sleep", "inf"]))

    calls: list[tuple[str, Callable[[], object]]] = [
        ("RunPodSandbox", run_pod),
        ("CreateContainer", create),
        ("StartContainer", lambda: node.start(cid)),
        ("ExecSync", lambda: node.exec_sync(cid, "hostname")),
        ("StopContainer", lambda: node.stop_container(cid, timeout=0)),
        (
            "StopPodSandbox",
            lambda: node.runtime.StopPodSandbox(cri.StopPodSandboxRequest(pod_sandbox_id=pod)),
        ),
        (
            "RemovePodSandbox",
            lambda: node.runtime.RemovePodSandbox(cri.RemovePodSandboxRequest(pod_sandbox_id=pod)),
        ),
    ]
    try:
        for name, call in calls:
            seen = len(log.read_text().splitlines()) if log.exists() else 0
            t = time.perf_counter()
            call()
            took = (time.perf_counter() - t) * 1000
            print(f"{name:<17} {took:7.1f} ms")
            for line in log.read_text().splitlines()[seen:] if log.exists() else []:
                start, end, status, argv = line.split(" ", 3)
                words = shlex.split(argv)
                while words and words[0] in GLOBAL_FLAGS:  # --root R --log L --log-format F
                    words = words[2:]
                shown = " ".join(w if len(w) < 20 else "…" for w in words)
                ms = (int(end) - int(start)) / 1e6
                print(f"    {ms:7.1f} ms  pyrunc {shown} (exit {status})")
    finally:
        if pod in node.pods():
            node.remove_pod(pod)
        node.remove_pod_cgroup("invocations")


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """25th percentile, median, 75th percentile."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="pods per handler")
    parser.add_argument("--execs", type=int, default=5, help="ExecSync calls per pod")
    parser.add_argument(
        "--invocations", action="store_true", help="list the runtime commands of each call"
    )
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile first")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 1
    for tool in ("containerd", "ctr", "containerd-shim-runc-v2", "runc"):
        if not shutil.which(tool):
            print(f"{tool} is not installed (apt-get install containerd runc)", file=sys.stderr)
            return 1
    if not args.no_compile:
        for pkg in ("pyrunc", "libcontainer", "specconv"):
            compileall.compile_dir(str(REPO / pkg), quiet=1)
    results: dict[str, dict[str, list[float]]] = {"runc": {}, "pyrunc": {}}
    load_before = os.getloadavg()[0]  # noise from other work: the figures are only as good
    with tempfile.TemporaryDirectory(prefix="pyrunc-bench-cri-") as tmp:
        rootfs = build_busybox_rootfs(Path(tmp) / "rootfs")
        if args.invocations:
            log = Path(tmp) / "invocations.log"
            wrapper = Path(tmp) / "pyrunc-logged"
            wrapper.write_text(WRAPPER.format(binary=shlex.quote(pyrunc_binary()), log=log))
            wrapper.chmod(0o755)
            node = CriNode(rootfs, str(wrapper))
            try:
                invocations(node, node.handler, log)
            finally:
                node.close()
            return 0
        node = CriNode(rootfs, pyrunc_binary())
        try:
            handlers = {"runc": "runc", "pyrunc": node.handler}
            for name, handler in handlers.items():  # warm caches, not measured
                one_pod(node, handler, f"warmup-{name}", 1)
            for i in range(args.runs):
                for name, handler in handlers.items():
                    for step, values in one_pod(node, handler, f"b{i}-{name}", args.execs).items():
                        results[name].setdefault(step, []).extend(values)
        finally:
            node.close()

    print(f"CRI calls, runc vs pyrunc handler: {args.runs} pods each, {args.execs} execs a pod")
    print(f"load average before/after: {load_before:.1f}/{os.getloadavg()[0]:.1f}")
    print("median (25th-75th percentile), ms")
    print(f"{'call':<17} {'runc':>20} {'pyrunc':>22} {'ratio':>6}")
    for step in STEPS:
        r = quartiles(results["runc"][step])
        p = quartiles(results["pyrunc"][step])
        cells = [f"{m * 1000:7.1f} ({lo * 1000:.0f}-{hi * 1000:.0f})" for lo, m, hi in (r, p)]
        print(f"{step:<17} {cells[0]:>20} {cells[1]:>22} {p[1] / r[1]:5.1f}x")
    print(
        "\npod lifecycle: RunPodSandbox + CreateContainer + StartContainer + one ExecSync + "
        "StopContainer (grace 0) + StopPodSandbox + RemovePodSandbox"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
