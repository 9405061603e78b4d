"""Statistics parsed from the control files of every controller."""

from __future__ import annotations

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups.fs.blkio import BlkioGroup
from libcontainer.cgroups.fs.cpu import CpuGroup
from libcontainer.cgroups.fs.cpuacct import CpuacctGroup
from libcontainer.cgroups.fs.cpuset import CpusetGroup, parse_cpuset_list
from libcontainer.cgroups.fs.hugetlb import HugetlbGroup
from libcontainer.cgroups.fs.memory import MemoryGroup
from libcontainer.cgroups.fs.pids import PidsGroup
from libcontainer.cgroups.fs.rdma import RdmaGroup
from libcontainer.cgroups.stats import BlkioStatEntry, HugetlbStats, RdmaEntry, Stats
from libcontainer.errors import CgroupError


def prepared(fake: FakeCgroupfs, controller: str, files: dict[str, str]) -> str:
    path = fake.mountpoint(controller) / "c1"
    fake.mkdir(str(path))
    for name, content in files.items():
        (path / name).write_text(content)
    return str(path)


def test_memory_stats(fakefs: FakeCgroupfs) -> None:
    path = prepared(
        fakefs,
        "memory",
        {
            "memory.stat": "cache 8192\nrss 4096\ntotal_rss 4096\n",
            "memory.usage_in_bytes": "12288\n",
            "memory.max_usage_in_bytes": "20480\n",
            "memory.failcnt": "2\n",
            "memory.limit_in_bytes": "104857600\n",
            "memory.memsw.usage_in_bytes": "13000\n",
            "memory.kmem.limit_in_bytes": "9223372036854771712\n",
            "memory.numa_stat": (
                "total=3 N0=1 N1=2\nfile=1 N0=1 N1=0\nanon=2 N0=0 N1=2\n"
                "unevictable=0 N0=0 N1=0\nhierarchical_total=5 N0=2 N1=3\n"
                "numa_locality 0 0 0\nhierarchical_new_thing=1 N0=1\n"
            ),
        },
    )
    stats = Stats()
    MemoryGroup().get_stats(path, stats)
    m = stats.memory_stats
    assert m.stats == {"cache": 8192, "rss": 4096, "total_rss": 4096}
    assert m.cache == 8192
    assert (m.usage.usage, m.usage.max_usage, m.usage.failcnt, m.usage.limit) == (
        12288,
        20480,
        2,
        104857600,
    )
    assert m.swap_usage.usage == 13000
    assert m.kernel_usage.limit == 9223372036854771712
    assert m.use_hierarchy is True
    numa = m.page_usage_by_numa
    assert (numa.total.total, numa.total.nodes) == (3, {0: 1, 1: 2})
    assert numa.anon.nodes == {0: 0, 1: 2}
    assert numa.hierarchical.total.total == 5


def test_memory_stats_without_swap_and_kmem_accounting(fakefs: FakeCgroupfs) -> None:
    path = prepared(fakefs, "memory", {})
    for name in ("memsw", "kmem", "kmem.tcp"):
        (fakefs.mountpoint("memory") / "c1" / f"memory.{name}.usage_in_bytes").unlink()
    (fakefs.mountpoint("memory") / "c1" / "memory.numa_stat").unlink()
    stats = Stats()
    MemoryGroup().get_stats(path, stats)
    assert stats.memory_stats.swap_usage.usage == 0


def test_memory_stats_errors(fakefs: FakeCgroupfs) -> None:
    path = prepared(fakefs, "memory", {"memory.stat": "cache\n"})
    with pytest.raises(CgroupError, match="not in 'key value' format"):
        MemoryGroup().get_stats(path, Stats())
    path = prepared(fakefs, "memory", {"memory.stat": "", "memory.numa_stat": "total=1 X0=1\n"})
    with pytest.raises(CgroupError, match="malformed line"):
        MemoryGroup().get_stats(path, Stats())
    (fakefs.mountpoint("memory") / "c1" / "memory.usage_in_bytes").unlink()
    with pytest.raises(CgroupError, match=r"memory\.usage_in_bytes"):
        MemoryGroup().get_stats(path, Stats())


def test_cpu_and_cpuacct_stats(fakefs: FakeCgroupfs) -> None:
    cpu = prepared(
        fakefs, "cpu", {"cpu.stat": "nr_periods 10\nnr_throttled 3\nthrottled_time 99\n"}
    )
    cpuacct = prepared(
        fakefs,
        "cpuacct",
        {
            "cpuacct.usage": "3000000000\n",
            "cpuacct.usage_percpu": "1000000000 2000000000 \n",
            "cpuacct.stat": "user 150\nsystem 50\n",
            "cpuacct.usage_all": "cpu user system\n0 700 300\n1 1500 500\n",
        },
    )
    stats = Stats()
    CpuGroup().get_stats(cpu, stats)
    CpuacctGroup().get_stats(cpuacct, stats)
    t = stats.cpu_stats.throttling_data
    assert (t.periods, t.throttled_periods, t.throttled_time) == (10, 3, 99)
    u = stats.cpu_stats.cpu_usage
    assert u.total_usage == 3000000000
    assert u.percpu_usage == [1000000000, 2000000000]
    assert u.usage_in_usermode == 1_500_000_000  # 150 ticks of 10ms
    assert u.usage_in_kernelmode == 500_000_000
    assert u.percpu_usage_in_usermode == [700, 1500]
    assert u.percpu_usage_in_kernelmode == [300, 500]


def test_cpuacct_stat_malformed(fakefs: FakeCgroupfs) -> None:
    path = prepared(fakefs, "cpuacct", {"cpuacct.stat": "system 1\nuser 2\n"})
    with pytest.raises(CgroupError, match=r"unexpected content in .*cpuacct\.stat"):
        CpuacctGroup().get_stats(path, Stats())


def test_cpuset_stats(fakefs: FakeCgroupfs) -> None:
    path = prepared(fakefs, "cpuset", {"cpuset.cpus": "0-2,7\n", "cpuset.mems": "0\n"})
    (fakefs.mountpoint("cpuset") / "c1" / "cpuset.memory_pressure").unlink()
    stats = Stats()
    CpusetGroup().get_stats(path, stats)
    assert stats.cpuset_stats.cpus == [0, 1, 2, 7]
    assert stats.cpuset_stats.mems == [0]
    assert stats.cpuset_stats.sched_load_balance == 1
    assert stats.cpuset_stats.sched_relax_domain_level == -1


@pytest.mark.parametrize("text", ["", "3-1", "1-2-3", "a"])
def test_parse_cpuset_list_errors(text: str) -> None:
    with pytest.raises(CgroupError):
        parse_cpuset_list(text, path="cpuset.cpus")


def test_pids_stats(fakefs: FakeCgroupfs) -> None:
    path = prepared(fakefs, "pids", {"pids.current": "3\n"})
    stats = Stats()
    PidsGroup().get_stats(path, stats)
    assert (stats.pids_stats.current, stats.pids_stats.limit) == (3, 0)  # max reads as 0
    (fakefs.mountpoint("pids") / "c1" / "pids.max").write_text("20\n")
    PidsGroup().get_stats(path, stats)
    assert stats.pids_stats.limit == 20


def test_blkio_stats_prefer_the_first_available_family(fakefs: FakeCgroupfs) -> None:
    path = prepared(
        fakefs,
        "blkio",
        {
            "blkio.throttle.io_service_bytes_recursive": (
                "8:0 Read 1024\n8:0 Write 2048\n8:0 Total 3072\nTotal 3072\n"
            ),
            "blkio.throttle.io_serviced_recursive": "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
        },
    )
    stats = Stats()
    BlkioGroup().get_stats(path, stats)
    assert stats.blkio_stats.io_service_bytes_recursive == [
        BlkioStatEntry(major=8, minor=0, op="Read", value=1024),
        BlkioStatEntry(major=8, minor=0, op="Write", value=2048),
        BlkioStatEntry(major=8, minor=0, op="Total", value=3072),
    ]
    assert len(stats.blkio_stats.io_serviced_recursive) == 2
    # With BFQ files present, those win.
    (fakefs.mountpoint("blkio") / "c1" / "blkio.bfq.io_serviced_recursive").write_text(
        "8:16 Read 5\n"
    )
    (fakefs.mountpoint("blkio") / "c1" / "blkio.bfq.io_service_bytes_recursive").write_text(
        "8:16 Read 4096\n"
    )
    stats = Stats()
    BlkioGroup().get_stats(path, stats)
    assert stats.blkio_stats.io_serviced_recursive == [BlkioStatEntry(8, 16, "Read", 5)]


def test_blkio_stats_sectors_line_and_garbage(fakefs: FakeCgroupfs) -> None:
    path = prepared(
        fakefs,
        "blkio",
        {
            "blkio.sectors_recursive": "8:0 6792\n",
            **{
                f"blkio.{n}_recursive": ""
                for n in (
                    "io_service_time",
                    "io_wait_time",
                    "io_merged",
                    "io_queued",
                    "time",
                    "io_serviced",
                    "io_service_bytes",
                )
            },
        },
    )
    stats = Stats()
    BlkioGroup().get_stats(path, stats)
    assert stats.blkio_stats.sectors_recursive == [BlkioStatEntry(8, 0, "", 6792)]
    (fakefs.mountpoint("blkio") / "c1" / "blkio.sectors_recursive").write_text("8 0\n")
    with pytest.raises(CgroupError, match="invalid line"):
        BlkioGroup().get_stats(path, Stats())


def test_hugetlb_stats(fakefs: FakeCgroupfs) -> None:
    path = prepared(fakefs, "hugetlb", {"hugetlb.2MB.usage_in_bytes": "2097152\n"})
    stats = Stats()
    HugetlbGroup(("2MB",)).get_stats(path, stats)
    assert stats.hugetlb_stats == {"2MB": HugetlbStats(usage=2097152, max_usage=0, failcnt=0)}


def test_rdma_stats(fakefs: FakeCgroupfs) -> None:
    path = prepared(
        fakefs,
        "rdma",
        {
            "rdma.max": "mlx5_0 hca_handle=max hca_object=100\nbad line\n",
            "rdma.current": "mlx5_0 hca_handle=2 hca_object=5\n",
        },
    )
    stats = Stats()
    RdmaGroup().get_stats(path, stats)
    assert stats.rdma_stats.rdma_limit == [RdmaEntry("mlx5_0", 2**32 - 1, 100)]
    assert stats.rdma_stats.rdma_current == [RdmaEntry("mlx5_0", 2, 5)]
