"""Host device nodes as configs.Device values (runc's DeviceFromPath / GetDevices)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from libcontainer.configs import Device, DeviceType
from libcontainer.devices import device_from_path, get_devices, host_devices
from libcontainer.errors import NotADeviceError


@pytest.mark.parametrize("path", ["/dev/null", "/dev/zero", "/dev/full"])
def test_device_from_path_matches_stat(path: str) -> None:
    st = os.stat(path)
    device = device_from_path(path)
    assert device == Device(
        type=DeviceType.CHAR,
        major=os.major(st.st_rdev),
        minor=os.minor(st.st_rdev),
        permissions="rwm",
        path=path,
        file_mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
    )
    assert not device.allow  # a node description, not a rule granting anything


def test_permissions_are_passed_on() -> None:
    assert device_from_path("/dev/null", "r").permissions == "r"


def test_a_fifo_is_a_device_of_type_p(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo", 0o640)
    device = device_from_path(str(tmp_path / "fifo"))
    assert (device.type, device.major, device.minor, device.file_mode) == (
        DeviceType.FIFO,
        0,
        0,
        0o640,
    )


@pytest.mark.parametrize("kind", ["file", "dir", "symlink-to-device", "missing"])
def test_what_is_not_a_device(tmp_path: Path, kind: str) -> None:
    path = tmp_path / kind
    if kind == "file":
        path.write_text("x")
    elif kind == "dir":
        path.mkdir()
    elif kind == "symlink-to-device":
        path.symlink_to("/dev/null")  # not followed, as runc's Lstat
    with pytest.raises(NotADeviceError, match=str(path)):
        device_from_path(str(path))


def test_host_devices_are_the_char_and_block_nodes_of_dev() -> None:
    found = {d.path: d for d in host_devices()}
    for path in ("/dev/null", "/dev/zero", "/dev/full"):
        assert found[path] == device_from_path(path)
    assert all(d.type in (DeviceType.CHAR, DeviceType.BLOCK) for d in found.values())
    assert not [p for p in found if p.startswith(("/dev/pts/", "/dev/shm/", "/dev/mqueue/"))]
    assert "/dev/console" not in found
    # Every entry is what lstat says: nothing made up, nothing followed.
    for path, device in found.items():
        st = os.lstat(path)
        assert os.makedev(device.major, device.minor) == st.st_rdev, path


@pytest.mark.root
def test_get_devices_walks_a_tree_like_runc(tmp_path: Path) -> None:
    """A fake /dev: nodes, nested dirs, and everything runc skips."""
    root = tmp_path / "dev"
    for d in ("sub/deeper", "pts", "shm", "mqueue", "fd", ".udev", ".lxc"):
        (root / d).mkdir(parents=True)

    def node(rel: str, kind: int, major: int, minor: int, mode: int = 0o620) -> None:
        os.mknod(root / rel, kind | mode, os.makedev(major, minor))
        os.chmod(root / rel, mode)  # what the umask took

    node("null", stat.S_IFCHR, 1, 3)
    node("sda", stat.S_IFBLK, 8, 0, 0o660)
    node("sub/deeper/ttyX", stat.S_IFCHR, 4, 64)
    node("console", stat.S_IFCHR, 5, 1)
    for skipped in ("pts/0", "shm/x", "mqueue/x", "fd/x", ".udev/x", ".lxc/x"):
        node(skipped, stat.S_IFCHR, 1, 5)
    os.mkfifo(root / "fifo")
    (root / "file").write_text("")
    (root / "link").symlink_to("null")
    (root / "dirlink").symlink_to("sub")
    os.chown(root / "sda", 0, 6)

    found = get_devices(str(root))
    assert [(d.path, d.type, d.major, d.minor) for d in found] == [
        (str(root / "null"), DeviceType.CHAR, 1, 3),
        (str(root / "sda"), DeviceType.BLOCK, 8, 0),
        (str(root / "sub/deeper/ttyX"), DeviceType.CHAR, 4, 64),
    ]
    sda = found[1]
    assert (sda.file_mode, sda.uid, sda.gid, sda.permissions) == (0o660, 0, 6, "rwm")


def test_get_devices_of_a_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(NotADeviceError, match="no such file"):
        get_devices(str(tmp_path / "nope"))


def test_host_devices_import_no_pyudev() -> None:
    """Device discovery is lstat: it must not pay for pyudev (or anything heavy)."""
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import sys; from libcontainer import devices; devices.host_devices(); "
            "print('pyudev' in sys.modules, 'pyroute2' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["False", "False"]
    assert "pyudev" not in out.stderr
