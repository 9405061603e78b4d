"""Every v2 resource -> file mapping and conversion, on a fake unified tree."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from cgroupfs2_fake import FakeCgroupfs2, fakefs2

from libcontainer.cgroups import new_manager
from libcontainer.cgroups.fs2 import Fs2Manager
from libcontainer.cgroups.fs2.convert import (
    blkio_weight_to_io_weight,
    cpu_shares_to_weight,
    memory_swap_to_v2,
    num_to_str,
)
from libcontainer.configs import (
    Cgroup,
    DeviceRule,
    DeviceType,
    FreezerState,
    HugepageLimit,
    Resources,
)
from libcontainer.configs.cgroup import LinuxRdma, ThrottleDevice, WeightDevice
from libcontainer.errors import CgroupError

__all__ = ["fakefs2"]

MiB = 1024 * 1024


def applied(fake: FakeCgroupfs2, **resources: object) -> tuple[Fs2Manager, Path]:
    m = new_manager(Cgroup(name="c1"), host=fake.host())
    assert isinstance(m, Fs2Manager)
    m.apply(-1)
    fake.writes.clear()
    return m, Path(m.path(""))


@pytest.mark.parametrize(
    ("shares", "weight"),
    [(0, 0), (2, 1), (1024, 39), (512, 20), (262144, 10000), (100000, 3815)],
)
def test_cpu_shares_to_weight(shares: int, weight: int) -> None:
    assert cpu_shares_to_weight(shares) == weight


@pytest.mark.parametrize(("blkio", "io"), [(0, 0), (10, 1), (500, 4950), (1000, 10000)])
def test_blkio_weight_to_io_weight(blkio: int, io: int) -> None:
    assert blkio_weight_to_io_weight(blkio) == io


@pytest.mark.parametrize(
    ("swap", "memory", "v2"),
    [(0, -1, -1), (0, 0, 0), (-1, 100, -1), (0, 100, 0), (300, 100, 200), (100, 100, 0)],
)
def test_memory_swap_to_v2(swap: int, memory: int, v2: int) -> None:
    assert memory_swap_to_v2(swap, memory) == v2


@pytest.mark.parametrize(
    ("swap", "memory", "message"),
    [
        (200, 0, "without a memory limit"),
        (200, -1, "without a memory limit"),
        (200, -5, "invalid memory limit"),
        (50, 100, "must be at least the memory limit"),
    ],
)
def test_memory_swap_to_v2_errors(swap: int, memory: int, message: str) -> None:
    with pytest.raises(CgroupError, match=message):
        memory_swap_to_v2(swap, memory)


def test_num_to_str() -> None:
    assert [num_to_str(v) for v in (0, -1, 42)] == ["", "max", "42"]


def test_every_resource_lands_in_its_file_in_runc_order(fakefs2: FakeCgroupfs2) -> None:
    m, d = applied(fakefs2)
    (d / "io.bfq.weight").write_text("default 100\n")  # bfq scheduler present
    rules = (DeviceRule(type=DeviceType("a"), major=-1, minor=-1, permissions="rwm"),)
    m.set(
        Resources(
            devices=rules,
            pids_limit=64,
            memory=64 * MiB,
            memory_swap=96 * MiB,
            memory_reservation=32 * MiB,
            blkio_weight=300,
            blkio_weight_device=(WeightDevice(major=8, minor=0, weight=200),),
            blkio_throttle_read_bps_device=(ThrottleDevice(major=8, minor=0, rate=1000),),
            blkio_throttle_write_bps_device=(ThrottleDevice(major=8, minor=0, rate=2000),),
            blkio_throttle_read_iops_device=(ThrottleDevice(major=8, minor=16, rate=30),),
            blkio_throttle_write_iops_device=(ThrottleDevice(major=8, minor=16, rate=40),),
            cpu_shares=1024,
            cpu_quota=20000,
            cpu_period=50000,
            cpuset_cpus="0-1",
            cpuset_mems="0",
            hugetlb_limit=(HugepageLimit(page_size="2MB", limit=4 * MiB),),
            rdma={"mlx5_1": LinuxRdma(hca_handles=3, hca_objects=100)},
            freezer=FreezerState.THAWED,
            unified={"memory.high": "50331648", "pids.max": "60"},
        )
    )
    assert fakefs2.writes == [
        ("user.slice/c1/pids.max", "64"),
        ("user.slice/c1/memory.swap.max", str(32 * MiB)),
        ("user.slice/c1/memory.max", str(64 * MiB)),
        ("user.slice/c1/memory.low", str(32 * MiB)),
        ("user.slice/c1/io.bfq.weight", "300"),
        ("user.slice/c1/io.bfq.weight", "8:0 200"),
        ("user.slice/c1/io.max", "8:0 rbps=1000"),
        ("user.slice/c1/io.max", "8:0 wbps=2000"),
        ("user.slice/c1/io.max", "8:16 riops=30"),
        ("user.slice/c1/io.max", "8:16 wiops=40"),
        ("user.slice/c1/cpu.weight", "39"),
        ("user.slice/c1/cpu.max", "20000 50000"),
        ("user.slice/c1/cpuset.cpus", "0-1"),
        ("user.slice/c1/cpuset.mems", "0"),
        ("user.slice/c1/hugetlb.2MB.max", str(4 * MiB)),
        ("user.slice/c1/rdma.max", "mlx5_1 hca_handle=3 hca_object=100"),
        ("user.slice/c1/cgroup.freeze", "0"),
        ("user.slice/c1/memory.high", "50331648"),
        ("user.slice/c1/pids.max", "60"),
    ]
    assert fakefs2.device_filters == [(str(d), list(rules))]
    assert (d / "io.max").read_text() == (
        "8:0 rbps=1000 wbps=2000 riops=max wiops=max\n8:16 rbps=max wbps=max riops=30 wiops=40\n"
    )
    assert (d / "pids.max").read_text() == "60"
    assert m.get_cgroups().resources.pids_limit == 64


def test_zero_values_write_nothing_but_the_device_filter(fakefs2: FakeCgroupfs2) -> None:
    m, _ = applied(fakefs2)
    m.set(Resources())
    assert fakefs2.writes == []
    assert len(fakefs2.device_filters) == 1  # deny all: an empty rule list
    m.set(Resources(skip_devices=True))
    assert len(fakefs2.device_filters) == 1


@pytest.mark.parametrize(
    ("memory", "swap", "expected"),
    [
        (64 * MiB, 64 * MiB, [("memory.swap.max", "0"), ("memory.max", str(64 * MiB))]),
        (64 * MiB, -1, [("memory.swap.max", "max"), ("memory.max", str(64 * MiB))]),
        (64 * MiB, 0, [("memory.max", str(64 * MiB))]),
        (-1, 0, [("memory.swap.max", "max"), ("memory.max", "max")]),
    ],
)
def test_memory_swap_semantics(
    fakefs2: FakeCgroupfs2, memory: int, swap: int, expected: list[tuple[str, str]]
) -> None:
    m, _ = applied(fakefs2)
    m.set(Resources(memory=memory, memory_swap=swap, skip_devices=True))
    assert [(p.rsplit("/", 1)[1], v) for p, v in fakefs2.writes] == expected


def test_no_swap_accounting_only_accepts_unlimited_swap(fakefs2: FakeCgroupfs2) -> None:
    m, d = applied(fakefs2)
    (d / "memory.swap.max").unlink()
    m.set(Resources(memory=-1, skip_devices=True))  # swap "max" is what we have anyway
    with pytest.raises(CgroupError, match=r"memory\.swap\.max"):
        m.set(Resources(memory=64 * MiB, memory_swap=128 * MiB, skip_devices=True))


def test_memory_limit_below_usage_says_so(fakefs2: FakeCgroupfs2) -> None:
    m, d = applied(fakefs2)
    (d / "memory.current").write_text("999999\n")
    fakefs2.fail["memory.max"] = errno.EBUSY
    with pytest.raises(CgroupError, match="current usage: 999999"):
        m.set(Resources(memory=4096, skip_devices=True))


@pytest.mark.parametrize(
    ("quota", "period", "line"),
    [(50000, 0, "50000 100000"), (0, 20000, "max 20000"), (-1, 10000, "max 10000")],
)
def test_cpu_max(fakefs2: FakeCgroupfs2, quota: int, period: int, line: str) -> None:
    m, _ = applied(fakefs2)
    m.set(Resources(cpu_quota=quota, cpu_period=period, skip_devices=True))
    assert fakefs2.writes_to("cpu.max") == [line]


def test_cpu_weight_wins_over_shares_and_rt_is_refused(fakefs2: FakeCgroupfs2) -> None:
    m, _ = applied(fakefs2)
    m.set(Resources(cpu_shares=1024, cpu_weight=500, skip_devices=True))
    assert fakefs2.writes_to("cpu.weight") == ["500"]
    with pytest.raises(CgroupError, match="real-time cpu limits"):
        m.set(Resources(cpu_rt_runtime=1000, skip_devices=True))


def test_io_weight_without_bfq_is_converted(fakefs2: FakeCgroupfs2) -> None:
    m, _ = applied(fakefs2)
    m.set(Resources(blkio_weight=500, skip_devices=True))
    assert fakefs2.files_written() == ["io.bfq.weight", "io.weight"]
    assert fakefs2.writes_to("io.weight") == ["4950"]


def test_pids_unlimited(fakefs2: FakeCgroupfs2) -> None:
    m, _ = applied(fakefs2)
    m.set(Resources(pids_limit=-1, skip_devices=True))
    assert fakefs2.writes_to("pids.max") == ["max"]


@pytest.mark.parametrize(
    ("unified", "message"),
    [
        ({"../memory.max": "1"}, "must be a file name"),
        ({"memorymax": "1"}, "CONTROLLER.PARAMETER"),
        ({"cgroup.procs": "1"}, "the driver manages that file"),
    ],
)
def test_unified_keys_are_validated(
    fakefs2: FakeCgroupfs2, unified: dict[str, str], message: str
) -> None:
    m, _ = applied(fakefs2)
    with pytest.raises(CgroupError, match=message):
        m.set(Resources(unified=unified, skip_devices=True))
    with pytest.raises(CgroupError, match=message):
        new_manager(Cgroup(name="x", resources=Resources(unified=unified)), host=fakefs2.host())


def test_unified_names_a_missing_controller(fakefs2: FakeCgroupfs2) -> None:
    (fakefs2.mountpoint / "cgroup.controllers").write_text("pids\n")
    m, _ = applied(fakefs2)
    with pytest.raises(CgroupError, match=r"controller 'memory' is not available .* pids"):
        m.set(Resources(unified={"memory.high": "1"}, skip_devices=True))
    with pytest.raises(CgroupError, match=r"unable to set unified resource 'pids\.nope'"):
        m.set(Resources(unified={"pids.nope": "1"}, skip_devices=True))


def test_device_filter_errors_are_ignored_only_when_rootless(
    fakefs2: FakeCgroupfs2, monkeypatch: pytest.MonkeyPatch
) -> None:
    from libcontainer.cgroups import ebpf

    def fail(path: str, rules: object) -> int:
        raise CgroupError("bpf(BPF_PROG_LOAD) failed: Operation not permitted")

    monkeypatch.setattr(ebpf, "load_attach_device_filter", fail)
    m, _ = applied(fakefs2)
    with pytest.raises(CgroupError, match="BPF_PROG_LOAD"):
        m.set(Resources())
    rootless = new_manager(Cgroup(name="r", rootless=True), host=fakefs2.host())
    rootless.apply(-1)
    rootless.set(Resources())
