"""Read-only and masked paths (run after the pivot, so paths are absolute from ``/``)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from rootfs_fakes import FakeSyscalls

from libcontainer.errors import SyscallError
from libcontainer.rootfs import apply_masked_paths, apply_readonly_paths, paths
from libcontainer.system import MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    t = tmp_path.resolve() / "tree"
    (t / "dir").mkdir(parents=True)
    (t / "file").write_text("secret\n")
    (t / "link").symlink_to(t / "file")
    return t


@pytest.fixture
def fake(tree: Path) -> FakeSyscalls:
    return FakeSyscalls(tree, real_openat2=True)


def test_readonly_paths_bind_then_remount(tree: Path, fake: FakeSyscalls) -> None:
    apply_readonly_paths(
        [str(tree / "dir"), str(tree / "missing"), str(tree / "file")], syscalls=fake
    )
    mounts = fake.mounts()
    assert [m[:3] for m in mounts] == [
        ("ROOT/dir", "ROOT/dir", None),
        ("ROOT/dir", "ROOT/dir", None),
        ("ROOT/file", "ROOT/file", None),
        ("ROOT/file", "ROOT/file", None),
    ]
    assert mounts[0][3] == MS_BIND | MS_REC
    remount = mounts[1][3]
    assert remount & (MS_BIND | MS_REMOUNT | MS_RDONLY) == MS_BIND | MS_REMOUNT | MS_RDONLY
    # The flags the mount has are kept (here at least its atime mode).
    existing = os.statvfs(tree).f_flag
    if existing & os.ST_NOSUID:
        assert remount & os.ST_NOSUID


def test_readonly_path_errors_are_reported(tree: Path, fake: FakeSyscalls) -> None:
    fake.fail_on("mount", errno=errno.EACCES)
    with pytest.raises(SyscallError, match=f"bind {tree}/dir onto itself: permission denied"):
        apply_readonly_paths([str(tree / "dir")], syscalls=fake)


def test_masked_paths(tree: Path, fake: FakeSyscalls) -> None:
    apply_masked_paths(
        [str(tree / "file"), str(tree / "dir"), str(tree / "missing"), str(tree / "link")],
        "",
        syscalls=fake,
    )
    assert fake.mounts() == [
        ("/dev/null", "ROOT/file", None, MS_BIND, None),
        ("tmpfs", "ROOT/dir", "tmpfs", MS_RDONLY, None),
        # A symlink is masked where it points (inside the root).
        ("/dev/null", "ROOT/file", None, MS_BIND, None),
    ]


def test_masking_nothing_needs_no_dev_null(
    fake: FakeSyscalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "_DEV_NULL", os.makedev(9, 9))
    apply_masked_paths([], "", syscalls=fake)
    assert fake.mounts() == []


def test_fake_dev_null_is_refused(
    tree: Path, fake: FakeSyscalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend the real null device is another number: /dev/null is then "not it".
    monkeypatch.setattr(paths, "_DEV_NULL", os.makedev(1, 5))
    with pytest.raises(SyscallError, match="/dev/null is not the null device") as exc:
        apply_masked_paths([str(tree / "file")], "", syscalls=fake)
    assert exc.value.errno == errno.EPERM
    assert fake.mounts() == []


def test_mask_failure_is_reported(tree: Path, fake: FakeSyscalls) -> None:
    fake.fail_on("mount", errno=errno.EPERM)
    with pytest.raises(SyscallError, match=f"mask {tree}/dir with a read-only tmpfs"):
        apply_masked_paths([str(tree / "dir")], "", syscalls=fake)
