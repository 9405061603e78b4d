"""``Process``: a process in a container, used like :class:`subprocess.Popen`.

Build one with what to run, hand it to :meth:`Container.start` / :meth:`Container.run`, then
use ``pid``, ``stdin``/``stdout``/``stderr`` (with ``PIPE``), ``wait(timeout=)``,
``returncode``, ``send_signal`` or a ``with`` block. Container processes are children of the
calling process, so waiting for them works like for any subprocess.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from libcontainer.configs import Capabilities, Rlimit
from libcontainer.init.payload import ProcessSpec

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT

DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)

StdioArg = int | IO[Any] | None


class Process:
    """A process to run in a container (the init with ``init=True``, else an exec)."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Sequence[str] | None = None,
        cwd: str = "/",
        user: str = "0:0",
        additional_groups: Sequence[str] = (),
        stdin: StdioArg = None,
        stdout: StdioArg = None,
        stderr: StdioArg = None,
        pass_fds: Sequence[int] = (),
        terminal: bool = False,
        console_socket: str | None = None,
        console_size: tuple[int, int] | None = None,
        capabilities: Capabilities | None = None,
        no_new_privileges: bool | None = None,
        rlimits: Sequence[Rlimit] | None = None,
        apparmor_profile: str | None = None,
        label: str | None = None,
        init: bool = True,
    ) -> None:
        self.args = list(args)
        self.env = list(env) if env is not None else list(DEFAULT_ENV)
        self.cwd = cwd
        self.user = user
        self.additional_groups = tuple(additional_groups)
        self.pass_fds = tuple(pass_fds)
        self.terminal = terminal
        self.console_socket = console_socket
        self.console_size = console_size
        self.capabilities = capabilities
        self.no_new_privileges = no_new_privileges
        self.rlimits = tuple(rlimits) if rlimits is not None else None
        self.apparmor_profile = apparmor_profile
        self.label = label
        self.init = init
        self._stdio_args: tuple[StdioArg, StdioArg, StdioArg] = (stdin, stdout, stderr)
        self.stdin: IO[bytes] | None = None
        self.stdout: IO[bytes] | None = None
        self.stderr: IO[bytes] | None = None
        self.console: IO[bytes] | None = None
        """The pty master, when ``terminal`` is set and no ``console_socket`` is given."""
        self.pid: int | None = None
        self.returncode: int | None = None
        self._wait_lock = threading.Lock()
        # Processes exec'd into this (init) process's PID namespace. They are our caller's
        # children too, and a dying namespace init only finishes exiting once every task
        # in the namespace has been reaped: waiting for the init reaps them as well.
        self.companions: list[Process] = []
        self._child_fds: list[int] = []
        self._reaper: Any = None

    def __repr__(self) -> str:
        return f"<Process args={self.args!r} pid={self.pid} returncode={self.returncode}>"

    # -- used by the container while starting -------------------------------------------

    def spec(self) -> ProcessSpec:
        """The pickleable description the init receives."""
        return ProcessSpec(
            args=tuple(self.args),
            env=tuple(self.env),
            cwd=self.cwd,
            user=self.user,
            additional_groups=self.additional_groups,
            capabilities=self.capabilities,
            no_new_privileges=self.no_new_privileges,
            rlimits=self.rlimits,
            apparmor_profile=self.apparmor_profile,
            label=self.label,
            terminal=self.terminal,
            console_size=self.console_size,
            extra_fds=len(self.pass_fds),
        )

    def child_stdio(self) -> tuple[int, int, int]:
        """Make the child's ends of stdin/stdout/stderr; pipes' other ends go to self.std*."""
        fds: list[int] = []
        for i, arg in enumerate(self._stdio_args):
            fds.append(self._child_fd(i, arg, fds))
        return fds[0], fds[1], fds[2]

    def _child_fd(self, index: int, arg: StdioArg, made: list[int]) -> int:
        if arg is None:
            return index
        if arg == PIPE:
            r, w = os.pipe()
            ours, theirs = (w, r) if index == 0 else (r, w)
            stream = open(ours, "wb" if index == 0 else "rb", buffering=0 if index == 0 else -1)  # noqa: SIM115
            setattr(self, ("stdin", "stdout", "stderr")[index], stream)
            self._child_fds.append(theirs)
            return theirs
        if arg == DEVNULL:
            fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            self._child_fds.append(fd)
            return fd
        if arg == STDOUT:
            if index != 2:
                raise ValueError("STDOUT is only valid for stderr")
            return made[1]
        if isinstance(arg, int):
            return arg
        return arg.fileno()

    def close_child_fds(self) -> None:
        """Close our copies of the child's pipe ends (after the child has them)."""
        for fd in self._child_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._child_fds.clear()

    def close_parent_streams(self) -> None:
        """Close stdin/stdout/stderr/console streams (on failure to start)."""
        for stream in (self.stdin, self.stdout, self.stderr, self.console):
            if stream is not None:
                stream.close()

    def attach(self, pid: int) -> None:
        """Record the pid of the started process."""
        self.pid = pid

    def set_console(self, master_fd: int) -> None:
        """Keep the pty master as ``self.console``."""
        self.console = open(master_fd, "r+b", buffering=0)  # noqa: SIM115

    # -- the Popen-like surface ------------------------------------------------------------

    def poll(self) -> int | None:
        """The exit code if the process has exited, else None (never blocks)."""
        return self._wait(block=False)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to exit; :class:`subprocess.TimeoutExpired` on timeout."""
        if timeout is not None or self.companions:
            deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
            while True:
                self._reap_companions()
                code = self._wait(block=False)
                if code is not None:
                    return code
                if timeout is None and not self.companions:
                    break  # nothing left to reap: a plain blocking wait will do
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
                self._sleep_until_exit(min(remaining, 0.05) if self.companions else remaining)
        code = self._wait(block=True)
        assert code is not None
        return code

    def _reap_companions(self) -> None:
        for companion in list(self.companions):
            if companion.pid is None or companion.poll() is not None:
                self.companions.remove(companion)

    def _sleep_until_exit(self, timeout: float) -> None:
        assert self.pid is not None
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:
            time.sleep(min(timeout, 0.01))
            return
        try:
            select.select([pidfd], [], [], timeout)
        finally:
            os.close(pidfd)

    def _wait(self, *, block: bool) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if self.pid is None:
            raise RuntimeError("process has not been started")
        with self._wait_lock:
            if self.returncode is not None:
                return self.returncode
            try:
                pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                # Not our child (loaded from another process) or reaped elsewhere.
                if block:
                    while _alive(self.pid):
                        time.sleep(0.01)
                elif _alive(self.pid):
                    return None
                self.returncode = 255
                return self.returncode
            if pid == 0:
                return None
            self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the process (nothing happens once it has been waited for)."""
        if self.pid is None or self.returncode is not None:
            return
        os.kill(self.pid, sig)

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Send SIGKILL."""
        self.send_signal(signal.SIGKILL)

    def communicate(
        self, input: bytes | None = None, timeout: float | None = None
    ) -> tuple[bytes | None, bytes | None]:
        """Like :meth:`subprocess.Popen.communicate` for piped stdio."""
        if self.stdin is not None:
            if input:
                try:
                    self.stdin.write(input)
                except BrokenPipeError:
                    pass
            self.stdin.close()
        out = self.stdout.read() if self.stdout is not None else None
        err = self.stderr.read() if self.stderr is not None else None
        self.wait(timeout)
        return out, err

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdin, self.stdout, self.stderr, self.console):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        if self.pid is not None:
            self.wait()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")
