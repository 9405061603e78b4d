"""Build a :class:`libcontainer.Process` from a spec's ``process`` (runc's ``newProcess``)."""

from __future__ import annotations

from typing import Any

from libcontainer.process import Process
from specconv.process import ProcessSpec, process_args
from specconv.spec import Spec


def new_process(spec: Spec | ProcessSpec, *, init: bool = True, **overrides: Any) -> Process:
    """A Process with the spec's args, env, cwd, user, caps, rlimits and terminal settings.

    Keyword arguments override (e.g. ``stdout=subprocess.PIPE``, ``args=[...]``).
    """
    ps = spec if isinstance(spec, ProcessSpec) else process_args(spec)
    kwargs: dict[str, Any] = {
        "args": list(ps.args),
        "env": list(ps.env),
        "cwd": ps.cwd,
        "user": ps.username or f"{ps.uid}:{ps.gid}",
        "additional_groups": [str(g) for g in ps.additional_gids],
        "terminal": ps.terminal,
        "console_size": (ps.console_size.height, ps.console_size.width)
        if ps.console_size is not None
        else None,
        "capabilities": ps.capabilities,
        "no_new_privileges": ps.no_new_privileges,
        "rlimits": ps.rlimits or None,
        "apparmor_profile": ps.apparmor_profile or None,
        "label": ps.selinux_label or None,
        "init": init,
    }
    kwargs.update(overrides)
    args = kwargs.pop("args")
    return Process(args, **kwargs)
