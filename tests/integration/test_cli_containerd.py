"""pyrunc as the runc binary of containerd's ``io.containerd.runc.v2`` shim.

The test starts its own containerd (config, root, state and socket in a temp dir), imports
an OCI image it builds from the busybox rootfs, and drives it with ``ctr``. Everything is
torn down afterwards: tasks, containers, the daemon, its shims, mounts and files.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_helpers import TMP_PREFIX, pyrunc_binary

pytestmark = pytest.mark.root
NS = "pyrunc-test"
IMAGE = "docker.io/library/pyrunc-busybox:test"


def _blob(blobs: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def build_oci_image(rootfs: Path, dest: Path, name: str) -> Path:
    """An OCI image layout tarball with one layer: the busybox rootfs."""
    layout = dest / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for entry in sorted(rootfs.iterdir()):
            tar.add(entry, arcname=entry.name)
    layer_tar = raw.getvalue()
    layer = _blob(blobs, gzip.compress(layer_tar, mtime=0))
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    config = {
        "architecture": "amd64" if os.uname().machine == "x86_64" else "arm64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin:/sbin"], "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    cfg = _blob(blobs, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }
    man = _blob(blobs, json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **man,
                "annotations": {"io.containerd.image.name": name},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    out = dest / "image.tar"
    with tarfile.open(out, "w") as tar:
        for entry in sorted(layout.iterdir()):
            tar.add(entry, arcname=entry.name)
    return out


CONFIG = """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.opt"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = "{d}/debug.sock"
[metrics]
  address = ""
"""


class Containerd:
    """A private containerd and a ``ctr`` bound to it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.sock = base / "containerd.sock"
        (base / "config.toml").write_text(CONFIG.format(d=base))
        self.log = (base / "containerd.log").open("wb")
        self.proc = subprocess.Popen(
            ["containerd", "--config", str(base / "config.toml")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while self.ctr("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("containerd did not start:\n" + self.logs())
            time.sleep(0.1)

    def logs(self) -> str:
        """The daemon's log so far."""
        return (self.base / "containerd.log").read_text(errors="replace")[-4000:]

    def ctr(
        self, *args: str, check: bool = True, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``ctr`` against this daemon in the test namespace."""
        proc = subprocess.run(
            ["ctr", "--address", str(self.sock), "--namespace", NS, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc

    def stop(self) -> None:
        """Remove every task and container, stop the daemon and any shim it left."""
        listed = self.ctr("containers", "list", "-q", check=False).stdout.split()
        for cid in listed:
            self.ctr("task", "kill", "--all", "--signal", "KILL", cid, check=False)
            self.ctr("task", "delete", "--force", cid, check=False)
            self.ctr("containers", "delete", cid, check=False)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        for pid in _pids_mentioning(str(self.base)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _unmount_under(self.base)
        remove_cgroup_parents(NS)


def remove_cgroup_parents(name: str) -> None:
    """rmdir the per-namespace parent cgroups (``/<namespace>/<id>``): like runc, the
    runtime removes only the container's own cgroup."""
    for parent in Path("/sys/fs/cgroup").glob(f"*/{name}"):
        for d in sorted((p for p in parent.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                d.rmdir()
        with contextlib.suppress(OSError):
            parent.rmdir()


def _pids_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if text.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
    return found


def _unmount_under(base: Path) -> None:
    mounts = [
        line.split()[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split()[4].startswith(str(base))
    ]
    for target in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)


@pytest.fixture(scope="module")
def containerd(busybox_rootfs_template: Path) -> Iterator[Containerd]:
    """containerd with the busybox image imported, torn down after the module."""
    if not (shutil.which("containerd") and shutil.which("ctr")):
        pytest.skip("containerd is not installed (apt-get install containerd)")
    if not shutil.which("containerd-shim-runc-v2"):
        pytest.skip("containerd-shim-runc-v2 is not installed (part of Debian's containerd)")
    base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "containerd-"))
    daemon = None
    try:
        daemon = Containerd(base)
        image = build_oci_image(busybox_rootfs_template, base, IMAGE)
        daemon.ctr("images", "import", "--snapshotter", "native", str(image))
        yield daemon
    finally:
        if daemon is not None:
            daemon.stop()
        shutil.rmtree(base, ignore_errors=True)


def _run(
    d: Containerd, cid: str, *args: str, detach: bool = False
) -> subprocess.CompletedProcess[str]:
    flags = ["--detach"] if detach else ["--rm"]
    return d.ctr(
        "run",
        *flags,
        "--snapshotter",
        "native",
        "--runc-binary",
        pyrunc_binary(),
        "--runc-root",
        str(d.base / "pyrunc-root"),
        IMAGE,
        cid,
        *args,
        check=False,
    )


def test_ctr_run_echo_and_exit_codes(containerd: Containerd) -> None:
    out = _run(containerd, "echo1", "echo", "hello from containerd")
    assert out.returncode == 0, out.stderr + containerd.logs()
    assert out.stdout.strip() == "hello from containerd"
    failed = _run(containerd, "exit7", "sh", "-c", "exit 7")
    assert failed.returncode == 7, failed.stderr
    assert containerd.ctr("containers", "list", "-q").stdout.split() == []


def test_ctr_task_kill_exec_pause_ps(containerd: Containerd) -> None:
    d = containerd
    started = _run(d, "long1", "sleep", "1000", detach=True)
    assert started.returncode == 0, started.stderr + d.logs()
    try:
        ps = d.ctr("task", "ps", "long1").stdout.split()
        assert "PID" in ps and len(ps) >= 4
        ex = d.ctr(
            "task", "exec", "--exec-id", "e1", "long1", "sh", "-c", "echo in; exit 3", check=False
        )
        assert (ex.returncode, ex.stdout.strip()) == (3, "in"), ex.stderr
        d.ctr("task", "pause", "long1")
        assert "PAUSED" in d.ctr("task", "list").stdout
        d.ctr("task", "resume", "long1")
        assert "RUNNING" in d.ctr("task", "list").stdout
        d.ctr("task", "kill", "--signal", "KILL", "long1")
        deadline = time.monotonic() + 20
        while "STOPPED" not in d.ctr("task", "list").stdout:
            assert time.monotonic() < deadline, d.ctr("task", "list").stdout
            time.sleep(0.1)
    finally:
        d.ctr("task", "delete", "--force", "long1", check=False)
        d.ctr("containers", "delete", "long1", check=False)
    leftover = subprocess.run(
        [pyrunc_binary(), "--root", str(d.base / "pyrunc-root"), "list", "-q"],
        capture_output=True,
        text=True,
    )
    assert leftover.stdout == ""


def test_create_error_reaches_the_user(containerd: Containerd) -> None:
    out = _run(containerd, "nosuch", "/no/such/binary")
    assert out.returncode != 0
    assert "no/such/binary" in out.stderr, out.stderr
