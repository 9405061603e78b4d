"""pyrunc as the runc binary of containerd's ``io.containerd.runc.v2`` shim.

The test starts its own containerd (config, root, state and socket in a temp dir), imports
an OCI image it builds from the busybox rootfs, and drives it with ``ctr``. Everything is
torn down afterwards: tasks, containers, the daemon, its shims, mounts and files.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from containerd_env import Containerd, daemon_config, remove_cgroup_tree
from ociimage import build_oci_image
from test_cli_helpers import pyrunc_binary
from testrun import RUN_TOKEN, TMP_PREFIX

pytestmark = pytest.mark.root
# The namespace names the per-namespace parent cgroup (``/<namespace>/<id>``): the run's
# token in it lets the session's leak check see it.
NS = f"pyrunc-test-{RUN_TOKEN}"
IMAGE = "docker.io/library/pyrunc-busybox:test"


def _stop(daemon: Containerd) -> None:
    """Remove every task and container, then stop the daemon and the parent cgroups."""
    listed = daemon.ctr("containers", "list", "-q", check=False).stdout.split()
    for cid in listed:
        daemon.ctr("task", "kill", "--all", "--signal", "KILL", cid, check=False)
        daemon.ctr("task", "delete", "--force", cid, check=False)
        daemon.ctr("containers", "delete", cid, check=False)
    daemon.stop()
    # Like runc, the runtime removes only the container's own cgroup, not ``/<namespace>``.
    remove_cgroup_tree(NS)


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
        daemon = Containerd(base, NS, daemon_config(base))
        image = build_oci_image(busybox_rootfs_template, base, IMAGE)
        daemon.ctr("images", "import", "--snapshotter", "native", str(image))
        yield daemon
    finally:
        if daemon is not None:
            _stop(daemon)
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
