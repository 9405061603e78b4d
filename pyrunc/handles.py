"""Containers for the commands, through the lifecycle core (never the heavy library).

``state``, ``list``, ``kill``, ``start``, ``pause``, ``resume``, ``delete`` and ``ps`` act
on :class:`~libcontainer.lifecycle.handle.ContainerHandle`, the same code
:class:`libcontainer.Container` uses, and so import no config models.
"""

from __future__ import annotations

from libcontainer.errors import ContainerNotExistsError, InvalidIdError
from libcontainer.lifecycle.handle import ContainerHandle
from libcontainer.lifecycle.store import Store, validate_id
from pyrunc.context import CliError, Globals

__all__ = ["NOT_EXIST", "check_id", "load", "store"]

NOT_EXIST = "container does not exist"


def check_id(container_id: str) -> None:
    """runc's id check, with its message."""
    try:
        validate_id(container_id)
    except InvalidIdError:
        raise CliError(f"invalid id format: {container_id}") from None


def store(g: Globals) -> Store:
    """The state root of ``--root`` (not created: a command that finds nothing says so)."""
    return Store(g.root, create=False)


def load(g: Globals, container_id: str) -> ContainerHandle:
    """The container, or runc's ``container does not exist``."""
    check_id(container_id)
    try:
        return ContainerHandle.load(store(g), container_id)
    except ContainerNotExistsError:
        raise CliError(NOT_EXIST) from None
