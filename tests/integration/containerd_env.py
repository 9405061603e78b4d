"""A private containerd for tests and benchmarks: its own config, root, state and sockets.

Everything the daemon makes lives under one base directory (a temp dir carrying the test
run's token), so stopping it can prove what is its own: the daemon is stopped by its pid,
leftover shims are the processes whose command line names the base directory, leftover
mounts are the ones under it. No pytest here: ``benchmarks/`` uses it too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

# Plugins that would probe for kernel features or host paths this daemon must not touch.
_DISABLED = [
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.internal.v1.opt",
]

_HEADER = """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = {disabled}
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = "{d}/debug.sock"
[metrics]
  address = ""
"""


def daemon_config(base: Path, cri: str | None = None) -> str:
    """containerd's config.toml (version 2) rooted at ``base``.

    ``cri`` is the text of the ``[plugins."io.containerd.grpc.v1.cri"]`` tables; without
    it the CRI plugin is disabled (it would otherwise look for CNI and a pause image).
    """
    disabled = list(_DISABLED) if cri else [*_DISABLED, "io.containerd.grpc.v1.cri"]
    text = _HEADER.format(d=base, disabled="[" + ", ".join(f'"{p}"' for p in disabled) + "]")
    return text + (cri or "")


class Containerd:
    """A private containerd and a ``ctr`` bound to it (in ``namespace``)."""

    def __init__(self, base: Path, namespace: str, config: str, timeout: float = 30) -> None:
        self.base = base
        self.namespace = namespace
        self.sock = base / "containerd.sock"
        (base / "config.toml").write_text(config)
        self._log = (base / "containerd.log").open("wb")
        self.proc = subprocess.Popen(
            ["containerd", "--config", str(base / "config.toml")],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while self.ctr("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("containerd did not start:\n" + self.logs())
            time.sleep(0.05)

    def logs(self) -> str:
        """The end of the daemon's log so far."""
        return (self.base / "containerd.log").read_text(errors="replace")[-4000:]

    def ctr(
        self, *args: str, check: bool = True, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``ctr`` against this daemon in its namespace."""
        proc = subprocess.run(
            ["ctr", "--address", str(self.sock), "--namespace", self.namespace, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc

    def shims(self) -> list[int]:
        """Pids of the shims this daemon started (their command line names its socket)."""
        return [pid for pid in pids_mentioning(str(self.sock)) if pid != self.proc.pid]

    def stop(self) -> None:
        """Stop the daemon by its pid, then any shim it left and the mounts under its base.

        Callers remove their containers through the daemon's API first: a shim killed here
        leaves its container's processes to the cgroup clean-up (:func:`remove_cgroup_tree`).
        """
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        for pid in self.shims():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        unmount_under(self.base)


def pids_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if text.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
    return found


def mounts_under(base: Path) -> list[str]:
    """Mount points at or below ``base`` in this mount namespace."""
    prefix = str(base)
    return [
        point
        for point in (
            line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
        )
        if point == prefix or point.startswith(prefix + "/")
    ]


def unmount_under(base: Path) -> None:
    """Lazily unmount everything below ``base``, deepest first."""
    for target in sorted(mounts_under(base), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)


def cgroup_dirs(name: str) -> list[Path]:
    """``/sys/fs/cgroup/<controller>/<name>`` for every v1 hierarchy (and v2) that has it."""
    return sorted(Path("/sys/fs/cgroup").glob(f"*/{name.strip('/')}")) + sorted(
        p for p in [Path("/sys/fs/cgroup") / name.strip("/")] if p.is_dir()
    )


def remove_cgroup_tree(name: str) -> None:
    """Kill what is left in the cgroup ``name`` (in every hierarchy) and rmdir it.

    The tree is the test's own (``name`` carries the run's token or the test's containerd
    namespace): like runc, a runtime removes only the container's cgroup, and its parent
    (kubelet's pod cgroup, or ``/<namespace>`` under ``ctr``) is the caller's to remove.
    """
    for parent in cgroup_dirs(name):
        below = [p for p in parent.rglob("*") if p.is_dir()]
        dirs = [*sorted(below, key=lambda p: -len(p.parts)), parent]  # children first
        for d in dirs:
            with contextlib.suppress(OSError):
                for pid in (d / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
        for d in dirs:
            for _ in range(50):  # killed processes leave their cgroup a moment later
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
