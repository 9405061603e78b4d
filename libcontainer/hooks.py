"""Run OCI lifecycle hooks: each gets the container's OCI state JSON on stdin."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

from libcontainer.configs import Command, FuncHook, Hook
from libcontainer.errors import HookError

HOOK_KINDS = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)


def run_hook(kind: str, index: int, hook: Hook, state_json: str) -> None:
    """Run one hook; a non-zero exit, a failure to start or a timeout is a HookError."""
    if isinstance(hook, FuncHook):
        try:
            hook.func(json.loads(state_json))
        except Exception as e:
            raise HookError(f"{kind} hook #{index} ({hook.func!r}) failed: {e}") from e
        return
    _run_command(kind, index, hook, state_json)


def _run_command(kind: str, index: int, hook: Command, state_json: str) -> None:
    args = list(hook.args) if hook.args else [hook.path]
    timeout = hook.timeout if hook.timeout and hook.timeout > 0 else None
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


def run_hooks(kind: str, hooks: Sequence[Hook], state_json: str) -> None:
    """Run the hooks of one kind in order; the first failure stops the rest."""
    for i, hook in enumerate(hooks):
        run_hook(kind, i, hook, state_json)
