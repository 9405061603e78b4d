"""``sandbox.Pool``: warm sandboxes (deferred inits) against real containers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sbutil import cgroup_children, leftovers, placed

from libcontainer import Status, sandbox
from libcontainer.errors import ConfigError, ProcessStartError
from libcontainer.sandbox.location import Placement

pytestmark = pytest.mark.root


@pytest.fixture
def place() -> Iterator[Placement]:
    """This test's sandboxes; the test fails if any of them left something behind."""
    with placed() as p:
        yield p
        assert leftovers(p) == []


def test_ready_sandboxes_are_set_up_before_run(place: Placement) -> None:
    with sandbox.Pool(size=2) as pool:
        warm = pool._ready[0]
        container = warm.box.container
        assert container is not None
        # Created, started and released: the init waits for its program on its channel.
        assert container.status() == Status.RUNNING
        assert cgroup_children(place.cgroup_parent)  # its cgroups exist already
        with open(f"/proc/{warm.process.pid}/cmdline", "rb") as f:
            assert b"libcontainer.spawner" in f.read()  # a clone of the spawner: not exec.d yet
        r = pool.run(["sh", "-c", "echo $$ $(id -u); cat /proc/1/cmdline"])
        assert r.returncode == 0, r.stderr
        assert r.stdout.split(b"\n")[0] == b"1 65534"
    assert leftovers(place) == []


def test_args_env_cwd_and_stdio_are_given_at_run_time(place: Placement) -> None:
    with sandbox.Pool(size=1, env={"WHO": "pool", "PATH": "/bin:/usr/bin"}, cwd="/tmp") as pool:
        r = pool.run(["sh", "-c", "echo $WHO $(pwd); cat; echo e >&2"], input=b"in")
        assert (r.stdout, r.stderr, r.reason) == (b"pool /tmp\nin", b"e\n", "exited")
        r = pool.run(["sh", "-c", "echo $WHO $(pwd)"], env={"WHO": "run", "PATH": "/bin"}, cwd="/")
        assert r.stdout == b"run /\n"
        r = pool.run(["sh", "-c", "exit 5"])
        assert r.returncode == 5


def test_each_run_gets_a_fresh_sandbox(place: Placement) -> None:
    with sandbox.Pool(size=2) as pool:
        first = pool.run(["sh", "-c", "ls /tmp; echo x > /tmp/left-over"])
        ids = set()
        for _ in range(4):
            r = pool.run(["ls", "/tmp"])
            assert r.stdout == b""
        assert first.stdout == b""
        ids = {w.box.id for w in list(pool._ready)}
        assert len(ids) == len(pool._ready)


def test_timeout_kills_and_the_pool_goes_on(place: Placement) -> None:
    with sandbox.Pool(size=1, timeout=1) as pool:
        r = pool.run(["sh", "-c", "sleep 60 & echo up; wait"])
        assert (r.reason, r.stdout) == ("timeout", b"up\n")
        assert pool.run(["echo", "next"]).stdout == b"next\n"


def test_exec_failure_is_a_typed_error(place: Placement) -> None:
    with sandbox.Pool(size=1) as pool:
        with pytest.raises(ProcessStartError, match="executable file not found"):
            pool.run(["no-such-program"])
        with pytest.raises(ProcessStartError, match="chdir"):
            pool.run(["true"], cwd="/no/such/dir")
        assert pool.run(["true"]).returncode == 0


def test_oom_in_pool(place: Placement) -> None:
    with sandbox.Pool(size=1, memory=48 << 20) as pool:
        r = pool.run(["/usr/bin/python3", "-c", "x = bytearray(256 << 20)"])
        assert r.reason == "oom"
        assert pool.run(["true"]).reason == "exited"


def test_many_threads_share_a_pool(place: Placement) -> None:
    results: dict[int, bytes | None] = {}
    with sandbox.Pool(size=3) as pool:

        def worker(i: int) -> None:
            results[i] = pool.run(["echo", str(i)]).stdout

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == {i: f"{i}\n".encode() for i in range(8)}


def test_run_async(place: Placement) -> None:
    async def main(pool: sandbox.Pool) -> list[bytes | None]:
        results = await asyncio.gather(*(pool.run_async(["echo", str(i)]) for i in range(6)))
        return [r.stdout for r in results]

    with sandbox.Pool(size=2) as pool:
        assert asyncio.run(main(pool)) == [f"{i}\n".encode() for i in range(6)]


def test_bad_options_fail_at_construction_leaving_nothing(place: Placement) -> None:
    with pytest.raises(ConfigError):
        sandbox.Pool(size=0)
    with pytest.raises(ConfigError):
        sandbox.Pool(network="bridge")
    with pytest.raises(ConfigError):
        sandbox.Pool(cwd="relative")
    assert leftovers(place) == []


def test_closed_pool_refuses_runs(place: Placement) -> None:
    pool = sandbox.Pool(size=2)
    pool.close()
    assert leftovers(place) == []
    with pytest.raises(sandbox.PoolClosedError):
        pool.run(["true"])
