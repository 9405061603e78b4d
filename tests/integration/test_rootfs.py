"""The rootfs setup against the real kernel, checked from inside the container.

Each test forks a child that unshares a mount and a PID namespace, forks again (PID 1 of
the new namespace), sets the busybox rootfs up as a container init would, and execs a
busybox shell script whose output comes back through a pipe. The namespaces die with the
two processes, so nothing outlives a test; files on the host are checked afterwards.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from libcontainer.configs import Config, Device, DeviceType, Mount, Namespace, NamespaceType
from libcontainer.errors import SyscallError
from libcontainer.rootfs import (
    apply_masked_paths,
    apply_readonly_paths,
    finalize_rootfs,
    mount_console,
    prepare_rootfs,
)
from libcontainer.system import (
    CLONE_NEWIPC,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_STRICTATIME,
    Syscalls,
    linux,
)

pytestmark = pytest.mark.root

TIMEOUT = 30
NS = (Namespace(NamespaceType.NEWNS), Namespace(NamespaceType.NEWPID))
DEFAULT_MOUNTS = (
    Mount(
        source="proc", destination="/proc", device="proc", flags=MS_NOSUID | MS_NOEXEC | MS_NODEV
    ),
    Mount(
        source="tmpfs",
        destination="/dev",
        device="tmpfs",
        flags=MS_NOSUID | MS_STRICTATIME,
        data="mode=755,size=65536k",
    ),
    Mount(
        source="devpts",
        destination="/dev/pts",
        device="devpts",
        flags=MS_NOSUID | MS_NOEXEC,
        data="newinstance,ptmxmode=0666,mode=0620,gid=5",
    ),
    Mount(
        source="shm",
        destination="/dev/shm",
        device="tmpfs",
        flags=MS_NOSUID | MS_NOEXEC | MS_NODEV,
        data="mode=1777,size=65536k",
    ),
    Mount(
        source="mqueue",
        destination="/dev/mqueue",
        device="mqueue",
        flags=MS_NOSUID | MS_NOEXEC | MS_NODEV,
    ),
    Mount(
        source="sysfs",
        destination="/sys",
        device="sysfs",
        flags=MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY,
    ),
    Mount(
        source="cgroup",
        destination="/sys/fs/cgroup",
        device="cgroup",
        flags=MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY,
    ),
)


def _char(path: str, major: int, minor: int) -> Device:
    return Device(
        type=DeviceType.CHAR, major=major, minor=minor, path=path, file_mode=0o666, allow=True
    )


DEFAULT_DEVICES = (
    _char("/dev/null", 1, 3),
    _char("/dev/zero", 1, 5),
    _char("/dev/full", 1, 7),
    _char("/dev/random", 1, 8),
    _char("/dev/urandom", 1, 9),
    _char("/dev/tty", 5, 0),
)
MASKED = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
)
READONLY = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


def default_config(rootfs: Path, **changes: Any) -> Config:
    """A config like ``runc spec``'s default for ``rootfs``."""
    base = Config(
        rootfs=str(rootfs),
        namespaces=NS,
        mounts=DEFAULT_MOUNTS,
        devices=DEFAULT_DEVICES,
        mask_paths=MASKED,
        readonly_paths=READONLY,
    )
    return attrs.evolve(base, **changes)


@attrs.frozen
class Result:
    code: int
    output: str

    def section(self, name: str) -> str:
        """The lines after ``==name`` up to the next ``==`` marker."""
        out: list[str] = []
        inside = False
        for line in self.output.splitlines():
            if line.startswith("=="):
                inside = line == f"=={name}"
                continue
            if inside:
                out.append(line)
        return "\n".join(out)


def _init(
    config: Config,
    script: str,
    before_exec: Callable[[], None] | None,
    sc: Syscalls,
) -> None:
    modules = set(sys.modules)
    prepare_rootfs(config, syscalls=sc, run_hooks=lambda: None)
    finalize_rootfs(config, syscalls=sc)
    apply_readonly_paths(config.readonly_paths, syscalls=sc)
    apply_masked_paths(config.mask_paths, config.mount_label, syscalls=sc)
    # A module imported now would have been read from the container's files.
    late = " ".join(sorted(set(sys.modules) - modules))
    os.write(1, f"==late-imports\n{late}\n".encode())
    if before_exec is not None:
        before_exec()
    os.execve("/bin/sh", ["sh", "-c", script], {"PATH": "/bin:/sbin"})


def _enter_user_namespace() -> None:
    # Only our own uid/gid can be mapped from inside: root to root, nothing else.
    linux().unshare(CLONE_NEWUSER)
    for name, text in (("setgroups", "deny"), ("uid_map", "0 0 1"), ("gid_map", "0 0 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _child(
    config: Config,
    script: str,
    before_exec: Callable[[], None] | None,
    userns: bool,
    sc: Syscalls,
) -> int:
    signal.alarm(TIMEOUT)
    if userns:
        _enter_user_namespace()
        # mqueue needs an IPC namespace owned by the user namespace.
        linux().unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC)
    else:
        linux().unshare(CLONE_NEWNS | CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        try:
            _init(config, script, before_exec, sc)
        except BaseException as e:
            os.write(2, f"INIT ERROR: {type(e).__name__}: {e}\n".encode())
            os._exit(121)
        os._exit(122)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) & 0xFF


def run_container(
    config: Config,
    script: str,
    before_exec: Callable[[], None] | None = None,
    *,
    userns: bool = False,
    syscalls: Syscalls | None = None,
) -> Result:
    """Set the rootfs up in fresh namespaces, run ``script`` in it, return its output.

    ``syscalls`` replaces the real ones (e.g. to take a kernel feature away).
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 125
        try:
            os.close(r)
            os.dup2(w, 1)
            os.dup2(w, 2)
            code = _child(config, script, before_exec, userns, syscalls or linux())
        except BaseException:
            os.write(2, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT + 5
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([r], [], [], 1.0)
            if ready:
                data = os.read(r, 65536)
                if not data:
                    break
                chunks.append(data)
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    return Result(os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace"))


def _mountpoints(mountinfo: str) -> dict[str, list[str]]:
    """Mountpoint -> [per-mount options, fstype] of the last mount at each point."""
    out: dict[str, list[str]] = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 10 or "-" not in fields:
            continue
        sep = fields.index("-")
        out[fields[4]] = [fields[5], fields[sep + 1]]
    return out


SCRIPT = r"""
echo ==mountinfo; cat /proc/self/mountinfo
echo ==pid; echo $$
echo ==devnull; stat -c '%F %t:%T' /dev/null
echo ==devices; for d in zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done
echo ==links; for l in fd stdin stdout stderr ptmx; do echo "$l $(readlink /dev/$l)"; done
echo ==ro; if touch /mnt/ro/new 2>/dev/null; then echo WRITABLE; else echo READONLY; fi
echo ==rofile; cat /mnt/ro/hello
echo ==procsys
if (echo 1 > /proc/sys/vm/overcommit_memory) 2>/dev/null; then echo W; else echo RO; fi
echo ==masked
for p in /proc/kcore /proc/keys /proc/timer_list; do
  if [ -e $p ]; then echo "$p $(wc -c < $p)"; fi
done
echo ==firmware; ls -A /sys/firmware | wc -l
echo ==umask; umask
echo ==cgroup; ls /sys/fs/cgroup
echo ==null; echo hi > /dev/null && echo OK
echo ==rootw; if touch /rootw 2>/dev/null; then echo WRITABLE; else echo READONLY; fi
"""


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    d = tmp_path / "hostdir"
    d.mkdir()
    (d / "hello").write_text("from the host\n")
    return d


def _ro_bind(host_dir: Path, dest: str = "/mnt/ro") -> Mount:
    return Mount(
        source=str(host_dir),
        destination=dest,
        device="bind",
        flags=MS_BIND | MS_REC | MS_RDONLY,
    )


def test_default_container(busybox_rootfs: Path, host_dir: Path) -> None:
    config = default_config(busybox_rootfs, mounts=(*DEFAULT_MOUNTS, _ro_bind(host_dir)))
    res = run_container(config, SCRIPT)
    assert res.code == 0, res.output
    mounts = _mountpoints(res.section("mountinfo"))
    assert mounts["/"][1] == "ext4" or "/" in mounts
    assert mounts["/proc"][1] == "proc"
    assert mounts["/dev"][1] == "tmpfs"
    assert mounts["/dev/pts"][1] == "devpts"
    assert mounts["/dev/shm"][1] == "tmpfs"
    assert mounts["/dev/mqueue"][1] == "mqueue"
    assert mounts["/sys"][1] == "sysfs"
    assert mounts["/sys"][0].startswith("ro")
    assert mounts["/mnt/ro"][0].startswith("ro")
    assert mounts["/proc/sys"][0].startswith("ro")
    # Nothing of the host's mount table is left after the pivot.
    assert not any(p.startswith(str(busybox_rootfs)) for p in mounts)
    assert res.section("pid") == "1"
    assert res.section("devnull") == "character special file 1:3"
    devices = res.section("devices").splitlines()
    assert "/dev/zero character special file 1:5 666" in devices
    assert "/dev/tty character special file 5:0 666" in devices
    links = dict(line.split(" ", 1) for line in res.section("links").splitlines())
    assert links == {
        "fd": "/proc/self/fd",
        "stdin": "/proc/self/fd/0",
        "stdout": "/proc/self/fd/1",
        "stderr": "/proc/self/fd/2",
        "ptmx": "pts/ptmx",
    }
    assert res.section("ro") == "READONLY"
    assert res.section("rofile") == "from the host"
    assert res.section("procsys") == "RO"
    for line in res.section("masked").splitlines():
        path, size = line.split()
        assert size == "0", f"{path} is not masked"
        assert path in mounts
    if os.path.isdir("/sys/firmware"):
        assert res.section("firmware") == "0"
    assert res.section("umask") == "0022"
    assert res.section("null") == "OK"
    assert res.section("rootw") == "WRITABLE"
    cgroups = res.section("cgroup").split()
    assert cgroups, "nothing mounted at /sys/fs/cgroup"
    assert res.section("late-imports") == ""
    assert not (host_dir / "new").exists()


class _TellingMountApi:
    """The real system calls; each open_tree(2) is told on stdout (section ``open_tree``)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(linux(), name)

    def open_tree(self, dirfd: int, path: str, flags: int) -> int:
        os.write(1, f"==open_tree\n{path}\n".encode())
        return linux().open_tree(dirfd, path, flags)


class _WithoutMountApi:
    """The real system calls, as on a kernel without open_tree(2) (or a seccomp profile
    refusing it)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(linux(), name)

    def open_tree(self, dirfd: int, path: str, flags: int) -> int:
        raise SyscallError(errno.ENOSYS, "open_tree: function not implemented")


def _cgroup_binds(mountinfo: str) -> dict[str, tuple[str, str, str, str]]:
    """Mountpoint -> (root, per-mount options, optional fields, super options) of the v1
    hierarchies mounted under /sys/fs/cgroup."""
    out = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if fields[sep + 1] == "cgroup" and fields[4].startswith("/sys/fs/cgroup/"):
            optional = " ".join(fields[6:sep])
            out[fields[4]] = (fields[3], fields[5], optional, fields[sep + 3])
    return out


def test_cgroup_v1_hierarchies(busybox_rootfs: Path) -> None:
    """Each v1 hierarchy is the process's own cgroup, read-only with the mount's flags, the
    same whether bound through the mount API or the classic bind and remount."""
    own: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f.read().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(","):
                if c:
                    own[c] = path
    with open("/proc/self/mountinfo") as f:
        if not any(" - cgroup " in line for line in f):
            pytest.skip("no cgroup v1 hierarchy on this host")
    script = (
        "echo ==mountinfo; cat /proc/self/mountinfo; echo ==write\n"
        "for d in /sys/fs/cgroup/*/; do mkdir $d/x 2>/dev/null && echo WROTE $d; done; true"
    )
    config = default_config(busybox_rootfs)
    results = [
        run_container(config, script, syscalls=_TellingMountApi()),
        run_container(config, script, syscalls=_WithoutMountApi()),
    ]
    for res in results:
        assert res.code == 0, res.output
        assert res.section("write") == ""
    api, classic = (_cgroup_binds(r.section("mountinfo")) for r in results)
    assert api, "no cgroup hierarchy mounted"
    assert api == classic
    assert len(results[0].section("open_tree").split()) == len(api)
    assert results[1].section("open_tree") == ""
    for mountpoint, (root, options, _optional, super_options) in api.items():
        assert options.split(",")[:1] == ["ro"], (mountpoint, options)
        assert {"nosuid", "nodev", "noexec", "relatime"} <= set(options.split(",")), options
        controller = next(o for o in super_options.split(",") if o in own or o.startswith("name="))
        assert root == own[controller], (mountpoint, root, own)


def test_readonly_rootfs_keeps_flags(busybox_rootfs: Path) -> None:
    config = default_config(busybox_rootfs, readonlyfs=True, umask=0o027)
    res = run_container(config, SCRIPT)
    assert res.code == 0, res.output
    assert res.section("rootw") == "READONLY"
    assert res.section("umask") == "0027"
    opts = _mountpoints(res.section("mountinfo"))["/"][0].split(",")
    assert "ro" in opts
    # The flags the rootfs had stay (the host's /tmp mount is relatime here).
    host_flags = os.statvfs(busybox_rootfs).f_flag
    if host_flags & os.ST_RELATIME:
        assert "relatime" in opts
    if host_flags & os.ST_NOSUID:
        assert "nosuid" in opts


def test_readonly_dev_tmpfs(busybox_rootfs: Path) -> None:
    mounts = tuple(
        attrs.evolve(m, flags=m.flags | MS_RDONLY) if m.destination == "/dev" else m
        for m in DEFAULT_MOUNTS
    )
    config = default_config(busybox_rootfs, mounts=mounts)
    script = (
        "cat /proc/self/mountinfo; stat -c '%F' /dev/null; "
        "if touch /dev/x 2>/dev/null; then echo DEVW; else echo DEVRO; fi"
    )
    res = run_container(config, script)
    assert res.code == 0, res.output
    assert "character special file" in res.output  # devices were made before the remount
    assert "DEVRO" in res.output
    assert _mountpoints(res.output)["/dev"][0].startswith("ro")


def test_no_pivot_root(busybox_rootfs: Path) -> None:
    config = default_config(busybox_rootfs, no_pivot_root=True)
    res = run_container(config, "echo ==pid; echo $$; echo ==os; cat /etc/hostname")
    assert res.code == 0, res.output
    assert res.section("pid") == "1"
    assert res.section("os") == "busybox"


def test_devices_bind_mounted_with_user_namespace_config(busybox_rootfs: Path) -> None:
    # A NEWUSER entry makes the init bind the host's nodes instead of mknod (runc's rule).
    config = default_config(busybox_rootfs, namespaces=(*NS, Namespace(NamespaceType.NEWUSER)))
    res = run_container(
        config, "cat /proc/self/mountinfo; stat -c '%n %F %t:%T' /dev/null /dev/zero"
    )
    assert res.code == 0, res.output
    mounts = _mountpoints(res.output)
    assert "/dev/null" in mounts and "/dev/zero" in mounts
    assert "/dev/null character special file 1:3" in res.output


def test_tmpfs_copyup(busybox_rootfs: Path) -> None:
    (busybox_rootfs / "etc" / "sub").mkdir()
    (busybox_rootfs / "etc" / "sub" / "f").write_text("kept\n")
    copyup = Mount(source="tmpfs", destination="/etc", device="tmpfs", extensions=1)
    config = default_config(busybox_rootfs, mounts=(*DEFAULT_MOUNTS, copyup))
    res = run_container(
        config, "echo ==out; cat /proc/self/mountinfo; cat /etc/hostname /etc/sub/f; touch /etc/new"
    )
    assert res.code == 0, res.output
    assert _mountpoints(res.output)["/etc"][1] == "tmpfs"
    assert res.section("late-imports") == ""
    assert "busybox\nkept" in res.output
    assert not (busybox_rootfs / "etc" / "new").exists()  # the write went to the tmpfs


def test_in_a_user_namespace(busybox_rootfs: Path, host_dir: Path) -> None:
    # The rootless path: devices are bind-mounted, sysfs (no network namespace of our
    # own) falls back to an rbind of /sys, remounts must keep the locked flags.
    # As `runc spec --rootless` does: no gid=5 for devpts, that gid is not mapped.
    mounts = tuple(
        attrs.evolve(m, data="newinstance,ptmxmode=0666,mode=0620") if m.device == "devpts" else m
        for m in DEFAULT_MOUNTS
    )
    config = default_config(
        busybox_rootfs,
        namespaces=(*NS, Namespace(NamespaceType.NEWUSER), Namespace(NamespaceType.NEWIPC)),
        mounts=(*mounts, _ro_bind(host_dir)),
    )
    res = run_container(config, SCRIPT, userns=True)
    assert res.code == 0, res.output
    mounts = _mountpoints(res.section("mountinfo"))
    assert mounts["/sys"][0].startswith("ro")
    assert mounts["/proc"][1] == "proc"
    assert mounts["/dev/null"][1] == "devtmpfs"  # the host's node, bind-mounted
    assert res.section("devnull") == "character special file 1:3"
    assert res.section("null") == "OK"
    assert res.section("ro") == "READONLY"
    assert res.section("procsys") == "RO"
    assert res.section("pid") == "1"
    assert res.section("late-imports") == ""


def test_console(busybox_rootfs: Path) -> None:
    def console() -> None:
        # Like runc: the pty is made inside the container, from its own devpts instance.
        _master, slave = os.openpty()
        mount_console(os.ttyname(slave), syscalls=linux())

    res = run_container(
        default_config(busybox_rootfs),
        "stat -c '%n %F %t:%T' /dev/console; grep ' /dev/console ' /proc/self/mountinfo",
        before_exec=console,
    )
    assert res.code == 0, res.output
    assert "/dev/console character special file 88:0" in res.output
    assert " - devpts devpts " in res.output


# --- hostile rootfs: symlinks that point out of it ------------------------------------


def test_bind_destination_through_absolute_symlink(busybox_rootfs: Path, host_dir: Path) -> None:
    (busybox_rootfs / "evil").symlink_to("/etc")
    marker = "pylibcontainer-injected"
    assert not os.path.exists(f"/etc/{marker}")
    bind = _ro_bind(host_dir, f"/evil/{marker}")
    config = default_config(busybox_rootfs, mounts=(*DEFAULT_MOUNTS, bind))
    res = run_container(config, f"cat /proc/self/mountinfo; cat /etc/{marker}/hello")
    assert res.code == 0, res.output
    assert f"/etc/{marker}" in _mountpoints(res.output)
    assert "from the host" in res.output
    assert (busybox_rootfs / "etc" / marker).is_dir()
    assert not os.path.lexists(f"/etc/{marker}"), "the mount escaped onto the host's /etc"


def test_destination_through_relative_escape(busybox_rootfs: Path) -> None:
    (busybox_rootfs / "up").symlink_to("../../../../../../../../..")
    marker = "pylibcontainer-escaped"
    mounts = (
        *DEFAULT_MOUNTS,
        Mount(source="tmpfs", destination=f"/up/{marker}", device="tmpfs"),
        Mount(source="tmpfs", destination=f"../../../{marker}-2", device="tmpfs"),
    )
    res = run_container(default_config(busybox_rootfs, mounts=mounts), "cat /proc/self/mountinfo")
    assert res.code == 0, res.output
    points = _mountpoints(res.output)
    assert f"/{marker}" in points and f"/{marker}-2" in points
    assert (busybox_rootfs / marker).is_dir()
    assert not os.path.lexists(f"/{marker}") and not os.path.lexists(f"/{marker}-2")


def test_devices_through_symlinked_dev(busybox_rootfs: Path, tmp_path: Path) -> None:
    # No /dev tmpfs, and /dev is a symlink to a host directory: the nodes must be made
    # in the rootfs, not in that directory.
    outside = tmp_path / "outside-dev"
    outside.mkdir()
    (busybox_rootfs / "dev").rmdir()
    (busybox_rootfs / "dev").symlink_to(str(outside))
    mounts = tuple(m for m in DEFAULT_MOUNTS if not m.destination.startswith("/dev"))
    res = run_container(
        default_config(busybox_rootfs, mounts=mounts), "stat -c '%F %t:%T' /dev/null"
    )
    assert res.code == 0, res.output
    assert "character special file 1:3" in res.output
    assert list(outside.iterdir()) == []
    assert (busybox_rootfs / outside.relative_to("/") / "null").is_char_device()


def test_proc_on_a_symlink_is_refused(busybox_rootfs: Path) -> None:
    (busybox_rootfs / "proc").rmdir()
    (busybox_rootfs / "proc").symlink_to("/tmp")
    res = run_container(default_config(busybox_rootfs), "true")
    assert res.code == 121
    assert "INIT ERROR: SyscallError" in res.output
    assert "must be mounted on ordinary directory" in res.output


def test_missing_bind_source(busybox_rootfs: Path, tmp_path: Path) -> None:
    bind = _ro_bind(tmp_path / "nope")
    res = run_container(default_config(busybox_rootfs, mounts=(*DEFAULT_MOUNTS, bind)), "true")
    assert res.code == 121
    assert f"bind mount source {tmp_path / 'nope'} does not exist" in res.output


def test_fake_dev_null_refuses_masking(busybox_rootfs: Path) -> None:
    # A rootfs whose /dev/null is a regular file (no /dev tmpfs, no device list).
    (busybox_rootfs / "dev" / "null").write_text("")
    mounts = tuple(m for m in DEFAULT_MOUNTS if not m.destination.startswith("/dev"))
    config = default_config(busybox_rootfs, mounts=mounts, devices=())
    res = run_container(config, "true")
    assert res.code == 121
    assert "/dev/null is not the null device" in res.output
