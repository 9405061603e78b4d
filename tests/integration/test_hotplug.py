"""Hot-adding a host device (a loop device on a temp file) to a running busybox container.

The container proves each step from inside: the node is there or not, reads and writes
work or fail with EPERM. "Denied" is checked with a node the test itself plants in the
container's /dev (through /proc/<pid>/root), so it is the cgroup rule that refuses, not a
missing file. Loop devices are always detached at the end.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories
from testrun import TMP_PREFIX, unique_name

from libcontainer import Factory, Process
from libcontainer.cgroups import HostCgroups
from libcontainer.cgroups.fs2 import Fs2Manager
from libcontainer.configs import Cgroup, Config, DeviceRule, DeviceType, Resources
from libcontainer.container import Container
from libcontainer.devices import device_from_path
from libcontainer.errors import (
    ConfigError,
    ContainerNotRunningError,
    NotADeviceError,
)
from libcontainer.hotplug import with_device, without_device

pytestmark = pytest.mark.root

PATTERN = b"pylibcontainer-loop\n"


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    """A loop device over a 1 MiB temp file starting with PATTERN; detached afterwards."""
    backing = tmp_path / "disk.img"
    backing.write_bytes(PATTERN + bytes(1024 * 1024 - len(PATTERN)))
    made = subprocess.run(
        ["losetup", "--find", "--show", str(backing)], capture_output=True, text=True
    )
    if made.returncode != 0:
        pytest.skip(f"no loop device available: {made.stderr.strip()}")
    device = made.stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "--detach", device], check=True)


def exec_output(c: Container, script: str) -> tuple[str, int]:
    proc = Process(
        ["sh", "-c", script], init=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    c.start(proc)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return out, proc.wait(timeout=60)


def running(containers: Factories, make_config: Callable[..., Config]) -> Container:
    c = containers.create(make_config())
    c.run(Process(["sleep", "1000"]))
    return c


def plant_node(c: Container, path: str, device: str) -> None:
    """Put a node for host ``device`` into the container's filesystem behind its back."""
    st = os.stat(device)
    os.mknod(
        f"/proc/{c.state().init_process_pid}/root{path}",
        stat.S_IFMT(st.st_mode) | 0o600,
        st.st_rdev,
    )


def devices_list(c: Container) -> str:
    manager = c.cgroup_manager
    assert manager is not None
    return Path(manager.path("devices"), "devices.list").read_text()


def test_hot_add_use_remove_deny(
    containers: Factories, make_config: Callable[..., Config], loop_device: str
) -> None:
    c = running(containers, make_config)
    st = os.stat(loop_device)
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    read = f"head -c {len(PATTERN)} {loop_device}"

    # Before: no node, and a node planted anyway is refused by the cgroup.
    out, code = exec_output(c, f"test -e {loop_device} || echo absent")
    assert out.strip() == "absent"
    plant_node(c, loop_device, loop_device)
    out, code = exec_output(c, read)
    assert code != 0 and "Operation not permitted" in out, out
    os.unlink(f"/proc/{c.state().init_process_pid}/root{loop_device}")

    device = c.add_device(loop_device)
    assert device == device_from_path(loop_device)  # as the host's node; same path

    out, code = exec_output(c, f"stat -c '%t %T %a %u %g %F' {loop_device}; {read}")
    assert code == 0, out
    t, tt, mode, uid, gid, kind = out.splitlines()[0].split(" ", 5)
    assert kind == "block special file"
    assert (int(t, 16), int(tt, 16)) == (major, minor)
    assert (int(mode, 8), int(uid), int(gid)) == (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    assert out.endswith(PATTERN.decode())
    out, code = exec_output(
        c,
        f"printf WRITTEN | dd of={loop_device} bs=1 seek=4096 conv=notrunc,fsync 2>/dev/null"
        f" && dd if={loop_device} bs=1 skip=4096 count=7 2>/dev/null",
    )
    assert (out, code) == ("WRITTEN", 0)
    with open(loop_device, "rb") as f:  # the host sees what the container wrote
        f.seek(4096)
        assert f.read(7) == b"WRITTEN"
    if c.cgroup_manager is not None and "devices" in c.cgroup_manager.get_paths():
        assert f"b {major}:{minor} rwm" in devices_list(c).splitlines()

    # state.json knows: a container loaded from it has the device and its rule, and can
    # take it away again.
    loaded = Factory(containers.factory.root).load(c.id)
    assert loop_device in [d.path for d in loaded.config.devices]
    assert loaded.config.cgroups is not None
    rule = DeviceRule(
        type=DeviceType.BLOCK, major=major, minor=minor, permissions="rwm", allow=True
    )
    assert rule in loaded.config.cgroups.resources.devices
    removed = loaded.remove_device(loop_device)
    assert removed.path == loop_device

    out, code = exec_output(c, f"test -e {loop_device} || echo absent")
    assert out.strip() == "absent"
    reloaded = Factory(containers.factory.root).load(c.id)
    assert loop_device not in [d.path for d in reloaded.config.devices]
    assert reloaded.config.cgroups is not None
    assert rule not in reloaded.config.cgroups.resources.devices
    if c.cgroup_manager is not None and "devices" in c.cgroup_manager.get_paths():
        assert f"b {major}:{minor} rwm" not in devices_list(c).splitlines()
    # Denied: a planted node cannot be opened any more.
    plant_node(c, loop_device, loop_device)
    out, code = exec_output(c, read)
    assert code != 0 and "Operation not permitted" in out, out


def test_permissions_limit_what_the_container_may_do(
    containers: Factories, make_config: Callable[..., Config], loop_device: str
) -> None:
    c = running(containers, make_config)
    c.add_device(loop_device, "r")
    out, _ = exec_output(
        c,
        f"head -c {len(PATTERN)} {loop_device} >/dev/null && echo read-ok;"
        f" printf x | dd of={loop_device} conv=notrunc 2>&1 | grep -o 'Operation not permitted'",
    )
    assert out.split("\n")[:2] == ["read-ok", "Operation not permitted"], out


def test_container_path_and_no_symlink_escape(
    containers: Factories, make_config: Callable[..., Config], loop_device: str
) -> None:
    """The container plants /dev/evil -> a host directory; the node still lands inside."""
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX + "escape-") as host_dir:
        c = running(containers, make_config)
        out, code = exec_output(c, f"ln -s {host_dir} /dev/evil && echo planted")
        assert out.strip() == "planted"
        c.add_device(loop_device, container_path="/dev/evil/disk")
        assert os.listdir(host_dir) == []
        rootfs = Path(c.config.rootfs)
        inside = rootfs / host_dir.lstrip("/") / "disk"
        assert stat.S_ISBLK(inside.lstat().st_mode)
        out, code = exec_output(c, f"head -c {len(PATTERN)} /dev/evil/disk")
        assert (out, code) == (PATTERN.decode(), 0)
        c.remove_device("/dev/evil/disk")
        assert not inside.exists()
        assert os.listdir(host_dir) == []


def test_bad_requests_change_nothing(
    containers: Factories, make_config: Callable[..., Config], loop_device: str, tmp_path: Path
) -> None:
    stopped = containers.create(make_config())
    with pytest.raises(ContainerNotRunningError):
        stopped.add_device(loop_device)
    c = running(containers, make_config)
    before = c.config
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADeviceError):
        c.add_device(str(tmp_path / "file"))
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NotADeviceError, match="only block and character"):
        c.add_device(str(tmp_path / "fifo"))
    with pytest.raises(ConfigError, match="already has a device"):
        c.add_device("/dev/null")
    with pytest.raises(ConfigError, match="permissions"):
        c.add_device(loop_device, "rx")
    with pytest.raises(ConfigError, match="no device at this path"):
        c.remove_device(loop_device)
    # Something of the container's own at the path: refused, and the rule taken back.
    exec_output(c, "touch /dev/mine")
    with pytest.raises(ConfigError, match="something else exists"):
        c.add_device(loop_device, container_path="/dev/mine")
    assert c.config == before
    assert Factory(containers.factory.root).load(c.id).config == before
    out, _ = exec_output(c, "cat /dev/mine && echo kept")
    assert out.strip() == "kept"


def test_a_container_with_a_user_namespace_is_refused(
    containers: Factories, make_config: Callable[..., Config], loop_device: str, bundle: Path
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["linux"]["namespaces"].append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        spec["mounts"] = [m for m in spec["mounts"] if m["type"] != "cgroup"]

    subprocess.run(["chown", "-R", "100000:100000", str(bundle / "rootfs")], check=True)
    for parent in (bundle / "rootfs").parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    c = containers.create(make_config(edit))
    c.run(Process(["sleep", "1000"]))
    before = c.config
    with pytest.raises(ConfigError, match="user namespace"):
        c.add_device(loop_device)
    assert c.config == before
    assert not os.path.exists(f"/proc/{c.state().init_process_pid}/root{loop_device}")


@pytest.mark.cgroup_v2
def test_v2_device_program_is_replaced_on_add_and_remove(loop_device: str) -> None:
    """On cgroup v2 the rules are an eBPF program: the manager's set replaces it, taking
    effect at once for processes already in the cgroup."""
    host = HostCgroups.load()
    if host.unified_mount() is None:
        pytest.skip("no cgroup2 filesystem mounted")
    base = Config(
        rootfs="/",
        devices=(),
        cgroups=Cgroup(
            path="/" + unique_name("hotplug"),
            resources=Resources(
                devices=(
                    DeviceRule(type=DeviceType.WILDCARD, major=-1, minor=-1, permissions="rwm"),
                    DeviceRule(
                        type=DeviceType.CHAR, major=1, minor=3, permissions="rwm", allow=True
                    ),
                )
            ),
        ),
    )
    assert base.cgroups is not None
    manager = Fs2Manager(base.cgroups, host=host)
    # The shell waits for a line, then tries the loop device once per line.
    loop = (
        f"while read _; do head -c 1 {loop_device} >/dev/null 2>&1 && echo ok || echo denied; done"
    )
    child = subprocess.Popen(
        ["sh", "-c", loop],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None

    def attempt() -> str:
        child.stdin.write("go\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        return child.stdout.readline().strip()  # type: ignore[union-attr]

    try:
        manager.apply(child.pid)
        manager.set(base.cgroups.resources)
        assert attempt() == "denied"
        device = device_from_path(loop_device)
        rule = DeviceRule(
            type=device.type, major=device.major, minor=device.minor, permissions="r", allow=True
        )
        added = with_device(base, device, rule)
        assert added.cgroups is not None
        manager.set(added.cgroups.resources)
        assert attempt() == "ok"
        removed = without_device(added, device)
        assert removed.cgroups is not None
        manager.set(removed.cgroups.resources)
        assert attempt() == "denied"
    finally:
        child.kill()
        child.communicate(timeout=10)
        manager.destroy()
