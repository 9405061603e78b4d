"""``Container.set`` (runc update) on a running busybox container, and real statistics."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
from ctutil import Factories

from libcontainer import Process
from libcontainer.container import Container

pytestmark = pytest.mark.root

MiB = 1024 * 1024


def update(c: Container, **resources: Any) -> None:
    cgroups = c.config.cgroups
    assert cgroups is not None
    new = attrs.evolve(cgroups, resources=attrs.evolve(cgroups.resources, **resources))
    c.set(attrs.evolve(c.config, cgroups=new))


def exec_output(c: Container, script: str) -> tuple[str, int]:
    proc = Process(
        ["sh", "-c", script], init=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    c.start(proc)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return out, proc.wait(timeout=30)


def start_sleeper(c: Container) -> Process:
    init = Process(["sh", "-c", "echo up; exec sleep 1000"], stdout=subprocess.PIPE)
    c.run(init)
    assert init.stdout is not None and init.stdout.readline() == b"up\n"
    init.stdout.close()
    return init


def read(c: Container, subsystem: str, name: str) -> str:
    manager = c.cgroup_manager
    assert manager is not None
    return Path(manager.path(subsystem), name).read_text().strip()


def test_lowered_pids_limit_stops_a_fork_loop(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    start_sleeper(c)
    update(c, pids_limit=8)
    assert read(c, "pids", "pids.max") == "8"
    # Bounded: 30 attempts to start a background sleep; only the free slots succeed, then
    # busybox sh gives up at the first refused fork. The sleeps must not hold our pipe.
    loop = "i=0; while [ $i -lt 30 ]; do sleep 1000 >/dev/null 2>&1 & i=$((i+1)); done; echo all"
    out, code = exec_output(c, loop)
    assert "can't fork" in out and "all" not in out, out
    assert code != 0
    stats = c.stats()
    assert stats.pids_stats.limit == 8
    assert stats.pids_stats.current == 7  # the loop's shell has gone; its sleeps stay
    assert int(read(c, "pids", "pids.events").split()[1]) > 0  # "max N": forks refused
    # Raising the limit lets the container fork again.
    update(c, pids_limit=64)
    out, code = exec_output(
        c, "sleep 1000 >/dev/null 2>&1 & sleep 1000 >/dev/null 2>&1 & echo two-more"
    )
    assert (out, code) == ("two-more\n", 0)
    assert c.stats().pids_stats.current == 9


def test_memory_limit_updates_are_visible(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    start_sleeper(c)
    has_swap = Path(c.cgroup_manager.path("memory"), "memory.memsw.limit_in_bytes").exists()  # type: ignore[union-attr]
    for memory, swap in [(64, 128), (256, 512), (32, 32)]:
        update(c, memory=memory * MiB, memory_swap=swap * MiB if has_swap else 0)
        assert read(c, "memory", "memory.limit_in_bytes") == str(memory * MiB)
        if has_swap:
            assert read(c, "memory", "memory.memsw.limit_in_bytes") == str(swap * MiB)
        assert c.stats().memory_stats.usage.limit == memory * MiB
    # The saved config follows, so a later load sees the new limits.
    assert c.config.cgroups is not None and c.config.cgroups.resources.memory == 32 * MiB
    update(c, cpu_shares=512, cpu_quota=50000, cpu_period=100000)
    assert read(c, "cpu", "cpu.shares") == "512"
    assert read(c, "cpu", "cpu.cfs_quota_us") == "50000"


def test_stats_report_real_numbers(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    start_sleeper(c)
    out, code = exec_output(
        c,
        "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done;"
        ' x=$(head -c 2m /dev/zero | tr "\\0" a); echo $i',
    )
    assert (out, code) == ("100000\n", 0)
    stats = c.stats()
    assert stats.cpu_stats.cpu_usage.total_usage > 10_000_000  # > 10 ms of CPU
    assert sum(stats.cpu_stats.cpu_usage.percpu_usage) > 0
    assert stats.memory_stats.usage.usage > 0
    assert stats.memory_stats.usage.max_usage >= 2 * MiB
    assert stats.pids_stats.current == 1
    assert stats.cpuset_stats.cpus
