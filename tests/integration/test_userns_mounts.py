"""Bind mounts whose source the container's mapped root cannot reach (issue 10).

With a user namespace, the container's root is an unprivileged host uid; a source under a
``0700`` directory of the host's root is out of its reach. runc 1.1 opens the sources from
outside before the init uses them, and so the bind mount works; the same bundle must work
with pyrunc and with the library (see ``libcontainer/mountsources.py``). Side by side: the
same bundle, run by runc 1.1.5 and by pyrunc, and started through the library's spawner.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, example_spec_dict, unique_id
from rootless_env import SUB_COUNT, SUB_START
from test_cli_helpers import pyrunc_binary
from testrun import TMP_PREFIX

import specconv
from libcontainer import Process

pytestmark = pytest.mark.root

RUNC = shutil.which("runc")
SCRIPT = (
    "cat /data/dir/f /data/file; "
    "touch /data/dir/new 2>/dev/null && echo dir-writable || echo dir-ro; "
    "id -u; cat /proc/self/uid_map"
)


@pytest.fixture
def world(busybox_rootfs_template: Path) -> Iterator[dict[str, Any]]:
    """A bundle whose rootfs belongs to the mapped root (reachable by it, as runc needs),
    and a secret directory of root's (0700) holding the bind sources."""
    base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "userns-"))
    try:
        os.chmod(base, 0o711)
        host_root = SUB_START
        bundle = base / "bundle"
        bundle.mkdir()
        subprocess.run(
            ["cp", "-a", str(busybox_rootfs_template), str(bundle / "rootfs")], check=True
        )
        subprocess.run(
            ["chown", "-R", f"{host_root}:{host_root}", str(bundle / "rootfs")], check=True
        )
        secret = base / "secret"
        (secret / "inner").mkdir(parents=True)
        os.chmod(secret, 0o700)  # root's: the mapped root cannot even look inside
        (secret / "inner" / "f").write_text("inside a 0700 directory\n")
        (secret / "single").write_text("a file bind\n")
        spec = example_spec_dict(["sh", "-c", SCRIPT])
        spec["root"]["readonly"] = False
        spec["linux"]["namespaces"].append({"type": "user"})
        maps = [{"containerID": 0, "hostID": host_root, "size": SUB_COUNT}]
        spec["linux"]["uidMappings"] = maps
        spec["linux"]["gidMappings"] = maps
        spec["mounts"] = [m for m in spec["mounts"] if m["type"] != "cgroup"]
        spec["mounts"] += [
            {
                "destination": "/data/dir",
                "type": "bind",
                "source": str(secret / "inner"),
                "options": ["rbind", "ro"],
            },
            {
                "destination": "/data/file",
                "type": "bind",
                "source": str(secret / "single"),
                "options": ["bind", "ro"],
            },
        ]
        (bundle / "config.json").write_text(json.dumps(spec))
        yield {"base": base, "bundle": bundle, "host_root": host_root, "secret": secret}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _expected(host_root: int) -> list[str]:
    return [
        "inside a 0700 directory",
        "a file bind",
        "dir-ro",
        "0",
        f"0 {host_root} {SUB_COUNT}",
    ]


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


@pytest.mark.parametrize("runtime", ["pyrunc", "runc"])
def test_cli_binds_sources_the_mapped_root_cannot_reach(
    world: dict[str, Any], runtime: str
) -> None:
    """``run`` of the same bundle: runc 1.1.5 and pyrunc both mount the sources, read-only."""
    binary = pyrunc_binary() if runtime == "pyrunc" else RUNC
    if binary is None:
        pytest.skip(f"{runtime} is not installed")
    cid = unique_id(runtime)
    root = world["base"] / f"{runtime}-root"
    try:
        done = subprocess.run(
            [binary, "--root", str(root), "run", cid],
            cwd=world["bundle"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        subprocess.run([binary, "--root", str(root), "delete", "--force", cid], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout) == _expected(world["host_root"])
    assert not (world["secret"] / "inner" / "new").exists()


def test_library_binds_sources_the_mapped_root_cannot_reach(
    world: dict[str, Any], state_root: Path
) -> None:
    """The library (its spawner helper clones the init) does what pyrunc does."""
    spec = specconv.load_spec(str(world["bundle"] / "config.json"))
    config = specconv.create_config(spec, bundle=str(world["bundle"]), cgroup_name=unique_id("cg"))
    containers = Factories(state_root)
    try:
        c = containers.create(config)
        p = Process(["sh", "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        c.run(p)
        assert p.stdout is not None
        out = p.stdout.read().decode()
        assert p.wait() == 0, out
    finally:
        containers.cleanup()
    assert _lines(out) == _expected(world["host_root"])
