"""``SandboxResult``: what happened to a sandboxed program."""

from __future__ import annotations

import dataclasses
import subprocess
from typing import Literal

from libcontainer.sandbox.accounting import Usage

Reason = Literal["exited", "signaled", "timeout", "oom"]


@dataclasses.dataclass(frozen=True)
class SandboxResult:
    """The outcome of :func:`libcontainer.sandbox.run` (and ``Pool.run``).

    ``reason`` says why the program ended, the first that applies of: ``"timeout"`` (we
    killed the whole sandbox when ``timeout`` expired), ``"oom"`` (the kernel's OOM killer
    killed a process in the sandbox), ``"signaled"`` (the program died of a signal),
    ``"exited"``.
    """

    args: tuple[str, ...]
    """The program and its arguments."""
    returncode: int
    """The program's exit status, or ``-N`` if it died of signal N (as Popen)."""
    stdout: bytes | None
    """Everything it wrote to stdout (None unless captured)."""
    stderr: bytes | None
    """Everything it wrote to stderr (None unless captured)."""
    reason: Reason
    duration: float
    """Wall-clock seconds from the program's release to its exit (setup excluded)."""
    cpu_time: float
    """CPU seconds (user + system) used by every process of the sandbox while it ran."""
    peak_memory: int
    """The sandbox's peak memory charge in bytes, from its cgroup (page cache included;
    on cgroup v2 it includes the container init's own setup)."""

    def check_returncode(self) -> None:
        """Raise :class:`subprocess.CalledProcessError` unless the program exited 0."""
        if self.returncode != 0:
            raise subprocess.CalledProcessError(
                self.returncode, list(self.args), self.stdout, self.stderr
            )


def make_result(
    args: tuple[str, ...],
    returncode: int,
    stdout: bytes | None,
    stderr: bytes | None,
    *,
    timed_out: bool,
    duration: float,
    before: Usage,
    after: Usage,
) -> SandboxResult:
    """Combine the program's status and the cgroup's counters into a result."""
    reason: Reason
    if timed_out:
        reason = "timeout"
    elif after.oom_kills > before.oom_kills:
        reason = "oom"
    elif returncode < 0:
        reason = "signaled"
    else:
        reason = "exited"
    return SandboxResult(
        args=args,
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        reason=reason,
        duration=duration,
        cpu_time=max(0, after.cpu_ns - before.cpu_ns) / 1e9,
        peak_memory=after.peak_memory,
    )
