"""The v1 cgroup driver on the real hierarchies of this host.

Each test creates a uniquely named container cgroup, moves a real child process into it,
and checks the kernel's own files and /proc; the fixture thaws and kills the child, destroys
the cgroups and asserts that nothing is left.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testrun import unique_name

from libcontainer.cgroups import CgroupMode, HostCgroups, Manager, fscommon, new_manager
from libcontainer.configs import Cgroup, DeviceRule, DeviceType, FreezerState, Resources
from libcontainer.errors import CgroupError

pytestmark = [pytest.mark.root, pytest.mark.cgroup_v1]

NEEDED = ("devices", "memory", "pids", "cpu", "cpuacct", "freezer", "cpuset")
MiB = 1024 * 1024

# The default device rules runc 1.1 gives a container (from a runc 1.1.5 state.json).
DEFAULT_RULES = tuple(
    DeviceRule(type=DeviceType(t), major=ma, minor=mi, permissions=p, allow=a)
    for t, ma, mi, p, a in [
        ("a", -1, -1, "rwm", False),
        ("c", -1, -1, "m", True),
        ("b", -1, -1, "m", True),
        ("c", 1, 3, "rwm", True),
        ("c", 1, 8, "rwm", True),
        ("c", 1, 7, "rwm", True),
        ("c", 5, 0, "rwm", True),
        ("c", 1, 5, "rwm", True),
        ("c", 1, 9, "rwm", True),
        ("c", 136, -1, "rwm", True),
        ("c", 5, 2, "rwm", True),
        ("c", 10, 200, "rwm", True),
    ]
)


def _host_or_skip() -> HostCgroups:
    if os.geteuid() != 0:
        pytest.skip("needs root to create cgroups")
    host = HostCgroups.load()
    if host.mode is CgroupMode.UNIFIED:
        pytest.skip("this host is cgroup v2 only; these tests need v1 hierarchies")
    missing = [c for c in NEEDED if host.find_mount(c) is None]
    if missing:
        pytest.skip(f"cgroup v1 controllers not mounted here: {', '.join(missing)}")
    return host


def _state(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    raise AssertionError(f"no State line for {pid}")


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Container:
    """A cgroup manager plus the child processes the test put in it."""

    def __init__(self, host: HostCgroups) -> None:
        self.name = unique_name("cg1")
        self.cgroup = Cgroup(name=self.name, resources=Resources(devices=DEFAULT_RULES))
        self.manager: Manager = new_manager(self.cgroup, host=host)
        self.children: list[subprocess.Popen[bytes]] = []

    def spawn(self, script: str) -> subprocess.Popen[bytes]:
        """Start ``sh -c script``; it first waits for a line on stdin (join the cgroup first)."""
        child = subprocess.Popen(
            ["sh", "-c", "read _go; " + script], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        self.children.append(child)
        return child

    @staticmethod
    def go(child: subprocess.Popen[bytes]) -> None:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        child.stdin.flush()

    def cleanup(self) -> None:
        paths = self.manager.get_paths()
        if self.manager.path("freezer") and os.path.isdir(self.manager.path("freezer")):
            # A frozen task cannot die until it is thawed.
            self.manager.freeze(FreezerState.THAWED)
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=10)
            if child.stdin is not None:
                child.stdin.close()
        self.manager.destroy()
        left = [p for p in paths.values() if os.path.exists(p)]
        assert left == [], f"cgroups left behind: {left}"
        for child in self.children:
            assert not Path(f"/proc/{child.pid}").exists() or _state(child.pid) == "Z"


@pytest.fixture
def container() -> Iterator[Container]:
    c = Container(_host_or_skip())
    try:
        yield c
    finally:
        c.cleanup()


def test_paths_follow_runc_rules(container: Container) -> None:
    paths = container.manager.get_paths()
    own_memory = Path("/proc/self/cgroup").read_text()
    memory_parent = next(
        line.split(":", 2)[2] for line in own_memory.splitlines() if line.split(":")[1] == "memory"
    )
    assert paths["memory"] == os.path.normpath(
        f"/sys/fs/cgroup/memory/{memory_parent}/{container.name}"
    )
    assert paths["devices"].endswith(f"/devices/{container.name}")
    assert not container.manager.exists()  # nothing created before apply


def test_apply_set_and_read_back(container: Container) -> None:
    child = container.spawn("exec sleep 1000")
    m = container.manager
    m.apply(child.pid)
    assert m.exists()
    for name, path in m.get_paths().items():
        assert str(child.pid) in Path(path, "cgroup.procs").read_text().split(), name
    assert (
        f"memory:{m.path('memory').removeprefix('/sys/fs/cgroup/memory')}"
        in Path(f"/proc/{child.pid}/cgroup").read_text()
    )
    m.set(
        Resources(
            devices=DEFAULT_RULES,
            memory=64 * MiB,
            memory_swap=128 * MiB,
            memory_reservation=32 * MiB,
            pids_limit=50,
            cpu_shares=512,
            cpu_period=100000,
            cpu_quota=20000,
        )
    )

    def read(subsystem: str, name: str) -> str:
        return Path(m.path(subsystem), name).read_text().strip()

    assert read("memory", "memory.limit_in_bytes") == str(64 * MiB)
    assert read("memory", "memory.soft_limit_in_bytes") == str(32 * MiB)
    if os.path.exists(Path(m.path("memory"), "memory.memsw.limit_in_bytes")):
        assert read("memory", "memory.memsw.limit_in_bytes") == str(128 * MiB)
    assert read("pids", "pids.max") == "50"
    assert read("cpu", "cpu.shares") == "512"
    assert read("cpu", "cpu.cfs_period_us") == "100000"
    assert read("cpu", "cpu.cfs_quota_us") == "20000"
    assert read("cpuset", "cpuset.cpus") == read_parent(m.path("cpuset"), "cpuset.cpus")
    assert "c 1:3 rwm" in read("devices", "devices.list").splitlines()
    assert m.get_pids() == [child.pid]
    Container.go(child)


def read_parent(path: str, name: str) -> str:
    return Path(os.path.dirname(path), name).read_text().strip()


def test_devices_list_matches_rules(container: Container) -> None:
    m = container.manager
    m.apply(-1)
    m.set(Resources(devices=DEFAULT_RULES))
    listed = set(Path(m.path("devices"), "devices.list").read_text().split("\n")) - {""}
    assert listed == {
        "c *:* m",
        "b *:* m",
        "c 1:3 rwm",
        "c 1:5 rwm",
        "c 1:7 rwm",
        "c 1:8 rwm",
        "c 1:9 rwm",
        "c 5:0 rwm",
        "c 5:2 rwm",
        "c 10:200 rwm",
        "c 136:* rwm",
    }
    # Updating to fewer rules removes only what is gone.
    m.set(Resources(devices=DEFAULT_RULES[:4]))
    listed = set(Path(m.path("devices"), "devices.list").read_text().split("\n")) - {""}
    assert listed == {"c *:* m", "b *:* m", "c 1:3 rwm"}


def test_memory_update_order_satisfies_the_kernel(container: Container) -> None:
    m = container.manager
    m.apply(-1)
    if not os.path.exists(Path(m.path("memory"), "memory.memsw.limit_in_bytes")):
        pytest.skip("swap accounting is off in this kernel")
    limit = Path(m.path("memory"), "memory.limit_in_bytes")
    memsw = Path(m.path("memory"), "memory.memsw.limit_in_bytes")
    for memory, swap in [(64, 128), (256, 512), (32, 48), (-1, -1), (16, 16)]:
        mem_bytes = memory * MiB if memory > 0 else -1
        swap_bytes = swap * MiB if swap > 0 else -1
        m.set(Resources(devices=DEFAULT_RULES, memory=mem_bytes, memory_swap=swap_bytes))
        if memory > 0:
            assert int(limit.read_text()) == memory * MiB
            assert int(memsw.read_text()) == swap * MiB
        else:
            assert int(limit.read_text()) > 2**60


def test_freeze_and_thaw(container: Container) -> None:
    child = container.spawn("exec sleep 1000")
    m = container.manager
    m.apply(child.pid)
    Container.go(child)
    _wait_for(lambda: _cmdline(child.pid) == "sleep 1000", "the child to exec sleep")
    assert m.get_freezer_state() is FreezerState.THAWED
    m.freeze(FreezerState.FROZEN)
    assert m.get_freezer_state() is FreezerState.FROZEN
    assert Path(m.path("freezer"), "freezer.state").read_text().strip() == "FROZEN"
    assert _state(child.pid) == "D"  # v1 frozen tasks sleep uninterruptibly
    m.freeze(FreezerState.THAWED)
    assert m.get_freezer_state() is FreezerState.THAWED
    _wait_for(lambda: _state(child.pid) in ("S", "R"), "the child to run again")


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def test_stats_have_real_numbers(container: Container) -> None:
    child = container.spawn("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exec sleep 1000")
    m = container.manager
    m.apply(child.pid)
    m.set(Resources(devices=DEFAULT_RULES, pids_limit=20))
    Container.go(child)
    _wait_for(lambda: _cmdline(child.pid) == "sleep 1000", "the busy loop to finish")
    stats = m.get_stats()
    assert stats.pids_stats.current == 1
    assert stats.pids_stats.limit == 20
    assert stats.cpu_stats.cpu_usage.total_usage > 0
    assert sum(stats.cpu_stats.cpu_usage.percpu_usage) > 0
    assert stats.memory_stats.usage.usage > 0
    assert stats.memory_stats.usage.limit > 0
    assert "cache" in stats.memory_stats.stats
    assert stats.cpuset_stats.cpus
    assert m.oom_kill_count() == 0


def test_oom_kill_is_counted(container: Container) -> None:
    m = container.manager
    child = container.spawn("exec python3 -c 'b = bytearray(512 * 1024 * 1024)'")
    m.apply(child.pid)
    swap = 32 * MiB if os.path.exists(Path(m.path("memory"), "memory.memsw.limit_in_bytes")) else 0
    m.set(Resources(devices=DEFAULT_RULES, memory=32 * MiB, memory_swap=swap))
    Container.go(child)
    assert child.wait(timeout=30) == -9
    _wait_for(lambda: m.oom_kill_count() >= 1, "the OOM kill to be counted")


def test_exec_into_sub_cgroup_and_destroy_removes_it(container: Container) -> None:
    first = container.spawn("exec sleep 1000")
    second = container.spawn("exec sleep 1000")
    m = container.manager
    m.apply(first.pid)
    for subsystem in ("memory", "pids"):
        fscommon.mkdir(os.path.join(m.path(subsystem), "sub"))
    m.apply_to_sub_cgroup(second.pid, "sub", subsystems=["memory", "pids"])
    assert Path(m.path("pids"), "sub", "cgroup.procs").read_text().split() == [str(second.pid)]
    assert sorted(m.get_all_pids()) == [first.pid]  # devices: second is not there
    with pytest.raises(CgroupError, match="does not exist in the cpuset hierarchy"):
        m.apply_to_sub_cgroup(second.pid, "sub")
    m.apply_to_sub_cgroup(second.pid)  # back to the container's own cgroups
    assert sorted(m.get_pids()) == sorted([first.pid, second.pid])


def test_destroy_refuses_while_processes_remain(container: Container) -> None:
    child = container.spawn("exec sleep 1000")
    m = container.manager
    m.apply(child.pid)
    with pytest.raises(CgroupError, match="still busy"):
        m.destroy()
    assert m.exists()  # nothing was killed or removed
    assert child.poll() is None
