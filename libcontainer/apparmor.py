"""AppArmor: whether the host enforces it, and asking for a profile at the next execve.

runc's ``libcontainer/apparmor``: the profile is applied by writing ``exec <profile>`` to
the process's ``attr/apparmor/exec`` (``attr/exec`` on kernels before 5.8), the last thing
before ``execve``, so the kernel switches profile when the user's program starts. A config
that names a profile on a host without AppArmor is not an error: the profile is ignored.

Whether AppArmor is enabled must be decided on the host (the parent): inside the
container ``/sys/kernel/security`` is not mounted. Every path is a parameter so the
decision can be tested against a fake tree.
"""

from __future__ import annotations

import functools
import logging
import os

from libcontainer.errors import SyscallError
from libcontainer.procfs import write_proc_file

log = logging.getLogger(__name__)

SECURITYFS = "/sys/kernel/security"
MODULE_ENABLED = "/sys/module/apparmor/parameters/enabled"


def is_enabled(*, securityfs: str = SECURITYFS, module_enabled: str = MODULE_ENABLED) -> bool:
    """True when AppArmor is active on this host (runc's ``isEnabled``).

    Both must hold: securityfs has an ``apparmor`` directory (the LSM is loaded) and the
    module parameter reads ``Y`` (it was not disabled on the kernel command line).
    """
    if not os.path.isdir(os.path.join(securityfs, "apparmor")):
        return False
    try:
        with open(module_enabled, "rb") as f:
            return f.read(1) == b"Y"
    except OSError:
        return False


@functools.cache
def host_enabled() -> bool:
    """:func:`is_enabled` on the real host, computed once per process."""
    return is_enabled()


def exec_attr_path(proc_self: str = "/proc/self") -> str:
    """The attribute to write: ``attr/apparmor/exec`` if the kernel has it, else ``attr/exec``.

    Kernels since 5.8 give each LSM its own directory; the old shared ``attr/exec`` goes to
    whichever LSM is first in the stack, which may not be AppArmor.
    """
    new = os.path.join(proc_self, "attr", "apparmor", "exec")
    if os.path.exists(new):
        return new
    return os.path.join(proc_self, "attr", "exec")


def apply_profile(
    profile: str, *, enabled: bool, proc_self: str = "/proc/self", proc: str = "/proc"
) -> bool:
    """Switch to ``profile`` at the next execve (aa_change_onexec); True if it was asked for.

    ``enabled`` is the host's answer from :func:`host_enabled`, taken by the parent. With
    AppArmor disabled the profile is ignored (logged), as runc does.
    """
    if not profile:
        return False
    if not enabled:
        log.debug("apparmor is not enabled on this host: ignoring profile %r", profile)
        return False
    path = exec_attr_path(proc_self)
    try:
        write_proc_file(path, f"exec {profile}", proc=proc)
    except SyscallError as e:
        raise SyscallError(e.errno, f"apparmor failed to apply profile {profile!r}: {e}") from None
    return True
