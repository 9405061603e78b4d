"""Killing a container's processes: the init, what is left in its cgroups, frozen tasks."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time

from libcontainer.cgroups import Manager
from libcontainer.configs import FreezerState
from libcontainer.process import Process
from libcontainer.procinfo import is_alive

log = logging.getLogger(__name__)


def signal_all(manager: Manager, sig: int) -> None:
    """Send ``sig`` to every process in the cgroups (freeze around SIGKILL, as runc)."""
    frozen = False
    if sig == signal.SIGKILL:
        # Freeze first so nothing forks away between listing and killing.
        with contextlib.suppress(Exception):
            manager.freeze(FreezerState.FROZEN)
            frozen = True
    try:
        for pid in manager.get_all_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
    finally:
        if frozen:
            with contextlib.suppress(Exception):
                manager.freeze(FreezerState.THAWED)


def kill_init(
    pid: int, started: int, manager: Manager | None, init: Process | None, container_id: str
) -> None:
    """SIGKILL the init and wait until it is gone (reaped, if it is our child)."""
    if is_alive(pid, started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # A frozen task does not act on SIGKILL until it is thawed: destroying a paused
    # container would otherwise wait forever.
    if manager is not None:
        with contextlib.suppress(Exception):
            if manager.get_freezer_state() != FreezerState.THAWED:
                manager.freeze(FreezerState.THAWED)
    if init is not None:
        try:
            init.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("container %s: init %d did not exit", container_id, pid)
    else:
        wait_gone(pid, started)


def kill_cgroup_processes(manager: Manager, container_id: str, timeout: float = 5.0) -> None:
    """Kill what is left in the cgroups (containers without their own PID namespace)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pids = manager.get_all_pids()
        except Exception:  # the cgroup is already gone
            return
        if not pids:
            return
        signal_all(manager, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        if time.monotonic() > deadline:
            log.warning("container %s: processes %s did not die", container_id, pids)
            return
        time.sleep(0.005)


def wait_gone(pid: int, started: int, timeout: float = 10.0) -> None:
    """Wait until ``pid`` (started at ``started``) has exited; reap it if it is our child."""
    deadline = time.monotonic() + timeout
    while is_alive(pid, started) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.002)
