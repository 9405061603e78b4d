"""Session keyrings: each container gets its own, so it cannot see the host's keys."""

from __future__ import annotations

import errno

from libcontainer.system import Syscalls

# The kernel's default for a new session keyring (possessor: all; user: view, read, link)
# plus user search, which runc adds so the container's processes can use it.
SESSION_KEYRING_PERM = 0x3F1B0000


def join_session_keyring(syscalls: Syscalls, container_id: str) -> None:
    """Join a new session keyring named like runc's (``_ses.<id>``)."""
    try:
        key = syscalls.join_session_keyring(f"_ses.{container_id}")
    except OSError as e:
        if e.errno == errno.ENOSYS:  # kernels without keyrings: nothing to isolate
            return
        raise
    syscalls.keyctl_setperm(key, SESSION_KEYRING_PERM)
