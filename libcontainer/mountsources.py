"""Bind-mount sources opened by the runtime, for a container whose root cannot reach them.

With a user namespace, the container's root is an unprivileged host uid (100000, say): the
init, already inside that namespace, cannot even look up a source below a ``0700``
directory of the host's root, and its bind mount fails where runc's succeeds. runc 1.1
opens such sources from outside (nsexec's ``send_mountsources``) and hands them in. We do
the same with ``open_tree(OPEN_TREE_CLONE)``: the runtime, still the host's root, takes a
detached copy of each source's mount tree, the fd goes to the init with the others, and the
init attaches it with ``move_mount`` where it would have bind-mounted the path (see
:func:`libcontainer.rootfs.mounts.mount_bind`). Nothing is mounted anywhere until then; a
copy that is never attached goes away with its last fd.

Only for the runtime's root (``open_tree`` with ``OPEN_TREE_CLONE`` needs ``CAP_SYS_ADMIN``,
and an unprivileged caller reaches no more than its container's root does), only for a
new user *and* mount namespace, only for bind mounts. A source that cannot be opened here
(missing until a hook makes it, a kernel without ``open_tree``) is left to the init, which
mounts it by path as before and reports what is wrong with it.
"""

from __future__ import annotations

import logging
import os

from libcontainer.configs import Config, NamespaceType
from libcontainer.errors import SyscallError
from libcontainer.system import (
    AT_FDCWD,
    AT_RECURSIVE,
    MS_REC,
    OPEN_TREE_CLOEXEC,
    OPEN_TREE_CLONE,
    Syscalls,
    linux,
)

__all__ = ["open_mount_sources"]

log = logging.getLogger(__name__)


def open_mount_sources(config: Config, syscalls: Syscalls | None = None) -> dict[int, int]:
    """``{index in config.mounts: fd}``: detached copies of the bind mounts' sources.

    Empty unless this process is root and the container gets a new user and mount
    namespace. The caller owns the fds (close-on-exec) and closes them once handed over.
    """
    if os.geteuid() != 0 or not (
        config.is_private(NamespaceType.NEWUSER) and config.is_private(NamespaceType.NEWNS)
    ):
        return {}
    sc = syscalls or linux()
    opened: dict[int, int] = {}
    for i, m in enumerate(config.mounts):
        if m.device != "bind" or not m.source:
            continue
        flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (AT_RECURSIVE if m.flags & MS_REC else 0)
        try:
            opened[i] = sc.open_tree(AT_FDCWD, m.source, flags)
        except (SyscallError, OSError) as e:
            log.debug("bind mount source %s left to the init: %s", m.source, e)
    return opened
