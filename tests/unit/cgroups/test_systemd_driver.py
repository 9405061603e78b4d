"""The systemd driver without systemd: property mapping as runc's, unit names and slices,
and the manager's D-Bus conversation (a recording fake) on a fake v1 tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups import new_manager
from libcontainer.cgroups.systemd import SystemdManager
from libcontainer.cgroups.systemd import properties as p
from libcontainer.cgroups.systemd.dbus import DBusError
from libcontainer.configs import Cgroup, DeviceRule, DeviceType, Resources
from libcontainer.errors import CgroupError

MiB = 1024 * 1024
INF = 2**64 - 1


def rule(t: str, major: int, minor: int, perms: str, allow: bool = True) -> DeviceRule:
    return DeviceRule(type=DeviceType(t), major=major, minor=minor, permissions=perms, allow=allow)


def test_unit_names_and_slices() -> None:
    assert p.unit_name(Cgroup(name="c1", scope_prefix="runc")) == "runc-c1.scope"
    assert p.unit_name(Cgroup(name="machine-x.slice")) == "machine-x.slice"
    with pytest.raises(CgroupError, match="needs a cgroup name"):
        p.unit_name(Cgroup())
    assert p.expand_slice("-.slice") == "/"
    assert (
        p.expand_slice("machine-pod-x.slice")
        == "/machine.slice/machine-pod.slice/machine-pod-x.slice"
    )
    for bad in ("foo", "a--b.slice", "-a.slice", "a/b.slice"):
        with pytest.raises(CgroupError, match="slice"):
            p.expand_slice(bad)


def test_range_to_bits_is_systemds_byte_order() -> None:
    assert p.range_to_bits("0") == b"\x01"
    assert p.range_to_bits("0-3,8") == b"\x0f\x01"
    assert p.range_to_bits("") == b"\x00"
    with pytest.raises(CgroupError):
        p.range_to_bits("3-1")


def test_cpu_quota_rounds_up_to_whole_percents() -> None:
    assert p.cpu_quota_properties(50000, 100000, 252) == [
        ("CPUQuotaPeriodUSec", ("t", 100000)),
        ("CPUQuotaPerSecUSec", ("t", 500000)),
    ]
    # 12345/100000 s per s = 123450 us, rounded up to 130000 (13%).
    assert p.cpu_quota_properties(12345, 0, 252) == [("CPUQuotaPerSecUSec", ("t", 130000))]
    assert p.cpu_quota_properties(-1, 50000, 241) == [("CPUQuotaPerSecUSec", ("t", INF))]
    assert p.cpu_quota_properties(0, 0, 252) == []


def test_device_properties_follow_runc() -> None:
    r = Resources(
        devices=(
            rule("a", -1, -1, "rwm", False),
            rule("c", -1, -1, "m"),
            rule("c", 1, 3, "rwm"),
            rule("c", 136, -1, "rwm"),
            rule("b", 8, 0, "r"),
            rule("c", -1, 5, "r"),  # systemd cannot say "*:5"
        )
    )
    assert p.device_properties(r, 252) == [
        ("DevicePolicy", ("s", "strict")),
        ("DeviceAllow", ("a(ss)", [])),
        (
            "DeviceAllow",
            (
                "a(ss)",
                [
                    ("char-*", "m"),
                    ("/dev/char/1:3", "rwm"),
                    ("/dev/block/8:0", "r"),
                    ("char-136", "rwm"),
                ],
            ),
        ),
    ]
    allow_all = Resources(devices=(rule("a", -1, -1, "rwm", True),))
    assert p.device_properties(allow_all, 252) == [
        ("DevicePolicy", ("s", "auto")),
        ("DeviceAllow", ("a(ss)", [])),
    ]
    deny_some = Resources(devices=(rule("a", -1, -1, "rwm", True), rule("c", 1, 3, "r", False)))
    assert p.device_properties(deny_some, 252)[0] == ("DevicePolicy", ("s", "strict"))
    assert p.device_properties(Resources(skip_devices=True), 252) == []


def test_v1_and_v2_resource_properties() -> None:
    r = Resources(
        skip_devices=True,
        memory=64 * MiB,
        memory_swap=96 * MiB,
        memory_reservation=16 * MiB,
        cpu_shares=1024,
        blkio_weight=500,
        pids_limit=-1,
        cpuset_cpus="0-1",
    )
    assert p.v1_resource_properties(r, 252) == [
        ("MemoryLimit", ("t", 64 * MiB)),
        ("CPUShares", ("t", 1024)),
        ("BlockIOWeight", ("t", 500)),
        ("TasksMax", ("t", INF)),
        ("AllowedCPUs", ("ay", b"\x03")),
    ]
    r2 = Resources(
        skip_devices=True,
        memory=64 * MiB,
        memory_swap=96 * MiB,
        memory_reservation=16 * MiB,
        cpu_shares=1024,
        pids_limit=50,
        unified={"memory.high": "max", "cpu.max": "20000 50000", "io.weight": "50"},
    )
    assert p.v2_resource_properties(r2, 252) == [
        ("MemoryMax", ("t", 64 * MiB)),
        ("MemoryLow", ("t", 16 * MiB)),
        ("MemorySwapMax", ("t", 32 * MiB)),
        ("CPUWeight", ("t", 39)),
        ("TasksMax", ("t", 50)),
        ("MemoryHigh", ("t", INF)),
        ("CPUQuotaPeriodUSec", ("t", 50000)),
        ("CPUQuotaPerSecUSec", ("t", 400000)),
    ]
    assert p.cpuset_properties("0", "0", 243) == []  # too old a systemd: cgroupfs writes it


class FakeDBus:
    """Records calls; the unit is active at once, as a scope is."""

    def __init__(self, fake: FakeCgroupfs) -> None:
        self.fake = fake
        self.calls: list[tuple[str, Any]] = []
        self.units: dict[str, str] = {}
        self.exists_once = False

    def version(self) -> int:
        return 252

    def start_transient_unit(self, name: str, properties: list[Any]) -> str:
        self.calls.append(("start", (name, properties)))
        if self.exists_once:
            self.exists_once = False
            raise DBusError("org.freedesktop.systemd1.UnitExists", f"Unit {name} already exists.")
        self.units[name] = "active"
        # systemd creates the unit's cgroup in the hierarchies it manages.
        for ctrl in ("memory", "cpu", "pids", "devices"):
            own = self.fake.own.get(ctrl, "/")
            base = self.fake.mountpoint(ctrl) / own.strip("/") / "system.slice"
            for d in (base, base / name):
                if not d.exists():
                    self.fake.mkdir(str(d))
        return "/org/freedesktop/systemd1/job/1"

    def job_exists(self, job: str) -> bool:
        return False

    def unit_property(self, name: str, prop: str) -> str:
        return self.units[name]

    def set_unit_properties(self, name: str, properties: list[Any]) -> None:
        self.calls.append(("set", (name, properties)))

    def stop_unit(self, name: str) -> str:
        self.calls.append(("stop", name))
        if name not in self.units:
            raise DBusError("org.freedesktop.systemd1.NoSuchUnit", f"Unit {name} not loaded.")
        del self.units[name]
        return "/org/freedesktop/systemd1/job/2"

    def reset_failed_unit(self, name: str) -> None:
        self.calls.append(("reset-failed", name))


def test_manager_talks_to_systemd_and_joins_the_rest(fakefs: FakeCgroupfs, tmp_path: Path) -> None:
    proc1 = tmp_path / "proc1-cgroup"
    proc1.write_text("4:memory:/init.scope\n1:name=systemd:/init.scope\n0::/init.scope\n")
    host = fakefs.host()
    dbus = FakeDBus(fakefs)
    cg = Cgroup(
        name="c1",
        scope_prefix="pylibct",
        systemd=True,
        resources=Resources(pids_limit=10, memory=32 * MiB, skip_devices=True),
        systemd_props=(("CollectMode", ("s", "inactive-or-failed")),),
    )
    m = SystemdManager(cg, host=host, dbus=dbus, proc1_cgroup=str(proc1))  # type: ignore[arg-type]
    assert m.unit == "pylibct-c1.scope"
    paths = m.get_paths()
    assert paths["memory"] == f"{fakefs.root}/memory/system.slice/pylibct-c1.scope"
    assert paths["cpuset"] == f"{fakefs.root}/cpuset/system.slice/pylibct-c1.scope"
    dbus.exists_once = True  # a leftover unit: reset-failed, then retried
    m.apply(4242)
    start = [c for c in dbus.calls if c[0] == "start"]
    assert len(start) == 2
    names = [name for name, _ in start[-1][1][1]]
    assert names == [
        "Description",
        "Slice",
        "Delegate",
        "PIDs",
        "MemoryAccounting",
        "CPUAccounting",
        "BlockIOAccounting",
        "TasksAccounting",
        "DefaultDependencies",
        "MemoryLimit",
        "TasksMax",
        "CollectMode",
    ]
    assert ("PIDs", ("au", [4242])) in start[-1][1][1]
    assert ("reset-failed", "pylibct-c1.scope") in dbus.calls
    # Hierarchies systemd does not manage (cpuset here) were created and joined by us.
    assert fakefs.read("cpuset/system.slice/pylibct-c1.scope/cgroup.procs") == "4242\n"
    m.set(Resources(pids_limit=20, skip_devices=True))
    assert dbus.calls[-1] == ("set", ("pylibct-c1.scope", [("TasksMax", ("t", 20))]))
    assert fakefs.read("pids/system.slice/pylibct-c1.scope/pids.max") == "20"
    fakefs.exit(4242)
    m.destroy()
    assert dbus.calls[-2:] == [("stop", "pylibct-c1.scope"), ("reset-failed", "pylibct-c1.scope")]
    assert not m.exists()
    m.destroy()  # NoSuchUnit: fine


def test_new_manager_picks_systemd_and_refuses_paths(fakefs: FakeCgroupfs) -> None:
    with pytest.raises(CgroupError, match="not a path"):
        new_manager(Cgroup(path="/x", systemd=True), host=fakefs.host())
    m = new_manager(Cgroup(name="c1", systemd=True), {"memory": "/m"}, host=fakefs.host())
    assert isinstance(m, SystemdManager)
    assert m.get_paths() == {"memory": "/m"}
