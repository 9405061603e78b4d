"""The systemd driver against a real systemd 252, booted for the test in its own namespaces
and rootfs (see sdboot.py): a transient scope with limits, visible in the host's cgroupfs,
updated, destroyed; systemd stopped and every cgroup removed.

The driver runs inside systemd's PID, mount and cgroup namespaces (so the cgroup paths it
computes are systemd's), talking D-Bus peer-to-peer on /run/systemd/private.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdboot import SYSTEMD, SystemdBox

pytestmark = [pytest.mark.root, pytest.mark.systemd]

MiB = 1024 * 1024

CLIENT = textwrap.dedent(
    """
    import json, subprocess, sys
    from libcontainer.cgroups import new_manager
    from libcontainer.configs import Cgroup, DeviceRule, DeviceType, Resources

    MiB = 1024 * 1024
    rules = tuple(
        DeviceRule(type=DeviceType(t), major=ma, minor=mi, permissions=p, allow=a)
        for t, ma, mi, p, a in [
            ("a", -1, -1, "rwm", False),
            ("c", -1, -1, "m", True),
            ("c", 1, 3, "rwm", True),
            ("c", 1, 5, "rwm", True),
            ("c", 136, -1, "rwm", True),
        ]
    )
    first = Resources(memory=64 * MiB, memory_swap=128 * MiB, pids_limit=20, devices=rules)
    cg = Cgroup(name=sys.argv[1], scope_prefix="pylibct", parent="system.slice", systemd=True,
                resources=first)
    m = new_manager(cg)
    child = subprocess.Popen(["sleep", "1000"])
    m.apply(child.pid)
    m.set(first)
    state = m.dbus.unit_property(m.unit, "ActiveState")
    tasks = m.dbus.unit_property(m.unit, "TasksMax", "org.freedesktop.systemd1.Scope")
    print(json.dumps({"paths": m.get_paths(), "pid": child.pid, "unit": m.unit,
                      "state": state, "tasks_max": tasks, "version": m.dbus.version()}),
          flush=True)
    sys.stdin.readline()
    m.set(Resources(memory=32 * MiB, memory_swap=32 * MiB, pids_limit=10, devices=rules[:3]))
    tasks = m.dbus.unit_property(m.unit, "TasksMax", "org.freedesktop.systemd1.Scope")
    print(json.dumps({"tasks_max": tasks, "stats_pids": m.get_stats().pids_stats.current}),
          flush=True)
    sys.stdin.readline()
    m.destroy()
    print(json.dumps({"exists": m.exists(), "child": child.wait(timeout=10)}), flush=True)
    """
)


@pytest.fixture
def box() -> Iterator[SystemdBox]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create namespaces and cgroups")
    for tool in ("unshare", "nsenter", "pivot_root"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (util-linux) is not installed")
    if not os.path.exists(SYSTEMD):
        pytest.skip("systemd is not installed (apt-get install systemd)")
    if not sys.base_prefix.startswith("/usr") and "/.pyenv/" not in sys.base_prefix:
        pytest.skip("the client needs this interpreter (from /usr or pyenv) inside the box")
    b = SystemdBox()
    try:
        yield b
    finally:
        left = b.close()
        assert left == [], f"cgroups left behind: {left}"


def read(path: str, name: str) -> str:
    return Path(path, name).read_text().strip()


def test_transient_scope_with_limits_update_and_destroy(box: SystemdBox) -> None:
    name = uuid.uuid4().hex[:8]
    client = box.popen([sys.executable, "-c", CLIENT, name])
    assert client.stdin is not None and client.stdout is not None
    try:
        line = client.stdout.readline()
        assert line, client.stderr.read() if client.stderr else ""
        info = json.loads(line)
        assert info["unit"] == f"pylibct-{name}.scope"
        assert info["state"] == "active"
        assert info["tasks_max"] == 20
        assert info["version"] >= 240
        inside = info["paths"]
        assert inside["memory"] == f"/sys/fs/cgroup/memory/system.slice/pylibct-{name}.scope"
        # What systemd and the driver wrote, read from the host's cgroupfs.
        memory = box.host_path(inside["memory"])
        pids = box.host_path(inside["pids"])
        devices = box.host_path(inside["devices"])
        assert memory.startswith("/sys/fs/cgroup/memory/") and box.name in memory
        assert read(memory, "memory.limit_in_bytes") == str(64 * MiB)
        if Path(memory, "memory.memsw.limit_in_bytes").exists():
            assert read(memory, "memory.memsw.limit_in_bytes") == str(128 * MiB)
        assert read(pids, "pids.max") == "20"
        assert str(info["pid"]) not in read(pids, "cgroup.procs").split()  # pid ns: host pid
        assert len(read(pids, "cgroup.procs").split()) == 1
        listed = set(read(devices, "devices.list").splitlines())
        assert listed == {"c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 136:* rwm"}
        client.stdin.write("update\n")
        client.stdin.flush()
        updated = json.loads(client.stdout.readline())
        assert updated == {"tasks_max": 10, "stats_pids": 1}
        assert read(memory, "memory.limit_in_bytes") == str(32 * MiB)
        assert read(pids, "pids.max") == "10"
        assert set(read(devices, "devices.list").splitlines()) == {"c *:* m", "c 1:3 rwm"}
        client.stdin.write("destroy\n")
        client.stdin.flush()
        done = json.loads(client.stdout.readline())
        assert done == {"exists": False, "child": -15}  # systemd stopped the scope: SIGTERM
        for path in (memory, pids, devices):
            assert not os.path.exists(path)
        assert client.wait(timeout=30) == 0
    finally:
        if client.poll() is None:
            client.kill()
        client.communicate(timeout=10)


CONTAINER_CLIENT = textwrap.dedent(
    """
    import json, subprocess, sys, tempfile
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])  # the repository's tests/, for the busybox rootfs
    from conftest import build_busybox_rootfs
    import specconv
    from libcontainer import Factory, Process

    name = sys.argv[1]
    bundle = Path(tempfile.mkdtemp())
    build_busybox_rootfs(bundle / "rootfs")
    spec = json.loads(specconv.dump_spec(specconv.example()))
    spec["linux"]["cgroupsPath"] = f"system.slice:pylibct:{name}"
    config = specconv.create_config(
        specconv.parse_spec(spec), bundle=str(bundle), use_systemd_cgroup=True,
        cgroup_name=name,
    )
    c = Factory(bundle / "state").create(name, config)
    p = Process(["sh", "-c", "grep -E 'pids|memory' /proc/self/cgroup"],
                stdout=subprocess.PIPE)
    c.run(p)
    out = p.stdout.read().decode()
    code = p.wait()
    paths = c.cgroup_manager.get_paths()
    unit = c.cgroup_manager.unit
    c.destroy()
    print(json.dumps({"out": out, "code": code, "paths": paths, "unit": unit,
                      "exists_after": c.cgroup_manager.exists()}), flush=True)
    """
)


def test_a_container_runs_under_the_systemd_driver(box: SystemdBox) -> None:
    """Factory -> Container -> Process with ``cgroups.systemd``: a real container in a scope."""
    name = uuid.uuid4().hex[:8]
    tests_dir = str(Path(__file__).resolve().parent.parent)
    client = box.popen([sys.executable, "-c", CONTAINER_CLIENT, name, tests_dir])
    try:
        out, err = client.communicate(timeout=120)
    finally:
        if client.poll() is None:
            client.kill()
    assert client.returncode == 0, err
    info = json.loads(out.splitlines()[-1])
    assert info["code"] == 0, info
    assert info["unit"] == f"pylibct-{name}.scope"
    # The container's own view of its cgroups: the transient scope systemd made for it.
    assert f"pylibct-{name}.scope" in info["out"], info["out"]
    assert info["exists_after"] is False
    for path in info["paths"].values():
        assert not os.path.exists(box.host_path(path))
