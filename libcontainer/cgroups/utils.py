"""Cgroup helpers shared by the drivers (runc's ``cgroups/utils.go``).

Creating and removing cgroup directories, moving a process into a cgroup, listing the
processes of a cgroup tree, and the two host facts the v1 driver needs (huge page sizes and
whether we run in a user namespace).
"""

from __future__ import annotations

import errno
import os
import posixpath
import time

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fscommon import CgroupFileError
from libcontainer.errors import CgroupError
from libcontainer.lazylog import lazy_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CGROUP_PROCS",
    "clean_path",
    "get_all_pids",
    "get_pids",
    "hugepage_sizes",
    "make_dirs",
    "remove_path",
    "remove_paths",
    "running_in_userns",
    "write_cgroup_proc",
]

log = lazy_logger(__name__)

CGROUP_PROCS = "cgroup.procs"


def clean_path(path: str) -> str:
    """Lexically clean ``path`` so a relative one can never climb out (runc's ``CleanPath``).

    ``../../etc`` becomes ``etc``; absolute paths stay absolute; ``""`` stays ``""``.
    """
    if not path:
        return ""
    absolute = path.startswith("/")
    cleaned = posixpath.normpath("/" + path)
    # normpath keeps a leading "//" (POSIX allows it to be special); Go's Clean does not.
    cleaned = "/" + cleaned.lstrip("/")
    if absolute:
        return cleaned
    return cleaned.lstrip("/") or "."


def make_dirs(path: str) -> list[str]:
    """``mkdir -p`` for a cgroup; return the directories this call created, top-down."""
    missing: list[str] = []
    current = path
    while current and current != "/" and not os.path.isdir(current):
        missing.append(current)
        current = posixpath.dirname(current)
    created = []
    for directory in reversed(missing):
        if fscommon.mkdir(directory):
            created.append(directory)
    return created


def write_cgroup_proc(directory: str, pid: int) -> None:
    """Move process ``pid`` into the cgroup at ``directory`` (``-1`` means: move nothing)."""
    if not directory:
        raise CgroupError(f"cannot add pid {pid}: no cgroup directory for {CGROUP_PROCS}")
    if pid == -1:
        return
    for attempt in range(5):
        try:
            fscommon.write_file(directory, CGROUP_PROCS, str(pid))
            return
        except CgroupFileError as exc:
            # EINVAL can mean the task is still TASK_NEW right after clone; it passes quickly.
            if exc.errno != errno.EINVAL or attempt == 4:
                raise
            time.sleep(0.03)


def _read_procs(path: str) -> list[int]:
    directory, name = posixpath.split(path)
    try:
        return [int(line) for line in fscommon.read_lines(directory, name)]
    except ValueError as exc:
        raise CgroupError(f"unexpected content in {path}: {exc}") from exc


def get_pids(directory: str) -> list[int]:
    """Return the pids in the cgroup at ``directory`` (not its sub-cgroups)."""
    return _read_procs(posixpath.join(directory, CGROUP_PROCS))


def get_all_pids(directory: str) -> list[int]:
    """Return the pids in the cgroup at ``directory`` and all its sub-cgroups."""
    pids: list[int] = []

    def fail(exc: OSError) -> None:
        raise CgroupError(f"cannot walk cgroup {directory}: {exc.strerror}") from exc

    for root, _dirs, files in os.walk(directory, onerror=fail):
        if CGROUP_PROCS in files:
            pids.extend(_read_procs(posixpath.join(root, CGROUP_PROCS)))
    return pids


def remove_path(path: str) -> None:
    """Remove the cgroup at ``path`` and its sub-cgroups, deepest first.

    A cgroup directory is never empty (the kernel's control files are in it), yet ``rmdir``
    removes it as long as it has no sub-cgroups and no processes; so only directories are
    walked. Raises :class:`CgroupFileError` from the failing ``rmdir``.
    """
    try:
        fscommon.rmdir(path)
        return
    except CgroupFileError:
        pass
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            remove_path(entry.path)
    fscommon.rmdir(path)


def remove_paths(paths: Mapping[str, str]) -> None:
    """Remove every cgroup in ``paths`` (subsystem -> path), retrying while it is busy.

    Processes that just died may keep a cgroup busy for a moment, so this tries five times
    with a doubling delay, like runc's ``RemovePaths``.
    """
    remaining = {name: path for name, path in paths.items() if path}
    delay = 0.01
    retries = 5
    for attempt in range(retries):
        if attempt:
            time.sleep(delay)
            delay *= 2
        for name, path in list(remaining.items()):
            try:
                remove_path(path)
            except CgroupFileError as exc:
                if attempt == 0:
                    # Usual for a moment after a kill: the last tasks are still exiting.
                    log.debug("failed to remove cgroup %s (will retry): %s", path, exc)
                elif attempt == retries - 1:
                    log.error("failed to remove cgroup %s: %s", path, exc)
            if not os.path.exists(path):
                del remaining[name]
        if not remaining:
            return
    left = ", ".join(sorted(remaining.values()))
    raise CgroupError(f"failed to remove cgroups {left}: still busy (are processes left in them?)")


def hugepage_sizes(directory: str = "/sys/kernel/mm/hugepages") -> tuple[str, ...]:
    """Return the huge page sizes in cgroup file-name form (``2MB``, ``1GB``), sorted by size."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return ()
    except OSError as exc:
        raise CgroupError(f"cannot list huge page sizes in {directory}: {exc.strerror}") from exc
    sizes: list[tuple[int, str]] = []
    for name in names:
        # Entries look like "hugepages-2048kB"; the unit is always kB.
        if not name.startswith("hugepages-") or not name.endswith("kB"):
            continue
        try:
            kib = int(name[len("hugepages-") : -2])
        except ValueError:
            log.warning("ignoring unexpected huge page directory %s/%s", directory, name)
            continue
        if kib >= 1 << 20:
            label = f"{kib >> 20}GB"
        elif kib >= 1 << 10:
            label = f"{kib >> 10}MB"
        else:
            label = f"{kib}KB"
        sizes.append((kib, label))
    return tuple(label for _kib, label in sorted(sizes))


def running_in_userns(uid_map: str = "/proc/self/uid_map") -> bool:
    """Return whether this process runs in a user namespace other than the initial one."""
    try:
        with open(uid_map, encoding="ascii") as f:
            fields = f.read().split()
    except FileNotFoundError:
        # No user namespace support in the kernel at all.
        return False
    # The initial namespace maps the whole 32-bit range onto itself.
    return fields != ["0", "0", "4294967295"]
