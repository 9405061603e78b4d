"""The v2 (fs2) manager end to end on a fake unified tree."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from cgroupfs2_fake import FakeCgroupfs2, fakefs2

from libcontainer.cgroups import CgroupMode, Manager, fscommon, new_manager
from libcontainer.cgroups.fs2 import Fs2Manager, UnifiedStats
from libcontainer.cgroups.fs2 import freezer as fs2_freezer
from libcontainer.cgroups.fs2.paths import default_dir_path
from libcontainer.configs import Cgroup, FreezerState, Resources
from libcontainer.errors import CgroupError

__all__ = ["fakefs2"]  # the fixture, imported for pytest

ALL = "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc"


def manager(fake: FakeCgroupfs2, **cgroup: object) -> Fs2Manager:
    m = new_manager(Cgroup(**cgroup), host=fake.host())  # type: ignore[arg-type]
    assert isinstance(m, Fs2Manager)
    return m


def dirs_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()}


def test_unified_host_selects_fs2_and_satisfies_the_protocol(fakefs2: FakeCgroupfs2) -> None:
    assert fakefs2.host().mode is CgroupMode.UNIFIED
    m: Manager = manager(fakefs2, name="c1")
    assert m.get_cgroups().name == "c1"


def test_relative_path_goes_next_to_our_own_cgroup(fakefs2: FakeCgroupfs2) -> None:
    host = fakefs2.host()
    mp = str(fakefs2.mountpoint)
    # Our own cgroup has processes; its parent is where runc puts relative paths.
    assert default_dir_path(Cgroup(name="c1"), host) == f"{mp}/user.slice/c1"
    assert default_dir_path(Cgroup(parent="pod", name="c1"), host) == f"{mp}/user.slice/pod/c1"
    assert default_dir_path(Cgroup(path="/machine/c1"), host) == f"{mp}/machine/c1"
    assert default_dir_path(Cgroup(path="../../../etc"), host) == f"{mp}/user.slice/etc"
    with pytest.raises(CgroupError, match="either path, or name and parent"):
        default_dir_path(Cgroup(path="/a", name="b"), host)


def test_hybrid_host_places_the_cgroup_under_unified(tmp_path: Path) -> None:
    fake = FakeCgroupfs2(tmp_path / "cg", hybrid=True, own="/")
    host = fake.host()
    assert host.mode is CgroupMode.HYBRID
    assert Fs2Manager(Cgroup(name="c1"), host=host).get_paths() == {"": f"{tmp_path}/cg/unified/c1"}


def test_paths_from_state_are_used_as_given(fakefs2: FakeCgroupfs2) -> None:
    m = new_manager(Cgroup(name="c1"), {"": "/sys/fs/cgroup/x"}, host=fakefs2.host())
    assert m.get_paths() == {"": "/sys/fs/cgroup/x"}
    assert m.path("memory") == "/sys/fs/cgroup/x"
    with pytest.raises(CgroupError, match="no cgroup v2 path"):
        new_manager(Cgroup(name="c1"), {"memory": "/x"}, host=fakefs2.host())


def test_apply_enables_controllers_down_the_tree_and_joins(fakefs2: FakeCgroupfs2) -> None:
    before = dirs_under(fakefs2.mountpoint)
    m = manager(fakefs2, path="/machine/pod/c1")
    m.apply(4242)
    assert fakefs2.writes == [
        ("cgroup.subtree_control", ALL),
        ("machine/cgroup.subtree_control", ALL),
        ("machine/pod/cgroup.subtree_control", ALL),
        ("machine/pod/c1/cgroup.procs", "4242"),
    ]
    assert fakefs2.read("machine/pod/c1/cgroup.controllers").split() == ALL.replace("+", "").split()
    assert m.get_pids() == [4242]
    assert m.get_all_pids() == [4242]
    assert m.exists()
    # destroy kills what is left (cgroup.kill) and removes the container's own cgroup; the
    # parent levels apply had to create stay, as with runc (they may be shared: a pod's).
    m.destroy()
    assert fakefs2.writes_to("cgroup.kill") == ["1"]
    assert dirs_under(fakefs2.mountpoint) == before | {"machine", "machine/pod"}
    assert not m.exists()
    m.destroy()


def test_apply_enables_what_it_can_one_by_one(fakefs2: FakeCgroupfs2) -> None:
    # A controller the root offers but a parent cannot enable (e.g. not delegated).
    (fakefs2.mountpoint / "cgroup.controllers").write_text("cpu memory bogus\n")
    m = manager(fakefs2, path="/a/c1")
    m.apply(-1)
    assert fakefs2.writes_to("a/cgroup.subtree_control") == [
        "+cpu +memory +bogus",
        "+cpu",
        "+memory",
        "+bogus",
    ]
    assert fakefs2.read("a/c1/cgroup.controllers").split() == ["cpu", "memory"]


def test_destroy_keeps_shared_parents(fakefs2: FakeCgroupfs2) -> None:
    first = manager(fakefs2, path="/machine/c1")
    second = manager(fakefs2, path="/machine/c2")
    first.apply(-1)
    second.apply(-1)
    first.destroy()
    assert (fakefs2.mountpoint / "machine/c2").is_dir()
    second.destroy()
    # first created /machine but it was busy when first was destroyed; runc leaves it too.
    assert (fakefs2.mountpoint / "machine").is_dir()


def test_apply_refuses_domain_controllers_in_threaded_trees(fakefs2: FakeCgroupfs2) -> None:
    m = manager(fakefs2, path="/t/c1", resources=Resources(memory=1 << 20))
    (fakefs2.mountpoint / "t").mkdir()
    (fakefs2.mountpoint / "t/cgroup.type").write_text("threaded\n")
    (fakefs2.mountpoint / "t/cgroup.subtree_control").write_text("")
    (fakefs2.mountpoint / "t/cgroup.controllers").write_text("")
    with pytest.raises(CgroupError, match="in threaded mode"):
        m.apply(-1)
    assert not (fakefs2.mountpoint / "t/c1").exists()  # cleaned up


def test_domain_invalid_becomes_threaded_without_domain_controllers(
    fakefs2: FakeCgroupfs2,
) -> None:
    (fakefs2.mountpoint / "cgroup.subtree_control").write_text("pids\n")
    (fakefs2.mountpoint / "d").mkdir()
    for name, content in {
        "cgroup.type": "domain invalid\n",
        "cgroup.subtree_control": "",
        "cgroup.controllers": "pids\n",
    }.items():
        (fakefs2.mountpoint / "d" / name).write_text(content)
    manager(fakefs2, path="/d/c1", resources=Resources(pids_limit=5)).apply(-1)
    assert fakefs2.writes_to("d/cgroup.type") == ["threaded"]


def test_join_only_paths_are_never_changed(fakefs2: FakeCgroupfs2) -> None:
    target = fakefs2.mountpoint / "user.slice/session-1.scope"
    m = manager(fakefs2, paths={"": str(target)})
    m.apply(77)
    m.set(Resources(pids_limit=3))
    m.destroy()
    assert fakefs2.writes == [("user.slice/session-1.scope/cgroup.procs", "77")]
    assert target.is_dir()


def test_freeze_waits_for_the_kernel_and_records_the_state(
    fakefs2: FakeCgroupfs2, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = manager(fakefs2, name="c1")
    m.apply(4242)
    assert m.get_freezer_state() is FreezerState.THAWED
    fakefs2.frozen_after_reads = 3
    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            events = Path(m.path(""), "cgroup.events")
            events.write_text(events.read_text().replace("frozen 0", "frozen 1"))

    monkeypatch.setattr(fs2_freezer.time, "sleep", fake_sleep)
    m.freeze(FreezerState.FROZEN)
    assert sleeps == [0.01] * 3
    assert fakefs2.writes_to("cgroup.freeze") == ["1"]
    assert m.get_freezer_state() is FreezerState.FROZEN
    assert m.get_cgroups().resources.freezer is FreezerState.FROZEN
    fakefs2.frozen_after_reads = 0
    m.freeze(FreezerState.THAWED)
    assert m.get_freezer_state() is FreezerState.THAWED
    fakefs2.exit(4242)
    m.destroy()


def test_freeze_times_out_when_the_cgroup_never_freezes(
    fakefs2: FakeCgroupfs2, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = manager(fakefs2, name="c1")
    m.apply(-1)
    fakefs2.frozen_after_reads = 1
    monkeypatch.setattr(fs2_freezer.time, "sleep", lambda _s: None)
    with pytest.raises(CgroupError, match=r"waiting for .* to freeze"):
        m.freeze(FreezerState.FROZEN)
    with pytest.raises(CgroupError, match="invalid freezer state"):
        m.freeze("PAUSED")  # type: ignore[arg-type]


def test_freezer_state_is_undefined_without_cgroup_freeze(fakefs2: FakeCgroupfs2) -> None:
    m = manager(fakefs2, name="c1")
    m.apply(-1)
    Path(m.path(""), "cgroup.freeze").unlink()
    assert m.get_freezer_state() is FreezerState.UNDEFINED
    m.freeze(FreezerState.THAWED)  # nothing to thaw: fine
    with pytest.raises(CgroupError, match="freezer not supported"):
        m.freeze(FreezerState.FROZEN)


def test_oom_kill_count_reads_memory_events(fakefs2: FakeCgroupfs2) -> None:
    m = manager(fakefs2, name="c1")
    assert m.oom_kill_count() == 0  # not created yet
    m.apply(-1)
    Path(m.path(""), "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n")
    assert m.oom_kill_count() == 2


def test_apply_to_sub_cgroup(fakefs2: FakeCgroupfs2) -> None:
    m = manager(fakefs2, name="c1")
    m.apply(10)
    fakefs2.mkdir(m.path("") + "/sub")
    m.apply_to_sub_cgroup(11, "sub")
    assert fakefs2.read("user.slice/c1/sub/cgroup.procs") == "11\n"
    assert sorted(m.get_all_pids()) == [10, 11]
    m.apply_to_sub_cgroup(11)
    assert sorted(m.get_pids()) == [10, 11]
    with pytest.raises(CgroupError, match="does not exist"):
        m.apply_to_sub_cgroup(11, "nope")
    with pytest.raises(CgroupError, match="must be relative"):
        m.apply_to_sub_cgroup(11, "../x")
    with pytest.raises(CgroupError, match="single hierarchy"):
        m.apply_to_sub_cgroup(11, "sub", subsystems=["memory"])
    m.destroy()
    assert not (fakefs2.mountpoint / "user.slice/c1").exists()


def test_rootless_without_permission_and_without_limits_runs_without_cgroup(
    fakefs2: FakeCgroupfs2, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: str) -> bool:
        raise fscommon.CgroupFileError("no", path=path, errno=errno.EACCES)

    monkeypatch.setattr(fscommon, "mkdir", refuse)
    m = manager(fakefs2, name="c1", rootless=True)
    m.apply(5)  # no error: nothing needed a cgroup
    limited = manager(fakefs2, name="c2", rootless=True, resources=Resources(pids_limit=3))
    with pytest.raises(CgroupError, match="rootless needs no limits"):
        limited.apply(5)
    with pytest.raises(fscommon.CgroupFileError):
        manager(fakefs2, name="c3").apply(5)  # not rootless: the error stands


def test_stats_read_every_v2_file(fakefs2: FakeCgroupfs2) -> None:
    m = manager(fakefs2, name="c1")
    m.apply(-1)
    d = Path(m.path(""))
    (d / "pids.current").write_text("3\n")
    (d / "pids.max").write_text("100\n")
    (d / "memory.stat").write_text("anon 1000\nfile 300\nkernel_stack 16384\n")
    (d / "memory.current").write_text("4096\n")
    (d / "memory.max").write_text("8192\n")
    (d / "memory.swap.current").write_text("10\n")
    (d / "memory.swap.max").write_text("max\n")
    (d / "memory.events").write_text("low 0\nhigh 1\nmax 7\noom 1\noom_kill 1\n")
    (d / "memory.numa_stat").write_text("anon N0=1000 N1=24\nfile N0=300 N1=0\nshmem N0=0\n")
    (d / "cpu.stat").write_text(
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\n"
        "nr_throttled 2\nthrottled_usec 30\n"
    )
    (d / "io.stat").write_text("8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n")
    (d / "hugetlb.2MB.current").write_text("2097152\n")
    (d / "hugetlb.2MB.events").write_text("max 5\n")
    (d / "cpu.pressure").write_text(
        "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"
    )
    Path(d, "memory.pressure").unlink()  # a kernel without memory PSI reads as None
    st = m.get_stats()
    assert isinstance(st, UnifiedStats)
    assert (st.pids_stats.current, st.pids_stats.limit) == (3, 100)
    mem = st.memory_stats
    assert mem.stats == {"anon": 1000, "file": 300, "kernel_stack": 16384}
    assert mem.cache == 300
    assert mem.use_hierarchy
    assert (mem.usage.usage, mem.usage.limit, mem.usage.failcnt) == (4096, 8192, 7)
    # v1 reports swap as memory+swap; the limit stays "max".
    assert (mem.swap_usage.usage, mem.swap_usage.limit) == (4106, 2**64 - 1)
    assert mem.page_usage_by_numa.anon.nodes == {0: 1000, 1: 24}
    assert mem.page_usage_by_numa.total.total == 1324
    cpu = st.cpu_stats
    assert cpu.cpu_usage.total_usage == 1_500_000
    assert cpu.cpu_usage.usage_in_usermode == 1_000_000
    assert cpu.cpu_usage.usage_in_kernelmode == 500_000
    assert (cpu.throttling_data.periods, cpu.throttling_data.throttled_periods) == (4, 2)
    assert cpu.throttling_data.throttled_time == 30_000
    blkio = st.blkio_stats
    assert [(e.op, e.value) for e in blkio.io_service_bytes_recursive] == [
        ("Read", 100),
        ("Write", 200),
    ]
    assert [(e.major, e.minor, e.op, e.value) for e in blkio.io_serviced_recursive] == [
        (8, 0, "Read", 3),
        (8, 0, "Write", 4),
    ]
    assert st.hugetlb_stats["2MB"].usage == 2097152
    assert st.hugetlb_stats["2MB"].failcnt == 5
    assert st.cpu_pressure is not None
    assert st.cpu_pressure.some.avg10 == 1.5
    assert st.cpu_pressure.some.total == 12345
    assert st.cpu_pressure.full.total == 7
    assert st.memory_pressure is None
    assert st.io_pressure is not None
    assert st.memory_events["oom_kill"] == 1


def test_stats_without_controllers_count_processes(fakefs2: FakeCgroupfs2) -> None:
    (fakefs2.mountpoint / "cgroup.controllers").write_text("")
    m = manager(fakefs2, name="c1")
    m.apply(31)
    st = m.get_stats()
    assert st.pids_stats.current == 1
    assert st.memory_stats.usage.usage == 0
    assert st.memory_events == {}
    fakefs2.exit(31)
    m.destroy()
