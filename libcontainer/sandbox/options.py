"""What a sandbox is made of, checked once at the edge: typed errors, then trusted values."""

from __future__ import annotations

import dataclasses
import math
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from libcontainer.errors import ConfigError

Network = Literal["none", "host"]

#: The environment of a sandboxed program when ``env`` is not given.
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
#: The user sandboxed programs run as unless told otherwise: nobody, without capabilities.
DEFAULT_USER = "65534:65534"


@dataclasses.dataclass(frozen=True)
class Bind:
    """A host path made visible in the sandbox (read-only unless ``readonly=False``).

    ``destination`` defaults to the same path as ``source``.
    """

    source: str
    destination: str | None = None
    readonly: bool = True

    @property
    def target(self) -> str:
        """Where the path appears inside the sandbox."""
        return self.destination or self.source


MountArg = str | tuple[str, str] | Bind
"""A ``mounts`` entry: a host path (bound read-only at the same place), a
``(source, destination)`` pair (read-only), or a :class:`Bind`."""


@dataclasses.dataclass(frozen=True)
class SandboxOptions:
    """The container-level options of :func:`libcontainer.sandbox.run` and ``Pool``.

    Hashable: sandboxes with equal options share one library config (built once).
    """

    rootfs: str | None = None
    memory: int | None = None
    pids: int | None = None
    cpus: float | None = None
    network: Network = "none"
    mounts: tuple[Bind, ...] = ()
    readonly: bool = True
    user: str = DEFAULT_USER

    @classmethod
    def build(
        cls,
        *,
        rootfs: str | os.PathLike[str] | None = None,
        memory: int | None = None,
        pids: int | None = None,
        cpus: float | None = None,
        network: str = "none",
        mounts: Iterable[MountArg] = (),
        readonly: bool = True,
        user: str = DEFAULT_USER,
    ) -> SandboxOptions:
        """Check every option; raise :class:`ConfigError` naming the culprit."""
        root: str | None = None
        if rootfs is not None:
            root = os.path.realpath(os.fspath(rootfs))
            if not os.path.isdir(root):
                raise ConfigError("rootfs is not a directory", field="rootfs", value=rootfs)
        if network not in ("none", "host"):
            raise ConfigError('network must be "none" or "host"', field="network", value=network)
        for name, value in (("memory", memory), ("pids", pids)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"{name} must be an int", field=name, value=value)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be positive", field=name, value=value)
        if cpus is not None and (
            isinstance(cpus, bool)
            or not isinstance(cpus, int | float)
            or not math.isfinite(cpus)
            or cpus < 0.01
        ):
            raise ConfigError("cpus must be a number of CPUs >= 0.01", field="cpus", value=cpus)
        if not isinstance(user, str) or not user:
            raise ConfigError(
                'user must be "uid[:gid]" or "name[:group]"', field="user", value=user
            )
        return cls(
            rootfs=root,
            memory=memory,
            pids=pids,
            cpus=float(cpus) if cpus is not None else None,
            network=network,  # type: ignore[arg-type]  # checked above
            mounts=tuple(_bind(m, i) for i, m in enumerate(mounts)),
            readonly=bool(readonly),
            user=user,
        )


def _bind(entry: MountArg, index: int) -> Bind:
    field = f"mounts[{index}]"
    if isinstance(entry, str | os.PathLike):
        bind = Bind(os.fspath(entry))
    elif isinstance(entry, Bind):
        bind = entry
    elif isinstance(entry, tuple) and len(entry) == 2:
        bind = Bind(os.fspath(entry[0]), os.fspath(entry[1]))
    else:
        raise ConfigError(
            "a mount is a host path, a (source, destination) pair or a Bind",
            field=field,
            value=entry,
        )
    for name, path in (("source", bind.source), ("destination", bind.target)):
        if not posixpath.isabs(path) or "\0" in path:
            raise ConfigError(f"{name} must be an absolute path", field=field, value=path)
    if posixpath.normpath(bind.target) == "/":
        raise ConfigError("cannot bind over /: use rootfs=", field=field, value=bind.target)
    if not os.path.exists(bind.source):
        raise ConfigError("bind source does not exist", field=field, value=bind.source)
    return Bind(os.path.realpath(bind.source), posixpath.normpath(bind.target), bind.readonly)


def program_env(env: Mapping[str, str] | Sequence[str] | None) -> tuple[str, ...]:
    """``env`` as ``KEY=VALUE`` strings (a mapping, strings, or None for the default)."""
    if env is None:
        return DEFAULT_ENV
    if isinstance(env, Mapping):
        items = tuple(f"{k}={v}" for k, v in env.items())
    elif isinstance(env, str | bytes):
        raise ConfigError("env must be a mapping or a sequence of KEY=VALUE", field="env")
    else:
        items = tuple(env)
    for item in items:
        if not isinstance(item, str) or "=" not in item or item.startswith("=") or "\0" in item:
            raise ConfigError("environment entries must be KEY=VALUE", field="env", value=item)
    return items


def program_args(args: Sequence[str]) -> tuple[str, ...]:
    """``args`` checked: a non-empty sequence of strings (a lone string is a mistake)."""
    if isinstance(args, str | bytes) or not args:
        raise ConfigError("args must be a non-empty list of strings", field="args", value=args)
    out = tuple(args)
    if not all(isinstance(a, str) and "\0" not in a for a in out):
        raise ConfigError("args must be strings without NUL bytes", field="args", value=args)
    return out


def program_cwd(cwd: str) -> str:
    """``cwd`` checked: an absolute path inside the sandbox."""
    if not isinstance(cwd, str) or not posixpath.isabs(cwd) or "\0" in cwd:
        raise ConfigError("cwd must be an absolute path inside the sandbox", field="cwd", value=cwd)
    return cwd
