"""Loading, attaching and replacing a cgroup's device filter (runc's ``ebpf_linux.go``)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from libcontainer.cgroups.ebpf import bpf
from libcontainer.cgroups.ebpf.bpf import BpfError
from libcontainer.cgroups.ebpf.devicefilter import LICENSE, device_filter
from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from libcontainer.configs import DeviceRule

__all__ = ["attached_program_ids", "detach_all", "load_attach_device_filter"]

log = logging.getLogger(__name__)

PROGRAM_NAME = "pylibct_devices"


@contextlib.contextmanager
def _open_dir(path: str) -> Iterator[int]:
    try:
        fd = os.open(path, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise CgroupError(f"cannot open cgroup {path}: {exc.strerror}") from exc
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def _prog_fd(prog_id: int) -> Iterator[int | None]:
    try:
        fd: int | None = bpf.get_fd_by_id(prog_id)
    except BpfError as exc:
        # A program another party attached under an LSM label we may not touch: additional
        # device programs can only restrict further, so leaving it is safe (runc does too).
        if exc.errno not in (errno.EPERM, errno.EACCES, errno.ENOENT):
            raise
        log.debug("ignoring device program %d we cannot access: %s", prog_id, exc)
        fd = None
    try:
        yield fd
    finally:
        if fd is not None:
            os.close(fd)


def attached_program_ids(path: str) -> list[int]:
    """The ids of the device programs attached to the cgroup at ``path``."""
    with _open_dir(path) as dir_fd:
        return bpf.prog_query(dir_fd)


def load_attach_device_filter(path: str, rules: Iterable[DeviceRule]) -> int:
    """Make the program for ``rules`` the only device filter of the cgroup at ``path``.

    With one program attached already it is replaced atomically (``BPF_F_REPLACE``), so
    the cgroup is never without a filter; with several, the new one is attached first and
    the old ones detached after (more than one only happens if someone else attached
    some). Returns the new program's id.
    """
    program = device_filter(rules)
    with _open_dir(path) as dir_fd:
        old_ids = bpf.prog_query(dir_fd)
        prog_fd = bpf.prog_load(program, LICENSE, PROGRAM_NAME)
        try:
            replaced = False
            if len(old_ids) == 1:
                replaced = _try_replace(dir_fd, prog_fd, old_ids[0])
            if not replaced:
                try:
                    bpf.prog_attach(dir_fd, prog_fd, bpf.F_ALLOW_MULTI)
                except BpfError as exc:
                    raise CgroupError(
                        f"failed to attach the device filter to {path} "
                        f"(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI): {exc}"
                    ) from exc
                if len(old_ids) > 1:
                    log.info("removing %d extra device filters from %s", len(old_ids), path)
                _detach(dir_fd, old_ids, path)
            new_ids = set(bpf.prog_query(dir_fd)) - set(old_ids)
        finally:
            # Attached programs are held by the cgroup; our fd is no longer needed.
            os.close(prog_fd)
    if len(new_ids) != 1:
        raise CgroupError(f"the device filter attached to {path} cannot be found again")
    return new_ids.pop()


def _try_replace(dir_fd: int, prog_fd: int, old_id: int) -> bool:
    with _prog_fd(old_id) as old_fd:
        if old_fd is None:
            return False
        try:
            bpf.prog_attach(dir_fd, prog_fd, bpf.F_ALLOW_MULTI, replace_fd=old_fd)
        except BpfError as exc:
            # EINVAL: a kernel without BPF_F_REPLACE (< 5.6); attach, then detach.
            if exc.errno != errno.EINVAL:
                raise
            return False
        return True


def _detach(dir_fd: int, prog_ids: Iterable[int], path: str) -> None:
    for prog_id in prog_ids:
        with _prog_fd(prog_id) as fd:
            if fd is None:
                continue
            try:
                bpf.prog_detach(dir_fd, fd)
            except BpfError as exc:
                if exc.errno != errno.ENOENT:
                    raise CgroupError(
                        f"failed to detach the old device filter {prog_id} from {path}: {exc}"
                    ) from exc


def detach_all(path: str) -> None:
    """Detach every device program from the cgroup at ``path`` (absent cgroup: nothing)."""
    if not os.path.isdir(path):
        return
    with _open_dir(path) as dir_fd:
        _detach(dir_fd, bpf.prog_query(dir_fd), path)
