"""The v1 manager end to end on a fake tree, and the choice of driver."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups import CgroupMode, HostCgroups, Manager, new_manager
from libcontainer.cgroups.fs import FsManager
from libcontainer.configs import Cgroup, FreezerState, Resources
from libcontainer.errors import CgroupError


def manager(fake: FakeCgroupfs, **cgroup: object) -> FsManager:
    cg = Cgroup(**cgroup)  # type: ignore[arg-type]
    m = new_manager(cg, host=fake.host())
    assert isinstance(m, FsManager)
    return m


def dirs_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()}


def test_fs_manager_satisfies_the_protocol(fakefs: FakeCgroupfs) -> None:
    m: Manager = manager(fakefs, name="c1")
    assert m.get_cgroups().name == "c1"


def test_apply_creates_and_joins_every_controller(fakefs: FakeCgroupfs) -> None:
    before = dirs_under(fakefs.root)
    m = manager(fakefs, name="c1")
    m.apply(4242)
    procs = [p for p, _ in fakefs.writes if p.endswith("cgroup.procs")]
    assert procs == [f"{p}/cgroup.procs" for p in [
        "cpuset/c1", "devices/c1", "memory/process_api/abc/c1", "cpu/c1", "cpuacct/c1",
        "pids/c1", "blkio/c1", "hugetlb/c1", "net_cls/c1", "net_prio/c1", "perf_event/c1",
        "freezer/c1", "rdma/c1", "misc/c1", "systemd/c1", "unified/c1",
    ]]  # fmt: skip
    assert fakefs.writes_to("cgroup.procs") == ["4242"] * 16
    assert m.get_pids() == [4242]
    assert m.exists()
    with pytest.raises(CgroupError, match="still busy"):
        m.destroy()  # the process is still in there
    fakefs.exit(4242)
    m.destroy()
    assert dirs_under(fakefs.root) == before
    assert not m.exists()
    m.destroy()  # idempotent


def test_destroy_removes_parents_it_created_but_not_shared_ones(fakefs: FakeCgroupfs) -> None:
    before = dirs_under(fakefs.root)
    first = manager(fakefs, parent="/machine/pod", name="c1")
    second = manager(fakefs, parent="/machine/pod", name="c2")
    first.apply(-1)
    second.apply(-1)
    first.destroy()
    assert (fakefs.root / "memory/machine/pod/c2").is_dir()  # still used by c2
    assert not (fakefs.root / "memory/machine/pod/c1").exists()
    second.destroy()
    # c2's manager did not create /machine/pod, so it stays: runc leaves parents too.
    assert (fakefs.root / "memory/machine/pod").is_dir()
    assert not (fakefs.root / "memory/machine/pod/c2").exists()
    leftover = dirs_under(fakefs.root) - before
    assert leftover and all(d.endswith(("/machine", "/machine/pod")) for d in leftover)


def test_destroy_removes_sub_cgroups(fakefs: FakeCgroupfs) -> None:
    m = manager(fakefs, path="/c1")
    m.apply(-1)
    (fakefs.root / "memory/c1/sub").mkdir()
    m.destroy()
    assert not (fakefs.root / "memory/c1").exists()


def test_apply_failure_keeps_track_of_created_dirs(fakefs: FakeCgroupfs) -> None:
    before = dirs_under(fakefs.root)
    fakefs.fail["memory.limit_in_bytes"] = errno.EINVAL
    m = manager(fakefs, name="c1", resources=Resources(memory=10))
    m.apply(-1)
    with pytest.raises(CgroupError, match="failed to write '10'"):
        m.set(Resources(memory=10))
    fakefs.fail["cgroup.procs"] = errno.ENOSPC
    m2 = manager(fakefs, parent="p", name="c2")
    with pytest.raises(CgroupError, match=r"failed to write '7' to .*cgroup\.procs"):
        m2.apply(7)
    m.destroy()
    m2.destroy()
    # Both containers' own cgroups are gone; the parent level "p" stays (as with runc).
    left = dirs_under(fakefs.root) - before
    assert left and all(d.endswith("/p") or d == "p" for d in left), left


def test_set_writes_every_controller(fakefs: FakeCgroupfs) -> None:
    m = manager(fakefs, name="c1")
    m.apply(-1)
    fakefs.writes.clear()
    m.set(Resources(memory=1 << 20, pids_limit=10, cpu_quota=5000, cpu_period=10000))
    assert fakefs.writes == [
        ("devices/c1/devices.deny", "a *:* rwm"),  # no device rules: deny all
        ("memory/process_api/abc/c1/memory.limit_in_bytes", "1048576"),
        ("cpu/c1/cpu.cfs_period_us", "10000"),
        ("cpu/c1/cpu.cfs_quota_us", "5000"),
        ("pids/c1/pids.max", "10"),
    ]
    m.destroy()


def test_set_devices_skipped_or_applied(fakefs: FakeCgroupfs) -> None:
    m = manager(fakefs, name="c1")
    m.apply(-1)
    m.set(Resources())
    assert fakefs.read("devices/c1/devices.list") == ""  # deny all
    m.destroy()


def test_set_for_an_unmounted_controller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from libcontainer.cgroups import fscommon

    fake = FakeCgroupfs(tmp_path / "cg", controllers=("devices", "memory", "freezer"))
    monkeypatch.setattr(fscommon, "write_file", fake.write_file)
    monkeypatch.setattr(fscommon, "mkdir", fake.mkdir)
    monkeypatch.setattr(fscommon, "rmdir", fake.rmdir)
    m = manager(fake, name="c1")
    m.apply(-1)
    m.set(Resources(memory=4096))  # cpu not mounted, nothing asked of it: fine
    with pytest.raises(CgroupError, match="cannot set pids limit: the container has no pids"):
        m.set(Resources(pids_limit=5))
    m.destroy()


def test_unified_resources_rejected_on_v1(fakefs: FakeCgroupfs) -> None:
    with pytest.raises(CgroupError, match=r"'unified' .* cannot be used on a cgroup v1 host"):
        manager(fakefs, name="c1", resources=Resources(unified={"memory.max": "1"}))
    m = manager(fakefs, name="c1")
    with pytest.raises(CgroupError, match="cannot be used on a cgroup v1 host"):
        m.set(Resources(unified={"memory.max": "1"}))


def test_freeze_and_state(fakefs: FakeCgroupfs) -> None:
    m = manager(fakefs, name="c1")
    m.apply(-1)
    assert m.get_freezer_state() is FreezerState.THAWED
    m.freeze(FreezerState.FROZEN)
    assert m.get_freezer_state() is FreezerState.FROZEN
    assert m.get_cgroups().resources.freezer is FreezerState.FROZEN
    m.freeze(FreezerState.THAWED)
    assert m.get_freezer_state() is FreezerState.THAWED
    m.destroy()


def test_freeze_without_freezer_cgroup(tmp_path: Path) -> None:
    fake = FakeCgroupfs(tmp_path / "cg", controllers=("devices",))
    m = manager(fake, name="c1")
    assert m.get_freezer_state() is FreezerState.UNDEFINED
    with pytest.raises(CgroupError, match="no freezer cgroup"):
        m.freeze(FreezerState.FROZEN)


def test_given_paths_are_used_as_is(fakefs: FakeCgroupfs) -> None:
    existing = fakefs.root / "memory" / "elsewhere"
    fakefs.mkdir(str(existing))
    m = new_manager(Cgroup(name="ignored"), {"memory": str(existing)}, host=fakefs.host())
    assert m.get_paths() == {"memory": str(existing)}
    assert m.path("memory") == str(existing)
    assert m.path("cpu") == ""
    m.apply(99)
    assert fakefs.read("memory/elsewhere/cgroup.procs") == "99\n"
    fakefs.exit(99)
    m.destroy()  # it existed before and carries no owner mark: not this manager's to remove
    assert existing.exists()


def test_given_paths_marked_by_their_owner_are_removed(fakefs: FakeCgroupfs) -> None:
    """A container loaded from its state owns the cgroups its manager created (marked)."""
    created = new_manager(Cgroup(name="c1"), host=fakefs.host(), owner="/run/x/c1")
    created.apply(99)
    fakefs.exit(99)
    paths = created.get_paths()
    loaded = new_manager(Cgroup(name="c1"), paths, host=fakefs.host(), owner="/run/x/c1")
    stranger = new_manager(Cgroup(name="c1"), paths, host=fakefs.host(), owner="/run/x/c2")
    stranger.destroy()
    assert all(Path(p).exists() for p in paths.values())
    loaded.destroy()
    assert not any(Path(p).exists() for p in paths.values())


def test_config_paths_are_joined_not_owned(fakefs: FakeCgroupfs) -> None:
    shared = fakefs.root / "memory" / "shared"
    fakefs.mkdir(str(shared))
    paths = {"memory": str(shared), "bogus": "/nowhere", "cpu": str(fakefs.root / "cpu/none")}
    m = manager(fakefs, paths=paths)
    assert set(m.get_paths()) == {"memory", "cpu"}  # only hierarchies this host has
    m.apply(5)
    assert fakefs.read("memory/shared/cgroup.procs") == "5\n"
    m.set(Resources(memory=1))
    m.destroy()
    assert shared.is_dir()
    assert fakefs.writes_to("memory.limit_in_bytes") == []


def test_get_all_pids_and_sub_cgroup(fakefs: FakeCgroupfs) -> None:
    m = manager(fakefs, name="c1")
    m.apply(10)
    for controller in ("devices", "memory/process_api/abc", "cpu"):
        fakefs.mkdir(str(fakefs.root / controller / "c1" / "sub"))
    m.apply_to_sub_cgroup(11, "sub", subsystems=["devices", "memory", "cpu"])
    assert fakefs.read("cpu/c1/sub/cgroup.procs") == "11\n"
    assert sorted(m.get_all_pids()) == [10, 11]
    assert m.get_pids() == [10]
    with pytest.raises(
        CgroupError, match="sub-cgroup 'sub' does not exist in the cpuset hierarchy"
    ):
        m.apply_to_sub_cgroup(11, "sub")
    with pytest.raises(CgroupError, match="has no cgroup for nope"):
        m.apply_to_sub_cgroup(11, "sub", subsystems=["nope"])
    with pytest.raises(CgroupError, match="must be relative"):
        m.apply_to_sub_cgroup(11, "../escape")
    with pytest.raises(CgroupError, match="must be relative"):
        m.apply_to_sub_cgroup(11, "/abs")
    m.apply_to_sub_cgroup(12)  # no sub path: the container's own cgroups
    assert fakefs.read("pids/c1/cgroup.procs") == "10\n12\n"
    for pid in (10, 11, 12):
        fakefs.exit(pid)
    m.destroy()


def test_stats_from_the_manager(fakefs: FakeCgroupfs) -> None:
    m = manager(fakefs, name="c1")
    m.apply(-1)
    (fakefs.root / "pids/c1/pids.current").write_text("4\n")
    (fakefs.root / "memory/process_api/abc/c1/memory.usage_in_bytes").write_text("777\n")
    stats = m.get_stats()
    assert stats.pids_stats.current == 4
    assert stats.memory_stats.usage.usage == 777
    assert "2MB" in stats.hugetlb_stats
    (fakefs.root / "memory/process_api/abc/c1/memory.oom_control").write_text(
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"
    )
    assert m.oom_kill_count() == 2
    m.destroy()


def test_rootless_skips_cgroups_it_may_not_create(fakefs: FakeCgroupfs) -> None:
    fakefs.fail["cgroup.procs"] = errno.EACCES
    m = manager(fakefs, name="c1", rootless=True)
    m.apply(5)
    # Named hierarchies' failures never count (runc ignores them: name=systemd and the
    # unified one of a hybrid host); the rest were dropped.
    assert list(m.get_paths()) == ["name=systemd", ""]
    assert m.oom_kill_count() == 0
    m.destroy()
    not_rootless = manager(fakefs, name="c2")
    with pytest.raises(CgroupError, match=r"Permission denied|injected"):
        not_rootless.apply(5)
    not_rootless.destroy()


def test_rootless_ignores_device_errors_on_set(fakefs: FakeCgroupfs) -> None:
    m = manager(fakefs, name="c1", rootless=True)
    m.apply(-1)
    fakefs.fail["devices.deny"] = errno.EPERM
    m.set(Resources())
    m.destroy()


def test_new_manager_picks_the_driver_for_the_host(fakefs: FakeCgroupfs) -> None:
    from libcontainer.cgroups.fs import FsManager
    from libcontainer.cgroups.fs2 import Fs2Manager

    assert isinstance(new_manager(Cgroup(name="c1"), host=fakefs.host()), FsManager)
    unified = HostCgroups.from_text(
        "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n"
    )
    assert unified.mode is CgroupMode.UNIFIED
    assert isinstance(new_manager(Cgroup(name="c1"), host=unified), Fs2Manager)


def test_new_manager_reads_the_host_by_default() -> None:
    host = HostCgroups.load()
    if host.mode is CgroupMode.UNIFIED:
        pytest.skip("this host is cgroup v2 only")
    m = new_manager(Cgroup(name="never-applied", resources=Resources(skip_devices=True)))
    assert m.path("memory").endswith("/never-applied") or m.path("memory") == ""
