"""``run`` and ``run_async``: a program in a fresh sandbox, start to finish, in one call."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence

from libcontainer.process import DEVNULL, PIPE, Process
from libcontainer.sandbox.accounting import Usage
from libcontainer.sandbox.box import Box, rlimits
from libcontainer.sandbox.location import current
from libcontainer.sandbox.options import (
    DEFAULT_USER,
    MountArg,
    SandboxOptions,
    program_args,
    program_cwd,
    program_env,
)
from libcontainer.sandbox.result import SandboxResult, make_result


@dataclasses.dataclass(frozen=True)
class Program:
    """What to run and how to talk to it (the per-run options, checked)."""

    args: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    input: bytes | None
    capture_output: bool
    timeout: float | None

    @classmethod
    def build(
        cls,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | Sequence[str] | None,
        cwd: str,
        input: bytes | None,
        capture_output: bool,
        timeout: float | None,
    ) -> Program:
        """Check the per-run options (ConfigError naming the culprit)."""
        from libcontainer.errors import ConfigError

        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise ConfigError("timeout must be a positive number of seconds", field="timeout")
        if input is not None and not isinstance(input, bytes | bytearray | memoryview):
            raise ConfigError("input must be bytes", field="input", value=type(input).__name__)
        return cls(
            args=program_args(args),
            env=program_env(env),
            cwd=program_cwd(cwd),
            input=bytes(input) if input is not None else None,
            capture_output=bool(capture_output),
            timeout=float(timeout) if timeout is not None else None,
        )

    def process(self, user: str) -> Process:
        """A Process for this program as a sandbox's init."""
        out = PIPE if self.capture_output else None
        return Process(
            self.args,
            env=self.env,
            cwd=self.cwd,
            user=user,
            stdin=PIPE if self.input is not None else DEVNULL,
            stdout=out,
            stderr=out,
            rlimits=rlimits(),
        )


def run(
    args: Sequence[str],
    *,
    rootfs: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    input: bytes | None = None,
    capture_output: bool = True,
    env: Mapping[str, str] | Sequence[str] | None = None,
    cwd: str = "/",
    memory: int | None = None,
    pids: int | None = None,
    cpus: float | None = None,
    network: str = "none",
    mounts: Iterable[MountArg] = (),
    readonly: bool = True,
    user: str = DEFAULT_USER,
) -> SandboxResult:
    """Run ``args`` in a new sandbox, wait for it, remove the sandbox, return what happened.

    The sandbox is a container of its own: new pid, ipc, uts and mount namespaces, a new
    network namespace with only ``lo`` (``network="none"``, the default) or the host's
    (``"host"``), its own cgroup with the given limits, no capabilities,
    ``no_new_privileges``, and the program running as ``user`` (nobody by default).

    ``rootfs``: a directory to use as the root, or None for the host's own programs
    (``/usr``, ``/bin``, ``/lib*``, ``/etc`` bound read-only). Either way ``/proc``,
    ``/dev`` and ``/tmp`` are private to the sandbox; ``readonly`` makes the root
    read-only. ``mounts``: more host paths to bind (see :class:`Bind`).

    ``memory`` (bytes, no swap beyond), ``pids`` (tasks) and ``cpus`` (CPUs' worth of
    time) are limits of the sandbox's cgroup. ``timeout`` (seconds, from the program's
    start) kills every process of the sandbox and reports ``reason="timeout"``.

    ``input`` is sent to the program's stdin (else stdin is ``/dev/null``);
    ``capture_output`` collects stdout and stderr (else they are the caller's). ``env``
    is the program's environment (a mapping or ``KEY=VALUE`` strings; default: only
    ``PATH``); ``cwd`` its working directory in the sandbox.

    Raises :class:`~libcontainer.errors.ConfigError` for bad options and
    :class:`~libcontainer.errors.ProcessStartError` when the program cannot be started
    (for instance, not found); the sandbox is removed in every case.
    """
    options = SandboxOptions.build(
        rootfs=rootfs,
        memory=memory,
        pids=pids,
        cpus=cpus,
        network=network,
        mounts=mounts,
        readonly=readonly,
        user=user,
    )
    program = Program.build(
        args, env=env, cwd=cwd, input=input, capture_output=capture_output, timeout=timeout
    )
    box = Box(options, current())
    process = program.process(options.user)
    try:
        box.start(process)
        before = box.release()
        timed_out = False
        try:
            stdout, stderr = process.communicate(program.input, program.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            box.kill()
            stdout, stderr = process.communicate()
        return _result(program, process, box, before, timed_out, stdout, stderr)
    finally:
        try:
            box.destroy()
        finally:
            process._close_parent_streams()


async def run_async(
    args: Sequence[str],
    *,
    rootfs: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    input: bytes | None = None,
    capture_output: bool = True,
    env: Mapping[str, str] | Sequence[str] | None = None,
    cwd: str = "/",
    memory: int | None = None,
    pids: int | None = None,
    cpus: float | None = None,
    network: str = "none",
    mounts: Iterable[MountArg] = (),
    readonly: bool = True,
    user: str = DEFAULT_USER,
) -> SandboxResult:
    """:func:`run` for asyncio: await many sandboxes at once from one event loop.

    The program's pipes and exit are watched by the loop (``add_reader`` on the pipes and
    on the process's pidfd); only the blocking steps of the container's lifecycle
    (create and start, kill, destroy) run in the loop's default executor.
    """
    import asyncio  # only here: it is slow to import

    options = SandboxOptions.build(
        rootfs=rootfs,
        memory=memory,
        pids=pids,
        cpus=cpus,
        network=network,
        mounts=mounts,
        readonly=readonly,
        user=user,
    )
    program = Program.build(
        args, env=env, cwd=cwd, input=input, capture_output=capture_output, timeout=timeout
    )
    loop = asyncio.get_running_loop()
    box = Box(options, current())
    process = program.process(options.user)

    def start_and_release() -> Usage:
        box.start(process)
        return box.release()

    try:
        before = await loop.run_in_executor(None, start_and_release)
        timed_out = False
        try:
            stdout, stderr = await process.communicate_async(program.input, program.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            await loop.run_in_executor(None, box.kill)
            stdout, stderr = await process.communicate_async()
        return _result(program, process, box, before, timed_out, stdout, stderr)
    finally:
        try:
            # Shielded: a cancelled caller must not leave the sandbox behind.
            await asyncio.shield(loop.run_in_executor(None, box.destroy))
        finally:
            process._close_parent_streams()


def _result(
    program: Program,
    process: Process,
    box: Box,
    before: Usage,
    timed_out: bool,
    stdout: bytes | None,
    stderr: bytes | None,
) -> SandboxResult:
    duration = time.monotonic() - box.released_at
    returncode = process.returncode
    assert returncode is not None
    return make_result(
        program.args,
        returncode,
        stdout,
        stderr,
        timed_out=timed_out,
        duration=duration,
        before=before,
        after=box.usage(),
    )
