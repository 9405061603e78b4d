"""The container configuration (runc ``configs.Config``) and its small parts."""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..errors import ConfigError
from .cgroup import Cgroup
from .devices import Device
from .hooks import Hooks
from .jsonmodel import Model, jf
from .mount import Mount
from .namespaces import Namespace, NamespaceType
from .network import Network, Route
from .seccomp import Seccomp

__all__ = ["Capabilities", "Config", "IDMap", "IntelRdt", "Rlimit"]


@attrs.frozen
class IDMap(Model):
    """A user namespace ID mapping: ``size`` IDs from ``container_id`` to ``host_id``."""

    container_id: int = jf("container_id", 0)
    host_id: int = jf("host_id", 0)
    size: int = jf("size", 0)


@attrs.frozen
class Rlimit(Model):
    """A resource limit: ``type`` is the ``RLIMIT_*`` number."""

    type: int = jf("type", 0)
    hard: int = jf("hard", 0)
    soft: int = jf("soft", 0)


@attrs.frozen(kw_only=True)
class Capabilities(Model):
    """The capability sets (names such as ``CAP_KILL``) the container process keeps."""

    bounding: tuple[str, ...] = jf("Bounding", ())
    effective: tuple[str, ...] = jf("Effective", ())
    inheritable: tuple[str, ...] = jf("Inheritable", ())
    permitted: tuple[str, ...] = jf("Permitted", ())
    ambient: tuple[str, ...] = jf("Ambient", ())


@attrs.frozen(kw_only=True)
class IntelRdt(Model):
    """Intel RDT settings: a class of service and L3 cache / memory bandwidth schemata."""

    clos_id: str = jf("closID", "", omitempty=True)
    l3_cache_schema: str = jf("l3_cache_schema", "", omitempty=True)
    mem_bw_schema: str = jf("memBwSchema", "", omitempty=True)
    enable_cmt: bool = jf("enableCMT", False, omitempty=True)
    enable_mbm: bool = jf("enableMBM", False, omitempty=True)


@attrs.frozen(kw_only=True)
class Config(Model):
    """Everything libcontainer needs to set up a container (runc ``configs.Config``).

    Built once from an OCI spec (``specconv``), validated by
    :func:`libcontainer.configs.validate`, then trusted. Attribute names are the snake_case
    of runc's Go names; JSON keys are runc's tags. ``rootless`` is the legacy (pre-1.0)
    config-level flag, kept so old ``state.json`` files load.
    """

    no_pivot_root: bool = jf("no_pivot_root", False)
    parent_death_signal: int = jf("parent_death_signal", 0)
    rootfs: str = jf("rootfs", "")
    umask: int | None = jf("umask", None)
    readonlyfs: bool = jf("readonlyfs", False)
    root_propagation: int = jf("rootPropagation", 0)
    mounts: tuple[Mount, ...] = jf("mounts", ())
    devices: tuple[Device, ...] = jf("devices", ())
    mount_label: str = jf("mount_label", "")
    hostname: str = jf("hostname", "")
    namespaces: tuple[Namespace, ...] = jf("namespaces", ())
    capabilities: Capabilities | None = jf("capabilities", None)
    networks: tuple[Network, ...] = jf("networks", ())
    routes: tuple[Route, ...] = jf("routes", ())
    cgroups: Cgroup | None = jf("cgroups", None)
    app_armor_profile: str = jf("apparmor_profile", "", omitempty=True)
    process_label: str = jf("process_label", "", omitempty=True)
    rlimits: tuple[Rlimit, ...] = jf("rlimits", (), omitempty=True)
    oom_score_adj: int | None = jf("oom_score_adj", None, omitempty=True)
    uid_mappings: tuple[IDMap, ...] = jf("uid_mappings", ())
    gid_mappings: tuple[IDMap, ...] = jf("gid_mappings", ())
    mask_paths: tuple[str, ...] = jf("mask_paths", ())
    readonly_paths: tuple[str, ...] = jf("readonly_paths", ())
    sysctl: Mapping[str, str] = jf("sysctl", factory=dict)
    seccomp: Seccomp | None = jf("seccomp", None)
    no_new_privileges: bool = jf("no_new_privileges", False, omitempty=True)
    hooks: Hooks = jf("Hooks", factory=Hooks)
    version: str = jf("version", "")
    labels: tuple[str, ...] = jf("labels", ())
    no_new_keyring: bool = jf("no_new_keyring", False)
    intel_rdt: IntelRdt | None = jf("intel_rdt", None, omitempty=True)
    rootless_euid: bool = jf("rootless_euid", False, omitempty=True)
    rootless_cgroups: bool = jf("rootless_cgroups", False, omitempty=True)
    rootless: bool = jf("rootless", False, legacy=True)

    def namespace(self, t: NamespaceType) -> Namespace | None:
        """The namespace entry of type ``t``, or ``None`` if the container shares the host's."""
        for ns in self.namespaces:
            if ns.type == t:
                return ns
        return None

    def has_namespace(self, t: NamespaceType) -> bool:
        """Whether the config has a namespace entry of type ``t`` (new or joined)."""
        return self.namespace(t) is not None

    def namespace_path(self, t: NamespaceType) -> str:
        """The path of the namespace of type ``t`` to join; ``""`` if new or absent."""
        ns = self.namespace(t)
        return ns.path if ns is not None else ""

    def is_private(self, t: NamespaceType) -> bool:
        """Whether a *new* namespace of type ``t`` is created (present, without a path)."""
        ns = self.namespace(t)
        return ns is not None and ns.path == ""

    def host_uid(self, container_id: int = 0) -> int:
        """The host UID that ``container_id`` maps to (unchanged without a user namespace).

        Raises :class:`~libcontainer.errors.ConfigError` when a user namespace is used but no
        mapping covers ``container_id``.
        """
        return self._host_id(container_id, self.uid_mappings, "uid_mappings")

    def host_gid(self, container_id: int = 0) -> int:
        """The host GID that ``container_id`` maps to (see :meth:`host_uid`)."""
        return self._host_id(container_id, self.gid_mappings, "gid_mappings")

    def _host_id(self, cid: int, mappings: Sequence[IDMap], name: str) -> int:
        if not self.has_namespace(NamespaceType.NEWUSER):
            return cid
        if not mappings:
            raise ConfigError("user namespace enabled, but no mappings found", field=name)
        for m in mappings:
            if m.container_id <= cid < m.container_id + m.size:
                return m.host_id + (cid - m.container_id)
        raise ConfigError(
            f"user namespace enabled, but no mapping found for id {cid}", field=name, value=cid
        )
