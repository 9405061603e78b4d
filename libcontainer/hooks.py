"""Run OCI lifecycle hooks: each gets the container's OCI state JSON on stdin.

Hooks are duck-typed so the one runner serves both the library (the config models,
:class:`libcontainer.configs.Command` and :class:`libcontainer.configs.FuncHook`) and the
lifecycle core reading ``state.json`` without them
(:class:`libcontainer.lifecycle.record.HookCommand`): a command hook has ``path``, ``args``,
``env``, ``dir`` and ``timeout`` (seconds or None); a function hook has ``func``. Failures
read as runc's (``error running hook #0: exit status 1, stdout: ..., stderr: ...``).
"""

from __future__ import annotations

from libcontainer.errors import HookError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Protocol

    class CommandHook(Protocol):
        """What a command hook offers."""

        path: str
        args: Sequence[str]
        env: Sequence[str]
        dir: str
        timeout: float | None


__all__ = ["HOOK_KINDS", "run_hook", "run_hooks"]

HOOK_KINDS = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)

# Output shown in an error is bounded: a hook may write megabytes.
_MAX_SHOWN = 4096


def run_hook(kind: str, index: int, hook: object, state_json: str) -> None:
    """Run one hook; a non-zero exit, a failure to start or a timeout is a HookError."""
    func: Callable[[Any], object] | None = getattr(hook, "func", None)
    if func is not None:
        import json

        try:
            func(json.loads(state_json))
        except Exception as e:
            raise HookError(f"error running hook #{index} ({kind} {func!r}): {e}") from e
        return
    _run_command(kind, index, hook, state_json)  # type: ignore[arg-type]


def _run_command(kind: str, index: int, hook: CommandHook, state_json: str) -> None:
    import subprocess

    what = f"error running hook #{index} ({kind} {hook.path})"
    args = list(hook.args) if hook.args else [hook.path]
    timeout = hook.timeout if hook.timeout and hook.timeout > 0 else None
    env = dict(e.split("=", 1) for e in hook.env if "=" in e) if hook.env else {}
    try:
        proc = subprocess.Popen(
            args,
            executable=hook.path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=hook.dir or None,
            close_fds=True,
        )
    except OSError as e:
        raise HookError(f"{what}: {(e.strerror or str(e)).lower()}") from None
    try:
        out, err = proc.communicate(state_json.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise HookError(f"{what}: hook ran past specified timeout of {timeout:.1f}s") from None
    if proc.returncode != 0:
        status = (
            f"exit status {proc.returncode}"
            if proc.returncode > 0
            else f"signal: {-proc.returncode}"
        )
        raise HookError(f"{what}: {status}, stdout: {_shown(out)}, stderr: {_shown(err)}")


def _shown(data: bytes) -> str:
    text = data.decode(errors="replace").strip()
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


def run_hooks(kind: str, hooks: Sequence[object], state_json: str) -> None:
    """Run the hooks of one kind in order; the first failure stops the rest."""
    for i, hook in enumerate(hooks):
        run_hook(kind, i, hook, state_json)
