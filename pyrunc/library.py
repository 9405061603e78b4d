"""The bridge to libcontainer for the commands that need it (create, run, start, exec, ...).

A CLI process is single-threaded, so containers are spawned with
:class:`~libcontainer.spawner.ForkSpawner`: no helper interpreter is started, and the
container processes are children of this process (through ``CLONE_PARENT``), reparented
to the nearest subreaper when it exits, exactly like runc's init.
"""

from __future__ import annotations

import os

from pyrunc.context import CliError, Globals
from pyrunc.logs import capture_library_logs

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than a whole command
    from typing import Any

    from libcontainer import Factory, Process
    from libcontainer.container import Container
    from specconv import ProcessSpec

__all__ = ["build_process", "factory", "load_container", "rootless_cgroups", "write_pid_file"]


def factory(g: Globals) -> Factory:
    """A factory on ``--root`` that forks this process to spawn containers."""
    from libcontainer import Factory
    from libcontainer.spawner import ForkSpawner

    capture_library_logs()
    return Factory(g.root, spawner=ForkSpawner())


def load_container(g: Globals, container_id: str) -> Container:
    """The container, or runc's ``container does not exist``."""
    from libcontainer.errors import ContainerNotExistsError

    try:
        return factory(g).load(container_id)
    except ContainerNotExistsError:
        raise CliError("container does not exist") from None


def rootless_cgroups(g: Globals) -> bool:
    """runc's ``--rootless``: true, false, or auto (rootless when not root)."""
    if g.rootless in ("true", "false"):
        return g.rootless == "true"
    if g.rootless != "auto":
        raise CliError(f'invalid --rootless value: "{g.rootless}" (use true, false or auto)')
    return os.geteuid() != 0


def extra_fds(preserve_fds: int) -> tuple[list[int], list[str]]:
    """Fds passed on beyond stdio: ``$LISTEN_FDS`` (socket activation) then ``--preserve-fds``.

    Returns the fds and the environment entries the process gets for socket activation.
    """
    env: list[str] = []
    listen = 0
    raw = os.environ.get("LISTEN_FDS", "")
    if raw.isdigit() and int(raw) > 0:
        listen = int(raw)
        env = [f"LISTEN_FDS={listen}", "LISTEN_PID=1"]
    if preserve_fds < 0:
        raise CliError("--preserve-fds must not be negative")
    return list(range(3, 3 + listen + preserve_fds)), env


def build_process(
    ps: ProcessSpec,
    *,
    init: bool,
    console_socket: str = "",
    preserve_fds: int = 0,
    **overrides: Any,
) -> Process:
    """A :class:`libcontainer.Process` from a checked spec process (runc's newProcess)."""
    from libcontainer import Process

    pass_fds, listen_env = extra_fds(preserve_fds)
    if ps.terminal is False and console_socket:
        raise CliError("cannot use console socket if runc will not detach or allocate tty")
    size = (ps.console_size.height, ps.console_size.width) if ps.console_size else None
    kwargs: dict[str, Any] = {
        "env": [*ps.env, *listen_env],
        "cwd": ps.cwd,
        "user": f"{ps.uid}:{ps.gid}",
        "additional_groups": [str(gid) for gid in ps.additional_gids],
        "pass_fds": pass_fds,
        "terminal": ps.terminal,
        "console_socket": console_socket or None,
        "console_size": size,
        "capabilities": ps.capabilities,
        "no_new_privileges": ps.no_new_privileges,
        "rlimits": ps.rlimits or None,
        "apparmor_profile": ps.apparmor_profile or None,
        "label": ps.selinux_label or None,
        "init": init,
    }
    kwargs.update(overrides)
    return Process(list(ps.args), **kwargs)


def write_pid_file(path: str, pid: int) -> None:
    """Write the pid atomically (a temp file renamed into place), as runc does."""
    if not path:
        return
    path = os.path.abspath(path)
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path))
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_SYNC | os.O_CLOEXEC, 0o666)
    try:
        os.write(fd, str(pid).encode())
    finally:
        os.close(fd)
    os.rename(tmp, path)
