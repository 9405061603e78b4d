"""Host cgroup layout: mountinfo and /proc/self/cgroup parsing, mode detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups.host import (
    CgroupMode,
    HostCgroups,
    parse_mountinfo,
    parse_proc_cgroup,
)
from libcontainer.errors import CgroupError

# The mounts of the machine these tests were written on (hybrid, every controller apart).
HYBRID_MOUNTINFO = """\
24 1 253:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
PROC_CGROUP = """\
9:name=systemd:/
4:memory:/process_api/8df0a893
2:cpuacct:/
1:cpu:/
0::/
"""


def test_parse_mountinfo_keeps_cgroup_mounts_only() -> None:
    mounts = parse_mountinfo(HYBRID_MOUNTINFO)
    assert [m.mountpoint for m in mounts] == [
        "/sys/fs/cgroup/cpu",
        "/sys/fs/cgroup/cpuacct",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/systemd",
        "/sys/fs/cgroup/unified",
    ]
    assert mounts[3].options == ("rw", "xattr", "name=systemd")
    assert mounts[3].has_subsystem("name=systemd")
    assert not mounts[4].has_subsystem("memory")  # cgroup2 never carries a v1 controller


def test_parse_mountinfo_optional_fields_and_escapes() -> None:
    text = "40 31 0:37 /sub /mnt/my\\040cgroups rw shared:1 master:2 - cgroup cg rw,cpu,cpuacct\n"
    (mount,) = parse_mountinfo(text)
    assert mount.mountpoint == "/mnt/my cgroups"
    assert mount.root == "/sub"
    assert mount.has_subsystem("cpu") and mount.has_subsystem("cpuacct")


def test_parse_mountinfo_rejects_garbage() -> None:
    with pytest.raises(CgroupError, match="malformed mountinfo line"):
        parse_mountinfo("not a mountinfo line\n")


def test_parse_proc_cgroup() -> None:
    assert parse_proc_cgroup(PROC_CGROUP + "7:cpu,cpuacct:/a:b\n") == {
        "name=systemd": "/",
        "memory": "/process_api/8df0a893",
        "cpuacct": "/a:b",
        "cpu": "/a:b",
        "": "/",
    }
    with pytest.raises(CgroupError, match="two colons"):
        parse_proc_cgroup("1:cpu\n")


def test_mode_hybrid_legacy_unified() -> None:
    host = HostCgroups.from_text(HYBRID_MOUNTINFO, PROC_CGROUP)
    assert host.mode is CgroupMode.HYBRID
    legacy = HYBRID_MOUNTINFO.replace("cgroup2 cgroup2", "tmpfs tmpfs")
    assert HostCgroups.from_text(legacy, PROC_CGROUP).mode is CgroupMode.LEGACY
    unified = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
    assert HostCgroups.from_text(unified, "0::/user.slice\n").mode is CgroupMode.UNIFIED


def test_mode_without_any_cgroup_mount() -> None:
    host = HostCgroups.from_text("24 1 253:0 / / rw - ext4 /dev/vda rw\n", "")
    with pytest.raises(CgroupError, match="no cgroup filesystem is mounted"):
        _ = host.mode


def test_later_mount_hides_earlier_one_on_same_mountpoint() -> None:
    text = HYBRID_MOUNTINFO + "50 31 0:50 / /sys/fs/cgroup/memory rw - tmpfs tmpfs rw\n"
    host = HostCgroups.from_text(text, PROC_CGROUP)
    assert host.find_mount("memory") is None


def test_find_mount_and_own_cgroup() -> None:
    host = HostCgroups.from_text(HYBRID_MOUNTINFO, PROC_CGROUP)
    mount = host.find_mount("memory")
    assert mount is not None and mount.mountpoint == "/sys/fs/cgroup/memory"
    assert host.find_mount("pids") is None
    assert host.own_cgroup("memory") == "/process_api/8df0a893"
    assert host.own_cgroup("systemd") == "/"  # name= prefix is optional
    assert host.own_cgroup("pids") is None


def test_load_reads_files(tmp_path: Path) -> None:
    fake = FakeCgroupfs(tmp_path / "cg")
    (tmp_path / "mountinfo").write_text(fake.mountinfo())
    (tmp_path / "cgroup").write_text(fake.proc_cgroup())
    (tmp_path / "hugepages" / "hugepages-2048kB").mkdir(parents=True)
    (tmp_path / "hugepages" / "hugepages-1048576kB").mkdir()
    host = HostCgroups.load(
        root=str(fake.root),
        mountinfo_path=str(tmp_path / "mountinfo"),
        proc_cgroup_path=str(tmp_path / "cgroup"),
        hugepages_dir=str(tmp_path / "hugepages"),
    )
    assert host.mode is CgroupMode.HYBRID
    assert host.hugepage_sizes == ("2MB", "1GB")
    assert host.own_cgroup("memory") == "/process_api/abc"


def test_load_missing_file_is_a_cgroup_error(tmp_path: Path) -> None:
    with pytest.raises(CgroupError, match=r"cannot read .*nope"):
        HostCgroups.load(mountinfo_path=str(tmp_path / "nope"))


def test_load_on_this_machine() -> None:
    host = HostCgroups.load()
    assert host.mode in (CgroupMode.LEGACY, CgroupMode.HYBRID, CgroupMode.UNIFIED)
