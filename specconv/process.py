"""The ``process`` part of a spec, checked and ready to build a libcontainer process from.

runc keeps most of ``process`` out of ``configs.Config``: ``runc run`` turns it into a
``libcontainer.Process`` (``newProcess`` in ``utils_linux.go``). :func:`process_args` does
the checking and converting of that step and leaves building the process to the caller.
"""

from __future__ import annotations

import posixpath

import attrs

from libcontainer.configs import Capabilities, Rlimit
from libcontainer.errors import ConfigError
from specconv._checks import check_capabilities, rlimit_numbers
from specconv.spec_process import Box, Process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from specconv.spec import Spec

__all__ = ["ProcessSpec", "process_args"]


@attrs.frozen(kw_only=True)
class ProcessSpec:
    """What the container's first process runs and with which credentials and limits.

    ``rlimits`` carry ``RLIMIT_*`` numbers; ``capabilities`` is ``None`` when the spec sets
    none (the process then keeps the config's). ``console_size`` is only meaningful with
    ``terminal``.
    """

    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    username: str = ""
    umask: int | None = None
    terminal: bool = False
    console_size: Box | None = None
    capabilities: Capabilities | None = None
    rlimits: tuple[Rlimit, ...] = ()
    no_new_privileges: bool = False
    apparmor_profile: str = ""
    selinux_label: str = ""
    oom_score_adj: int | None = None


def process_args(spec: Spec | Process) -> ProcessSpec:
    """Check ``spec.process`` as ``runc run`` does and return it as a :class:`ProcessSpec`.

    ``spec`` may also be a process model read alone (:func:`specconv.parse_process`, what
    ``runc exec --process`` reads). Raises :class:`~libcontainer.errors.ConfigError` when
    there is no process, ``cwd`` is empty or relative, ``args`` is empty, or a capability or
    rlimit name is unknown.
    """
    proc = spec if isinstance(spec, Process) else spec.process
    if proc is None:
        raise ConfigError("the spec has no process to run", field="process")
    if not proc.cwd:
        raise ConfigError("cwd must not be empty", field="process.cwd", value=proc.cwd)
    if not posixpath.isabs(proc.cwd):
        raise ConfigError("cwd must be an absolute path", field="process.cwd", value=proc.cwd)
    if not proc.args:
        raise ConfigError("args must not be empty", field="process.args", value=[])
    check_capabilities(proc.capabilities)
    rlimits = tuple(
        Rlimit(type=number, hard=hard, soft=soft)
        for number, hard, soft in rlimit_numbers(proc.rlimits)
    )
    caps = None
    if proc.capabilities is not None:
        c = proc.capabilities
        caps = Capabilities(
            bounding=c.bounding,
            effective=c.effective,
            inheritable=c.inheritable,
            permitted=c.permitted,
            ambient=c.ambient,
        )
    return ProcessSpec(
        args=proc.args,
        env=proc.env,
        cwd=proc.cwd,
        uid=proc.user.uid,
        gid=proc.user.gid,
        additional_gids=proc.user.additional_gids,
        username=proc.user.username,
        umask=proc.user.umask,
        terminal=proc.terminal,
        console_size=proc.console_size,
        capabilities=caps,
        rlimits=rlimits,
        no_new_privileges=proc.no_new_privileges,
        apparmor_profile=proc.apparmor_profile,
        selinux_label=proc.selinux_label,
        oom_score_adj=proc.oom_score_adj,
    )
