"""Setting up the rootfs, start to end (runc's prepareRootfs / finalizeRootfs).

:func:`prepare_rootfs` runs in the container's init, in its new mount namespace, before
the pivot: it isolates the namespace's propagation, mounts ``config.mounts``, creates
/dev, lets the caller run hooks, and pivots. :func:`finalize_rootfs` runs after the pivot
(and after the console and the masked/read-only paths): it makes read-only what must be.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Mapping

import attrs

from libcontainer.configs import Command, Config, Mount, NamespaceType
from libcontainer.errors import HookError, SyscallError
from libcontainer.system import (
    MS_BIND,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    MS_SLAVE,
    Syscalls,
)

from .cgroupmount import mount_cgroup
from .devices import (
    create_devices,
    in_user_namespace,
    reopen_dev_null,
    setup_dev_symlinks,
    setup_ptmx,
)
from .mountinfo import MountInfo, parent_mount, read_mountinfo
from .mountops import MountContext, fail, remount_readonly, statfs_mount_flags
from .mounts import (
    clean_path,
    mount_bind,
    mount_mqueue,
    mount_other,
    mount_proc_or_sysfs,
    mount_tmpfs,
)
from .pivot import chroot, ms_move_root, pivot_root

__all__ = [
    "finalize_rootfs",
    "mount_to_rootfs",
    "needs_setup_dev",
    "prepare_root",
    "prepare_rootfs",
    "run_mount_command",
]

log = logging.getLogger(__name__)

_MOUNTERS: dict[str, Callable[[MountContext, Mount], None]] = {
    "proc": mount_proc_or_sysfs,
    "sysfs": mount_proc_or_sysfs,
    "mqueue": mount_mqueue,
    "tmpfs": mount_tmpfs,
    "bind": mount_bind,
    "cgroup": mount_cgroup,
}
#: The environment of premount/postmount commands that do not bring their own.
DEFAULT_COMMAND_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


def mount_to_rootfs(ctx: MountContext, m: Mount) -> None:
    """Mount one config entry into the rootfs according to its type (runc's mountToRootfs)."""
    _MOUNTERS.get(m.device, mount_other)(ctx, m)


def needs_setup_dev(config: Config) -> bool:
    """False when /dev is bind-mounted from elsewhere: then its nodes are not ours to make."""
    return not any(
        m.device == "bind" and clean_path(m.destination) == "/dev" for m in config.mounts
    )


def _has_devpts(config: Config) -> bool:
    return any(
        m.device == "devpts" and clean_path(m.destination) == "/dev/pts" for m in config.mounts
    )


def prepare_root(ctx: MountContext, root_propagation: int = 0) -> list[MountInfo]:
    """Cut the namespace's propagation to the host and bind the rootfs onto itself.

    ``/`` becomes recursively slave (or ``root_propagation``) so that nothing mounted from
    now on propagates out. The rootfs's parent mount is made private if it is shared:
    pivot_root refuses a shared parent, and the self-bind must not propagate. The
    self-bind makes the rootfs a mount point, which pivot_root and MS_MOVE need.

    Returns the mount table read on the way (before the self-bind).
    """
    sc = ctx.syscalls
    flags = root_propagation or (MS_SLAVE | MS_REC)
    try:
        sc.mount(None, "/", None, flags, None)
    except SyscallError as e:
        raise fail(e, f"change propagation of / to {flags:#x}") from None
    mounts = read_mountinfo()
    parent = parent_mount(mounts, ctx.root)
    if parent is not None and parent.is_shared:
        try:
            sc.mount(None, parent.mountpoint, None, MS_PRIVATE, None)
        except SyscallError as e:
            raise fail(e, f"make {parent.mountpoint} (parent of the rootfs) private") from None
    try:
        sc.mount(ctx.root, ctx.root, None, MS_BIND | MS_REC, None)
    except SyscallError as e:
        raise fail(e, f"bind mount the rootfs {ctx.root} onto itself") from None
    return mounts


def run_mount_command(cmd: Command, when: str) -> None:
    """Run a premount/postmount command and wait for it; raise HookError if it fails.

    ``cmd.path`` is executed with argv ``cmd.args`` as given (``args[0]`` is argv[0], as
    for every :class:`~libcontainer.configs.Command`; ``[path]`` when empty), in
    ``cmd.dir``. The environment is ``cmd.env`` or a bare PATH, never the init's own.
    """
    argv = list(cmd.args) or [cmd.path]
    env = dict(e.split("=", 1) for e in cmd.env if "=" in e) if cmd.env else DEFAULT_COMMAND_ENV
    try:
        proc = subprocess.run(
            argv,
            executable=cmd.path,
            env=env,
            cwd=cmd.dir or None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=cmd.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise HookError(f"{when} command {argv} timed out after {cmd.timeout}s") from None
    except OSError as e:
        raise HookError(f"{when} command {argv} failed to start: {e.strerror}") from None
    if proc.returncode != 0:
        out = proc.stdout.decode(errors="replace").strip()
        raise HookError(f"{when} command {argv} failed: exit status {proc.returncode}: {out}")


def prepare_rootfs(
    config: Config,
    *,
    syscalls: Syscalls,
    run_hooks: Callable[[], None],
    in_cgroups: Callable[[], None] | None = None,
    mount_sources: Mapping[int, int] | None = None,
) -> None:
    """Set up the rootfs and jail the process in it (runc's ``prepareRootfs``).

    In order: :func:`prepare_root`; each of ``config.mounts`` (with its premount and
    postmount commands); the device nodes, /dev/ptmx and the /dev symlinks (unless /dev is
    a bind mount); chdir into the rootfs; ``run_hooks()`` (the caller's createContainer
    hooks and prestart sync: the old root is still reachable there); pivot_root (or
    MS_MOVE + chroot with ``no_pivot_root``, or plain chroot without a mount namespace);
    stdio that was the host's /dev/null is reopened on the container's.

    Nothing is made read-only yet: that is :func:`finalize_rootfs`.

    ``in_cgroups()`` is called before the first cgroup mount: a cgroup mount shows the
    process's own cgroups, so it must wait until the runtime has put it in them.
    ``mount_sources`` maps indexes of ``config.mounts`` to bind sources the runtime opened
    (see :mod:`libcontainer.mountsources`).
    """
    root = os.path.realpath(config.rootfs)
    userns = in_user_namespace() or config.has_namespace(NamespaceType.NEWUSER)
    ctx = MountContext(
        root=root,
        syscalls=syscalls,
        cgroupns=config.has_namespace(NamespaceType.NEWCGROUP),
        userns=userns,
    )
    # The host's mounts, read once: the cgroup mounts need them again (see MountContext).
    ctx = attrs.evolve(ctx, host_mounts=tuple(prepare_root(ctx, config.root_propagation)))
    for i, m in enumerate(config.mounts):
        if in_cgroups is not None and m.device in ("cgroup", "cgroup2"):
            in_cgroups()
            in_cgroups = None
        for cmd in m.premount_cmds:
            run_mount_command(cmd, "premount")
        if mount_sources and i in mount_sources and m.device == "bind":
            mount_bind(ctx, m, source_fd=mount_sources[i])
        else:
            mount_to_rootfs(ctx, m)
        for cmd in m.postmount_cmds:
            run_mount_command(cmd, "postmount")

    setup_dev = needs_setup_dev(config)
    if setup_dev:
        create_devices(ctx, config.devices, bind=userns)
        if _has_devpts(config):
            setup_ptmx(ctx)
        setup_dev_symlinks(ctx)

    try:
        os.chdir(root)
    except OSError as e:
        raise fail(e, f"chdir {root}") from None
    run_hooks()

    if config.no_pivot_root:
        ms_move_root(root, syscalls)
    elif config.has_namespace(NamespaceType.NEWNS):
        pivot_root(root, syscalls)
    else:
        chroot()
    if setup_dev:
        reopen_dev_null()


def finalize_rootfs(config: Config, *, syscalls: Syscalls) -> None:
    """Make read-only what the config asks for and set the umask (runc's finalizeRootfs).

    Runs after the pivot. tmpfs mounts and /dev were mounted writable (files had to be
    created in them); those with ``MS_RDONLY`` are remounted read-only now. Then the
    rootfs itself if ``readonlyfs``, keeping its other flags (nosuid, nodev, ...).
    """
    ctx = MountContext(root="/", syscalls=syscalls)
    for m in config.mounts:
        if not m.flags & MS_RDONLY:
            continue
        if m.device == "tmpfs" or clean_path(m.destination) == "/dev":
            remount_readonly(ctx, clean_path(m.destination), m.flags)
    if config.readonlyfs:
        set_readonly(syscalls)
    os.umask(0o022 if config.umask is None else config.umask)


def set_readonly(syscalls: Syscalls) -> None:
    """Remount ``/`` read-only, keeping the flags it has (a user namespace must)."""
    try:
        existing = statfs_mount_flags("/")
    except OSError as e:
        raise fail(e, "statfs /") from None
    flags = existing | MS_BIND | MS_REMOUNT | MS_RDONLY
    try:
        syscalls.mount(None, "/", None, flags, None)
    except SyscallError as e:
        raise fail(e, "remount / read-only") from None
