"""Where each controller's cgroup goes (runc 1.1's fs path rules)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups.fs.paths import SUBSYSTEM_NAMES, UNIFIED, init_paths, inner_path
from libcontainer.cgroups.host import HostCgroups
from libcontainer.cgroups.utils import clean_path
from libcontainer.configs import Cgroup, Resources
from libcontainer.errors import CgroupError

FIXTURES = Path(os.environ["PYLIBCONTAINER_FIXTURES"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", ""),
        ("a/b", "a/b"),
        ("../../etc", "etc"),
        ("a/../../b", "b"),
        ("/a/../../b", "/b"),
        ("//a//b/", "/a/b"),
        ("./a/./b", "a/b"),
        ("..", "."),
    ],
)
def test_clean_path(path: str, expected: str) -> None:
    assert clean_path(path) == expected


@pytest.mark.parametrize(
    ("cgroup", "expected"),
    [
        (Cgroup(path="/foo/bar"), "/foo/bar"),
        (Cgroup(path="foo/../../bar"), "bar"),
        (Cgroup(name="c1"), "c1"),
        (Cgroup(parent="/machine", name="c1"), "/machine/c1"),
        (Cgroup(parent="machine/", name="../c1"), "machine/c1"),
        (Cgroup(parent="/machine"), "/machine"),
        (Cgroup(), ""),
    ],
)
def test_inner_path(cgroup: Cgroup, expected: str) -> None:
    assert inner_path(cgroup) == expected


def test_inner_path_rejects_path_with_name() -> None:
    with pytest.raises(CgroupError, match="either path, or name and parent"):
        inner_path(Cgroup(path="/a", name="b"))


def test_relative_name_goes_under_our_own_cgroup(fakefs: FakeCgroupfs) -> None:
    paths = init_paths(Cgroup(name="c1"), fakefs.host())
    root = fakefs.root
    assert paths["memory"] == f"{root}/memory/process_api/abc/c1"
    assert paths["cpu"] == f"{root}/cpu/c1"
    assert paths["name=systemd"] == f"{root}/systemd/c1"
    # runc's order, every controller mounted; the hybrid host's unified hierarchy last.
    assert list(paths) == [*SUBSYSTEM_NAMES, UNIFIED]
    assert paths[UNIFIED] == f"{root}/unified/c1"


def test_only_a_hybrid_host_adds_the_unified_hierarchy(tmp_path: Path) -> None:
    legacy = FakeCgroupfs(tmp_path / "legacy", unified=False)
    assert UNIFIED not in init_paths(Cgroup(name="c1"), legacy.host())
    hybrid = FakeCgroupfs(tmp_path / "hybrid", own={"": "/user.slice/session-1.scope"})
    # Placed by the v1 rules: under our own v2 cgroup (a relative name), or the mount point.
    own = f"{tmp_path}/hybrid/unified/user.slice/session-1.scope/c1"
    assert init_paths(Cgroup(name="c1"), hybrid.host())[UNIFIED] == own
    absolute = init_paths(Cgroup(path="/machine/c1"), hybrid.host())
    assert absolute[UNIFIED] == f"{tmp_path}/hybrid/unified/machine/c1"


def test_absolute_path_goes_under_the_mount_point(fakefs: FakeCgroupfs) -> None:
    paths = init_paths(Cgroup(path="/machine/c1"), fakefs.host())
    assert paths["memory"] == f"{fakefs.root}/memory/machine/c1"
    assert paths["devices"] == f"{fakefs.root}/devices/machine/c1"


def test_comounted_controllers_share_a_directory(tmp_path: Path) -> None:
    mountinfo = (
        f"32 31 0:29 / {tmp_path}/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        f"36 31 0:33 / {tmp_path}/devices rw - cgroup cgroup rw,devices\n"
    )
    host = HostCgroups.from_text(
        mountinfo, "2:cpu,cpuacct:/user\n1:devices:/\n", root=str(tmp_path)
    )
    paths = init_paths(Cgroup(name="c1"), host)
    assert paths == {
        "devices": f"{tmp_path}/devices/c1",
        "cpu": f"{tmp_path}/cpu,cpuacct/user/c1",
        "cpuacct": f"{tmp_path}/cpu,cpuacct/user/c1",
    }


def test_nested_container_mount_root_is_stripped(tmp_path: Path) -> None:
    # Inside a container without cgroupns: /proc/self/cgroup shows host paths, the mount
    # root is the container's own cgroup.
    mountinfo = f"36 31 0:33 /docker/x {tmp_path}/devices rw - cgroup cgroup rw,devices\n"
    host = HostCgroups.from_text(mountinfo, "1:devices:/docker/x/sub\n", root=str(tmp_path))
    assert init_paths(Cgroup(name="c1"), host) == {"devices": f"{tmp_path}/devices/sub/c1"}
    outside = HostCgroups.from_text(mountinfo, "1:devices:/elsewhere\n", root=str(tmp_path))
    with pytest.raises(CgroupError, match="outside the mounted part"):
        init_paths(Cgroup(name="c1"), outside)


def test_unmounted_controllers_are_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeCgroupfs(tmp_path / "cg", controllers=("devices", "memory"))
    caplog.set_level("DEBUG", logger="libcontainer.cgroups")
    paths = init_paths(Cgroup(name="c1"), fake.host())
    assert set(paths) == {"devices", "memory", UNIFIED}
    assert "cgroup controller hugetlb is not mounted" in caplog.text


def test_missing_devices_controller_is_fatal_unless_skipped(tmp_path: Path) -> None:
    fake = FakeCgroupfs(tmp_path / "cg", controllers=("memory",))
    with pytest.raises(CgroupError, match="devices cgroup controller is not mounted"):
        init_paths(Cgroup(name="c1"), fake.host())
    skipped = Cgroup(name="c1", resources=Resources(skip_devices=True))
    assert set(init_paths(skipped, fake.host())) == {"memory", UNIFIED}


def test_paths_match_runc_fixture() -> None:
    """runc 1.1.5 on a host shaped like ours wrote these cgroup_paths for 'fixture1'."""
    state = json.loads((FIXTURES / "runc-1.1.5-state.json").read_text())
    expected = state["cgroup_paths"]
    memory_own = expected["memory"].removeprefix("/sys/fs/cgroup/memory").removesuffix("/fixture1")
    mounts = "".join(
        f"{30 + i} 31 0:{30 + i} / /sys/fs/cgroup/{c.removeprefix('name=')} rw - cgroup cgroup "
        f"rw,{c}\n"
        for i, c in enumerate(expected)
    )
    proc = "".join(
        f"{i + 1}:{c}:{memory_own if c == 'memory' else '/'}\n" for i, c in enumerate(expected)
    )
    host = HostCgroups.from_text(mounts, proc)
    cgroup = Cgroup(name=state["config"]["cgroups"]["name"])
    assert init_paths(cgroup, host) == expected
