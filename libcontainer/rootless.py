"""Running without root: where state lives, what an unprivileged user may have.

Import-light on purpose (only :mod:`os`): ``pyrunc`` asks for its default state root on
every call. What runc 1.1 does, and so do we:

- an unprivileged user's state root is ``$XDG_RUNTIME_DIR/runc`` (ours:
  ``$XDG_RUNTIME_DIR/pyrunc``), made on first use with mode ``0700`` and the sticky bit
  (the XDG base directory specification asks for it: files without it may be cleaned up);
- root in the initial user namespace keeps ``/run/runc`` even with ``XDG_RUNTIME_DIR`` set
  (``/run/user/0`` from a login), for backward compatibility; root inside a user namespace
  uses ``XDG_RUNTIME_DIR`` unless ``$USER`` is ``root``;
- without ``XDG_RUNTIME_DIR`` the root stays ``/run/...``, which an unprivileged user
  cannot write: :func:`check_root` says so instead of failing with a bare ``EACCES``.

:func:`check_config` is what :meth:`Factory.create` asks before it makes anything: what an
unprivileged user cannot have (a cgroup limit without delegation, id mappings beyond its
own without ``newuidmap``...) is a :class:`~libcontainer.errors.RootlessError` then.
:func:`share_stdio_pipes` lets a container whose root is not the user reopen its stdio.
"""

from __future__ import annotations

import os

from libcontainer.errors import StateFileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from libcontainer.configs import Config

__all__ = [
    "check_config",
    "check_root",
    "default_root",
    "honor_xdg_runtime_dir",
    "prepare_root",
    "running_in_userns",
    "share_stdio_pipes",
]

# The map of the initial user namespace: every id to itself.
_INITIAL_MAP = ("0", "0", "4294967295")


def running_in_userns() -> bool:
    """Whether this process runs in a user namespace other than the initial one (runc's
    ``userns.RunningInUserNS``: its ``uid_map`` is not the identity over every id)."""
    try:
        with open("/proc/self/uid_map", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return False  # no /proc: nothing tells us otherwise
    return not (len(lines) == 1 and tuple(lines[0].split()) == _INITIAL_MAP)


def honor_xdg_runtime_dir() -> bool:
    """runc's ``shouldHonorXDGRuntimeDir``: whether ``$XDG_RUNTIME_DIR`` holds our state."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        return False
    if os.geteuid() != 0:
        return True
    if not running_in_userns():
        return False  # real root: /run, whatever a login set XDG_RUNTIME_DIR to
    return os.environ.get("USER") != "root"


def default_root(name: str = "pyrunc") -> str:
    """The state root when none is given: ``$XDG_RUNTIME_DIR/<name>`` for an unprivileged
    user (see :func:`honor_xdg_runtime_dir`), else ``/run/<name>``."""
    if honor_xdg_runtime_dir():
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], name)
    return os.path.join("/run", name)


def prepare_root(root: str) -> None:
    """Make the default state ``root`` as runc makes its own, for every command.

    Under ``$XDG_RUNTIME_DIR``: created (mode ``0700``) and given the sticky bit; a failure
    is a :class:`~libcontainer.errors.StateFileError` saying what to check. Anything else
    is left as it is (see :func:`check_root`).
    """
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if not (xdg and honor_xdg_runtime_dir() and os.path.dirname(root) == xdg.rstrip("/")):
        return
    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
    except OSError as e:
        raise StateFileError(
            f"cannot create the state root {root}: {e.strerror} (the path in "
            "$XDG_RUNTIME_DIR must be writable by the user)"
        ) from None
    try:
        os.chmod(root, 0o1700)
    except OSError as e:
        raise StateFileError(
            f"cannot set the permissions of the state root {root}: {e.strerror} (check "
            "the permissions of the path in $XDG_RUNTIME_DIR)"
        ) from None


def check_root(root: str) -> None:
    """Before a state ``root`` that is the default is used: an unprivileged user who cannot
    write it (``/run/pyrunc`` when ``XDG_RUNTIME_DIR`` is unset) gets a
    :class:`~libcontainer.errors.StateFileError` that says what to do, not a bare
    ``EACCES`` from deep inside a command."""
    if os.geteuid() == 0:
        return
    target = root if os.path.isdir(root) else os.path.dirname(root) or "/"
    if not os.access(target, os.W_OK | os.X_OK):
        raise StateFileError(
            f"cannot use the state root {root}: uid {os.geteuid()} may not write {target} "
            "(set XDG_RUNTIME_DIR to a directory of yours, as a login does, or choose a "
            "root you own)"
        )


def check_config(
    config: Config,
    cgroup_paths: Mapping[str, str] | None,
    *,
    newuidmap: str | None,
    newgidmap: str | None,
) -> None:
    """Raise :class:`~libcontainer.errors.RootlessError` for what this unprivileged user
    cannot have of ``config`` (root passes untouched). :meth:`Factory.create` calls it
    before it creates anything.

    Checked: the config is a rootless one (``rootless_euid``: a user namespace mapping the
    user to root, setgroups denied where the kernel requires it); its id mappings can be
    written (by the kernel's rule, or by ``newuidmap``/``newgidmap`` within
    ``/etc/subuid``/``/etc/subgid``); the cgroups its limits need are delegated to the user
    (``cgroup_paths``: the manager's); its rlimits stay within this process's hard limits.
    """
    if os.geteuid() == 0:
        return
    from libcontainer.errors import RootlessError

    if not config.rootless_euid:
        raise RootlessError(
            f"this process runs as uid {os.geteuid()}, not root: the container must be a "
            "rootless one (rootless_euid=True, a user namespace mapping you to root; "
            "specconv.create_config makes one when not run as root)",
            field="rootless_euid",
            value=False,
        )
    from libcontainer.idmap import check_mappings

    check_mappings(config, newuidmap=newuidmap, newgidmap=newgidmap)
    if config.cgroups is not None and cgroup_paths is not None:
        from libcontainer.cgroups.delegation import check_delegation

        check_delegation(config.cgroups, cgroup_paths)
    _check_rlimits(config)


def _check_rlimits(config: Config) -> None:
    import resource

    from libcontainer.errors import RootlessError

    for i, rl in enumerate(config.rlimits):
        try:
            hard_now = resource.getrlimit(rl.type)[1]
        except (ValueError, OSError):
            continue  # an unknown resource: the kernel's error at start says it better
        unlimited = rl.hard < 0 or rl.hard >= 2**63
        if hard_now != resource.RLIM_INFINITY and (unlimited or rl.hard > hard_now):
            raise RootlessError(
                f"rlimit {rl.type}: hard limit {'unlimited' if unlimited else rl.hard} is "
                f"above this user's own ({hard_now}), which only root may raise",
                field=f"rlimits[{i}].hard",
                value=rl.hard,
            )


def share_stdio_pipes(fds: tuple[int, ...], container_root_uid: int) -> list[int]:
    """Let the container's processes reopen the anonymous pipes among ``fds`` (its stdio).

    A program that reopens its stdio (``echo x > /dev/stdout``, a log file symlinked to
    ``/dev/stdout``) opens the pipe's inode anew, checked against its owner and mode. The
    init gives the pipes to the container's user (see
    :func:`libcontainer.init.finalize.fix_stdio_ownership`), but cannot when their owner is
    not mapped in the container: an unprivileged caller whose container root is a
    subordinate uid. That caller cannot chown them either (runc 1.1 fails there: ``fchown
    fd 7: operation not permitted``); as their owner it can open their mode to everyone
    instead. Only anonymous pipes (no path: reachable only through ``/proc/PID/fd`` of a
    process that holds them, which takes ptrace rights over it) and only pipes this user
    owns are touched; nothing happens for root or when the container's root is this user.
    Returns the fds changed.
    """
    uid = os.geteuid()
    if uid == 0 or container_root_uid == uid:
        return []
    import stat

    changed = []
    for fd in fds:
        try:
            st = os.fstat(fd)
            anonymous = os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:[")
        except OSError:
            continue
        if not (stat.S_ISFIFO(st.st_mode) and anonymous and st.st_uid == uid):
            continue
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o066 != 0o066:
            try:
                os.fchmod(fd, mode | 0o066)
            except OSError:
                continue
            changed.append(fd)
    return changed
