"""The container's root filesystem: mounts, /dev, pivot_root, read-only and masked paths.

The port of runc 1.1's ``rootfs_linux.go``. It runs in the container's init process, in the
container's new mount namespace, as root, before the user's program is exec'd:

1. :func:`prepare_rootfs` (before the pivot; calls back ``run_hooks`` just before it),
2. :func:`mount_console` if the container has a console (after the pivot),
3. :func:`finalize_rootfs`,
4. :func:`apply_readonly_paths`, then :func:`apply_masked_paths` (runc's order).

Every path inside the rootfs is resolved as if the rootfs were ``/`` (:mod:`.securejoin`)
and every mount is made onto a target opened and verified first, so a hostile image
(symlinks pointing out) or a racing process cannot redirect a mount onto the host.

All modules are imported eagerly: the init imports this package before it enters the
container, and a lazy import afterwards would read the container's files.
"""

from __future__ import annotations

from .mountops import MountContext
from .paths import apply_masked_paths, apply_readonly_paths, mount_console
from .prepare import finalize_rootfs, mount_to_rootfs, prepare_rootfs
from .securejoin import mkdir_all_in_root, open_in_root, procfd, secure_join

__all__ = [
    "MountContext",
    "apply_masked_paths",
    "apply_readonly_paths",
    "finalize_rootfs",
    "mkdir_all_in_root",
    "mount_console",
    "mount_to_rootfs",
    "open_in_root",
    "prepare_rootfs",
    "procfd",
    "secure_join",
]
