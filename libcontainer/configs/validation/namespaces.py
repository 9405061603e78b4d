"""Checks that depend on namespaces: the list itself, user mappings, sysctls, rootless."""

from __future__ import annotations

import os

from ...errors import ConfigError
from ..config import Config
from ..namespaces import NamespaceType
from .host import HostFeatures

__all__ = ["namespace_file_type", "namespaces", "rootless_euid", "sysctl"]

# Namespaced by the IPC namespace (besides fs.mqueue.*).
_IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)


def namespace_file_type(path: str) -> str | None:
    """The kind of namespace file ``path`` is (``"net"``, ``"mnt"``...), or ``None`` if none.

    An nsfs file's descriptor links to ``<kind>:[<inode>]`` in ``/proc/self/fd``; any other
    file links to its path. Raises :class:`OSError` if ``path`` cannot be opened.
    """
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)
    kind, sep, rest = target.partition(":[")
    if not sep or not rest.endswith("]") or not rest[:-1].isdigit() or "/" in kind:
        return None
    return kind


def namespaces(config: Config, host: HostFeatures) -> None:
    """No duplicates, supported kinds, joinable paths, and user namespaces with mappings."""
    seen: set[NamespaceType] = set()
    for i, ns in enumerate(config.namespaces):
        if ns.type in seen:
            raise ConfigError(
                "duplicate namespace type", field=f"namespaces[{i}].type", value=ns.type.value
            )
        seen.add(ns.type)
        if ns.path:
            _check_namespace_path(ns.type, ns.path, f"namespaces[{i}].path")

    has_user = NamespaceType.NEWUSER in seen
    if has_user and not host.user_namespaces:
        raise ConfigError("user namespaces are not enabled in the kernel", field="namespaces")
    if NamespaceType.NEWCGROUP in seen and not host.cgroup_namespaces:
        raise ConfigError("cgroup namespaces are not enabled in the kernel", field="namespaces")
    maps = (("uid_mappings", config.uid_mappings), ("gid_mappings", config.gid_mappings))
    for name, mappings in maps:
        if mappings and not has_user:
            raise ConfigError(
                "user namespace mappings are set, but there is no user namespace",
                field=name,
                value=[(m.container_id, m.host_id, m.size) for m in mappings],
            )
        if not mappings and config.is_private(NamespaceType.NEWUSER):
            raise ConfigError(
                "a new user namespace needs mappings (or join one by path)", field=name
            )
        for i, m in enumerate(mappings):
            if m.size < 1:
                raise ConfigError(
                    "a mapping must map at least one id", field=f"{name}[{i}].size", value=m.size
                )
            for attr in ("container_id", "host_id"):
                if getattr(m, attr) < 0:
                    raise ConfigError(
                        "ids cannot be negative",
                        field=f"{name}[{i}].{attr}",
                        value=getattr(m, attr),
                    )


def _check_namespace_path(t: NamespaceType, path: str, field: str) -> None:
    if not os.path.isabs(path):
        raise ConfigError("a namespace path must be absolute", field=field, value=path)
    try:
        kind = namespace_file_type(path)
    except OSError as e:
        raise ConfigError(f"cannot open namespace: {e.strerror}", field=field, value=path) from None
    if kind is None:
        raise ConfigError("not a namespace file", field=field, value=path)
    if kind != t.file_name:
        raise ConfigError(
            f"is a {kind} namespace, not a {t.file_name} namespace ({t.value})",
            field=field,
            value=path,
        )


def _dotted(key: str) -> str:
    # sysctl(8) accepts '/' as the separator: net/ipv4/conf/eth0.100/rp_filter.
    first = next((c for c in key if c in "./"), ".")
    if first == ".":
        return key
    return key.translate(str.maketrans("./", "/."))


def _is_host_netns(path: str) -> bool:
    a = os.stat("/proc/self/ns/net")
    b = os.stat(path)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def sysctl(config: Config, host: HostFeatures) -> None:
    """Only sysctls namespaced by a namespace the container has of its own."""
    hostnet: bool | None = None
    for key in config.sysctl:
        name = _dotted(key)
        field = f'sysctl["{key}"]'
        if name in _IPC_SYSCTLS or name.startswith("fs.mqueue."):
            if not config.has_namespace(NamespaceType.NEWIPC):
                raise ConfigError(
                    "sysctl is not allowed in the host's IPC namespace", field=field, value=key
                )
            continue
        if name.startswith("net."):
            if hostnet is None:
                hostnet = _uses_host_netns(config)
            if hostnet:
                raise ConfigError(
                    "sysctl is not allowed in the host's network namespace", field=field, value=key
                )
            continue
        if config.has_namespace(NamespaceType.NEWUTS) and name in (
            "kernel.domainname",
            "kernel.hostname",
        ):
            if name == "kernel.hostname" and config.hostname:
                raise ConfigError(
                    "sysctl conflicts with the hostname field", field=field, value=key
                )
            continue
        raise ConfigError("sysctl is not in a separate kernel namespace", field=field, value=key)


def _uses_host_netns(config: Config) -> bool:
    ns = config.namespace(NamespaceType.NEWNET)
    if ns is None:
        return True
    if not ns.path:
        return False
    try:
        return _is_host_netns(ns.path)
    except OSError as e:
        raise ConfigError(
            f"invalid netns path: {e.strerror}", field="namespaces", value=ns.path
        ) from None


def rootless_euid(config: Config, host: HostFeatures) -> None:
    """runc's rootless checks: a user namespace, mappings, mount uid=/gid= that map."""
    if not config.rootless_euid:
        return
    if not config.has_namespace(NamespaceType.NEWUSER):
        raise ConfigError("a rootless container needs a user namespace", field="namespaces")
    if config.is_private(NamespaceType.NEWUSER):
        if not config.uid_mappings:
            raise ConfigError(
                "a rootless container needs at least one UID mapping", field="uid_mappings"
            )
        if not config.gid_mappings:
            raise ConfigError(
                "a rootless container needs at least one GID mapping", field="gid_mappings"
            )
    for i, m in enumerate(config.mounts):
        for opt in m.data.split(","):
            kind, sep, value = opt.partition("=")
            if not sep or kind not in ("uid", "gid") or not value.isdigit():
                continue  # unknown options are the kernel's business
            try:
                if kind == "uid":
                    config.host_uid(int(value))
                else:
                    config.host_gid(int(value))
            except ConfigError:
                raise ConfigError(
                    f"cannot use {kind}={value} in a rootless container: it is not mapped",
                    field=f"mounts[{i}].data",
                    value=m.data,
                ) from None
