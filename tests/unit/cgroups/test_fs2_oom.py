"""OOM notification mechanics on plain files: the v1 registration write and eventfd, and
the v2 inotify watch on ``memory.events`` (inotify works on any file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from libcontainer.cgroups import oom
from libcontainer.errors import CgroupError


class FakeManager:
    def __init__(self, path: str) -> None:
        self._path = path

    def path(self, subsystem: str) -> str:
        return self._path


def test_v1_registers_an_eventfd_and_reports_events(tmp_path: Path) -> None:
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    (tmp_path / "cgroup.event_control").write_text("")
    with oom.notify_oom(FakeManager(str(tmp_path))) as n:  # type: ignore[arg-type]
        assert n.version == 1
        efd, control_fd = map(int, (tmp_path / "cgroup.event_control").read_text().split())
        assert efd == n.fileno()
        assert os.readlink(f"/proc/self/fd/{control_fd}") == str(tmp_path / "memory.oom_control")
        assert not n.wait(timeout=0.01)
        os.eventfd_write(efd, 1)  # what the kernel does on OOM
        assert n.wait(timeout=1)
        # Removal of the cgroup also signals; then the notifier is done.
        (tmp_path / "cgroup.event_control").unlink()
        os.eventfd_write(efd, 1)
        assert not n.wait(timeout=1)
        assert n.done
    with pytest.raises(ValueError, match="closed"):
        n.fileno()


def test_v2_watches_memory_events_for_new_oom_kills(tmp_path: Path) -> None:
    events = tmp_path / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    cg_events = tmp_path / "cgroup.events"
    cg_events.write_text("populated 1\nfrozen 0\n")
    with oom.notify_oom(FakeManager(str(tmp_path))) as n:  # type: ignore[arg-type]
        assert n.version == 2
        assert not n.wait(timeout=0.01)
        events.write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")  # no new kill
        assert not n.wait(timeout=0.05)
        events.write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n")
        assert n.wait(timeout=1)
        # An OOM kill that empties the cgroup is still reported, then the end.
        events.write_text("low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n")
        cg_events.write_text("populated 0\nfrozen 0\n")
        assert n.wait(timeout=1)
        assert n.done
        assert not n.wait(timeout=1)


def test_no_memory_cgroup_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CgroupError, match="no memory cgroup"):
        oom.notify_oom(FakeManager(""))  # type: ignore[arg-type]
    with pytest.raises(CgroupError, match=r"neither memory\.oom_control"):
        oom.notify_oom(FakeManager(str(tmp_path)))  # type: ignore[arg-type]
