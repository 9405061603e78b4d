"""Hot-adding a host device to a running container, and taking it away again.

No runtime does this (runc, crun and youki fix a container's devices at creation). Two
things make a device usable in a container: a node in its filesystem and a cgroup rule
that lets it open that node. :func:`add_device` does both and records the device in the
config (``devices`` and the cgroup's device rules) through ``Container.set``, which
applies the rules (v1: ``devices.allow``/``devices.deny``, only the difference; v2: the
device eBPF program is replaced, atomically where the kernel can) and writes
``state.json``, so a later ``Factory.load`` knows them. :func:`remove_device` undoes both.

The node is made through the init's root (``/proc/<pid>/root``), pinned after checking
that the pid still is the container's init: the kernel walks that directory in the
container's own mounts, so this reaches the container's ``/dev`` without entering its
mount namespace (which a threaded caller could not do: ``setns`` refuses a process that
shares its filesystem context). Paths are resolved inside that root as if it were ``/``
(``openat2(RESOLVE_IN_ROOT)``, or a component-by-component ``O_NOFOLLOW`` walk), so a
symlink the container planted cannot send the node, its parent directories or its
removal outside the container.

A process that opened the device keeps its file after :func:`remove_device`: the cgroup
checks access when a node is opened, not on each read or write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from libcontainer.configs import Config, Device, DeviceRule, DeviceType, NamespaceType
from libcontainer.devices import device_from_path
from libcontainer.errors import (
    ConfigError,
    ContainerNotRunningError,
    NotADeviceError,
    os_reason,
)
from libcontainer.lifecycle.status import Status
from libcontainer.rootfs.securejoin import clean_path, fd_path, mkdir_all_in_root_fd

if TYPE_CHECKING:
    from libcontainer.container import Container

__all__ = ["add_device", "remove_device", "with_device", "without_device"]

log = logging.getLogger(__name__)

_LIVE = (Status.CREATED, Status.RUNNING, Status.PAUSED)
_TYPE_BITS = {DeviceType.CHAR: stat.S_IFCHR, DeviceType.BLOCK: stat.S_IFBLK}


def add_device(
    container: Container,
    path: str,
    permissions: str = "rwm",
    *,
    container_path: str | None = None,
) -> Device:
    """Give the running ``container`` the host's device node ``path``.

    The node appears at ``container_path`` (default: ``path``) with the host node's
    mode and owner, and the cgroup lets the container's processes use it with
    ``permissions`` (any of ``r``, ``w``, ``m``). Returns the device as recorded in the
    config. On failure nothing is left changed.
    """
    _check_permissions(permissions)
    target = _container_path(container_path or path)
    found = device_from_path(path, permissions)
    if found.type not in _TYPE_BITS:
        raise NotADeviceError(
            f"{path} is a {found.type.name.lower()}: only block and character devices can be added"
        )
    device = attrs.evolve(found, path=target)
    _check_can_hotplug(container)
    if any(clean_path(d.path) == target for d in container.config.devices):
        raise ConfigError(
            "the container already has a device at this path (remove it first)",
            field="devices",
            value=target,
        )
    rule = DeviceRule(
        type=device.type,
        major=device.major,
        minor=device.minor,
        permissions=permissions,
        allow=True,
    )
    before = container.config
    with _container_root(container) as root:
        container.set(with_device(before, device, rule))
        try:
            _make_node(root, device)
        except BaseException:
            _restore(container, before)
            raise
    log.info("container %s: added %s as %s (%s)", container.id, path, target, permissions)
    return device


def remove_device(container: Container, path: str) -> Device:
    """Take the device at ``path`` (its path in the container) away from ``container``.

    The cgroup rule goes first, so nothing can open the device any more, then the node.
    Returns the device removed from the config.
    """
    target = _container_path(path)
    matches = [d for d in container.config.devices if clean_path(d.path) == target]
    if not matches:
        raise ConfigError("the container has no device at this path", field="devices", value=target)
    device = matches[0]
    _check_can_hotplug(container)
    with _container_root(container) as root:
        container.set(without_device(container.config, device))
        _remove_node(root, device)
    log.info("container %s: removed %s", container.id, target)
    return device


def with_device(config: Config, device: Device, rule: DeviceRule) -> Config:
    """``config`` with ``device`` in its devices and ``rule`` in its cgroup's rules."""
    cgroups = config.cgroups
    assert cgroups is not None
    resources = attrs.evolve(cgroups.resources, devices=(*cgroups.resources.devices, rule))
    return attrs.evolve(
        config,
        devices=(*config.devices, device),
        cgroups=attrs.evolve(cgroups, resources=resources),
    )


def without_device(config: Config, device: Device) -> Config:
    """``config`` without the device at ``device.path``, and without the allow rules for
    its number unless another of the config's devices still has that number."""
    target = clean_path(device.path)
    devices = tuple(d for d in config.devices if clean_path(d.path) != target)
    cgroups = config.cgroups
    assert cgroups is not None

    def same_number(r: DeviceRule) -> bool:
        return (r.type, r.major, r.minor) == (device.type, device.major, device.minor)

    rules = cgroups.resources.devices
    if not any(same_number(d) for d in devices):
        rules = tuple(r for r in rules if not (r.allow and same_number(r)))
    resources = attrs.evolve(cgroups.resources, devices=rules)
    return attrs.evolve(config, devices=devices, cgroups=attrs.evolve(cgroups, resources=resources))


def _check_permissions(permissions: str) -> None:
    if (
        not permissions
        or set(permissions) - set("rwm")
        or len(set(permissions)) != len(permissions)
    ):
        raise ConfigError(
            "device permissions are some of 'r', 'w' and 'm'",
            field="permissions",
            value=permissions,
        )


def _container_path(path: str) -> str:
    if not path.startswith("/"):
        path = os.path.abspath(path)  # a host path relative to our cwd: its absolute form
    target = clean_path(path)
    if target == "/":
        raise ConfigError("not a path for a device node", field="path", value=path)
    return target


def _check_can_hotplug(container: Container) -> None:
    if container.status() not in _LIVE:
        raise ContainerNotRunningError(f"container {container.id} is not running")
    config = container.config
    if container.cgroup_manager is None or config.cgroups is None:
        raise ConfigError(
            "the container has no cgroups: there is no device rule to add the device to",
            field="cgroups",
        )
    if config.has_namespace(NamespaceType.NEWUSER):
        raise ConfigError(
            "cannot hot-add devices to a container with a user namespace: nodes on its "
            "filesystems are unusable (nodev) and a bind mount would have to be made "
            "inside its mount namespace",
            field="namespaces",
        )


@contextlib.contextmanager
def _container_root(container: Container) -> Iterator[str]:
    """The init's root directory, pinned (as a ``/proc/self/fd/N`` path) once the pid is
    proven to still be the container's init."""
    state = container.state()
    pid = state.init_process_pid
    try:
        proc = os.open(f"/proc/{pid}", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ContainerNotRunningError(f"container {container.id} is not running") from None
    try:
        # Read through the pinned directory: a pid reused since is a different directory.
        try:
            fd = os.open("stat", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc)
            try:
                data = os.read(fd, 4096)
            finally:
                os.close(fd)
            root = os.open("root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=proc)
        except (FileNotFoundError, ProcessLookupError):
            raise ContainerNotRunningError(f"container {container.id} is not running") from None
    finally:
        os.close(proc)
    try:
        started = int(data.rsplit(b")", 1)[1].split()[19])
        if started != state.init_process_start:
            raise ContainerNotRunningError(f"container {container.id} is not running")
        yield fd_path(root)
    finally:
        os.close(root)


def _make_node(root: str, device: Device) -> None:
    parent, name = os.path.split(device.path)
    pfd = mkdir_all_in_root_fd(root, parent)
    try:
        mode = _TYPE_BITS[device.type] | stat.S_IMODE(device.file_mode)
        rdev = os.makedev(device.major, device.minor)
        try:
            os.mknod(name, mode, rdev, dir_fd=pfd)
        except FileExistsError:
            if not _is_node(pfd, name, device):
                raise ConfigError(
                    "something else exists at this path in the container", value=device.path
                ) from None
            return  # the very node is there already: keep it as it is
        except OSError as e:
            raise ConfigError(
                f"mknod in the container: {os_reason(e)}", value=device.path
            ) from None
        try:
            _set_owner_and_mode(pfd, name, device)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=pfd)
            raise
    finally:
        os.close(pfd)


def _set_owner_and_mode(dirfd: int, name: str, device: Device) -> None:
    """Owner, and the mode the umask took bits from, of the node just made.

    Through an ``O_PATH | O_NOFOLLOW`` fd checked to be that node: a container process
    swapping in a symlink meanwhile gets neither call to follow it.
    """
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dirfd)
    try:
        if not _is_node(fd, "", device):
            raise ConfigError("the new node was replaced in the container", value=device.path)
        os.chown(fd_path(fd), device.uid, device.gid)
        os.chmod(fd_path(fd), stat.S_IMODE(device.file_mode))
    finally:
        os.close(fd)


def _is_node(dirfd: int, name: str, device: Device) -> bool:
    try:
        st = os.stat(name, dir_fd=dirfd, follow_symlinks=False) if name else os.fstat(dirfd)
    except FileNotFoundError:
        return False
    return stat.S_IFMT(st.st_mode) == _TYPE_BITS[device.type] and st.st_rdev == os.makedev(
        device.major, device.minor
    )


def _remove_node(root: str, device: Device) -> None:
    parent, name = os.path.split(device.path)
    try:
        pfd = mkdir_all_in_root_fd(root, parent)
    except OSError as e:
        log.warning("not removing %s from the container: %s", device.path, e)
        return
    try:
        if not _is_node(pfd, name, device):
            # Gone already, or something the container put there: not ours to remove.
            log.info("%s is not that device node in the container: left alone", device.path)
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=pfd)
    finally:
        os.close(pfd)


def _restore(container: Container, config: Config) -> None:
    try:
        container.set(config)
    except Exception as e:
        log.warning("container %s: could not restore its device rules: %s", container.id, e)
