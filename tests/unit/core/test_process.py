"""Process: the Popen-like surface, without a container (the child is a plain fork)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from libcontainer.process import DEVNULL, LOST_STATUS, PIPE, STDOUT, Process


def fork_child(proc: Process, code: str) -> None:
    """Stand in for a container: a child that uses the child stdio fds and exits."""
    fds = proc._child_stdio()
    pid = os.fork()
    if pid == 0:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.execvp("sh", ["sh", "-c", code])
    proc._close_child_fds()
    proc._attach(pid)


def test_pipes_wait_and_returncode() -> None:
    proc = Process(["x"], stdin=PIPE, stdout=PIPE, stderr=STDOUT)
    fork_child(proc, "read a; echo got $a; echo err >&2; exit 3")
    out, err = proc.communicate(b"hi\n", timeout=10)
    assert out == b"got hi\nerr\n" and err is None
    assert proc.returncode == 3


def test_wait_timeout_and_signals() -> None:
    with Process(["x"], stdout=DEVNULL) as proc:
        fork_child(proc, "sleep 30")
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM
        proc.kill()  # no-op once waited for


def test_spec_carries_what_the_init_needs() -> None:
    proc = Process(["sh"], env=["A=1"], cwd="/tmp", user="alice", pass_fds=[7, 8])
    spec = proc._spec()
    assert spec.args == ("sh",) and spec.env == ("A=1",) and spec.cwd == "/tmp"
    assert spec.user == "alice" and spec.extra_fds == 2
    assert Process(["sh"]).env[0].startswith("PATH=")


def test_wait_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        Process(["x"]).wait()


def test_wait_without_timeout_after_companions_are_reaped() -> None:
    """Companions (exec'd processes) get reaped while waiting; then a plain blocking wait."""
    init = Process(["x"], stdout=DEVNULL)
    companion = Process(["x"], stdout=DEVNULL)
    fork_child(companion, "exit 0")
    fork_child(init, "sleep 0.3")
    init._add_companion(companion)
    assert init.wait() == 0
    assert companion.returncode == 0 and init._companions == []


# -- Popen's contract: communicate, wait, poll, pid reuse, asyncio (issue 11) -------------

MIB = 1 << 20


@pytest.mark.timeout(60)
def test_communicate_serves_all_pipes_at_once() -> None:
    """A child filling stderr while we write stdin and read stdout must not deadlock.

    With sequential reads (stdout to EOF, then stderr) the child blocks on a full stderr
    pipe (64 KiB) while we wait for stdout's EOF: the old implementation hung here.
    """
    proc = Process(["x"], stdin=PIPE, stdout=PIPE, stderr=PIPE)
    fork_child(proc, "head -c 1048576 /dev/zero >&2; cat; head -c 300000 /dev/zero >&2")
    data = os.urandom(MIB)
    out, err = proc.communicate(data, timeout=50)
    assert out == data
    assert err == b"\0" * (MIB + 300000)
    assert proc.returncode == 0


def test_communicate_timeout_keeps_output_and_goes_on() -> None:
    proc = Process(["x"], stdin=PIPE, stdout=PIPE, stderr=PIPE)
    fork_child(proc, "echo first; echo oops >&2; exec sleep 60")
    deadline = time.monotonic() + 30
    while True:  # until the child's first lines have arrived (load may delay them)
        with pytest.raises(subprocess.TimeoutExpired) as info:
            proc.communicate(b"ignored" if not proc._communication_started else None, 0.1)
        if info.value.output == b"first\n" and info.value.stderr == b"oops\n":
            break
        assert time.monotonic() < deadline
    assert proc.poll() is None  # still running: a timeout kills nothing
    with pytest.raises(ValueError):
        proc.communicate(b"more input", timeout=0.1)  # input only on the first call
    proc.kill()
    out, err = proc.communicate()  # goes on: everything read so far, then EOF
    assert (out, err) == (b"first\n", b"oops\n")
    assert proc.returncode == -signal.SIGKILL


def test_communicate_without_pipes_just_waits() -> None:
    proc = Process(["x"], stdout=DEVNULL)
    fork_child(proc, "exit 7")
    assert proc.communicate() == (None, None)
    assert proc.returncode == 7


def test_wait_timeout_is_never_short() -> None:
    """``wait(timeout)`` returns no earlier than the timeout (the pidfd wait is exact)."""
    with Process(["x"], stdout=DEVNULL) as proc:
        fork_child(proc, "exec sleep 60")
        for timeout in (0.0, 0.05, 0.25):
            start = time.monotonic()
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
            assert time.monotonic() - start >= timeout
        proc.kill()


def test_poll_and_returncode_follow_popen() -> None:
    proc = Process(["x"], stdout=DEVNULL)
    fork_child(proc, "read x")  # blocks: stdin is ours (a terminal or /dev/null)
    proc.kill()
    assert proc.wait(timeout=10) == -signal.SIGKILL
    assert proc.poll() == -signal.SIGKILL
    assert proc.returncode == -signal.SIGKILL
    proc.send_signal(signal.SIGTERM)  # no-op once reaped: never hits a recycled pid


def test_reaped_elsewhere_reports_lost_status_and_never_hangs() -> None:
    proc = Process(["x"], stdout=DEVNULL)
    fork_child(proc, "exit 3")
    assert proc.pid is not None
    os.waitpid(proc.pid, 0)  # someone else reaps it: the status is gone
    assert proc.wait(timeout=10) == LOST_STATUS


def test_wait_async_awaits_many_without_threads() -> None:
    procs = []
    for code in range(5):
        proc = Process(["x"], stdout=DEVNULL)
        fork_child(proc, f"sleep 0.{code}; exit {code}")
        procs.append(proc)
    threads_before = threading.active_count()
    seen_threads: list[int] = []

    async def main() -> list[int]:
        async def watch() -> None:
            while True:
                seen_threads.append(threading.active_count())
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        try:
            return await asyncio.gather(*(p.wait_async() for p in procs))
        finally:
            watcher.cancel()

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    assert max(seen_threads) == threads_before


def test_communicate_async_with_timeout() -> None:
    proc = Process(["x"], stdin=PIPE, stdout=PIPE, stderr=PIPE)
    fork_child(proc, "cat; head -c 200000 /dev/zero >&2; exec sleep 60")

    async def main() -> None:
        with pytest.raises(subprocess.TimeoutExpired):
            while True:  # until all output is in and only the exit is awaited
                try:
                    await proc.communicate_async(b"x" * 300000, timeout=0.2)
                except subprocess.TimeoutExpired as e:
                    if e.stderr is not None and len(e.stderr) == 200000:
                        raise
        proc.kill()
        out, err = await proc.communicate_async()
        assert out == b"x" * 300000 and err == b"\0" * 200000

    asyncio.run(main())
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.root
def test_pid_reuse_cannot_fool_wait_poll_or_signals(tmp_path: Path) -> None:
    """The pid of a process reaped behind our back is given to a new process on purpose.

    In a new PID namespace (so that nothing else takes pids) ``ns_last_pid`` is set so
    that the next fork gets the old pid. A pid-based wait would then block on (or reap)
    the newcomer and a pid-based kill would hit it; the pidfd taken at attach cannot.
    """
    script = tmp_path / "reuse.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, signal, sys
            sys.path.insert(0, sys.argv[1])
            from libcontainer.process import DEVNULL, LOST_STATUS, Process

            proc = Process(["x"], stdout=DEVNULL)
            pid = os.fork()
            if pid == 0:
                os.execvp("sleep", ["sleep", "60"])
            proc._attach(pid)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)  # reaped behind the Process's back
            for _ in range(50):
                with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                    f.write(str(pid - 1))
                newcomer = os.fork()
                if newcomer == 0:
                    os.execvp("sleep", ["sleep", "60"])
                if newcomer == pid:
                    break
                os.kill(newcomer, signal.SIGKILL)
                os.waitpid(newcomer, 0)
            assert newcomer == pid, (newcomer, pid)
            proc.send_signal(signal.SIGTERM)  # must not reach the newcomer
            assert proc.poll() == LOST_STATUS
            assert proc.wait(timeout=5) == LOST_STATUS
            assert os.waitpid(newcomer, os.WNOHANG) == (0, 0), "newcomer was hit or reaped"
            os.kill(newcomer, signal.SIGKILL)
            os.waitpid(newcomer, 0)
            print("ok")
            """
        )
    )
    repo = str(Path(__file__).resolve().parents[3])
    done = subprocess.run(
        ["unshare", "--pid", "--fork", sys.executable, str(script), repo],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
