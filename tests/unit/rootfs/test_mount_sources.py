"""Bind sources the runtime opens for a user-namespaced init (libcontainer.mountsources):
which ones are opened, how they travel with the init's fds, and how the init attaches one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rootfs_fakes import FakeSyscalls

from libcontainer.configs import Config, Mount, Namespace, NamespaceType
from libcontainer.init.fds import FdSet
from libcontainer.init.payload import FdLayout
from libcontainer.mountsources import open_mount_sources
from libcontainer.rootfs import MountContext
from libcontainer.rootfs.mounts import mount_bind
from libcontainer.system import (
    AT_RECURSIVE,
    MOVE_MOUNT_F_EMPTY_PATH,
    MOVE_MOUNT_T_EMPTY_PATH,
    MS_BIND,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    OPEN_TREE_CLOEXEC,
    OPEN_TREE_CLONE,
)
from libcontainer.system.recording import RecordingSyscalls

USERNS = (Namespace(type=NamespaceType.NEWUSER), Namespace(type=NamespaceType.NEWNS))
MOUNTS = (
    Mount(source="proc", destination="/proc", device="proc"),
    Mount(source="/srv/a", destination="/a", device="bind", flags=MS_BIND | MS_REC),
    Mount(source="/srv/f", destination="/f", device="bind", flags=MS_BIND | MS_RDONLY),
    Mount(source="/gone", destination="/g", device="bind", flags=MS_BIND),
)


def test_root_opens_each_bind_source_with_a_user_and_mount_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    sc = RecordingSyscalls()
    sc.fail_on("open_tree", lambda args: args[1] == "/gone", errno=2)
    opened = open_mount_sources(Config(namespaces=USERNS, mounts=MOUNTS), sc)
    assert opened == {1: 99, 2: 99}  # the fake's fd; the missing source is the init's job
    clone = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC
    assert [args for name, args in sc.calls] == [
        (-100, "/srv/a", clone | AT_RECURSIVE),
        (-100, "/srv/f", clone),
        (-100, "/gone", clone),
    ]


@pytest.mark.parametrize(
    ("euid", "namespaces"),
    [
        (1000, USERNS),  # an unprivileged caller reaches no more than its container's root
        (0, (Namespace(type=NamespaceType.NEWNS),)),  # no user namespace: root mounts it
        (0, (Namespace(type=NamespaceType.NEWUSER),)),  # no mount namespace of its own
        (0, (Namespace(type=NamespaceType.NEWUSER, path="/x"), USERNS[1])),
    ],
)
def test_nothing_is_opened_otherwise(
    monkeypatch: pytest.MonkeyPatch, euid: int, namespaces: tuple[Namespace, ...]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    sc = RecordingSyscalls()
    assert open_mount_sources(Config(namespaces=namespaces, mounts=MOUNTS), sc) == {}
    assert sc.calls == []


class _MoveRecorder(FakeSyscalls):
    """Records where move_mount's target fd points while it is still open."""

    def move_mount(
        self, from_dirfd: int, from_path: str, to_dirfd: int, to_path: str, flags: int
    ) -> None:
        target = self.show(f"/proc/self/fd/{to_dirfd}")
        self._record("move_mount", from_dirfd, from_path, target, to_path, flags)


def test_the_init_attaches_an_opened_source_instead_of_binding_the_path(
    rootfs: Path, tmp_path: Path
) -> None:
    """The source path is never looked at (the container's root could not), its fd is:
    a directory is made for it, the copy moved there, then remounted read-only."""
    sc = _MoveRecorder(rootfs, real_openat2=True)
    ctx = MountContext(root=str(rootfs), syscalls=sc)
    source = tmp_path / "secret"
    source.mkdir()
    fd = os.open(source, os.O_PATH | os.O_CLOEXEC)
    try:
        flags = MS_BIND | MS_REC | MS_RDONLY
        m = Mount(source="/unreachable/secret", destination="/data", device="bind", flags=flags)
        mount_bind(ctx, m, source_fd=fd)
    finally:
        os.close(fd)
    assert (rootfs / "data").is_dir()
    moves = [args for name, args in sc.calls if name == "move_mount"]
    assert moves == [(fd, "", "ROOT/data", "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)]
    assert sc.mounts() == [(None, "ROOT/data", None, flags | MS_REMOUNT, None)]


def test_fdset_parks_the_sources_and_drops_them_after_the_mounts() -> None:
    """In a child (adopting closes every other fd): the sources are held like the rest,
    found by mount index, and closed by drop_mounts."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fds = [os.open("/", os.O_PATH) for _ in range(6)]
            layout = FdLayout(sync=0, stdio=(1, 2, 3), mounts=((7, 4), (9, 5)))
            got = FdSet.adopt(layout, fds)
            held = set(got.held())
            ok = set(got.mounts) == {7, 9} and set(got.mounts.values()) <= held
            same = all(os.path.samestat(os.fstat(got.mounts[i]), os.stat("/")) for i in (7, 9))
            parked = list(got.mounts.values())
            got.drop_mounts()
            closed = all(not _is_open(fd) for fd in parked) and got.mounts == {}
            code = 0 if ok and same and closed else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True
