"""runc's checks of a container's cgroup at create: warn when busy, refuse when frozen."""

from __future__ import annotations

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups import new_manager
from libcontainer.cgroups.fs import FsManager
from libcontainer.cgroups.precheck import check_before_create
from libcontainer.configs import Cgroup
from libcontainer.errors import CgroupError


def _manager(fake: FakeCgroupfs) -> FsManager:
    m = new_manager(Cgroup(path="/c1"), host=fake.host())
    assert isinstance(m, FsManager)
    return m


def _existing(fake: FakeCgroupfs, key: str) -> str:
    """Make the cgroup of hierarchy ``key`` as something else would have (the kernel's files
    in it), return its path."""
    m = _manager(fake)
    path = m.get_paths()[key]
    from libcontainer.cgroups import fscommon

    fscommon.mkdir(path)
    return path


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The warnings the check logs."""
    said: list[str] = []
    monkeypatch.setattr(
        "libcontainer.cgroups.precheck.log.warning", lambda msg, *a: said.append(msg % a)
    )
    return said


def test_a_new_cgroup_passes_silently(fakefs: FakeCgroupfs, warnings: list[str]) -> None:
    check_before_create(_manager(fakefs))
    assert warnings == []


def test_processes_in_it_are_a_warning(fakefs: FakeCgroupfs, warnings: list[str]) -> None:
    devices = _existing(fakefs, "devices")
    with open(f"{devices}/cgroup.procs", "w") as f:
        f.write("101\n102\n")
    check_before_create(_manager(fakefs))  # not an error, as with runc 1.1
    assert warnings == ["container's cgroup is not empty: 2 process(es) found"]


def test_a_frozen_cgroup_is_refused(fakefs: FakeCgroupfs) -> None:
    freezer = _existing(fakefs, "freezer")
    with open(f"{freezer}/freezer.state", "w") as f:
        f.write("FROZEN\n")
    with open(f"{freezer}/freezer.self_freezing", "w") as f:
        f.write("1\n")
    with pytest.raises(CgroupError, match="container's cgroup unexpectedly frozen"):
        check_before_create(_manager(fakefs))


def test_a_frozen_unified_cgroup_of_a_hybrid_host_is_refused(fakefs: FakeCgroupfs) -> None:
    unified = _existing(fakefs, "")
    with open(f"{unified}/cgroup.freeze", "w") as f:
        f.write("1\n")
    with open(f"{unified}/cgroup.events", "w") as f:
        f.write("populated 0\nfrozen 1\n")
    with pytest.raises(CgroupError, match="unexpectedly frozen"):
        check_before_create(_manager(fakefs))
