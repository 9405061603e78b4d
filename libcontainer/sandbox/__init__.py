"""Sandboxes in one call, for test harnesses and code runners.

    from libcontainer import sandbox

    result = sandbox.run(["python3", "-c", "print(6 * 7)"], timeout=5, memory=64 << 20)
    result.returncode, result.stdout, result.reason      # 0, b"42\\n", "exited"

    with sandbox.Pool(size=4, memory=64 << 20) as pool:  # sandboxes made ahead of time
        pool.run(["true"])

:func:`run` makes a container (from the host's programs, read-only, by default), runs the
program with limits and a timeout, collects its output and what it used from its cgroup,
and removes everything. :func:`run_async` is its asyncio form; :class:`Pool` keeps
sandboxes ready so that a run costs only the program's own time.

Names are imported on first use: importing this package (as the pytest plugin does) is
cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from libcontainer.sandbox.location import Placement, placement
    from libcontainer.sandbox.oneshot import run, run_async
    from libcontainer.sandbox.options import DEFAULT_ENV, DEFAULT_USER, Bind
    from libcontainer.sandbox.pool import Pool, PoolClosedError
    from libcontainer.sandbox.result import SandboxResult

_LAZY = {
    "run": "libcontainer.sandbox.oneshot",
    "run_async": "libcontainer.sandbox.oneshot",
    "Bind": "libcontainer.sandbox.options",
    "DEFAULT_ENV": "libcontainer.sandbox.options",
    "DEFAULT_USER": "libcontainer.sandbox.options",
    "Placement": "libcontainer.sandbox.location",
    "placement": "libcontainer.sandbox.location",
    "Pool": "libcontainer.sandbox.pool",
    "PoolClosedError": "libcontainer.sandbox.pool",
    "SandboxResult": "libcontainer.sandbox.result",
}

__all__ = [
    "DEFAULT_ENV",
    "DEFAULT_USER",
    "Bind",
    "Placement",
    "Pool",
    "PoolClosedError",
    "SandboxResult",
    "placement",
    "run",
    "run_async",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'libcontainer.sandbox' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
