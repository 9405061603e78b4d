"""pyrunc as podman's OCI runtime (through conmon): ``podman run --rm`` and ``podman exec``.

podman runs with its own storage (vfs) and run root in a temp dir, the cgroupfs manager,
file events, ``--network none``, and a ``containers.conf`` naming pyrunc as its runtime.
podman asks for ``nofile``/``nproc`` limits of 1048576 by default, beyond what this host
allows without CAP_SYS_RESOURCE, so ``default_ulimits`` is set within the hard limits.
Everything is removed afterwards, including the ``libpod_parent`` cgroups podman makes.
"""

from __future__ import annotations

import contextlib
import resource
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_helpers import TMP_PREFIX, pyrunc_binary

pytestmark = pytest.mark.root
IMAGE = "localhost/pyrunc-busybox:test"


def _limit(kind: int) -> int:
    hard = resource.getrlimit(kind)[1]
    return 1024 if hard == resource.RLIM_INFINITY else min(hard, 1024)


class Podman:
    """``podman`` with private storage and configuration."""

    def __init__(self, base: Path) -> None:
        self.base = base
        nofile, nproc = _limit(resource.RLIMIT_NOFILE), _limit(resource.RLIMIT_NPROC)
        (base / "containers.conf").write_text(
            "[containers]\n"
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            'runtime = "pyrunc"\n'
            "[engine.runtimes]\n"
            f'pyrunc = ["{pyrunc_binary()}"]\n'
        )
        self.env = {
            "CONTAINERS_CONF": str(base / "containers.conf"),
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        }

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a podman command; never raises on failure."""
        b = self.base
        return subprocess.run(
            [
                "podman",
                "--root",
                str(b / "storage"),
                "--runroot",
                str(b / "rr"),  # podman refuses a runroot over 50 characters
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--tmpdir",
                str(b / "tmp"),
                "--events-backend",
                "file",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )

    def teardown(self, cgroups_before: set[Path]) -> None:
        """Remove containers and images, then mounts and the cgroups podman created."""
        self("rm", "--all", "--force", "--time", "0")
        self("rmi", "--all", "--force")
        mounts = [
            line.split()[4]
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(str(self.base))
        ]
        for target in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], check=False)
        for parent in sorted(_libpod_cgroups() - cgroups_before, key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                parent.rmdir()


def _libpod_cgroups() -> set[Path]:
    return {p for p in Path("/sys/fs/cgroup").glob("*/libpod_parent*") if p.is_dir()} | {
        p for p in Path("/sys/fs/cgroup").glob("*/libpod_parent/*") if p.is_dir()
    }


@pytest.fixture(scope="module")
def podman(busybox_rootfs_template: Path) -> Iterator[Podman]:
    """podman with the busybox image imported; everything removed after the module."""
    if not (shutil.which("podman") and shutil.which("conmon")):
        pytest.skip("podman/conmon are not installed (apt-get install podman)")
    base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "pm-"))
    before = _libpod_cgroups()
    pm = Podman(base)
    try:
        layer = base / "layer.tar"
        with tarfile.open(layer, "w") as tar:
            for entry in sorted(busybox_rootfs_template.iterdir()):
                tar.add(entry, arcname=entry.name)
        imported = pm("import", str(layer), IMAGE)
        assert imported.returncode == 0, imported.stderr
        yield pm
    finally:
        pm.teardown(before)
        shutil.rmtree(base, ignore_errors=True)


def test_podman_run_rm(podman: Podman) -> None:
    out = podman("run", "--rm", "--network", "none", IMAGE, "echo", "hello podman")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello podman\n"
    failed = podman("run", "--rm", "--network", "none", IMAGE, "sh", "-c", "exit 5")
    assert failed.returncode == 5, failed.stderr


def test_podman_exec(podman: Podman) -> None:
    started = podman("run", "-d", "--name", "long", "--network", "none", IMAGE, "sleep", "1000")
    assert started.returncode == 0, started.stderr
    try:
        ex = podman("exec", "long", "sh", "-c", "echo exec-out; exit 4")
        assert (ex.returncode, ex.stdout) == (4, "exec-out\n"), ex.stderr
        assert podman("pause", "long").returncode == 0
        assert "paused" in podman("inspect", "--format", "{{.State.Status}}", "long").stdout
        assert podman("unpause", "long").returncode == 0
    finally:
        removed = podman("rm", "--force", "--time", "0", "long")
        assert removed.returncode == 0, removed.stderr
