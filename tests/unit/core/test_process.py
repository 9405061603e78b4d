"""Process: the Popen-like surface, without a container (the child is a plain fork)."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from libcontainer.process import DEVNULL, PIPE, STDOUT, Process


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
