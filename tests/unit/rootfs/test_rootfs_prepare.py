"""prepare_rootfs / finalize_rootfs: the order of the steps and the decisions between them."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rootfs_fakes import FakeSyscalls

from libcontainer.configs import (
    Command,
    Config,
    Device,
    DeviceType,
    Mount,
    Namespace,
    NamespaceType,
)
from libcontainer.errors import ConfigError, HookError, SyscallError
from libcontainer.rootfs import (
    MountContext,
    devices,
    finalize_rootfs,
    pivot,
    prepare,
    prepare_rootfs,
)
from libcontainer.rootfs.mountinfo import parse_mountinfo
from libcontainer.system import (
    MNT_DETACH,
    MS_BIND,
    MS_MOVE,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_STRICTATIME,
)

MakeConfig = Callable[..., Config]
HOST_MOUNTINFO = """\
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
22 27 0:21 / /proc rw,relatime shared:2 - proc proc rw
23 27 0:22 / /sys rw,relatime shared:3 - sysfs sysfs rw
"""


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, Any]]:
    """Keep the test process as it was: cwd, root, stdio; fake what needs privileges.

    Returns the list the fake mknod/chroot calls are recorded in.
    """
    made: list[tuple[str, Any]] = []
    monkeypatch.chdir(tmp_path)
    mounts = parse_mountinfo(HOST_MOUNTINFO)
    monkeypatch.setattr(prepare, "read_mountinfo", lambda: mounts)
    monkeypatch.setattr(pivot, "read_mountinfo", lambda: mounts)
    monkeypatch.setattr(prepare, "in_user_namespace", lambda: False)
    monkeypatch.setattr(prepare, "reopen_dev_null", lambda: made.append(("reopen", None)))

    def fake_mknod(name: str, mode: int, device: int, *, dir_fd: int) -> None:
        made.append(("mknod", (name, mode, os.major(device), os.minor(device))))
        fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600, dir_fd=dir_fd)
        os.close(fd)

    monkeypatch.setattr(os, "mknod", fake_mknod)
    monkeypatch.setattr(os, "chroot", lambda path: made.append(("chroot", path)))
    return made


def _hooks(sc: FakeSyscalls) -> Callable[[], None]:
    return lambda: sc.calls.append(("hooks", (os.getcwd(),)))


def _dev(path: str, major: int, minor: int, type: DeviceType = DeviceType.CHAR) -> Device:
    return Device(
        type=type,
        major=major,
        minor=minor,
        path=path,
        file_mode=0o666,
        uid=os.getuid(),
        gid=os.getgid(),
    )


DEV_TMPFS = Mount(
    source="tmpfs", destination="/dev", device="tmpfs", flags=MS_NOSUID | MS_STRICTATIME
)
DEVPTS = Mount(source="devpts", destination="/dev/pts", device="devpts", flags=MS_NOSUID)


def test_prepare_root_isolates_then_binds(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path
) -> None:
    prepare.prepare_root(ctx)
    assert sc.mounts() == [
        (None, "/", None, MS_SLAVE | MS_REC, None),
        (None, "/", None, MS_PRIVATE, None),  # the rootfs's parent mount was shared
        (str(rootfs), str(rootfs), None, MS_BIND | MS_REC, None),
    ]


def test_prepare_root_uses_root_propagation(ctx: MountContext, sc: FakeSyscalls) -> None:
    prepare.prepare_root(ctx, MS_PRIVATE | MS_REC)
    assert sc.mounts()[0] == (None, "/", None, MS_PRIVATE | MS_REC, None)


def test_full_prepare_in_order(
    sc: FakeSyscalls, rootfs: Path, make_config: MakeConfig, isolated: list[tuple[str, Any]]
) -> None:
    config = make_config(
        mounts=(
            Mount(source="proc", destination="/proc", device="proc"),
            DEV_TMPFS,
            DEVPTS,
        ),
        devices=(_dev("/dev/null", 1, 3), _dev("/dev/ptmx", 5, 2), _dev("/dev/fuse", 10, 229)),
    )
    prepare_rootfs(config, syscalls=sc, run_hooks=_hooks(sc))
    names = sc.names()
    # mounts, then hooks in the rootfs, then the pivot and the detach of the old root.
    hooks = names.index("hooks")
    assert sc.calls[hooks] == ("hooks", (str(rootfs),))
    assert names[hooks + 1 :] == ["pivot_root", "mount", "umount"]
    assert sc.calls[hooks + 1 :] == [
        ("pivot_root", (".", ".")),
        ("mount", (None, ".", None, MS_SLAVE | MS_REC, None)),
        ("umount", (".", MNT_DETACH)),
    ]
    targets = [m[1] for m in sc.mounts()]
    assert targets[:5] == ["/", "/", str(rootfs), "ROOT/proc", "ROOT/dev"]
    # /dev/ptmx is not a node but a link into the devpts instance.
    assert [m[1] for m in isolated if m[0] == "mknod"] == [
        ("null", stat.S_IFCHR | 0o666, 1, 3),
        ("fuse", stat.S_IFCHR | 0o666, 10, 229),
    ]
    dev = rootfs / "dev"
    assert os.readlink(dev / "ptmx") == "pts/ptmx"
    assert os.readlink(dev / "fd") == "/proc/self/fd"
    assert os.readlink(dev / "stderr") == "/proc/self/fd/2"
    assert os.path.lexists(dev / "core") == os.path.exists("/proc/kcore")
    assert ("reopen", None) in isolated
    assert os.getcwd() == "/"


def test_no_ptmx_link_without_devpts(
    sc: FakeSyscalls, rootfs: Path, make_config: MakeConfig
) -> None:
    prepare_rootfs(make_config(mounts=(DEV_TMPFS,)), syscalls=sc, run_hooks=lambda: None)
    assert not os.path.lexists(rootfs / "dev" / "ptmx")
    assert os.path.islink(rootfs / "dev" / "stdin")


def test_bind_mounted_dev_is_left_alone(
    sc: FakeSyscalls,
    rootfs: Path,
    make_config: MakeConfig,
    tmp_path: Path,
    isolated: list[tuple[str, Any]],
) -> None:
    host_dev = tmp_path / "hostdev"
    host_dev.mkdir()
    bind = Mount(source=str(host_dev), destination="/dev", device="bind", flags=MS_BIND | MS_REC)
    config = make_config(mounts=(bind,), devices=(_dev("/dev/null", 1, 3),))
    prepare_rootfs(config, syscalls=sc, run_hooks=lambda: None)
    assert not [m for m in isolated if m[0] in ("mknod", "reopen")]
    assert os.listdir(rootfs / "dev") == []


@pytest.mark.parametrize("why", ["userns", "config"])
def test_devices_are_bind_mounted_in_a_user_namespace(
    sc: FakeSyscalls,
    rootfs: Path,
    make_config: MakeConfig,
    monkeypatch: pytest.MonkeyPatch,
    isolated: list[tuple[str, Any]],
    why: str,
) -> None:
    namespaces = [Namespace(NamespaceType.NEWNS)]
    if why == "userns":
        monkeypatch.setattr(prepare, "in_user_namespace", lambda: True)
    else:
        namespaces.append(Namespace(NamespaceType.NEWUSER))
    config = make_config(namespaces=tuple(namespaces), devices=(_dev("/dev/null", 1, 3),))
    prepare_rootfs(config, syscalls=sc, run_hooks=lambda: None)
    assert not [m for m in isolated if m[0] == "mknod"]
    assert ("/dev/null", "ROOT/dev/null", None, MS_BIND, None) in sc.mounts()
    assert (rootfs / "dev" / "null").is_file()


def test_mknod_refused_falls_back_to_bind(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kw: Any) -> None:
        raise PermissionError(errno.EPERM, "nope")

    monkeypatch.setattr(os, "mknod", refuse)
    devices.create_devices(ctx, [_dev("/dev/zero", 1, 5)], bind=False)
    assert sc.mounts() == [("/dev/zero", "ROOT/dev/zero", None, MS_BIND, None)]


def test_existing_node_is_kept(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path, isolated: list[tuple[str, Any]]
) -> None:
    (rootfs / "dev" / "null").write_text("already here")
    devices.create_devices(ctx, [_dev("/dev/null", 1, 3)], bind=False)
    assert (rootfs / "dev" / "null").read_text() == "already here"
    assert sc.mounts() == []


def test_device_through_symlinked_dev_stays_inside(
    ctx: MountContext, rootfs: Path, tmp_path: Path, isolated: list[tuple[str, Any]]
) -> None:
    outside = tmp_path.resolve() / "outside"
    outside.mkdir()
    (rootfs / "dev").rmdir()
    (rootfs / "dev").symlink_to(str(outside))
    devices.create_devices(ctx, [_dev("/dev/null", 1, 3)], bind=False)
    assert list(outside.iterdir()) == []
    assert (rootfs / outside.relative_to("/") / "null").exists()


def test_invalid_devices(ctx: MountContext) -> None:
    with pytest.raises(ConfigError, match="not a valid device type"):
        devices.create_device_node(ctx, _dev("/dev/x", 1, 1, DeviceType.WILDCARD), bind=False)
    with pytest.raises(ConfigError, match="wildcard"):
        devices.create_device_node(ctx, _dev("/dev/x", -1, 1), bind=False)


def test_in_user_namespace(tmp_path: Path) -> None:
    f = tmp_path / "uid_map"
    f.write_text("         0          0 4294967295\n")
    assert not devices.in_user_namespace(str(f))
    f.write_text("         0       1000          1\n")
    assert devices.in_user_namespace(str(f))


def test_no_pivot_root_moves_and_chroots(
    sc: FakeSyscalls, rootfs: Path, make_config: MakeConfig, isolated: list[tuple[str, Any]]
) -> None:
    prepare_rootfs(make_config(no_pivot_root=True), syscalls=sc, run_hooks=lambda: None)
    assert "pivot_root" not in sc.names()
    tail = sc.calls[-5:]
    assert tail == [
        ("mount", (None, "/proc", None, MS_SLAVE | MS_REC, None)),
        ("umount", ("/proc", MNT_DETACH)),
        ("mount", (None, "/sys", None, MS_SLAVE | MS_REC, None)),
        ("umount", ("/sys", MNT_DETACH)),
        ("mount", (str(rootfs), "/", None, MS_MOVE, None)),
    ]
    assert ("chroot", ".") in isolated


def test_no_pivot_root_covers_what_it_cannot_unmount(
    sc: FakeSyscalls, rootfs: Path, make_config: MakeConfig
) -> None:
    sc.fail_on("umount", errno=errno.EPERM)
    prepare_rootfs(make_config(no_pivot_root=True), syscalls=sc, run_hooks=lambda: None)
    assert ("tmpfs", "/proc", "tmpfs", 0, None) in sc.mounts()


def test_without_mount_namespace_only_chroot(
    sc: FakeSyscalls, make_config: MakeConfig, isolated: list[tuple[str, Any]]
) -> None:
    config = make_config(namespaces=(Namespace(NamespaceType.NEWPID),))
    prepare_rootfs(config, syscalls=sc, run_hooks=lambda: None)
    assert "pivot_root" not in sc.names()
    assert ("chroot", ".") in isolated


def test_pivot_failure_is_reported(sc: FakeSyscalls, rootfs: Path, make_config: MakeConfig) -> None:
    sc.fail_on("pivot_root", errno=errno.EINVAL)
    with pytest.raises(SyscallError, match=f"pivot_root {rootfs}: invalid argument"):
        prepare_rootfs(make_config(), syscalls=sc, run_hooks=lambda: None)


def test_hook_failure_stops_before_the_pivot(sc: FakeSyscalls, make_config: MakeConfig) -> None:
    def boom() -> None:
        raise HookError("createContainer hook failed")

    with pytest.raises(HookError):
        prepare_rootfs(make_config(), syscalls=sc, run_hooks=boom)
    assert "pivot_root" not in sc.names()


# --- premount / postmount commands ----------------------------------------------------


def test_mount_commands_run_around_the_mount(
    sc: FakeSyscalls, make_config: MakeConfig, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    sh = "/bin/sh"

    def cmd(word: str) -> Command:
        script = f'echo {word} "$0" "$FOO" >> {log}'
        return Command(path=sh, args=("mysh", "-c", script), env=("FOO=bar",))

    m = Mount(
        source="tmpfs",
        destination="/run",
        device="tmpfs",
        premount_cmds=(cmd("pre"),),
        postmount_cmds=(cmd("post"),),
    )
    prepare_rootfs(make_config(mounts=(m,)), syscalls=sc, run_hooks=lambda: None)
    assert log.read_text() == "pre mysh bar\npost mysh bar\n"


def test_mount_command_failure(tmp_path: Path) -> None:
    cmd = Command(path="/bin/sh", args=("sh", "-c", "echo oops; exit 3"))
    with pytest.raises(HookError, match=r"premount command .* exit status 3: oops"):
        prepare.run_mount_command(cmd, "premount")
    with pytest.raises(HookError, match="failed to start"):
        prepare.run_mount_command(Command(path=str(tmp_path / "nope")), "postmount")


def test_mount_command_env_is_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAKED", "1")
    out = tmp_path / "env"
    cmd = Command(path="/bin/sh", args=("sh", "-c", f"env > {out}"))
    prepare.run_mount_command(cmd, "premount")
    assert "LEAKED" not in out.read_text()
    assert "PATH=" in out.read_text()


# --- finalize -------------------------------------------------------------------------


def test_finalize_remounts_readonly_tmpfs_and_dev(
    sc: FakeSyscalls, make_config: MakeConfig, umask_restored: None
) -> None:
    ro = MS_NOSUID | MS_RDONLY
    config = make_config(
        mounts=(
            Mount(source="tmpfs", destination="/dev", device="tmpfs", flags=ro),
            Mount(source="tmpfs", destination="//tmp/", device="tmpfs", flags=ro),
            Mount(source="tmpfs", destination="/run", device="tmpfs", flags=MS_NOSUID),
            Mount(source="proc", destination="/proc", device="proc", flags=ro),
        ),
        umask=0o077,
    )
    finalize_rootfs(config, syscalls=sc)
    flags = ro | MS_BIND | MS_REMOUNT
    assert sc.mounts() == [(None, "/dev", None, flags, None), (None, "/tmp", None, flags, None)]
    assert os.umask(0o022) == 0o077


def test_finalize_retries_ebusy(
    sc: FakeSyscalls, make_config: MakeConfig, monkeypatch: pytest.MonkeyPatch, umask_restored: None
) -> None:
    monkeypatch.setattr("libcontainer.rootfs.mountops._EBUSY_DELAY", 0)
    busy: list[int] = []

    def twice(args: tuple[Any, ...]) -> bool:
        busy.append(1)
        return len(busy) <= 2

    sc.fail_on("mount", twice, errno=errno.EBUSY)
    m = Mount(source="tmpfs", destination="/dev", device="tmpfs", flags=MS_RDONLY)
    finalize_rootfs(make_config(mounts=(m,)), syscalls=sc)
    assert len(sc.mounts()) == 3


def test_finalize_readonly_rootfs_keeps_flags(
    sc: FakeSyscalls, make_config: MakeConfig, umask_restored: None
) -> None:
    finalize_rootfs(make_config(readonlyfs=True), syscalls=sc)
    ((source, target, fstype, flags, data),) = sc.mounts()
    assert (source, target, fstype, data) == (None, "/", None, None)
    assert flags & (MS_BIND | MS_REMOUNT | MS_RDONLY) == MS_BIND | MS_REMOUNT | MS_RDONLY
    existing = os.statvfs("/").f_flag
    if existing & os.ST_NOSUID:
        assert flags & MS_NOSUID
    if existing & os.ST_NODEV:
        assert flags & MS_NODEV
    if existing & os.ST_NOEXEC:
        assert flags & MS_NOEXEC
    assert os.umask(0o022) == 0o022  # the default


def test_finalize_without_anything_to_do(
    sc: FakeSyscalls, make_config: MakeConfig, umask_restored: None
) -> None:
    finalize_rootfs(make_config(mounts=(DEV_TMPFS,)), syscalls=sc)
    assert sc.mounts() == []


def test_shared_flags_constant_sanity() -> None:
    # The propagation constants the tests rely on are the kernel's.
    assert (MS_SHARED, MS_SLAVE, MS_PRIVATE) == (1 << 20, 1 << 19, 1 << 18)
