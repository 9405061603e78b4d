"""A real busybox container exceeds its memory limit: the OOM notification fires and the
kill is counted (v1 eventfd on this host's memory hierarchy; v2 where memory is on v2)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from ctutil import Factories

from libcontainer import Process
from libcontainer.cgroups.oom import notify_oom

pytestmark = pytest.mark.root

MiB = 1024 * 1024
HOG = 'x=$(head -c 64m /dev/zero | tr "\\0" a); echo survived'


def limit_memory(mib: int) -> Any:
    def edit(spec: dict[str, Any]) -> None:
        resources = spec["linux"].setdefault("resources", {})
        # Swap equal to memory: no swap, so the 64 MiB cannot hide anywhere.
        resources["memory"] = {"limit": mib * MiB, "swap": mib * MiB}

    return edit


def test_oom_event_fires_and_is_counted(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config(limit_memory(16)))
    proc = Process(["sh", "-c", HOG], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    c.start(proc)  # created: cgroups and limits in place, the program not started yet
    manager = c.cgroup_manager
    assert manager is not None
    assert manager.oom_kill_count() == 0
    with c.notify_oom() as notifier:  # the Container API (runc's NotifyOOM)
        c.exec()
        assert notifier.wait(timeout=30), "no OOM event within 30 s"
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        proc.stdout.close()
        assert proc.wait(timeout=30) == -9, out
        assert "survived" not in out
    # The hog is a pipeline: the kernel may pick more than one of its processes.
    assert manager.oom_kill_count() >= 1
    stats = c.stats()
    assert stats.memory_stats.usage.limit == 16 * MiB
    assert stats.memory_stats.usage.max_usage > 15 * MiB  # it did reach the limit


def test_no_oom_below_the_limit(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config(limit_memory(64)))
    proc = Process(
        ["sh", "-c", 'x=$(head -c 4m /dev/zero | tr "\\0" a); echo ok'], stdout=subprocess.PIPE
    )
    c.start(proc)
    manager = c.cgroup_manager
    assert manager is not None
    with notify_oom(manager) as notifier:
        c.exec()
        assert proc.stdout is not None
        assert proc.stdout.read() == b"ok\n"
        proc.stdout.close()
        assert proc.wait(timeout=30) == 0
        assert not notifier.wait(timeout=0.2)
    assert manager.oom_kill_count() == 0
