"""Run OCI lifecycle hooks: each gets the container's OCI state JSON on stdin."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from libcontainer.configs import Command
from libcontainer.errors import HookError

HOOK_KINDS = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)


def _seconds(timeout: object) -> float | None:
    """Hook timeouts are Go durations in nanoseconds in runc's config; None means no limit."""
    if timeout is None:
        return None
    if isinstance(timeout, int | float) and timeout > 0:
        return float(timeout) / 1e9
    return None


def run_hook(kind: str, index: int, hook: Command, state_json: str) -> None:
    """Run one hook; a non-zero exit, a failure to start or a timeout is a HookError."""
    args = list(hook.args) if hook.args else [hook.path]
    timeout = _seconds(hook.timeout)
    try:
        proc = subprocess.Popen(
            args,
            executable=hook.path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(e.split("=", 1) for e in hook.env if "=" in e) if hook.env else {},
            cwd=hook.dir or None,
            close_fds=True,
        )
    except OSError as e:
        raise HookError(f"{kind} hook #{index} ({hook.path}): {e.strerror}") from None
    try:
        out, _ = proc.communicate(state_json.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise HookError(
            f"{kind} hook #{index} ({hook.path}) did not finish within {timeout} s"
        ) from None
    if proc.returncode != 0:
        detail = out.decode(errors="replace").strip()
        raise HookError(
            f"{kind} hook #{index} ({hook.path}) failed: exit status {proc.returncode}"
            + (f": {detail}" if detail else "")
        )


def run_hooks(kind: str, hooks: Sequence[Command], state_json: str) -> None:
    """Run the hooks of one kind in order; the first failure stops the rest."""
    for i, hook in enumerate(hooks):
        run_hook(kind, i, hook, state_json)
