"""``sandbox.run`` / ``run_async`` against real containers, checked from inside and out."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sbutil import leftovers, placed

from libcontainer import sandbox
from libcontainer.errors import ConfigError, ProcessStartError
from libcontainer.sandbox.location import Placement

pytestmark = pytest.mark.root

HOST_PYTHON = "/usr/bin/python3"
needs_python = pytest.mark.skipif(
    not os.path.exists(HOST_PYTHON), reason="the host has no /usr/bin/python3 to run inside"
)


@pytest.fixture
def place() -> Iterator[Placement]:
    """This test's sandboxes; the test fails if any of them left something behind."""
    with placed() as p:
        yield p
        assert leftovers(p) == []


def test_run_collects_output_status_and_usage(place: Placement) -> None:
    r = sandbox.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (r.returncode, r.stdout, r.stderr, r.reason) == (3, b"out\n", b"err\n", "exited")
    assert r.args == ("sh", "-c", "echo out; echo err >&2; exit 3")
    assert r.duration > 0 and r.cpu_time > 0 and r.peak_memory > 0
    with pytest.raises(subprocess.CalledProcessError):
        r.check_returncode()


def test_host_programs_read_only_with_private_tmp_dev_proc(place: Placement) -> None:
    script = (
        "echo pid=$$; echo uid=$(id -u); grep CapEff /proc/self/status;"
        "touch /usr/x 2>/dev/null && echo usr=rw || echo usr=ro;"
        "touch /etc/x 2>/dev/null && echo etc=rw || echo etc=ro;"
        "echo hi > /tmp/mine && echo tmp=rw; ls /tmp; echo dev=$(ls /dev | tr '\\n' ' ');"
        "ls /proc | grep -c '^[0-9]'; echo host=$(hostname); ls /sys 2>/dev/null | wc -l"
    )
    r = sandbox.run(["sh", "-c", script])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "pid=1"  # its own PID namespace, and its own /proc shows it
    assert lines[1] == "uid=65534"  # nobody by default
    assert lines[2].split() == ["CapEff:", "0000000000000000"]
    assert lines[3:5] == ["usr=ro", "etc=ro"]
    assert lines[5:7] == ["tmp=rw", "mine"]  # a private, empty, writable /tmp
    devices = set(lines[7].removeprefix("dev=").split())
    assert {"null", "zero", "urandom", "pts", "shm"} <= devices
    assert not {"sda", "vda", "kmsg", "mem"} & devices  # a private /dev, not the host's
    assert lines[8] in ("2", "3", "4")  # sh, its subshells: no host processes
    assert lines[9] == "host=sandbox"
    assert lines[10] == "0"  # no /sys
    assert not os.path.exists("/tmp/mine")
    again = sandbox.run(["ls", "/tmp"])
    assert again.stdout == b""  # each sandbox's /tmp is its own


def test_network_none_is_loopback_only_and_up(place: Placement) -> None:
    r = sandbox.run(["cat", "/proc/net/dev"])
    interfaces = [line.split(":")[0].strip() for line in r.stdout.decode().splitlines()[2:]]
    assert interfaces == ["lo"]
    if os.path.exists(HOST_PYTHON):
        code = (
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen();"
            "c = socket.create_connection(s.getsockname()); print('lo up')"
        )
        assert sandbox.run([HOST_PYTHON, "-c", code]).stdout == b"lo up\n"


def test_network_host_shares_the_hosts(place: Placement) -> None:
    r = sandbox.run(["cat", "/proc/net/dev"], network="host")
    inside = sorted(line.split(":")[0].strip() for line in r.stdout.decode().splitlines()[2:])
    with open("/proc/net/dev") as f:
        host = sorted(line.split(":")[0].strip() for line in f.read().splitlines()[2:])
    assert inside == host


def test_rootfs_directory_and_readonly(place: Placement, busybox_rootfs: Path) -> None:
    r = sandbox.run(
        ["sh", "-c", "ls /bin/busybox; test -e /usr/bin/python3 || echo no-host; touch /x"],
        rootfs=busybox_rootfs,
        user="0:0",
    )
    assert r.stdout == b"/bin/busybox\nno-host\n"
    assert b"Read-only file system" in (r.stderr or b"")
    w = sandbox.run(["touch", "/written"], rootfs=busybox_rootfs, readonly=False, user="0:0")
    assert w.returncode == 0, w.stderr
    assert (busybox_rootfs / "written").exists()


def test_mounts_env_cwd_and_input(place: Placement, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    rw = tmp_path / "rw"
    ro.mkdir()
    rw.mkdir()
    os.chmod(rw, 0o777)
    (ro / "data").write_text("shared\n")
    r = sandbox.run(
        ["sh", "-c", "cat /in/data; touch /in/x || true; echo $GREETING > /out/f; pwd; cat"],
        mounts=[(str(ro), "/in"), sandbox.Bind(str(rw), "/out", readonly=False)],
        env={"GREETING": "hello", "PATH": "/usr/bin:/bin"},
        cwd="/tmp",
        input=b"from stdin",
    )
    assert r.stdout == b"shared\n/tmp\nfrom stdin"
    assert b"Read-only" in (r.stderr or b"")
    assert (rw / "f").read_text() == "hello\n"
    assert not (ro / "x").exists()


def test_big_output_on_both_pipes(place: Placement) -> None:
    r = sandbox.run(
        ["sh", "-c", "head -c 1000000 /dev/zero >&2; cat; head -c 500000 /dev/zero >&2"],
        input=b"y" * 2_000_000,
    )
    assert r.stdout == b"y" * 2_000_000
    assert r.stderr == b"\0" * 1_500_000


def test_capture_output_false_writes_to_our_stdout(
    place: Placement, capfd: pytest.CaptureFixture[str]
) -> None:
    r = sandbox.run(["echo", "straight through"], capture_output=False)
    assert r.stdout is None and r.returncode == 0
    assert capfd.readouterr().out == "straight through\n"


def test_timeout_kills_every_process_and_leaves_nothing(place: Placement) -> None:
    marker = "4242.4242"  # a sleep length no other process on the machine uses
    r = sandbox.run(
        ["sh", "-c", f"sleep {marker} & sleep {marker} & (sleep {marker} &); echo up; wait"],
        timeout=1.5,
    )
    assert r.reason == "timeout" and r.returncode < 0
    assert r.stdout == b"up\n"  # output so far is kept
    assert r.duration >= 1.5
    assert leftovers(place) == []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                assert marker.encode() not in f.read()
        except OSError:
            pass


@needs_python
def test_oom_is_reported(place: Placement) -> None:
    r = sandbox.run(
        [HOST_PYTHON, "-c", "x = bytearray(256 << 20); print('survived')"], memory=48 << 20
    )
    assert r.reason == "oom"
    assert r.returncode == -9
    assert r.stdout == b""
    assert r.peak_memory <= 48 << 20


def test_pids_limit(place: Placement) -> None:
    r = sandbox.run(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait"], pids=4)
    assert b"fork" in (r.stderr or b"").lower()


@needs_python
def test_cpus_limit_bounds_cpu_time(place: Placement) -> None:
    spin = "import time\nend = time.monotonic() + 1.0\nwhile time.monotonic() < end: pass"
    r = sandbox.run([HOST_PYTHON, "-c", spin], cpus=0.2)
    assert r.returncode == 0
    # CFS hands out 0.2 CPU per 100 ms period; allow one period's slack at each end.
    assert r.cpu_time <= 0.2 * r.duration + 0.05


def test_program_not_found_is_a_typed_error_and_leaves_nothing(place: Placement) -> None:
    with pytest.raises(ProcessStartError, match="executable file not found"):
        sandbox.run(["no-such-program"])
    assert leftovers(place) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"network": "bridge"}, "network"),
        ({"memory": -1}, "memory"),
        ({"pids": "3"}, "pids"),
        ({"cpus": 0}, "cpus"),
        ({"mounts": ["relative/path"]}, "mounts[0]"),
        ({"mounts": ["/no/such/dir/here"]}, "mounts[0]"),
        ({"rootfs": "/no/such/rootfs"}, "rootfs"),
        ({"timeout": 0}, "timeout"),
        ({"env": {"=bad": "x"}}, "env"),
        ({"cwd": "relative"}, "cwd"),
    ],
)
def test_bad_options_are_config_errors(place: Placement, kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as info:
        sandbox.run(["true"], **kwargs)
    assert info.value.field == field


def test_args_must_be_a_list(place: Placement) -> None:
    with pytest.raises(ConfigError, match="args"):
        sandbox.run("echo hi")  # type: ignore[arg-type]


def test_run_async_many_at_once_from_one_loop(place: Placement) -> None:
    async def main() -> list[sandbox.SandboxResult]:
        return await asyncio.gather(
            *(sandbox.run_async(["sh", "-c", f"echo {i}; exit {i}"]) for i in range(8))
        )

    results = asyncio.run(main())
    assert [r.stdout for r in results] == [f"{i}\n".encode() for i in range(8)]
    assert [r.returncode for r in results] == list(range(8))


def test_run_async_timeout_and_cancellation_leave_nothing(place: Placement) -> None:
    async def main() -> sandbox.SandboxResult:
        slow = asyncio.create_task(sandbox.run_async(["sleep", "60"]))
        timed = await sandbox.run_async(["sh", "-c", "echo a; sleep 60"], timeout=1)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        return timed

    timed = asyncio.run(main())
    assert (timed.reason, timed.stdout) == ("timeout", b"a\n")
    # The cancelled sandbox's destroy runs in the executor: asyncio.run waited for it.
    assert leftovers(place) == []


def test_default_placement_names() -> None:
    """Without a placement, sandboxes live under /run and /pylibcontainer-sandbox."""
    place = sandbox.Placement()
    assert str(place.state_root).startswith("/run/pylibcontainer-sandbox")
    assert place.cgroup_path("x") == "/pylibcontainer-sandbox/x"
    with pytest.raises(ConfigError):
        sandbox.Placement(cgroup_parent="/a/../b")
