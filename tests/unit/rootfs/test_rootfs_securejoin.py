"""secure_join, mkdir_all_in_root, open_in_root: paths never leave the rootfs."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from rootfs_fakes import FakeSyscalls

from libcontainer.errors import SyscallError
from libcontainer.rootfs import securejoin
from libcontainer.rootfs.securejoin import (
    MAX_SYMLINKS,
    clean_path,
    create_file_in_root,
    mkdir_all_in_root,
    open_in_root,
    procfd,
    secure_join,
    strip_root,
)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the rootfs: the place an escape would land."""
    d = tmp_path.resolve() / "outside"
    d.mkdir()
    return d


@pytest.mark.parametrize(
    ("unsafe", "expected"),
    [
        ("", ""),
        ("/", ""),
        ("etc", "/etc"),
        ("/etc/passwd", "/etc/passwd"),
        ("does/not/exist", "/does/not/exist"),
        ("..", ""),
        ("../../..", ""),
        ("/../../etc", "/etc"),
        ("a/../../../b", "/b"),
        ("./etc/./x", "/etc/x"),
        ("//etc//x", "/etc/x"),
    ],
)
def test_lexical(rootfs: Path, unsafe: str, expected: str) -> None:
    assert secure_join(str(rootfs), unsafe) == str(rootfs) + expected


def test_absolute_symlink_stays_inside(rootfs: Path) -> None:
    (rootfs / "abs").symlink_to("/etc")
    (rootfs / "abs2").symlink_to("/etc/../../../../tmp")
    assert secure_join(str(rootfs), "abs") == f"{rootfs}/etc"
    assert secure_join(str(rootfs), "/abs/passwd") == f"{rootfs}/etc/passwd"
    assert secure_join(str(rootfs), "abs2/x") == f"{rootfs}/tmp/x"


def test_relative_symlink_escape_clamps(rootfs: Path) -> None:
    (rootfs / "etc" / "up").symlink_to("../../../../../..")
    assert secure_join(str(rootfs), "etc/up") == str(rootfs)
    assert secure_join(str(rootfs), "etc/up/etc/shadow") == f"{rootfs}/etc/shadow"


def test_symlink_chain_and_dotdot_after_symlink(rootfs: Path) -> None:
    (rootfs / "etc" / "deep").mkdir()
    (rootfs / "l1").symlink_to("l2")
    (rootfs / "l2").symlink_to("etc/deep")
    # ".." applies to the resolved path, not to the symlink's location.
    assert secure_join(str(rootfs), "l1/..") == f"{rootfs}/etc"
    assert secure_join(str(rootfs), "l1/../x") == f"{rootfs}/etc/x"


def test_dangling_symlink_resolves_to_its_target_inside(rootfs: Path) -> None:
    (rootfs / "dangling").symlink_to("/nonexistent/dir")
    assert secure_join(str(rootfs), "dangling/f") == f"{rootfs}/nonexistent/dir/f"


def test_symlink_loop_is_eloop(rootfs: Path) -> None:
    (rootfs / "loop1").symlink_to("loop2")
    (rootfs / "loop2").symlink_to("/loop1")
    with pytest.raises(SyscallError) as exc:
        secure_join(str(rootfs), "loop1/x")
    assert exc.value.errno == errno.ELOOP


def test_self_loop_counts_links(rootfs: Path) -> None:
    (rootfs / "self").symlink_to(".")
    path = "/".join(["self"] * MAX_SYMLINKS)
    assert secure_join(str(rootfs), path) == str(rootfs)
    with pytest.raises(SyscallError):
        secure_join(str(rootfs), path + "/self")


def test_file_in_the_middle_is_taken_literally(rootfs: Path) -> None:
    (rootfs / "etc" / "file").write_text("")
    assert secure_join(str(rootfs), "etc/file/x") == f"{rootfs}/etc/file/x"


def test_root_with_dotdot_is_refused(rootfs: Path) -> None:
    with pytest.raises(SyscallError, match=r"contains '\.\.'"):
        secure_join(f"{rootfs}/../rootfs", "etc")


def test_clean_and_strip_root() -> None:
    assert clean_path("//dev/pts/") == "/dev/pts"
    assert clean_path("../../x") == "/x"
    assert clean_path("") == "/"
    assert strip_root("/r/rootfs", "/r/rootfs/etc") == "/etc"
    assert strip_root("/r/rootfs", "/r/rootfs") == "/"
    assert strip_root("/r/rootfs", "/r/rootfsx/etc") == "/r/rootfsx/etc"
    assert strip_root("/", "etc/../x") == "/x"


# --- mkdir_all_in_root / create_file_in_root ------------------------------------------


def test_mkdir_all_through_absolute_symlink(rootfs: Path, outside: Path) -> None:
    (rootfs / "evil").symlink_to(str(outside))
    mkdir_all_in_root(str(rootfs), "/evil/a/b", 0o700)
    assert (rootfs / outside.relative_to("/") / "a" / "b").is_dir()
    assert list(outside.iterdir()) == []
    mode = stat.S_IMODE(os.stat(rootfs / outside.relative_to("/") / "a").st_mode)
    assert mode == 0o700 & ~_umask()


def test_mkdir_all_through_relative_escape(rootfs: Path) -> None:
    (rootfs / "up").symlink_to("../../../../../../../..")
    mkdir_all_in_root(str(rootfs), "up/pylibcontainer-mkdir-escape")
    assert (rootfs / "pylibcontainer-mkdir-escape").is_dir()
    assert not os.path.exists("/pylibcontainer-mkdir-escape")


def test_mkdir_all_existing_file_is_enotdir(rootfs: Path) -> None:
    (rootfs / "etc" / "f").write_text("")
    with pytest.raises(SyscallError) as exc:
        mkdir_all_in_root(str(rootfs), "/etc/f/sub")
    assert exc.value.errno == errno.ENOTDIR


def test_mkdir_all_refuses_a_symlink_swapped_in(
    rootfs: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate the race: secure_join saw a directory, then "etc" became a symlink out.
    (rootfs / "etc").rmdir()
    (rootfs / "etc").symlink_to(str(outside))
    monkeypatch.setattr(securejoin, "secure_join", lambda root, p: f"{root}/etc/x")
    with pytest.raises(SyscallError) as exc:
        mkdir_all_in_root(str(rootfs), "/etc/x")
    assert exc.value.errno in (errno.ELOOP, errno.ENOTDIR)
    assert list(outside.iterdir()) == []


def test_create_file_through_dangling_symlink(rootfs: Path, outside: Path) -> None:
    (rootfs / "etc" / "resolv.conf").symlink_to(str(outside / "resolv.conf"))
    create_file_in_root(str(rootfs), "/etc/resolv.conf")
    assert (rootfs / outside.relative_to("/") / "resolv.conf").is_file()
    assert not (outside / "resolv.conf").exists()


def test_create_file_leaves_existing_alone(rootfs: Path) -> None:
    (rootfs / "etc" / "hostname").write_text("keep\n")
    create_file_in_root(str(rootfs), "/etc/hostname")
    create_file_in_root(str(rootfs), "/etc")
    assert (rootfs / "etc" / "hostname").read_text() == "keep\n"


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


# --- open_in_root / procfd ------------------------------------------------------------


def test_open_in_root_resolves_inside(rootfs: Path, outside: Path, sc: FakeSyscalls) -> None:
    (rootfs / "evil").symlink_to(str(outside))
    (rootfs / outside.relative_to("/")).mkdir(parents=True)
    fd = open_in_root(str(rootfs), "/evil", os.O_PATH, sc)
    try:
        assert os.readlink(f"/proc/self/fd/{fd}") == str(rootfs / outside.relative_to("/"))
    finally:
        os.close(fd)


def test_open_in_root_missing_is_enoent(rootfs: Path, sc: FakeSyscalls) -> None:
    with pytest.raises(SyscallError) as exc:
        open_in_root(str(rootfs), "/nope", os.O_PATH, sc)
    assert exc.value.errno == errno.ENOENT


def test_open_in_root_nofollow_opens_the_link(rootfs: Path, sc: FakeSyscalls) -> None:
    (rootfs / "link").symlink_to("/etc")
    fd = open_in_root(str(rootfs), "/link", os.O_PATH, sc, follow=False)
    try:
        assert stat.S_ISLNK(os.fstat(fd).st_mode)
    finally:
        os.close(fd)


def test_open_in_root_uses_openat2_in_root(rootfs: Path) -> None:
    fake = FakeSyscalls(rootfs, real_openat2=False)
    with procfd(str(rootfs), "/etc", fake) as target:
        assert fake.show(target) == "ROOT/etc"
    name, args = fake.calls[0]
    assert name == "openat2"
    assert args[1] == "etc"
    assert args[4] == 0x10 | 0x02  # RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS


def test_fallback_refuses_a_symlink_swapped_in(
    rootfs: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSyscalls(rootfs, real_openat2=False)
    (rootfs / "evil").symlink_to(str(outside))
    # secure_join "resolved" the path, then evil was swapped for a symlink out.
    monkeypatch.setattr(securejoin, "secure_join", lambda root, p: f"{root}/evil")
    with pytest.raises(SyscallError) as exc:
        open_in_root(str(rootfs), "/evil", os.O_PATH, fake)
    assert exc.value.errno in (errno.ELOOP, errno.EXDEV)


def test_fallback_refuses_a_path_resolving_elsewhere(
    rootfs: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSyscalls(rootfs, real_openat2=False)
    (rootfs / "etc" / "up").symlink_to(str(outside))
    monkeypatch.setattr(securejoin, "secure_join", lambda root, p: f"{root}/etc/up/.")
    with pytest.raises(SyscallError, match="possibly malicious path"):
        open_in_root(str(rootfs), "/etc/up", os.O_PATH, fake)


def test_procfd_closes_the_fd(rootfs: Path, sc: FakeSyscalls) -> None:
    with procfd(str(rootfs), "/etc", sc) as target:
        fd = int(target.rsplit("/", 1)[1])
        os.fstat(fd)
    with pytest.raises(OSError):
        os.fstat(fd)
