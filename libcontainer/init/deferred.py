"""The deferred init: a fully set-up container whose program is chosen later (warm pools).

A standard init is told its program when it is created. A *deferred* one
(``ProcessSpec.deferred``) is created the same way (namespaces, mounts, cgroups, pivot,
privileges dropped, exec.fifo passed) with a placeholder program; then, instead of
exec'ing, it waits on a channel kept open for the purpose (the last preserved fd) for one
:class:`libcontainer.sync.Program` message carrying args, env, cwd and the three stdio fds.
It installs those, does what runc does last (chdir, environment, ``PATH`` lookup) and execs.

The parent learns the outcome from the same channel, as :mod:`subprocess` does with its
error pipe: the channel is close-on-exec, so a successful exec closes it (EOF), and any
failure before that comes back as a :class:`libcontainer.sync.Error`.

The parent's side lives in :mod:`libcontainer.sandbox.warm`.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import attrs

from libcontainer import sync
from libcontainer.errors import ConfigError, LibcontainerError
from libcontainer.init.fds import FdSet
from libcontainer.init.finalize import enter_cwd, execve_program, look_path, process_env
from libcontainer.init.payload import ProcessSpec

#: Exit status of a deferred init that could not exec its program (the parent is told why).
EXEC_FAILED = 127


def exec_program(fds: FdSet, process: ProcessSpec, prepared_env: dict[str, str]) -> NoReturn:
    """Wait for the program, then exec it; never returns.

    ``prepared_env`` is the environment the placeholder would have had: its ``HOME`` (from
    the container's passwd, for the user we now are) is the default for the program's.
    A closed channel without a message means the container is being discarded: exit 0.
    """
    channel_fd = fds.extra[-1]
    fds.extra = fds.extra[:-1]
    channel = socket.socket(fileno=channel_fd)
    msg, stdio = sync.recv(channel, max_fds=3)
    if msg is None:
        os._exit(0)
    try:
        if not isinstance(msg, sync.Program) or len(stdio) != 3:
            raise ConfigError("deferred init: expected a program and three stdio fds")
        program = _checked(msg)
        fds.install_stdio((stdio[0], stdio[1], stdio[2]))
        for fd in stdio:
            os.close(fd)
        enter_cwd(program.cwd)
        spec = attrs.evolve(process, args=program.args, env=program.env)
        env = process_env(spec, prepared_env.get("HOME", "/"))
        if not program.args:
            raise ConfigError("process.args must not be empty", field="process.args", value=[])
        path = look_path(program.args[0], env)
        fds.install_extra(keep=channel.fileno())
        execve_program(path, list(program.args), env)
    except BaseException as e:
        _report(channel, e)
    os._exit(EXEC_FAILED)


def _checked(msg: sync.Program) -> sync.Program:
    """The message with its fields as the types they claim to be (JSON gives lists)."""
    args, env = tuple(msg.args), tuple(msg.env)
    if not all(isinstance(a, str) for a in (*args, *env)) or not isinstance(msg.cwd, str):
        raise ConfigError("deferred init: args, env and cwd must be strings")
    return sync.Program(args=args, env=env, cwd=msg.cwd)


def _report(channel: socket.socket, e: BaseException) -> None:
    if isinstance(e, OSError) and e.strerror and not e.filename:
        message = e.strerror
    elif isinstance(e, LibcontainerError | OSError):
        message = str(e)
    else:
        message = f"{type(e).__name__}: {e}"
    try:
        sync.send(channel, sync.Error(message=message))
    except OSError:
        pass
