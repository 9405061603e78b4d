"""SELinux: whether the host enforces it, the exec and key-creation labels, mount labels.

What runc does through go-selinux: the process label is written to ``attr/exec`` just
before ``execve`` (and to ``attr/keycreate`` before the session keyring is made, so the
keyring carries it); mount labels become a ``context="..."`` mount option. With SELinux
disabled mount labels are ignored (``label.FormatMountLabel`` returns the data as is),
but a *process* label is an error, as in runc 1.1's config validation: a container the
user asked to confine must not silently run unconfined.

Whether SELinux is enabled must be decided on the host (the parent): inside the container
selinuxfs is not mounted. Every path is a parameter so the decision is testable.
"""

from __future__ import annotations

import functools
import os

from libcontainer.errors import ConfigError, SyscallError
from libcontainer.procfs import write_proc_file

SELINUXFS = "/sys/fs/selinux"
DISABLED_MESSAGE = "selinux label is specified in config, but selinux is disabled or not supported"


def is_enabled(*, selinuxfs: str = SELINUXFS, proc_self: str = "/proc/self") -> bool:
    """True when SELinux is active (go-selinux's ``GetEnabled``).

    selinuxfs must be mounted (its ``enforce`` file exists) and the process must have a
    context other than ``kernel`` (what a system without a loaded policy reports).
    """
    if not os.path.exists(os.path.join(selinuxfs, "enforce")):
        return False
    try:
        with open(os.path.join(proc_self, "attr", "current"), "rb") as f:
            current = f.read().rstrip(b"\0\n").decode(errors="replace")
    except OSError:
        return False
    return bool(current) and current != "kernel"


@functools.cache
def host_enabled() -> bool:
    """:func:`is_enabled` on the real host, computed once per process."""
    return is_enabled()


def check_process_label(label: str, *, enabled: bool) -> None:
    """A process label on a host without SELinux is a ConfigError (runc's validator)."""
    if label and not enabled:
        raise ConfigError(DISABLED_MESSAGE, field="process_label", value=label)


def _write_attr(attr: str, label: str, proc_self: str, proc: str) -> None:
    path = os.path.join(proc_self, "attr", attr)
    try:
        write_proc_file(path, label, proc=proc)
    except SyscallError as e:
        raise SyscallError(e.errno, f"selinux: set {attr} label {label!r}: {e}") from None


def set_exec_label(
    label: str, *, enabled: bool, proc_self: str = "/proc/self", proc: str = "/proc"
) -> bool:
    """Label the process image of the next execve; True if written."""
    check_process_label(label, enabled=enabled)
    if not label:
        return False
    _write_attr("exec", label, proc_self, proc)
    return True


def set_key_label(
    label: str, *, enabled: bool, proc_self: str = "/proc/self", proc: str = "/proc"
) -> bool:
    """Label keyrings created from now on (the container's session keyring); True if written.

    Like go-selinux's ``SetKeyLabel`` this is skipped when SELinux is disabled; the process
    label itself is rejected by :func:`set_exec_label`.
    """
    if not label or not enabled:
        return False
    _write_attr("keycreate", label, proc_self, proc)
    return True


def format_mount_label(data: str, label: str, *, enabled: bool) -> str:
    """Mount data with ``context="<label>"`` added (go-selinux's ``FormatMountLabel``).

    Unchanged when there is no label or SELinux is disabled.
    """
    if not label or not enabled:
        return data
    context = f'context="{label}"'
    return f"{data},{context}" if data else context
