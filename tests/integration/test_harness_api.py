"""Issue 11 against real containers: Popen's contract, the Container API a harness uses.

``Process.communicate``/``wait``/``wait_async`` on container processes, ``with`` blocks,
typed ``stats()``, errors that say ``start(Process(init=False))`` vs ``exec()``, the
lifecycle log, and the spec's environment through ``specconv.new_process``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, unique_id

import specconv
from libcontainer import PIPE, Process, Status
from libcontainer.cgroups import Stats
from libcontainer.errors import ContainerNotRunningError, ContainerNotStoppedError

pytestmark = pytest.mark.root


def test_communicate_in_a_container_no_deadlock_and_timeout(
    containers: Factories, make_config: Any
) -> None:
    c = containers.create(make_config())
    proc = Process(
        ["sh", "-c", "head -c 300000 /dev/zero >&2; cat; echo done; exec sleep 60"],
        stdin=PIPE,
        stdout=PIPE,
        stderr=PIPE,
    )
    c.run(proc)
    data = b"z" * 500_000
    with pytest.raises(subprocess.TimeoutExpired) as info:
        while True:  # until all output is in and only the exit is left to wait for
            try:
                proc.communicate(data if not proc._communication_started else None, 0.5)
            except subprocess.TimeoutExpired as e:
                if e.output is not None and e.output.endswith(b"done\n"):
                    raise
    assert info.value.stderr == b"\0" * 300_000
    c.signal(signal.SIGKILL)
    out, err = proc.communicate()
    assert out == data + b"done\n" and err == b"\0" * 300_000
    assert proc.returncode == -signal.SIGKILL


def test_wait_async_on_init_and_exec(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    init = Process(["sh", "-c", "read line; exit 4"], stdin=PIPE)
    c.run(init)
    side = Process(["sh", "-c", "exit 6"], init=False)
    c.start(side)

    async def main() -> tuple[int, int]:
        side_code = await side.wait_async()
        assert init.stdin is not None
        init.stdin.write(b"go\n")
        init.stdin.close()
        return side_code, await init.wait_async()

    assert asyncio.run(main()) == (6, 4)
    assert c.status() == Status.STOPPED


def test_container_is_a_context_manager(state_root: Path, make_config: Any) -> None:
    from libcontainer import Factory

    factory = Factory(state_root)
    cid = unique_id()
    with pytest.raises(RuntimeError, match="harness bug"), factory.create(cid, make_config()) as c:
        proc = Process(["sleep", "60"])
        c.run(proc)
        cgroup_paths = list(c.state().cgroup_paths.values())
        raise RuntimeError("harness bug")
    assert proc.returncode == -signal.SIGKILL
    assert not (state_root / cid).exists()
    assert not any(os.path.exists(p) for p in cgroup_paths)
    assert factory.list() == []


def test_stats_is_typed(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    proc = Process(["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
    c.run(proc)
    proc.wait()
    stats = c.stats()
    assert isinstance(stats, Stats)
    assert stats.cpu_stats.cpu_usage.total_usage > 0
    assert stats.memory_stats.usage.max_usage > 0


def test_errors_say_which_verb_was_meant(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    with pytest.raises(ContainerNotRunningError, match=r"run\(\)") as info:
        c.start(Process(["true"], init=False))  # exec into a container never started
    assert "runc exec" in str(info.value)
    with pytest.raises(ContainerNotRunningError, match=r"start\(Process"):
        c.exec()  # nothing to release yet
    c.start(Process(["sleep", "60"]))
    with pytest.raises(ContainerNotStoppedError, match=r"init=False\) to start\(\).*exec\(\)"):
        c.start(Process(["true"]))  # a second init: they meant an exec, or exec()
    c.exec()
    with pytest.raises(ContainerNotRunningError, match=r"Process\(\.\.\., init=False\)"):
        c.exec()  # released already: they meant start(Process(init=False))
    side = Process(["true"], init=False)
    c.start(side)
    assert side.wait() == 0


def test_lifecycle_events_are_logged_not_printed(
    state_root: Path,
    make_config: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from libcontainer import Factory

    caplog.set_level(logging.DEBUG, logger="libcontainer")
    factory = Factory(state_root)
    cid = unique_id()
    with factory.create(cid, make_config()) as c:
        c.start(Process(["sleep", "60"]))
        c.exec()
        side = Process(["true"], init=False)
        c.start(side)
        side.wait()
        c.signal(signal.SIGTERM)
    events = [
        (r.event, r.container_id)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "libcontainer.events"
    ]
    assert events == [
        ("create", cid),
        ("start", cid),
        ("exec", cid),
        ("start", cid),
        ("signal", cid),
        ("destroy", cid),
    ]
    by_event = {r.event: r for r in caplog.records if r.name == "libcontainer.events"}  # type: ignore[attr-defined]
    assert by_event["signal"].signal == signal.SIGTERM  # type: ignore[attr-defined]
    assert by_event["destroy"].duration_ms >= 0  # type: ignore[attr-defined]
    assert all(
        r.levelno == logging.DEBUG for r in caplog.records if r.name == "libcontainer.events"
    )
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_new_process_carries_the_spec_env(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    spec = specconv.load_spec(str(Path(c.bundle) / "config.json"))
    proc = specconv.new_process(spec, args=["sh", "-c", "echo $TERM"], stdout=PIPE)
    c.run(proc)
    out, _ = proc.communicate(timeout=30)
    assert out == b"xterm\n"
