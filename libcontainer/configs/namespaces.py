"""Namespaces a container creates or joins (runc ``configs/namespaces_linux.go``)."""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

import enum

import attrs

from .jsonmodel import Model, jf

__all__ = ["NAMESPACE_ORDER", "Namespace", "NamespaceType"]


class NamespaceType(enum.StrEnum):
    """A namespace kind, spelled as runc writes it in ``state.json``."""

    NEWNS = "NEWNS"
    NEWUTS = "NEWUTS"
    NEWIPC = "NEWIPC"
    NEWPID = "NEWPID"
    NEWNET = "NEWNET"
    NEWUSER = "NEWUSER"
    NEWCGROUP = "NEWCGROUP"

    @property
    def file_name(self) -> str:
        """The name of this namespace's file under ``/proc/<pid>/ns/`` (runc's ``NsName``)."""
        return _FILE_NAMES[self]

    @property
    def clone_flag(self) -> int:
        """The ``CLONE_NEW*`` flag for ``clone(2)``/``unshare(2)``/``setns(2)``."""
        return _CLONE_FLAGS[self]


_FILE_NAMES = {
    NamespaceType.NEWNS: "mnt",
    NamespaceType.NEWUTS: "uts",
    NamespaceType.NEWIPC: "ipc",
    NamespaceType.NEWPID: "pid",
    NamespaceType.NEWNET: "net",
    NamespaceType.NEWUSER: "user",
    NamespaceType.NEWCGROUP: "cgroup",
}

_CLONE_FLAGS = {
    NamespaceType.NEWNS: 0x00020000,
    NamespaceType.NEWUTS: 0x04000000,
    NamespaceType.NEWIPC: 0x08000000,
    NamespaceType.NEWPID: 0x20000000,
    NamespaceType.NEWNET: 0x40000000,
    NamespaceType.NEWUSER: 0x10000000,
    NamespaceType.NEWCGROUP: 0x02000000,
}

#: The order runc joins/creates namespaces in (``NamespaceTypes()``): user first, always.
NAMESPACE_ORDER: tuple[NamespaceType, ...] = (
    NamespaceType.NEWUSER,
    NamespaceType.NEWIPC,
    NamespaceType.NEWUTS,
    NamespaceType.NEWNET,
    NamespaceType.NEWPID,
    NamespaceType.NEWNS,
    NamespaceType.NEWCGROUP,
)


@attrs.frozen
class Namespace(Model):
    """One namespace: a new one (``path == ""``) or an existing one joined by ``path``."""

    type: NamespaceType = jf("type")
    path: str = jf("path", "")

    def get_path(self, pid: int) -> str:
        """The ``/proc/<pid>/ns/<name>`` file of this namespace type for ``pid``."""
        return f"/proc/{pid}/ns/{self.type.file_name}"
