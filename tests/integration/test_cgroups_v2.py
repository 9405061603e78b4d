"""The v2 driver on this host's real cgroup2 hierarchy.

On a hybrid host the unified mount (``/sys/fs/cgroup/unified``) carries few or no
controllers, but processes, freezing, ``cgroup.kill``, pressure files, the controllers not
bound to v1 (hugetlb here) and device eBPF programs all work there. Each test creates a
uniquely named cgroup, puts real processes in it and checks the kernel's files and the
processes' fate; the fixture kills, destroys and checks that nothing is left, and restores
the root's ``cgroup.subtree_control``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testrun import TMP_PREFIX, unique_name

from libcontainer.cgroups import HostCgroups, fscommon
from libcontainer.cgroups.ebpf import attached_program_ids
from libcontainer.cgroups.fs2 import Fs2Manager
from libcontainer.configs import Cgroup, DeviceRule, DeviceType, FreezerState, Resources
from libcontainer.configs.cgroup import HugepageLimit

pytestmark = [pytest.mark.root, pytest.mark.cgroup_v2]

MiB = 1024 * 1024

RULES = tuple(
    DeviceRule(type=DeviceType(t), major=ma, minor=mi, permissions=p, allow=a)
    for t, ma, mi, p, a in [
        ("a", -1, -1, "rwm", False),
        ("c", -1, -1, "m", True),
        ("b", -1, -1, "m", True),
        ("c", 1, 3, "rwm", True),  # /dev/null
        ("c", 1, 5, "rwm", True),  # /dev/zero
        ("c", 1, 9, "rwm", True),  # /dev/urandom
    ]
)  # /dev/full (1:7) and /dev/mem (1:1) are not allowed


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


class Cgroup2:
    """An Fs2Manager on the real unified mount plus the processes the test put in it."""

    def __init__(self, host: HostCgroups, resources: Resources) -> None:
        self.name = unique_name("cg2")
        self.manager = Fs2Manager(Cgroup(path="/" + self.name, resources=resources), host=host)
        self.root = self.manager.mountpoint
        self.root_subtree = fscommon.read_string(self.root, "cgroup.subtree_control").split()
        self.children: list[subprocess.Popen[bytes]] = []

    def spawn(self, script: str) -> subprocess.Popen[bytes]:
        """``sh -c script`` that first waits for a line on stdin (join the cgroup first)."""
        child = subprocess.Popen(
            ["sh", "-c", "read _go; " + script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.children.append(child)
        return child

    @staticmethod
    def go(child: subprocess.Popen[bytes]) -> str:
        """Let the child run to its end; return its output."""
        out, _ = child.communicate(b"go\n", timeout=30)
        return out.decode()

    def cleanup(self) -> None:
        path = self.manager.path("")
        if os.path.isdir(path):
            self.manager.freeze(FreezerState.THAWED)
        self.manager.destroy()  # cgroup.kill takes care of what is left
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.communicate(timeout=10)
        assert not os.path.exists(path), f"cgroup left behind: {path}"
        now = fscommon.read_string(self.root, "cgroup.subtree_control").split()
        for controller in set(now) - set(self.root_subtree):
            try:
                fscommon.write_file(self.root, "cgroup.subtree_control", "-" + controller)
            except fscommon.CgroupFileError:
                pass  # someone else's cgroup uses it now


def _host_or_skip() -> HostCgroups:
    if os.geteuid() != 0:
        pytest.skip("needs root to create cgroups")
    host = HostCgroups.load()
    if host.unified_mount() is None:
        pytest.skip("no cgroup2 filesystem mounted (legacy-only host)")
    return host


@pytest.fixture
def cg2() -> Iterator[Callable[[Resources], Cgroup2]]:
    made: list[Cgroup2] = []
    host = _host_or_skip()

    def make(resources: Resources) -> Cgroup2:
        made.append(Cgroup2(host, resources))
        return made[-1]

    try:
        yield make
    finally:
        for cg in made:
            cg.cleanup()


def test_apply_freeze_thaw_and_kill_on_destroy(cg2: Callable[[Resources], Cgroup2]) -> None:
    cg = cg2(Resources(skip_devices=True))
    child = cg.spawn("exec sleep 1000")
    m = cg.manager
    m.apply(child.pid)
    assert m.get_pids() == [child.pid]
    assert f"0::/{cg.name}" in Path(f"/proc/{child.pid}/cgroup").read_text().splitlines()
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    child.stdin.flush()
    _wait_for(
        lambda: Path(f"/proc/{child.pid}/cmdline").read_bytes() == b"sleep\x001000\x00", "exec"
    )
    assert m.get_freezer_state() is FreezerState.THAWED
    m.freeze(FreezerState.FROZEN)
    assert m.get_freezer_state() is FreezerState.FROZEN
    assert fscommon.get_value_by_key(m.path(""), "cgroup.events", "frozen") == 1
    # v2 frozen tasks are stopped in a signal-delivery-like state (not D as on v1).
    assert _state(child.pid) in ("S", "T", "t")
    m.freeze(FreezerState.THAWED)
    assert m.get_freezer_state() is FreezerState.THAWED
    m.destroy()  # kills the sleep with cgroup.kill, then removes the cgroup
    assert child.wait(timeout=10) == -9
    assert not m.exists()


def test_stats_and_pressure_files(cg2: Callable[[Resources], Cgroup2]) -> None:
    cg = cg2(Resources(skip_devices=True))
    child = cg.spawn("i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo done")
    cg.manager.apply(child.pid)
    assert Cgroup2.go(child) == "done\n"
    st = cg.manager.get_stats()
    assert st.cpu_stats.cpu_usage.total_usage > 0
    assert st.cpu_stats.cpu_usage.usage_in_usermode > 0
    assert st.pids_stats.current == 0  # no pids controller here: processes counted
    if st.cpu_pressure is None:
        pytest.skip("this kernel has no PSI (psi=0)")
    assert st.cpu_pressure.some.total >= 0
    assert st.io_pressure is not None and st.memory_pressure is not None


def test_hugetlb_limit_when_hugetlb_is_on_v2(cg2: Callable[[Resources], Cgroup2]) -> None:
    host = HostCgroups.load()
    mount = host.unified_mount()
    assert mount is not None
    if "hugetlb" not in fscommon.read_string(mount.mountpoint, "cgroup.controllers").split():
        pytest.skip("hugetlb is not available on the cgroup2 hierarchy of this host")
    if "2MB" not in host.hugepage_sizes:
        pytest.skip("no 2MB huge pages on this host")
    limit = HugepageLimit(page_size="2MB", limit=4 * MiB)
    cg = cg2(Resources(skip_devices=True, hugetlb_limit=(limit,)))
    cg.manager.apply(-1)
    cg.manager.set(cg.manager.get_cgroups().resources)
    assert Path(cg.manager.path(""), "hugetlb.2MB.max").read_text().strip() == str(4 * MiB)
    assert cg.manager.get_stats().hugetlb_stats["2MB"].usage == 0
    cg.manager.set(Resources(skip_devices=True, unified={"hugetlb.2MB.max": str(8 * MiB)}))
    assert Path(cg.manager.path(""), "hugetlb.2MB.max").read_text().strip() == str(8 * MiB)


def test_device_filter_allows_null_and_denies_others(cg2: Callable[[Resources], Cgroup2]) -> None:
    cg = cg2(Resources(devices=RULES))
    m = cg.manager
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX + "dev-") as tmp:
        script = (
            "cat /dev/null && echo null-ok; "
            "head -c 4 /dev/zero | wc -c; "
            "head -c 1 /dev/full >/dev/null 2>&1 && echo full-open || echo full-denied; "
            f"mknod {tmp}/mem c 1 1 && echo mknod-ok; "
            f"head -c 1 {tmp}/mem >/dev/null 2>&1 && echo mem-open || echo mem-denied; "
            f"mknod {tmp}/sda b 8 0 && echo mknod-block-ok; "
            f"head -c 1 {tmp}/sda >/dev/null 2>&1 && echo sda-open || echo sda-denied"
        )
        child = cg.spawn(script)
        m.apply(child.pid)
        m.set(Resources(devices=RULES))
        assert len(attached_program_ids(m.path(""))) == 1
        out = Cgroup2.go(child).split()
    assert out == [
        "null-ok",
        "4",
        "full-denied",
        "mknod-ok",
        "mem-denied",
        "mknod-block-ok",
        "sda-denied",
    ]
    # An update replaces the program (one stays attached) and takes effect at once.
    more = (*RULES, DeviceRule(type=DeviceType("c"), major=1, minor=7, permissions="r", allow=True))
    m.set(Resources(devices=more))
    assert len(attached_program_ids(m.path(""))) == 1
    child = cg.spawn("head -c 1 /dev/full | wc -c; echo x 2>/dev/null > /dev/full || echo w-denied")
    m.apply_to_sub_cgroup(child.pid)
    assert Cgroup2.go(child).split() == ["1", "w-denied"]
    # Outside the cgroup nothing changed.
    assert subprocess.run(["head", "-c", "1", "/dev/full"], capture_output=True).returncode == 0
