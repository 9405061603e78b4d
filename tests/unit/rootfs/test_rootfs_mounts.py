"""Which mounts, remounts and propagation changes each mount type makes, with which flags."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from unittest.mock import ANY

import pytest
from rootfs_fakes import FakeSyscalls

from libcontainer.configs import Mount, MountAttr
from libcontainer.errors import ConfigError, SyscallError
from libcontainer.rootfs import MountContext, cgroupmount, mount_to_rootfs
from libcontainer.rootfs.mountinfo import parse_mountinfo
from libcontainer.rootfs.mountops import bind_remount_attrs
from libcontainer.system import (
    AT_EMPTY_PATH,
    AT_FDCWD,
    AT_RECURSIVE,
    MOUNT_ATTR__ATIME,
    MOUNT_ATTR_NOATIME,
    MOUNT_ATTR_NODEV,
    MOUNT_ATTR_NODIRATIME,
    MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID,
    MOUNT_ATTR_NOSYMFOLLOW,
    MOUNT_ATTR_RDONLY,
    MOUNT_ATTR_STRICTATIME,
    MOVE_MOUNT_F_EMPTY_PATH,
    MOVE_MOUNT_T_EMPTY_PATH,
    MS_BIND,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_NOSYMFOLLOW,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_STRICTATIME,
    OPEN_TREE_CLOEXEC,
    OPEN_TREE_CLONE,
)

DEFAULT = MS_NOSUID | MS_NOEXEC | MS_NODEV


def test_proc(ctx: MountContext, sc: FakeSyscalls, rootfs: Path) -> None:
    (rootfs / "proc").rmdir()
    mount_to_rootfs(ctx, Mount(source="proc", destination="/proc", device="proc", flags=DEFAULT))
    assert (rootfs / "proc").is_dir()
    assert sc.mounts() == [("proc", "ROOT/proc", "proc", DEFAULT, None)]


@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_proc_refuses_anything_but_a_directory(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path, kind: str
) -> None:
    (rootfs / "proc").rmdir()
    if kind == "symlink":
        (rootfs / "proc").symlink_to("/etc")
    else:
        (rootfs / "proc").write_text("")
    with pytest.raises(SyscallError, match="must be mounted on ordinary directory") as exc:
        mount_to_rootfs(ctx, Mount(source="proc", destination="/proc", device="proc"))
    assert exc.value.errno == errno.ENOTDIR
    assert sc.mounts() == []


def test_mount_error_names_what_and_where(ctx: MountContext, sc: FakeSyscalls) -> None:
    sc.fail_on("mount", errno=errno.EACCES)
    with pytest.raises(SyscallError) as exc:
        mount_to_rootfs(ctx, Mount(source="proc", destination="/proc", device="proc"))
    assert exc.value.errno == errno.EACCES
    assert str(exc.value).endswith("mount proc to /proc: permission denied")


def test_sysfs_falls_back_to_rbind_when_refused(ctx: MountContext, sc: FakeSyscalls) -> None:
    sc.fail_on("mount", lambda args: args[2] == "sysfs", errno=errno.EPERM)
    flags = DEFAULT | MS_RDONLY
    mount_to_rootfs(ctx, Mount(source="sysfs", destination="/sys", device="sysfs", flags=flags))
    assert sc.mounts() == [
        ("sysfs", "ROOT/sys", "sysfs", flags, None),
        ("/sys", "ROOT/sys", None, MS_BIND | MS_REC | flags, None),
        (None, "ROOT/sys", None, MS_BIND | MS_REC | flags | MS_REMOUNT, None),
    ]


def test_sysfs_other_errors_are_not_hidden(ctx: MountContext, sc: FakeSyscalls) -> None:
    sc.fail_on("mount", errno=errno.ENODEV)
    with pytest.raises(SyscallError, match="mount sysfs to /sys"):
        mount_to_rootfs(ctx, Mount(source="sysfs", destination="/sys", device="sysfs"))


def test_tmpfs_keeps_mode_and_delays_readonly(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path
) -> None:
    flags = MS_NOSUID | MS_RDONLY
    mount_to_rootfs(
        ctx,
        Mount(source="tmpfs", destination="/tmp", device="tmpfs", flags=flags, data="size=1m"),
    )
    mount_to_rootfs(ctx, Mount(source="tmpfs", destination="/run/new", device="tmpfs"))
    assert (rootfs / "run" / "new").is_dir()
    assert sc.mounts() == [
        ("tmpfs", "ROOT/tmp", "tmpfs", MS_NOSUID, "mode=1777,size=1m"),
        ("tmpfs", "ROOT/run/new", "tmpfs", 0, None),
    ]


def test_tmpfs_propagation_flags_after_the_mount(ctx: MountContext, sc: FakeSyscalls) -> None:
    m = Mount(
        source="tmpfs",
        destination="/dev",
        device="tmpfs",
        flags=MS_NOSUID | MS_STRICTATIME | MS_RDONLY,
        data="mode=755",
        propagation_flags=(MS_PRIVATE | MS_REC, MS_SHARED),
    )
    mount_to_rootfs(ctx, m)
    assert sc.mounts() == [
        ("tmpfs", "ROOT/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,mode=755"),
        (None, "ROOT/dev", None, MS_PRIVATE | MS_REC, None),
        (None, "ROOT/dev", None, MS_SHARED, None),
    ]


def test_devpts_gets_a_new_instance_by_default(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path
) -> None:
    mount_to_rootfs(ctx, Mount(source="devpts", destination="/dev/pts", device="devpts"))
    given = "newinstance,ptmxmode=0666,mode=0620,gid=5"
    mount_to_rootfs(
        ctx, Mount(source="devpts", destination="/dev/pts2", device="devpts", data=given)
    )
    assert sc.mounts() == [
        ("devpts", "ROOT/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666"),
        ("devpts", "ROOT/dev/pts2", "devpts", 0, given),
    ]
    assert (rootfs / "dev" / "pts").is_dir()


def test_mqueue(ctx: MountContext, sc: FakeSyscalls) -> None:
    mount_to_rootfs(
        ctx, Mount(source="mqueue", destination="/dev/mqueue", device="mqueue", flags=DEFAULT)
    )
    assert sc.mounts() == [("mqueue", "ROOT/dev/mqueue", "mqueue", DEFAULT, None)]


# --- bind mounts ----------------------------------------------------------------------


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    d = tmp_path.resolve() / "host"
    d.mkdir()
    (d / "file").write_text("x")
    return d


def test_bind_dir_without_extra_flags_is_not_remounted(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path, host_dir: Path
) -> None:
    m = Mount(source=str(host_dir), destination="/data", device="bind", flags=MS_BIND | MS_REC)
    mount_to_rootfs(ctx, m)
    assert (rootfs / "data").is_dir()
    assert sc.mounts() == [(str(host_dir), "ROOT/data", None, MS_BIND | MS_REC, None)]


def test_bind_file_creates_a_file_and_remounts_readonly(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path, host_dir: Path
) -> None:
    flags = MS_BIND | MS_RDONLY | MS_NOSUID
    m = Mount(
        source=str(host_dir / "file"),
        destination="/etc/app/conf",
        device="bind",
        flags=flags,
        propagation_flags=(MS_SLAVE,),
    )
    mount_to_rootfs(ctx, m)
    assert (rootfs / "etc" / "app" / "conf").is_file()
    assert sc.mounts() == [
        (str(host_dir / "file"), "ROOT/etc/app/conf", None, flags, None),
        (None, "ROOT/etc/app/conf", None, MS_SLAVE, None),
        (None, "ROOT/etc/app/conf", None, flags | MS_REMOUNT, None),
    ]


def test_bind_remount_retries_with_locked_flags(
    ctx: MountContext, sc: FakeSyscalls, host_dir: Path
) -> None:
    flags = MS_BIND | MS_RDONLY
    first: list[tuple[object, ...]] = []

    def refuse_first(args: tuple[object, ...]) -> bool:
        if args[3] == flags | MS_REMOUNT and not first:
            first.append(args)
            return True
        return False

    sc.fail_on("mount", refuse_first, errno=errno.EPERM)
    mount_to_rootfs(ctx, Mount(source=str(host_dir), destination="/d", device="bind", flags=flags))
    retry = sc.mounts()[-1]
    assert retry[3] & (flags | MS_REMOUNT) == flags | MS_REMOUNT
    # The retry adds the flags the mount already has (at least an atime mode).
    assert retry[3] != flags | MS_REMOUNT


def test_bind_remount_refuses_a_different_atime(
    ctx: MountContext, sc: FakeSyscalls, host_dir: Path
) -> None:
    sc.fail_on("mount", lambda args: bool(args[3] & MS_REMOUNT), errno=errno.EPERM)
    existing = os.statvfs(host_dir).f_flag
    wanted = MS_STRICTATIME if existing & os.ST_RELATIME else MS_RELATIME
    m = Mount(source=str(host_dir), destination="/d", device="bind", flags=MS_BIND | wanted)
    with pytest.raises(SyscallError, match="remount /d"):
        mount_to_rootfs(ctx, m)
    assert len([c for c in sc.mounts() if c[3] & MS_REMOUNT]) == 1


def test_bind_rec_attr_uses_mount_setattr(
    ctx: MountContext, sc: FakeSyscalls, host_dir: Path
) -> None:
    attr = MountAttr(attr_set=MOUNT_ATTR_RDONLY, attr_clr=MOUNT_ATTR_NOSUID)
    m = Mount(source=str(host_dir), destination="/d", device="bind", flags=MS_BIND, rec_attr=attr)
    mount_to_rootfs(ctx, m)
    setattr_calls = [args for name, args in sc.calls if name == "mount_setattr"]
    assert setattr_calls == [(-1, "ROOT/d", AT_RECURSIVE, MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, 0)]


def test_bind_source_must_exist(ctx: MountContext, sc: FakeSyscalls, tmp_path: Path) -> None:
    m = Mount(source=str(tmp_path / "x"), destination="/x", device="bind", flags=MS_BIND)
    with pytest.raises(ConfigError, match=f"bind mount source {tmp_path / 'x'} does not exist"):
        mount_to_rootfs(ctx, m)
    assert sc.mounts() == []


def test_bind_destination_through_symlink_lands_inside(
    ctx: MountContext, sc: FakeSyscalls, rootfs: Path, host_dir: Path
) -> None:
    (rootfs / "evil").symlink_to("/etc")
    (rootfs / "up").symlink_to("../../../../..")
    mount_to_rootfs(
        ctx, Mount(source=str(host_dir), destination="/evil/x", device="bind", flags=MS_BIND)
    )
    mount_to_rootfs(
        ctx, Mount(source=str(host_dir), destination="/up/tmp/y", device="bind", flags=MS_BIND)
    )
    assert [m[1] for m in sc.mounts()] == ["ROOT/etc/x", "ROOT/tmp/y"]


@pytest.mark.parametrize("dest", ["/proc/self", "/proc/sys/kernel/x", "/proc"])
def test_no_bind_mounts_into_proc(ctx: MountContext, host_dir: Path, dest: str) -> None:
    m = Mount(source=str(host_dir), destination=dest, device="bind", flags=MS_BIND)
    with pytest.raises(ConfigError, match="cannot be mounted because it is"):
        mount_to_rootfs(ctx, m)


def test_lxcfs_style_proc_files_are_allowed(
    ctx: MountContext, sc: FakeSyscalls, host_dir: Path
) -> None:
    m = Mount(source=str(host_dir / "file"), destination="/proc/meminfo", device="bind")
    mount_to_rootfs(ctx, m)
    assert sc.mounts()[0][1] == "ROOT/proc/meminfo"


def test_bind_of_a_proc_over_proc_is_allowed(ctx: MountContext, sc: FakeSyscalls) -> None:
    mount_to_rootfs(
        ctx, Mount(source="/proc", destination="/proc", device="bind", flags=MS_BIND | MS_REC)
    )
    assert sc.mounts()[0][:2] == ("/proc", "ROOT/proc")


# --- cgroup ---------------------------------------------------------------------------

# The host's hierarchies are mounted under {h} (a temp dir standing in for /sys/fs/cgroup).
V1_MOUNTINFO = """\
31 23 0:28 / {h} rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / {h}/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / {h}/cpu2,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / {h}/memory rw,relatime - cgroup cgroup rw,memory
35 31 0:32 /ns {h}/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / {h}/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / {h}/unified rw,relatime - cgroup2 cgroup2 rw
"""
V1_PROC_CGROUP = """\
9:name=systemd:/user.slice/c1
4:memory:/c1
3:pids:/ns/c1
2:cpu,cpuacct:/c1
0::/user.slice/c1
"""
V2_MOUNTINFO = "31 23 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
CG_FLAGS = DEFAULT | MS_RELATIME | MS_RDONLY


@pytest.fixture
def host_cgroups(tmp_path: Path) -> str:
    """A fake host /sys/fs/cgroup with the container's own cgroup dirs."""
    h = tmp_path.resolve() / "host-cgroup"
    for d in ("cpu,cpuacct/c1", "memory/c1", "pids/c1", "systemd/user.slice/c1"):
        (h / d).mkdir(parents=True)
    return str(h)


def _fake_host(monkeypatch: pytest.MonkeyPatch, mountinfo: str, proc_cgroup: str) -> None:
    monkeypatch.setattr(cgroupmount, "read_mountinfo", lambda: parse_mountinfo(mountinfo))
    monkeypatch.setattr(
        cgroupmount, "_read_proc_cgroup", lambda: cgroupmount.parse_proc_cgroup(proc_cgroup)
    )


def _cgroup_mount() -> Mount:
    return Mount(source="cgroup", destination="/sys/fs/cgroup", device="cgroup", flags=CG_FLAGS)


def test_cgroup_v1_binds_with_the_mount_api(
    ctx: MountContext,
    sc: FakeSyscalls,
    rootfs: Path,
    monkeypatch: pytest.MonkeyPatch,
    host_cgroups: str,
) -> None:
    """Each hierarchy is cloned, given its flags while detached, then attached: no bind
    mount or remount of it through mount(2)."""
    h = host_cgroups
    _fake_host(monkeypatch, V1_MOUNTINFO.format(h=h), V1_PROC_CGROUP)
    mount_to_rootfs(ctx, _cgroup_mount())
    assert sc.mounts() == [
        ("tmpfs", "ROOT/sys/fs/cgroup", "tmpfs", DEFAULT, "mode=755"),
        (None, "ROOT/sys/fs/cgroup", None, DEFAULT | MS_RDONLY | MS_BIND | MS_REMOUNT, None),
    ]
    sources = [
        f"{h}/cpu,cpuacct/c1",
        f"{h}/memory/c1",
        f"{h}/pids/c1",
        f"{h}/systemd/user.slice/c1",
    ]
    clone = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE
    ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC
    cleared = ro | MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME
    attach = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH
    api = [(n, a) for n, a in sc.calls if n in ("open_tree", "mount_setattr", "move_mount")]
    expected: list[tuple[str, tuple[object, ...]]] = []
    for src, name in zip(sources, ("cpu,cpuacct", "memory", "pids", "systemd"), strict=True):
        expected += [
            ("open_tree", (AT_FDCWD, src, clone)),
            # relatime is MOUNT_ATTR_RELATIME (0) with the access-time bits cleared
            ("mount_setattr", (ANY, src, AT_EMPTY_PATH, ro, cleared, 0)),
            ("move_mount", (-1, src, -1, f"ROOT/sys/fs/cgroup/{name}", attach)),
        ]
    assert api == expected
    cg = rootfs / "sys" / "fs" / "cgroup"
    assert sorted(p.name for p in cg.iterdir() if p.is_dir() and not p.is_symlink()) == [
        "cpu,cpuacct",
        "memory",
        "pids",
        "systemd",
    ]
    assert os.readlink(cg / "cpu") == "cpu,cpuacct"
    assert os.readlink(cg / "cpuacct") == "cpu,cpuacct"


def test_cgroup_v1_bind_source_gone(
    ctx: MountContext, sc: FakeSyscalls, monkeypatch: pytest.MonkeyPatch, host_cgroups: str
) -> None:
    _fake_host(monkeypatch, V1_MOUNTINFO.format(h=host_cgroups), V1_PROC_CGROUP)
    sc.fail_on("open_tree", lambda args: "memory" in args[1], errno=errno.ENOENT)
    with pytest.raises(ConfigError, match=r"bind mount source .*/memory/c1 does not exist"):
        mount_to_rootfs(ctx, _cgroup_mount())


def test_cgroup_v1_attach_error_names_the_hierarchy(
    ctx: MountContext, sc: FakeSyscalls, monkeypatch: pytest.MonkeyPatch, host_cgroups: str
) -> None:
    _fake_host(monkeypatch, V1_MOUNTINFO.format(h=host_cgroups), V1_PROC_CGROUP)
    sc.fail_on("move_mount", lambda args: "pids" in args[1], errno=errno.EACCES)
    with pytest.raises(SyscallError, match=r"mount .*/pids/c1 to /sys/fs/cgroup/pids: perm"):
        mount_to_rootfs(ctx, _cgroup_mount())


@pytest.mark.parametrize("why", ["no mount api", "seccomp", "user namespace"])
def test_cgroup_v1_binds_own_cgroups_classic(
    rootfs: Path,
    sc: FakeSyscalls,
    monkeypatch: pytest.MonkeyPatch,
    host_cgroups: str,
    why: str,
) -> None:
    """Without the mount API, or in a user namespace: a bind and a remount per hierarchy."""
    h = host_cgroups
    _fake_host(monkeypatch, V1_MOUNTINFO.format(h=h), V1_PROC_CGROUP)
    if why != "user namespace":
        sc.fail_on("open_tree", errno=errno.ENOSYS if why == "no mount api" else errno.EPERM)
    ctx = MountContext(root=str(rootfs), syscalls=sc, userns=why == "user namespace")
    mount_to_rootfs(ctx, _cgroup_mount())
    bind = MS_BIND | MS_REC | CG_FLAGS
    assert sc.mounts() == [
        ("tmpfs", "ROOT/sys/fs/cgroup", "tmpfs", DEFAULT, "mode=755"),
        (f"{h}/cpu,cpuacct/c1", "ROOT/sys/fs/cgroup/cpu,cpuacct", None, bind, None),
        (None, "ROOT/sys/fs/cgroup/cpu,cpuacct", None, bind | MS_REMOUNT, None),
        (f"{h}/memory/c1", "ROOT/sys/fs/cgroup/memory", None, bind, None),
        (None, "ROOT/sys/fs/cgroup/memory", None, bind | MS_REMOUNT, None),
        (f"{h}/pids/c1", "ROOT/sys/fs/cgroup/pids", None, bind, None),
        (None, "ROOT/sys/fs/cgroup/pids", None, bind | MS_REMOUNT, None),
        (f"{h}/systemd/user.slice/c1", "ROOT/sys/fs/cgroup/systemd", None, bind, None),
        (None, "ROOT/sys/fs/cgroup/systemd", None, bind | MS_REMOUNT, None),
        (None, "ROOT/sys/fs/cgroup", None, DEFAULT | MS_RDONLY | MS_BIND | MS_REMOUNT, None),
    ]
    cg = rootfs / "sys" / "fs" / "cgroup"
    assert os.readlink(cg / "cpu") == "cpu,cpuacct"
    assert os.readlink(cg / "cpuacct") == "cpu,cpuacct"


def test_cgroup_v1_in_cgroupns_mounts_fresh_hierarchies(
    rootfs: Path, sc: FakeSyscalls, monkeypatch: pytest.MonkeyPatch, host_cgroups: str
) -> None:
    _fake_host(monkeypatch, V1_MOUNTINFO.format(h=host_cgroups), V1_PROC_CGROUP)
    ctx = MountContext(root=str(rootfs), syscalls=sc, cgroupns=True)
    mount_to_rootfs(ctx, _cgroup_mount())
    fresh = [m for m in sc.mounts() if m[2] == "cgroup"]
    ro = DEFAULT | MS_RDONLY
    assert fresh == [
        ("cgroup", "ROOT/sys/fs/cgroup/cpu,cpuacct", "cgroup", ro, "cpu,cpuacct"),
        ("cgroup", "ROOT/sys/fs/cgroup/memory", "cgroup", ro, "memory"),
        ("cgroup", "ROOT/sys/fs/cgroup/pids", "cgroup", ro, "pids"),
        ("systemd", "ROOT/sys/fs/cgroup/systemd", "cgroup", ro, "name=systemd"),
    ]


def test_cgroup_v2(ctx: MountContext, sc: FakeSyscalls, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_host(monkeypatch, V2_MOUNTINFO, "0::/c1\n")
    mount_to_rootfs(ctx, _cgroup_mount())
    assert sc.mounts() == [("cgroup", "ROOT/sys/fs/cgroup", "cgroup2", CG_FLAGS, None)]


@pytest.mark.parametrize(("cgroupns", "source"), [(False, "/sys/fs/cgroup"), (True, None)])
def test_cgroup_v2_falls_back_to_bind(
    rootfs: Path,
    sc: FakeSyscalls,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cgroupns: bool,
    source: str | None,
) -> None:
    _fake_host(monkeypatch, V2_MOUNTINFO, "0::/\n")
    sc.fail_on("mount", lambda args: args[2] == "cgroup2", errno=errno.EPERM)
    ctx = MountContext(root=str(rootfs), syscalls=sc, cgroupns=cgroupns)
    if not os.path.isdir("/sys/fs/cgroup"):
        pytest.skip("no /sys/fs/cgroup to bind")
    mount_to_rootfs(ctx, _cgroup_mount())
    binds = [m for m in sc.mounts() if m[3] & MS_BIND and not m[3] & MS_REMOUNT]
    assert binds == [("/sys/fs/cgroup", "ROOT/sys/fs/cgroup", None, MS_BIND | CG_FLAGS, None)]


def test_proc_cgroup_parsing() -> None:
    parsed = cgroupmount.parse_proc_cgroup(V1_PROC_CGROUP)
    assert parsed["cpu"] == parsed["cpuacct"] == "/c1"
    assert parsed["name=systemd"] == "/user.slice/c1"
    assert parsed[""] == "/user.slice/c1"


def test_mountinfo_unescapes_and_finds_shared() -> None:
    (m,) = parse_mountinfo(
        "36 35 98:0 /mnt\\040x /a\\040b rw,noatime master:1 shared:7 - ext3 /dev/root rw\n"
    )
    assert m.root == "/mnt x" and m.mountpoint == "/a b"
    assert m.is_shared and m.fstype == "ext3" and m.super_options == "rw"


@pytest.mark.parametrize(
    ("flags", "attr_set", "attr_clr_atime"),
    [
        # No access-time flag: a remount keeps the mount's own (nodiratime included).
        (MS_RDONLY | MS_NOSUID, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, False),
        (MS_RELATIME, 0, True),  # MOUNT_ATTR_RELATIME is 0: set by clearing the bits
        (MS_NODIRATIME, MOUNT_ATTR_NODIRATIME, True),  # and relatime, the kernel's default
        (MS_NOATIME | MS_RELATIME, MOUNT_ATTR_NOATIME, True),
        (MS_STRICTATIME | MS_NOATIME, MOUNT_ATTR_STRICTATIME, True),
        (
            MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW,
            MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW,
            False,
        ),
    ],
)
def test_bind_remount_attrs(flags: int, attr_set: int, attr_clr_atime: bool) -> None:
    """mount_setattr(2) arguments equal to what mount(MS_BIND|MS_REMOUNT|flags) does."""
    got_set, got_clr = bind_remount_attrs(flags | MS_BIND | MS_REC)
    per_mount = (
        MOUNT_ATTR_RDONLY
        | MOUNT_ATTR_NOSUID
        | MOUNT_ATTR_NODEV
        | MOUNT_ATTR_NOEXEC
        | MOUNT_ATTR_NOSYMFOLLOW
    )
    atime = MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME
    assert got_set == attr_set
    assert got_clr == per_mount | (atime if attr_clr_atime else 0)


def test_cgroup_mount_uses_the_table_read_before_the_rootfs(
    rootfs: Path, sc: FakeSyscalls, monkeypatch: pytest.MonkeyPatch, host_cgroups: str
) -> None:
    """prepare_root's reading of the mount table serves the cgroup mount: no second read."""
    table = tuple(parse_mountinfo(V1_MOUNTINFO.format(h=host_cgroups)))
    _fake_host(monkeypatch, "", V1_PROC_CGROUP)
    monkeypatch.setattr(cgroupmount, "read_mountinfo", lambda: pytest.fail("read again"))
    ctx = MountContext(root=str(rootfs), syscalls=sc, host_mounts=table)
    mount_to_rootfs(ctx, _cgroup_mount())
    sources = [a[1] for n, a in sc.calls if n == "open_tree"]
    assert sources == [
        f"{host_cgroups}/cpu,cpuacct/c1",
        f"{host_cgroups}/memory/c1",
        f"{host_cgroups}/pids/c1",
        f"{host_cgroups}/systemd/user.slice/c1",
    ]


@pytest.mark.parametrize("root", ["/", "/sys", "/sys/fs/cgroup"])
def test_cgroup_mount_rereads_when_the_rootfs_covers_the_hierarchies(
    sc: FakeSyscalls, monkeypatch: pytest.MonkeyPatch, root: str
) -> None:
    """A rootfs at or above /sys/fs/cgroup: mounts made since could hide a hierarchy."""
    reads: list[int] = []

    def read() -> list[object]:
        reads.append(1)
        raise RuntimeError("read")

    monkeypatch.setattr(cgroupmount, "read_mountinfo", read)
    ctx = MountContext(root=root, syscalls=sc, host_mounts=())
    with pytest.raises(RuntimeError, match="read"):
        mount_to_rootfs(ctx, _cgroup_mount())
    assert reads == [1]
