"""Each resource goes to its control file with runc's exact content and order."""

from __future__ import annotations

import errno

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fs.blkio import BlkioGroup
from libcontainer.cgroups.fs.cpu import CpuGroup
from libcontainer.cgroups.fs.cpuset import CpusetGroup
from libcontainer.cgroups.fs.devices import DevicesGroup
from libcontainer.cgroups.fs.freezer import FreezerGroup, freeze, get_state
from libcontainer.cgroups.fs.hugetlb import HugetlbGroup
from libcontainer.cgroups.fs.memory import MemoryGroup
from libcontainer.cgroups.fs.net import NetClsGroup, NetPrioGroup
from libcontainer.cgroups.fs.pids import PidsGroup
from libcontainer.cgroups.fs.rdma import RdmaGroup
from libcontainer.cgroups.fs.subsystem import Subsystem
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.configs import (
    DeviceRule,
    DeviceType,
    FreezerState,
    HugepageLimit,
    IfPrioMap,
    LinuxRdma,
    Resources,
    ThrottleDevice,
    WeightDevice,
)
from libcontainer.errors import CgroupError


def cgroup_dir(fake: FakeCgroupfs, controller: str, name: str = "c1") -> str:
    path = str(fake.mountpoint(controller) / name)
    fake.mkdir(path)
    return path


def rel(fake: FakeCgroupfs, controller: str, file: str) -> str:
    return str((fake.mountpoint(controller) / "c1" / file).relative_to(fake.root))


def test_zero_values_touch_nothing(fakefs: FakeCgroupfs) -> None:
    empty = Resources()
    groups: list[tuple[Subsystem, str]] = [
        (CpusetGroup(), "cpuset"),
        (MemoryGroup(), "memory"),
        (CpuGroup(), "cpu"),
        (PidsGroup(), "pids"),
        (BlkioGroup(), "blkio"),
        (HugetlbGroup(("2MB",)), "hugetlb"),
        (NetClsGroup(), "net_cls"),
        (NetPrioGroup(), "net_prio"),
        (RdmaGroup(), "rdma"),
        (FreezerGroup(), "freezer"),
    ]
    for group, controller in groups:
        group.set(cgroup_dir(fakefs, controller), empty)
    assert fakefs.writes == []


# -- memory -------------------------------------------------------------------------------


def test_memory_files(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "memory")
    MemoryGroup().set(
        path,
        Resources(
            memory=104857600,
            memory_reservation=52428800,
            oom_kill_disable=True,
            memory_swappiness=10,
        ),
    )
    assert fakefs.writes == [
        (rel(fakefs, "memory", "memory.limit_in_bytes"), "104857600"),
        (rel(fakefs, "memory", "memory.soft_limit_in_bytes"), "52428800"),
        (rel(fakefs, "memory", "memory.oom_control"), "1"),
        (rel(fakefs, "memory", "memory.swappiness"), "10"),
    ]


def test_memory_raise_writes_memsw_first(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "memory")
    fakefs.root.joinpath(rel(fakefs, "memory", "memory.limit_in_bytes")).write_text("1000\n")
    MemoryGroup().set(path, Resources(memory=2000, memory_swap=4000))
    assert fakefs.files_written() == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    assert fakefs.writes_to("memsw.limit_in_bytes") == ["4000"]
    assert fakefs.writes_to("memory.limit_in_bytes") == ["2000"]


def test_memory_lower_writes_limit_first(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "memory")
    fakefs.root.joinpath(rel(fakefs, "memory", "memory.limit_in_bytes")).write_text("8000\n")
    MemoryGroup().set(path, Resources(memory=2000, memory_swap=4000))
    assert fakefs.files_written() == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]


def test_memory_unlimited_sets_swap_unlimited_too(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "memory")
    MemoryGroup().set(path, Resources(memory=-1))
    assert fakefs.writes == [
        (rel(fakefs, "memory", "memory.memsw.limit_in_bytes"), "-1"),
        (rel(fakefs, "memory", "memory.limit_in_bytes"), "-1"),
    ]


def test_memory_unlimited_without_swap_accounting(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "memory")
    fakefs.root.joinpath(rel(fakefs, "memory", "memory.memsw.limit_in_bytes")).unlink()
    MemoryGroup().set(path, Resources(memory=-1))
    assert fakefs.files_written() == ["memory.limit_in_bytes"]


def test_memory_limit_below_usage(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "memory")
    fakefs.root.joinpath(rel(fakefs, "memory", "memory.usage_in_bytes")).write_text("5000\n")
    fakefs.root.joinpath(rel(fakefs, "memory", "memory.max_usage_in_bytes")).write_text("7000\n")
    fakefs.fail["memory.limit_in_bytes"] = errno.EBUSY
    with pytest.raises(
        CgroupError,
        match=r"unable to set memory limit to 4096 \(current usage: 5000, peak usage: 7000\)",
    ):
        MemoryGroup().set(path, Resources(memory=4096))


def test_kernel_memory_is_ignored(fakefs: FakeCgroupfs, caplog: pytest.LogCaptureFixture) -> None:
    MemoryGroup().set(cgroup_dir(fakefs, "memory"), Resources(kernel_memory=1 << 20))
    assert fakefs.writes == []
    assert "kernel memory limits are ignored" in caplog.text


@pytest.mark.parametrize("swappiness", [None, -1])
def test_memory_swappiness_left_alone(fakefs: FakeCgroupfs, swappiness: int | None) -> None:
    MemoryGroup().set(cgroup_dir(fakefs, "memory"), Resources(memory_swappiness=swappiness))
    assert fakefs.writes == []


def test_memory_swappiness_out_of_range(fakefs: FakeCgroupfs) -> None:
    with pytest.raises(CgroupError, match="invalid memory swappiness 101"):
        MemoryGroup().set(cgroup_dir(fakefs, "memory"), Resources(memory_swappiness=101))


def test_memory_write_failure_names_file_and_value(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "memory")
    fakefs.root.joinpath(rel(fakefs, "memory", "memory.soft_limit_in_bytes")).unlink()
    with pytest.raises(CgroupFileError) as info:
        MemoryGroup().set(path, Resources(memory_reservation=123))
    assert str(info.value) == (
        f"failed to write '123' to {path}/memory.soft_limit_in_bytes: No such file or directory"
    )


# -- cpu ----------------------------------------------------------------------------------


def test_cpu_files_in_runc_order(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "cpu")
    fakefs.root.joinpath(rel(fakefs, "cpu", "cpu.shares")).write_text("512\n")  # kernel echo
    CpuGroup().set(
        path,
        Resources(
            cpu_shares=512,
            cpu_period=50000,
            cpu_quota=25000,
            cpu_rt_period=1000000,
            cpu_rt_runtime=950000,
        ),
    )
    assert fakefs.writes == [
        (rel(fakefs, "cpu", "cpu.shares"), "512"),
        (rel(fakefs, "cpu", "cpu.cfs_period_us"), "50000"),
        (rel(fakefs, "cpu", "cpu.cfs_quota_us"), "25000"),
        (rel(fakefs, "cpu", "cpu.rt_period_us"), "1000000"),
        (rel(fakefs, "cpu", "cpu.rt_runtime_us"), "950000"),
    ]


def test_cpu_shares_clamped_by_kernel(
    fakefs: FakeCgroupfs, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = cgroup_dir(fakefs, "cpu")
    shares = fakefs.root.joinpath(rel(fakefs, "cpu", "cpu.shares"))

    def clamping_kernel(directory: str, name: str, data: str) -> None:
        fakefs.write_file(directory, name, data)
        if name == "cpu.shares":
            shares.write_text(str(min(max(int(data), 2), 262144)) + "\n")

    monkeypatch.setattr(fscommon, "write_file", clamping_kernel)
    with pytest.raises(CgroupError, match="the maximum allowed cpu-shares is 262144"):
        CpuGroup().set(path, Resources(cpu_shares=500000))
    with pytest.raises(CgroupError, match="the minimum allowed cpu-shares is 2"):
        CpuGroup().set(path, Resources(cpu_shares=1))


def test_cpu_period_refused_is_retried_after_quota(
    fakefs: FakeCgroupfs, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = cgroup_dir(fakefs, "cpu")

    refused: list[str] = []

    def once_einval(directory: str, name: str, data: str) -> None:
        if name == "cpu.cfs_period_us" and not refused:
            refused.append(data)
            raise CgroupFileError("EINVAL", path=name, value=data, errno=errno.EINVAL)
        fakefs.write_file(directory, name, data)

    monkeypatch.setattr(fscommon, "write_file", once_einval)
    CpuGroup().set(path, Resources(cpu_period=10000, cpu_quota=5000))
    assert refused == ["10000"]
    assert fakefs.files_written() == ["cpu.cfs_quota_us", "cpu.cfs_period_us"]
    assert fakefs.read(rel(fakefs, "cpu", "cpu.cfs_period_us")) == "10000"


def test_cpu_period_refused_without_a_quota_is_an_error(fakefs: FakeCgroupfs) -> None:
    # The kernel's EINVAL for a period below 1 ms: nothing to retry after, so it is reported.
    fakefs.fail["cpu.cfs_period_us"] = errno.EINVAL
    with pytest.raises(CgroupFileError, match="failed to write '500'") as info:
        CpuGroup().set(cgroup_dir(fakefs, "cpu"), Resources(cpu_period=500))
    assert info.value.errno == errno.EINVAL


def test_cpu_period_other_errors_propagate(fakefs: FakeCgroupfs) -> None:
    fakefs.fail["cpu.cfs_period_us"] = errno.EPERM
    with pytest.raises(CgroupFileError, match="failed to write '10000'"):
        CpuGroup().set(cgroup_dir(fakefs, "cpu"), Resources(cpu_period=10000, cpu_quota=5000))


def test_cpu_apply_sets_rt_before_joining(fakefs: FakeCgroupfs) -> None:
    path = str(fakefs.mountpoint("cpu") / "c1")
    CpuGroup().apply(path, Resources(cpu_rt_period=1000000, cpu_rt_runtime=5000), 1234)
    assert fakefs.files_written() == ["cpu.rt_period_us", "cpu.rt_runtime_us", "cgroup.procs"]


# -- cpuset -------------------------------------------------------------------------------


def test_cpuset_inherits_from_parent_on_apply(fakefs: FakeCgroupfs) -> None:
    path = str(fakefs.mountpoint("cpuset") / "parent" / "c1")
    CpusetGroup(str(fakefs.mountpoint("cpuset"))).apply(path, Resources(), 1234)
    assert fakefs.writes == [
        ("cpuset/parent/cpuset.cpus", "0-3\n"),
        ("cpuset/parent/cpuset.mems", "0\n"),
        ("cpuset/parent/c1/cpuset.cpus", "0-3\n"),
        ("cpuset/parent/c1/cpuset.mems", "0\n"),
        ("cpuset/parent/c1/cgroup.procs", "1234"),
    ]


def test_cpuset_given_values_win(fakefs: FakeCgroupfs) -> None:
    path = str(fakefs.mountpoint("cpuset") / "c1")
    CpusetGroup(str(fakefs.mountpoint("cpuset"))).apply(
        path, Resources(cpuset_cpus="1-2", cpuset_mems="0"), 1234
    )
    assert fakefs.writes == [
        ("cpuset/c1/cpuset.cpus", "1-2"),
        ("cpuset/c1/cpuset.mems", "0"),
        ("cpuset/c1/cgroup.procs", "1234"),
    ]
    assert fakefs.read("cpuset/c1/cpuset.cpus") == "1-2"


def test_cpuset_without_known_mountpoint(fakefs: FakeCgroupfs) -> None:
    path = str(fakefs.mountpoint("cpuset") / "a" / "b")
    CpusetGroup(None).apply(path, Resources(cpuset_mems="0"), -1)
    assert fakefs.read("cpuset/a/cpuset.cpus") == "0-3\n"
    assert fakefs.read("cpuset/a/b/cpuset.cpus") == "0-3\n"
    assert fakefs.read("cpuset/a/b/cpuset.mems") == "0"


# -- pids, blkio, hugetlb, net, rdma ------------------------------------------------------


@pytest.mark.parametrize(("limit", "content"), [(100, "100"), (-1, "max"), (-5, "max")])
def test_pids_max(fakefs: FakeCgroupfs, limit: int, content: str) -> None:
    PidsGroup().set(cgroup_dir(fakefs, "pids"), Resources(pids_limit=limit))
    assert fakefs.writes == [(rel(fakefs, "pids", "pids.max"), content)]


def test_blkio_files(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "blkio")
    BlkioGroup().set(
        path,
        Resources(
            blkio_weight=500,
            blkio_leaf_weight=300,
            blkio_weight_device=(
                WeightDevice(major=8, minor=0, weight=400, leaf_weight=200),
                WeightDevice(major=8, minor=16, weight=100),
            ),
            blkio_throttle_read_bps_device=(ThrottleDevice(major=8, minor=0, rate=1048576),),
            blkio_throttle_write_bps_device=(ThrottleDevice(major=8, minor=0, rate=2097152),),
            blkio_throttle_read_iops_device=(ThrottleDevice(major=8, minor=0, rate=100),),
            blkio_throttle_write_iops_device=(ThrottleDevice(major=8, minor=0, rate=200),),
        ),
    )
    assert [(p.removeprefix("blkio/c1/"), d) for p, d in fakefs.writes] == [
        ("blkio.weight", "500"),
        ("blkio.leaf_weight", "300"),
        ("blkio.weight_device", "8:0 400"),
        ("blkio.leaf_weight_device", "8:0 200"),
        ("blkio.weight_device", "8:16 100"),
        ("blkio.throttle.read_bps_device", "8:0 1048576"),
        ("blkio.throttle.write_bps_device", "8:0 2097152"),
        ("blkio.throttle.read_iops_device", "8:0 100"),
        ("blkio.throttle.write_iops_device", "8:0 200"),
    ]


def test_blkio_bfq_weight_files(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "blkio")
    fakefs.root.joinpath("blkio/c1/blkio.weight").unlink()
    fakefs.root.joinpath("blkio/c1/blkio.bfq.weight").write_text("100\n")
    fakefs.root.joinpath("blkio/c1/blkio.bfq.weight_device").write_text("")
    BlkioGroup().set(
        path,
        Resources(
            blkio_weight=500, blkio_weight_device=(WeightDevice(major=8, minor=0, weight=9),)
        ),
    )
    assert fakefs.files_written() == ["blkio.bfq.weight", "blkio.bfq.weight_device"]


def test_hugetlb_limits(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "hugetlb")
    HugetlbGroup(("2MB",)).set(
        path, Resources(hugetlb_limit=(HugepageLimit(page_size="2MB", limit=4194304),))
    )
    assert fakefs.writes == [(rel(fakefs, "hugetlb", "hugetlb.2MB.limit_in_bytes"), "4194304")]
    with pytest.raises(CgroupFileError, match=r"failed to write '1' to .*hugetlb\.1GB"):
        HugetlbGroup().set(
            path, Resources(hugetlb_limit=(HugepageLimit(page_size="1GB", limit=1),))
        )


def test_net_cls_and_net_prio(fakefs: FakeCgroupfs) -> None:
    NetClsGroup().set(cgroup_dir(fakefs, "net_cls"), Resources(net_cls_classid=0x100001))
    NetPrioGroup().set(
        cgroup_dir(fakefs, "net_prio"),
        Resources(
            net_prio_ifpriomap=(
                IfPrioMap(interface="eth0", priority=5),
                IfPrioMap(interface="lo", priority=1),
            )
        ),
    )
    assert fakefs.writes == [
        ("net_cls/c1/net_cls.classid", "1048577"),
        ("net_prio/c1/net_prio.ifpriomap", "eth0 5"),
        ("net_prio/c1/net_prio.ifpriomap", "lo 1"),
    ]


def test_rdma_max(fakefs: FakeCgroupfs) -> None:
    RdmaGroup().set(
        cgroup_dir(fakefs, "rdma"),
        Resources(
            rdma={
                "mlx5_0": LinuxRdma(hca_handles=3, hca_objects=100),
                "mlx5_1": LinuxRdma(hca_objects=7),
                "mlx5_2": LinuxRdma(),
            }
        ),
    )
    assert fakefs.writes_to("rdma.max") == [
        "mlx5_0 hca_handle=3 hca_object=100",
        "mlx5_1 hca_object=7",
        "mlx5_2",
    ]


# -- freezer ------------------------------------------------------------------------------


def test_freezer_freeze_and_thaw(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "freezer")
    FreezerGroup().set(path, Resources(freezer=FreezerState.FROZEN))
    assert fakefs.writes == [("freezer/c1/freezer.state", "FROZEN")]
    assert get_state(path) == FreezerState.FROZEN
    freeze(path, FreezerState.THAWED)
    assert get_state(path) == FreezerState.THAWED


def test_freezer_polls_until_frozen(fakefs: FakeCgroupfs, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cgroup_dir(fakefs, "freezer")

    states = iter(["FREEZING", "FREEZING", "FROZEN"])
    monkeypatch.setattr(
        fscommon, "read_string", lambda d, n: next(states) if n == "freezer.state" else "0"
    )
    monkeypatch.setattr("libcontainer.cgroups.fs.freezer.time.sleep", lambda _s: None)
    freeze(path, FreezerState.FROZEN)
    assert fakefs.writes_to("freezer.state") == ["FROZEN"] * 3


def test_freezer_stuck_thaws_back(fakefs: FakeCgroupfs, monkeypatch: pytest.MonkeyPatch) -> None:
    path = cgroup_dir(fakefs, "freezer")

    monkeypatch.setattr(fscommon, "read_string", lambda d, n: "FREEZING")
    monkeypatch.setattr("libcontainer.cgroups.fs.freezer.time.sleep", lambda _s: None)
    with pytest.raises(CgroupError, match=r"unable to freeze .* stayed FREEZING"):
        freeze(path, FreezerState.FROZEN)
    written = fakefs.writes_to("freezer.state")
    assert written.count("FROZEN") == 1000
    assert written[-1] == "THAWED"
    assert written[49] == "THAWED"  # the occasional thaw of runc's recipe


def test_freezer_invalid_state(fakefs: FakeCgroupfs) -> None:
    with pytest.raises(CgroupError, match="invalid freezer state 'PAUSED'"):
        freeze(cgroup_dir(fakefs, "freezer"), "PAUSED")


def test_freezer_state_via_parent_and_without_file(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "freezer")
    fakefs.root.joinpath("freezer/c1/freezer.state").write_text("FROZEN\n")
    fakefs.root.joinpath("freezer/c1/freezer.self_freezing").write_text("0\n")
    assert get_state(path) == FreezerState.THAWED  # frozen only because a parent is
    assert get_state(str(fakefs.mountpoint("freezer"))) == FreezerState.UNDEFINED


# -- devices ------------------------------------------------------------------------------


def rules(*specs: tuple[str, int, int, str, bool]) -> tuple[DeviceRule, ...]:
    return tuple(
        DeviceRule(type=DeviceType(t), major=ma, minor=mi, permissions=p, allow=a)
        for t, ma, mi, p, a in specs
    )


def test_devices_new_cgroup(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "devices")
    wanted = rules(
        ("a", -1, -1, "rwm", False), ("c", 1, 3, "rwm", True), ("c", 136, -1, "rw", True)
    )
    DevicesGroup().set(path, Resources(devices=wanted))
    assert fakefs.writes == [
        ("devices/c1/devices.deny", "a *:* rwm"),
        ("devices/c1/devices.allow", "c 1:3 rwm"),
        ("devices/c1/devices.allow", "c 136:* rw"),
    ]
    assert fakefs.read("devices/c1/devices.list") == "c 1:3 rwm\nc 136:* rw\n"
    fakefs.writes.clear()
    DevicesGroup().set(path, Resources(devices=wanted))  # already there: nothing to write
    assert fakefs.writes == []


def test_devices_mismatch_after_write_is_an_error(
    fakefs: FakeCgroupfs, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = cgroup_dir(fakefs, "devices")

    def ignoring_kernel(directory: str, name: str, data: str) -> None:
        """A kernel that accepts writes but keeps the list unchanged."""

    monkeypatch.setattr(fscommon, "write_file", ignoring_kernel)
    with pytest.raises(CgroupError, match="does not match the wanted rules"):
        DevicesGroup().set(path, Resources(devices=rules(("c", 1, 3, "rwm", True))))
    fakefs.root.joinpath("devices/c1/devices.list").write_text("c 1:3 rwm\n")
    with pytest.raises(CgroupError, match="not in the wanted"):
        DevicesGroup().set(path, Resources(devices=rules(("a", -1, -1, "rwm", True))))


def test_devices_skipped(fakefs: FakeCgroupfs) -> None:
    path = cgroup_dir(fakefs, "devices")
    DevicesGroup(in_userns=True).set(path, Resources(devices=rules(("c", 1, 3, "rwm", True))))
    DevicesGroup().set(path, Resources(devices=rules(("c", 1, 3, "rwm", True)), skip_devices=True))
    assert fakefs.writes == []
    DevicesGroup().apply(path, Resources(skip_devices=True), 42)
    assert fakefs.writes == []
    with pytest.raises(CgroupError, match="devices cgroup is not available"):
        DevicesGroup().apply("", Resources(), 42)
