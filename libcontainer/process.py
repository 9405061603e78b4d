"""``Process``: a process in a container, used like :class:`subprocess.Popen`.

Build one with what to run, hand it to :meth:`Container.start` / :meth:`Container.run`, then
use ``pid``, ``stdin``/``stdout``/``stderr`` (with ``PIPE``), ``communicate(input, timeout)``,
``wait(timeout)``, ``poll()``, ``returncode``, ``send_signal`` or a ``with`` block, as with
Popen. Container processes are children of the calling process; each is tracked through a
pidfd taken the moment it is attached, so a recycled pid can never make :meth:`wait` block
on, signal, or report another process.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from libcontainer.communicate import Communicator
from libcontainer.configs import Capabilities, Rlimit
from libcontainer.init.payload import ProcessSpec

if TYPE_CHECKING:
    import asyncio

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT

DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)

#: Status reported when the process was reaped by someone else (its status is lost).
LOST_STATUS = 255

StdioArg = int | IO[Any] | None


class Process(Communicator):
    """A process to run in a container: its init (``init=True``) or one exec'd into it.

    Parameters, as :class:`subprocess.Popen` where the name is the same:

    ``args``
        The program and its arguments. ``args[0]`` is looked up on the ``PATH`` of ``env``
        inside the container, as runc does, unless it contains a ``/``.
    ``env``
        ``KEY=VALUE`` strings, the program's whole environment. ``None`` means
        :data:`DEFAULT_ENV` (only runc's default ``PATH``). ``HOME`` is added from the
        container's ``/etc/passwd`` when missing. Build a Process from a spec with
        :func:`specconv.new_process` to get the spec's environment (``TERM``, ...).
    ``cwd``
        Working directory inside the container (must exist; ``/`` by default).
    ``user``
        ``"uid[:gid]"`` or ``"name[:group]"``, resolved in the container's ``/etc/passwd``
        and ``/etc/group`` (numeric ids need no files); ``"0:0"`` by default.
        ``additional_groups`` are group names or numeric gids.
    ``stdin``, ``stdout``, ``stderr``
        ``None`` (inherit the caller's), :data:`PIPE`, :data:`DEVNULL`, :data:`STDOUT`
        (stderr only), an fd or a file object.
    ``pass_fds``
        The caller's fds to hand over, numbered 3, 4, ... in the container.
    ``terminal``, ``console_socket``, ``console_size``
        Give the process a pty: its master is sent to the AF_UNIX socket at
        ``console_socket``, or kept as :attr:`console`. ``console_size`` is
        ``(rows, columns)``, that is ``(height, width)`` as in the OCI spec's consoleSize.
    ``capabilities``, ``no_new_privileges``, ``rlimits``, ``apparmor_profile``, ``label``
        Override the container config's values for this process (``None``: the config's).
    ``init``
        ``True``: this is the container's first process (``Container.start``/``run``).
        ``False``: it is exec'd into a running container (runc exec).
    ``sub_cgroup_paths``
        For an exec'd process: existing sub-cgroups of the container's cgroups to run it in
        (runc's ``SubCgroupPaths``, ``exec --cgroup``): ``{"": "sub"}`` for every
        hierarchy, ``{"memory": "a", "pids": "b"}`` per controller (the others stay the
        container's own). See :func:`libcontainer.cgroups.subcgroups.join_sub_cgroups`.
    """

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
        sub_cgroup_paths: Mapping[str, str] | None = None,
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
        self.sub_cgroup_paths = dict(sub_cgroup_paths or {})
        self._stdio_args: tuple[StdioArg, StdioArg, StdioArg] = (stdin, stdout, stderr)
        self.stdin: IO[bytes] | None = None
        self.stdout: IO[bytes] | None = None
        self.stderr: IO[bytes] | None = None
        self.console: IO[bytes] | None = None
        """The pty master, when ``terminal`` is set and no ``console_socket`` is given."""
        self.pid: int | None = None
        self.returncode: int | None = None
        """None while running; the exit status, or ``-N`` if killed by signal N (Popen's)."""
        self._lock = threading.Lock()
        self._pidfd = -1
        # Processes exec'd into this (init) process's PID namespace. They are our caller's
        # children too, and a dying namespace init only finishes exiting once every task
        # in the namespace has been reaped: waiting for the init reaps them as well.
        self._companions: list[Process] = []
        self._child_fds: list[int] = []
        self._init_communication()

    def __repr__(self) -> str:
        return f"<Process args={self.args!r} pid={self.pid} returncode={self.returncode}>"

    # -- used by the container while starting ----------------------------------------------

    def _check(self) -> None:
        """Refuse, naming the field, what the kernel would cut short or could not find: NUL
        bytes in strings, args that are not strings, fds that are not open (ConfigError)."""
        from libcontainer.configs.validation.strings import check_no_nul
        from libcontainer.errors import ConfigError

        if not self.args or not all(isinstance(a, str) for a in self.args):
            raise ConfigError(
                "must be a non-empty list of strings", field="process.args", value=self.args
            )
        if not all(isinstance(e, str) for e in self.env):
            raise ConfigError("must be a list of strings", field="process.env", value=self.env)
        for name in (
            "args",
            "env",
            "cwd",
            "user",
            "additional_groups",
            "console_socket",
            "apparmor_profile",
            "label",
        ):
            check_no_nul(getattr(self, name), f"process.{name}")
        fds = [(f"process.pass_fds[{i}]", fd) for i, fd in enumerate(self.pass_fds)]
        fds += [
            (f"process.{name}", arg)
            for name, arg in zip(("stdin", "stdout", "stderr"), self._stdio_args, strict=True)
            if isinstance(arg, int) and arg >= 0
        ]
        for field, fd in fds:
            try:
                fcntl.fcntl(fd, fcntl.F_GETFD)
            except (OSError, TypeError, ValueError):
                raise ConfigError(
                    f"fd {fd!r} is not an open file descriptor of this process", field=field
                ) from None

    def _spec(self) -> ProcessSpec:
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

    def _child_stdio(self) -> tuple[int, int, int]:
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

    def _close_child_fds(self) -> None:
        """Close our copies of the child's pipe ends (after the child has them)."""
        for fd in self._child_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._child_fds.clear()

    def _close_parent_streams(self) -> None:
        """Close stdin/stdout/stderr/console streams (on failure to start)."""
        for stream in (self.stdin, self.stdout, self.stderr, self.console):
            if stream is not None:
                stream.close()

    def _attach(self, pid: int) -> None:
        """Record the pid of the started process and take a pidfd on it.

        The process is our unreaped child at this point, so ``pid`` cannot have been
        recycled yet: the pidfd names exactly this process from now on.
        """
        self.pid = pid
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:  # kernels before 5.3: fall back to the pid
            self._pidfd = -1

    def _set_console(self, master_fd: int) -> None:
        """Keep the pty master as ``self.console``."""
        self.console = open(master_fd, "r+b", buffering=0)  # noqa: SIM115

    def _add_companion(self, process: Process) -> None:
        """``process`` was exec'd into this init's PID namespace: reap it with us."""
        self._companions.append(process)

    # -- waiting ------------------------------------------------------------------------------

    def poll(self) -> int | None:
        """The exit code if the process has exited, else None (never blocks)."""
        self._check_started()
        self._reap_companions()
        return self._try_reap()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to exit and return :attr:`returncode`.

        Raises :class:`subprocess.TimeoutExpired` once ``timeout`` seconds have passed; the
        process is left running and can be waited for again.
        """
        self._check_started()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._reap_companions()
            code = self._try_reap()
            if code is not None:
                return code
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
            self._sleep_until_exit(remaining)

    async def wait_async(self) -> int:
        """Await the process's exit without blocking the event loop and without a thread.

        The process's pidfd (and those of processes exec'd into its PID namespace) is
        watched with ``loop.add_reader``: many processes can be awaited from one loop.
        """
        import asyncio  # only here: importing it costs more than the rest of this module

        self._check_started()
        loop = asyncio.get_running_loop()
        while True:
            self._reap_companions()
            code = self._try_reap()
            if code is not None:
                return code
            fds = self._watch_fds()
            if not fds:  # no pidfd on this kernel: poll
                await asyncio.sleep(0.005)
                continue
            exited: asyncio.Future[None] = loop.create_future()

            def wake(future: asyncio.Future[None] = exited) -> None:
                if not future.done():
                    future.set_result(None)

            try:
                for fd in fds:
                    loop.add_reader(fd, wake)
                await exited
            finally:
                for fd in fds:
                    loop.remove_reader(fd)
                    os.close(fd)

    def _check_started(self) -> None:
        if self.pid is None:
            raise RuntimeError("process has not been started")

    def _reap_companions(self) -> None:
        for companion in list(self._companions):
            if companion.pid is None or companion._try_reap() is not None:
                with contextlib.suppress(ValueError):  # another waiting thread was first
                    self._companions.remove(companion)

    def _watch_fds(self) -> list[int]:
        """Private duplicates of the pidfds to wait on (ours and our companions').

        Duplicates, so that another thread reaping the process (and closing its pidfd)
        can never pull an fd out from under a waiter.
        """
        fds = []
        for process in (self, *self._companions):
            with process._lock:
                if process._pidfd >= 0 and process.returncode is None:
                    fds.append(os.dup(process._pidfd))
        return fds

    def _sleep_until_exit(self, timeout: float | None) -> None:
        """Block until we or a companion may have exited, or ``timeout`` passed."""
        fds = self._watch_fds()
        if not fds:
            time.sleep(0.005 if timeout is None else min(timeout, 0.005))
            return
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        try:
            poller.poll(None if timeout is None else max(0, math.ceil(timeout * 1000)))
        finally:
            for fd in fds:
                os.close(fd)

    def _try_reap(self) -> int | None:
        """Reap the process if it has exited (never blocks); its returncode or None."""
        with self._lock:
            if self.returncode is not None:
                return self.returncode
            assert self.pid is not None
            if self._pidfd < 0:
                return self._try_reap_pid()
            try:
                info = os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED | os.WNOHANG)
            except ChildProcessError:
                # Not our child any more (someone else reaped it): its status is lost.
                if not _pidfd_readable(self._pidfd):
                    return None
                self._set_returncode(LOST_STATUS)
                return self.returncode
            if info is None:
                return None
            if info.si_code == os.CLD_EXITED:
                self._set_returncode(info.si_status)
            else:  # CLD_KILLED, CLD_DUMPED
                self._set_returncode(-info.si_status)
            return self.returncode

    def _try_reap_pid(self) -> int | None:
        assert self.pid is not None
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            self.returncode = LOST_STATUS
            return self.returncode
        if pid == 0:
            return None
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def _set_returncode(self, code: int) -> None:
        # Called with the lock held. Waiters hold duplicates, so closing here is safe.
        self.returncode = code
        os.close(self._pidfd)
        self._pidfd = -1

    # -- signals ------------------------------------------------------------------------------

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the process (nothing happens once it has been waited for)."""
        if self.pid is None:
            return
        with self._lock:
            if self.returncode is not None:
                return
            try:
                if self._pidfd >= 0:
                    signal.pidfd_send_signal(self._pidfd, sig)
                else:
                    os.kill(self.pid, sig)
            except ProcessLookupError:
                pass  # exited, not yet reaped

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Send SIGKILL."""
        self.send_signal(signal.SIGKILL)

    # -- context manager ---------------------------------------------------------------------

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

    def __del__(self) -> None:
        # An unreaped process keeps its pidfd until the object goes away.
        if getattr(self, "_pidfd", -1) >= 0:
            try:
                os.close(self._pidfd)
            except OSError:
                pass
            self._pidfd = -1


def _pidfd_readable(fd: int) -> bool:
    """A pidfd polls readable once its process has exited."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
