"""Seccomp filters: a libseccomp binding, runc's config mapping and loader, notify hand-off.

    from libcontainer.seccomp import setup_seccomp, send_listener_fd

    fd = setup_seccomp(config.seccomp)       # in the init, right before execve
    if fd is not None:                       # SCMP_ACT_NOTIFY rules: give the fd to the agent
        send_listener_fd(config.seccomp.listener_path, fd, state_json, metadata)

Names are imported lazily (PEP 562) and libseccomp is opened on first use, so importing this
package costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from libcontainer.seccomp import libseccomp
    from libcontainer.seccomp.filter import build_filter, patched_program, setup_seccomp
    from libcontainer.seccomp.notify import container_process_state, send_listener_fd

__all__ = [
    "build_filter",
    "container_process_state",
    "libseccomp",
    "patched_program",
    "send_listener_fd",
    "setup_seccomp",
]

_LAZY = {
    "build_filter": "libcontainer.seccomp.filter",
    "patched_program": "libcontainer.seccomp.filter",
    "setup_seccomp": "libcontainer.seccomp.filter",
    "container_process_state": "libcontainer.seccomp.notify",
    "send_listener_fd": "libcontainer.seccomp.notify",
}


def __getattr__(name: str) -> Any:
    if name == "libseccomp":
        return importlib.import_module("libcontainer.seccomp.libseccomp")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
