"""``Pool``: sandboxes made ahead of time, so that running a program costs only its own run.

Each pooled sandbox is a container created and started all the way (namespaces, mounts,
cgroup, pivot, privileges dropped) whose init waits for its program
(:mod:`libcontainer.init.deferred`). :meth:`Pool.run` takes one, hands it the program with
its args, env, cwd and stdio, waits, and gives the used sandbox to a background thread
that destroys it and makes a new one. Every sandbox serves one program only.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from libcontainer.errors import LibcontainerError
from libcontainer.process import DEVNULL, PIPE
from libcontainer.sandbox.accounting import Usage
from libcontainer.sandbox.box import Box, rlimits
from libcontainer.sandbox.location import current
from libcontainer.sandbox.oneshot import Program
from libcontainer.sandbox.options import DEFAULT_USER, MountArg, SandboxOptions
from libcontainer.sandbox.result import SandboxResult, make_result
from libcontainer.sandbox.warm import DeferredProcess

log = logging.getLogger(__name__)

_UNSET: Any = object()


class PoolClosedError(LibcontainerError):
    """The pool was closed."""


class _Warm:
    """A pooled sandbox: its box and its waiting init."""

    def __init__(self, box: Box, process: DeferredProcess) -> None:
        self.box = box
        self.process = process


class Pool:
    """``size`` sandboxes kept ready; use in a ``with`` block (or call :meth:`close`).

    Takes :func:`~libcontainer.sandbox.run`'s options: the container's (``rootfs``,
    ``memory``, ``pids``, ``cpus``, ``network``, ``mounts``, ``readonly``, ``user``) are
    fixed for the pool; ``timeout``, ``capture_output``, ``env`` and ``cwd`` are defaults
    that :meth:`run` can override. The first sandbox is made before the constructor
    returns, so bad options fail here, with a typed error.
    """

    def __init__(
        self,
        size: int = 1,
        *,
        rootfs: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
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
    ) -> None:
        from libcontainer.errors import ConfigError

        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError("size must be a positive int", field="size", value=size)
        self.size = size
        self._options = SandboxOptions.build(
            rootfs=rootfs,
            memory=memory,
            pids=pids,
            cpus=cpus,
            network=network,
            mounts=mounts,
            readonly=readonly,
            user=user,
        )
        # Check the per-run defaults once (with a stand-in program).
        Program.build(
            ["true"], env=env, cwd=cwd, input=None, capture_output=capture_output, timeout=timeout
        )
        self._defaults: dict[str, Any] = {
            "timeout": timeout,
            "capture_output": capture_output,
            "env": env,
            "cwd": cwd,
        }
        self._place = current()
        self._cond = threading.Condition()
        self._ready: collections.deque[_Warm] = collections.deque()
        self._used: collections.deque[_Warm] = collections.deque()
        self._making = 0
        self._closed = False
        self._error: BaseException | None = None
        self._ready.append(self._make())
        self._working = True
        self._worker = threading.Thread(
            target=self._work, name="libcontainer-sandbox-pool", daemon=True
        )
        self._worker.start()
        # A pool left open must not leave its sandboxes behind when the program ends.
        atexit.register(self.close)

    # -- the caller's side ----------------------------------------------------------------

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: float | None = _UNSET,
        input: bytes | None = None,
        capture_output: bool = _UNSET,
        env: Mapping[str, str] | Sequence[str] | None = _UNSET,
        cwd: str = _UNSET,
    ) -> SandboxResult:
        """Run ``args`` in a ready sandbox; :func:`~libcontainer.sandbox.run`'s contract.

        Blocks until a sandbox is ready if all are in use.
        """
        program = self._program(args, timeout, input, capture_output, env, cwd)
        warm = self._take()
        try:
            before = self._hand(warm, program)
            timed_out = False
            try:
                stdout, stderr = warm.process.communicate(program.input, program.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                warm.box.kill()
                stdout, stderr = warm.process.communicate()
            return self._result(warm, program, before, timed_out, stdout, stderr)
        finally:
            self._give_back(warm)

    async def run_async(
        self,
        args: Sequence[str],
        *,
        timeout: float | None = _UNSET,
        input: bytes | None = None,
        capture_output: bool = _UNSET,
        env: Mapping[str, str] | Sequence[str] | None = _UNSET,
        cwd: str = _UNSET,
    ) -> SandboxResult:
        """:meth:`run` for asyncio (waiting for a ready sandbox happens in the executor)."""
        import asyncio  # only here: it is slow to import

        program = self._program(args, timeout, input, capture_output, env, cwd)
        loop = asyncio.get_running_loop()
        warm = await loop.run_in_executor(None, self._take)
        try:
            before = self._hand(warm, program)
            timed_out = False
            try:
                stdout, stderr = await warm.process.communicate_async(
                    program.input, program.timeout
                )
            except subprocess.TimeoutExpired:
                timed_out = True
                await loop.run_in_executor(None, warm.box.kill)
                stdout, stderr = await warm.process.communicate_async()
            return self._result(warm, program, before, timed_out, stdout, stderr)
        finally:
            self._give_back(warm)

    def close(self) -> None:
        """Destroy every sandbox of the pool; runs in progress destroy theirs when done."""
        atexit.unregister(self.close)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._worker is not threading.current_thread():
            self._worker.join()
        # Whatever the worker did not get to (it exits once nothing is left in use).
        for warm in self._drain():
            self._destroy(warm)

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Pool size={self.size} ready={len(self._ready)} closed={self._closed}>"

    def _program(
        self,
        args: Sequence[str],
        timeout: float | None,
        input: bytes | None,
        capture_output: bool,
        env: Mapping[str, str] | Sequence[str] | None,
        cwd: str,
    ) -> Program:
        given: dict[str, Any] = {
            "timeout": timeout,
            "capture_output": capture_output,
            "env": env,
            "cwd": cwd,
        }
        chosen = {k: self._defaults[k] if v is _UNSET else v for k, v in given.items()}
        return Program.build(args, input=input, **chosen)

    def _take(self) -> _Warm:
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosedError("the pool is closed")
                if self._ready:
                    warm = self._ready.popleft()
                    self._cond.notify_all()  # the worker makes a new one
                    return warm
                if self._error is not None and not self._making:
                    error, self._error = self._error, None
                    raise error
                self._cond.wait()

    def _hand(self, warm: _Warm, program: Program) -> Usage:
        out = PIPE if program.capture_output else None
        before = warm.box.baseline()
        warm.process.hand(
            program.args,
            env=program.env,
            cwd=program.cwd,
            stdin=PIPE if program.input is not None else DEVNULL,
            stdout=out,
            stderr=out,
            timeout=program.timeout,
        )
        return before

    def _result(
        self,
        warm: _Warm,
        program: Program,
        before: Usage,
        timed_out: bool,
        stdout: bytes | None,
        stderr: bytes | None,
    ) -> SandboxResult:
        returncode = warm.process.returncode
        assert returncode is not None
        return make_result(
            program.args,
            returncode,
            stdout,
            stderr,
            timed_out=timed_out,
            duration=time.monotonic() - warm.box.released_at,
            before=before,
            after=warm.box.usage(),
        )

    def _give_back(self, warm: _Warm) -> None:
        warm.process._close_parent_streams()
        with self._cond:
            if self._working:
                self._used.append(warm)
                self._cond.notify_all()
                return
        self._destroy(warm)

    # -- the background worker ------------------------------------------------------------

    def _make(self) -> _Warm:
        box = Box(self._options, self._place)
        process = DeferredProcess(user=self._options.user, rlimits=rlimits())
        try:
            box.start(process)
            assert box.container is not None
            box.container.exec()
        except BaseException:
            process.discard()
            box.destroy()
            raise
        return _Warm(box, process)

    def _destroy(self, warm: _Warm) -> None:
        warm.process.discard()
        try:
            warm.box.destroy()
        except Exception:
            log.exception("sandbox %s: destroy failed", warm.box.id)

    def _work(self) -> None:
        """Destroy used sandboxes first (they hold resources), then make new ones."""
        failures = 0
        while True:
            with self._cond:
                while not (
                    self._used
                    or self._closed
                    or (len(self._ready) < self.size and self._error is None)
                ):
                    self._cond.wait()
                if self._used:
                    job: str = "destroy"
                    warm = self._used.popleft()
                elif self._closed:
                    self._working = False
                    return
                else:
                    job = "make"
                    self._making += 1
            if job == "destroy":
                self._destroy(warm)
                continue
            try:
                made = self._make()
            except BaseException as e:
                failures += 1
                log.warning("sandbox pool: making a sandbox failed: %s", e)
                with self._cond:
                    self._making -= 1
                    self._error = e
                    self._cond.notify_all()
                # Back off; a run() that finds nothing ready raises the error meanwhile.
                time.sleep(min(1.0, 0.05 * 2**failures))
                with self._cond:
                    self._error = None
                continue
            failures = 0
            with self._cond:
                self._making -= 1
                if self._closed:
                    self._used.append(made)
                else:
                    self._ready.append(made)
                self._cond.notify_all()

    def _drain(self) -> list[_Warm]:
        with self._cond:
            out = list(self._ready) + list(self._used)
            self._ready.clear()
            self._used.clear()
            return out
