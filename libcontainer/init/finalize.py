"""The last steps shared by both inits (runc's finalizeNamespace and exec lookup)."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import struct
import termios

from libcontainer.capabilities import CapabilitySets, set_keep_caps
from libcontainer.configs import Capabilities, Config
from libcontainer.errors import ConfigError, SyscallError, os_reason
from libcontainer.init.payload import ProcessSpec
from libcontainer.system import PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, Syscalls
from libcontainer.user import lookup_user


class ExecError(SyscallError):
    """The program to run cannot be found or executed (runc's exec.LookPath errors)."""


def look_path(name: str, env: dict[str, str]) -> str:
    """Find ``name`` like Go's exec.LookPath on the container's PATH."""
    if "/" in name:
        _check_executable(name, name)
        return name
    for directory in env.get("PATH", "").split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            _check_executable(name, candidate)
        except ExecError:
            continue
        return candidate
    raise ExecError(2, f'exec: "{name}": executable file not found in $PATH')


def _check_executable(name: str, path: str) -> None:
    try:
        st = os.stat(path)
    except OSError as e:
        raise ExecError(e.errno, f'exec: "{name}": stat {path}: {os_reason(e)}') from None
    if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
        raise ExecError(13, f'exec: "{name}": {path}: permission denied')


def process_env(process: ProcessSpec, home: str) -> dict[str, str]:
    """The environment of the user's program; HOME from passwd when not given (as runc)."""
    env: dict[str, str] = {}
    for item in process.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(
                "environment entries must be KEY=VALUE", field="process.env", value=item
            )
        env[key] = value
    env.setdefault("HOME", home)
    return env


def lsm_labels(config: Config, process: ProcessSpec) -> tuple[str, str]:
    """The AppArmor profile and SELinux label of the process: its own, else the config's."""
    profile = process.apparmor_profile or config.app_armor_profile
    label = process.label or config.process_label
    return profile, label


def capability_sets(caps: Capabilities | None, *, last: int | None = None) -> CapabilitySets | None:
    """The process's capability sets, or None to leave capabilities as they are.

    ``last``: the kernel's highest capability number (read from /proc when not given).
    """
    if caps is None:
        return None
    return CapabilitySets.from_names(
        caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient, last=last
    )


def finalize_process(
    process: ProcessSpec, caps: CapabilitySets | None, last_cap: int, syscalls: Syscalls
) -> tuple[str, list[str], dict[str, str]]:
    """Drop privileges and move to cwd; return what to execve (path, argv, env).

    ``caps`` are the sets to apply (None: leave them), ``last_cap`` the kernel's highest
    capability number. The order is runc's: bounding set first (needs CAP_SETPCAP), keep
    caps across the uid change, change uid/gids, then set the final capability sets, then
    chdir as the user.
    """
    user = lookup_user(process.user, process.additional_groups)
    # runc's order: the cwd as root first (a directory the container's user cannot reach
    # but root can still works); only a permission error is retried as the user.
    cwd_done = _chdir_as_root(process.cwd)
    if caps is not None:
        caps.apply_bounding(syscalls, last=last_cap)
    set_keep_caps(syscalls, True)
    fix_stdio_ownership(user.uid)
    if not _setgroups_denied():
        os.setgroups(list(user.sgids))
    os.setresgid(user.gid, user.gid, user.gid)
    os.setresuid(user.uid, user.uid, user.uid)
    set_keep_caps(syscalls, False)
    if caps is not None:
        caps.apply(syscalls)
    if cwd_done:
        _check_cwd_inside()
    else:
        enter_cwd(process.cwd)
    env = process_env(process, user.home)
    if not process.args:
        raise ConfigError("process.args must not be empty", field="process.args", value=[])
    path = look_path(process.args[0], env)
    return path, list(process.args), env


def _setgroups_denied() -> bool:
    try:
        with open("/proc/self/setgroups") as f:
            return f.read().strip() == "deny"
    except OSError:
        return False


def _chdir_as_root(cwd: str) -> bool:
    """Try the cwd before dropping privileges; False means "try again as the user"."""
    try:
        os.chdir(cwd or "/")
    except PermissionError:
        return False
    except OSError as e:
        raise SyscallError(
            e.errno, f"chdir to cwd ({cwd!r}) set in config.json failed: {os_reason(e)}"
        ) from None
    return True


def enter_cwd(cwd: str) -> None:
    """chdir to ``cwd``, refusing one outside the container (CVE-2024-21626)."""
    try:
        os.chdir(cwd or "/")
    except OSError as e:
        raise SyscallError(
            e.errno, f"chdir to cwd ({cwd!r}) set in config.json failed: {os_reason(e)}"
        ) from None
    _check_cwd_inside()


def _check_cwd_inside() -> None:
    # A cwd outside the container's root (a leaked host fd, CVE-2024-21626) shows up as
    # "(unreachable)/..." in getcwd(); never exec with it.
    here = os.getcwd()
    if not here.startswith("/"):
        raise SyscallError(1, f"current working directory is outside of the container: {here}")


def fix_stdio_ownership(uid: int) -> None:
    """Give the container's user its terminal and stdio pipes (runc's fixStdioPermissions).

    A program reopening ``/dev/stdout`` or its tty (``/proc/self/fd/1``) is checked against
    the inode's owner: a pty or pipe the runtime made as root would refuse a non-root user.
    Unlike runc, a caller's regular file (``pyrunc run > out.log``) is never chowned: it is
    not the container's. Refusals (an unmapped owner, a read-only /dev) are ignored, as
    runc ignores them.
    """
    try:
        null = os.stat("/dev/null").st_rdev
    except OSError:
        null = -1
    for fd in (0, 1, 2):
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if st.st_uid == uid or (stat.S_ISCHR(st.st_mode) and st.st_rdev == null):
            continue
        if not (
            stat.S_ISFIFO(st.st_mode)
            or stat.S_ISSOCK(st.st_mode)
            or (stat.S_ISCHR(st.st_mode) and os.isatty(fd))
        ):
            continue
        try:
            os.fchown(fd, uid, -1)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.EPERM, errno.EROFS):
                raise SyscallError(e.errno, f"fchown fd {fd}: {os_reason(e)}") from None


def reset_signals(syscalls: Syscalls) -> None:
    """Default dispositions and an empty blocked mask, as a program expects to start with.

    The init is a clone of a Python interpreter, which ignores SIGPIPE and SIGXFSZ (and
    whatever its own caller ignored, e.g. the two signals the C library reserves); an
    ignored signal stays ignored across ``execve``: ``yes | head`` would then loop on EPIPE
    and a file-size limit would not kill.
    """
    syscalls.reset_signals()


def execve_program(path: str, argv: list[str], env: dict[str, str]) -> None:
    """The last step of every init: default signal handling, then ``execve``."""
    from libcontainer.system import linux

    reset_signals(linux())
    os.execve(path, argv, env)


def set_no_new_privs(syscalls: Syscalls) -> None:
    """PR_SET_NO_NEW_PRIVS: execve can never gain privileges again."""
    syscalls.prctl(PR_SET_NO_NEW_PRIVS, 1)


def set_parent_death_signal(syscalls: Syscalls, signal: int) -> None:
    """PR_SET_PDEATHSIG (0 clears it)."""
    syscalls.prctl(PR_SET_PDEATHSIG, signal)


def attach_terminal(slave: int, size: tuple[int, int] | None) -> None:
    """Make ``slave`` our controlling terminal (we are a session leader by now)."""
    if size:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
