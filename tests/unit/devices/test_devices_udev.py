"""What udev knows about a device, through pyudev; and the library without it.

This machine has no udev database (no ``/run/udev``), so the real-libudev test builds one:
in a private mount namespace a tmpfs over ``/run`` holds ``/run/udev/data/c1:3`` and
``/run/udev/data/b7:0`` in udev's own format, and pyudev reads them through the real
libudev (the devices themselves are the kernel's, in the real ``/sys``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from libcontainer.configs import Device, DeviceType
from libcontainer.devices import device_from_path, info_from_udev_device, udev_info

HAVE_PYUDEV = True
try:
    import pyudev  # noqa: F401
except ImportError:
    HAVE_PYUDEV = False


def _udev_device(initialized: bool) -> SimpleNamespace:
    return SimpleNamespace(
        is_initialized=initialized,
        subsystem="block",
        sys_path="/sys/devices/virtual/block/loop0",
        device_links=iter(["/dev/disk/by-uuid/1234", "/dev/disk/by-id/loop-x", "/dev/other"]),
        properties={"DEVNAME": "/dev/loop0", "ID_FS_TYPE": "ext4"},
    )


def test_udev_info_from_a_processed_device() -> None:
    info = info_from_udev_device(_udev_device(initialized=True))
    assert info.subsystem == "block" and info.initialized
    assert info.links == ("/dev/disk/by-id/loop-x", "/dev/disk/by-uuid/1234", "/dev/other")
    assert info.disk_links == ("/dev/disk/by-id/loop-x", "/dev/disk/by-uuid/1234")
    assert info.properties["ID_FS_TYPE"] == "ext4"


def test_udev_info_from_a_device_udev_has_not_seen() -> None:
    """Without a database entry there are no links; the kernel's subsystem remains."""
    info = info_from_udev_device(_udev_device(initialized=False))
    assert (info.subsystem, info.initialized, info.links, info.disk_links) == (
        "block",
        False,
        (),
        (),
    )


def test_no_udev_info_for_a_fifo_or_wildcard() -> None:
    assert udev_info(Device(type=DeviceType.FIFO, path="/x")) is None
    assert udev_info(Device(type=DeviceType.WILDCARD)) is None


def test_without_pyudev_there_is_no_udev_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyudev", None)  # "import pyudev" raises ImportError
    assert udev_info(device_from_path("/dev/null")) is None


def test_the_library_runs_without_pyudev_installed() -> None:
    """A fresh interpreter in which pyudev cannot be imported at all."""
    script = textwrap.dedent(
        """
        import sys
        class NoPyudev:
            @staticmethod
            def find_spec(name, path=None, target=None):
                if name == "pyudev" or name.startswith("pyudev."):
                    raise ImportError("pyudev is not installed")
        sys.meta_path.insert(0, NoPyudev())
        from libcontainer import devices
        found = devices.host_devices()
        print(len(found) > 0, devices.udev_info(devices.device_from_path("/dev/null")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "None"]


@pytest.mark.skipif(not HAVE_PYUDEV, reason="pyudev is not installed")
def test_udev_info_from_the_real_sysfs() -> None:
    """/dev/null as the kernel (and libudev) describe it, whatever udev did."""
    info = udev_info(device_from_path("/dev/null"))
    assert info is not None
    assert info.subsystem == "mem"
    assert info.sys_path.endswith("/mem/null")
    assert info.properties["DEVNAME"] == "/dev/null"


FAKE_DB = {
    "c1:3": "S:fake/null-link\nI:1234567\nE:ID_FAKE=yes\nG:fake\nV:1\n",
    "b7:0": "S:disk/by-id/loop-fake\nS:disk/by-uuid/0000-fake\nI:1234567\nE:ID_FS_TYPE=ext4\n",
}


@pytest.mark.root
@pytest.mark.skipif(not HAVE_PYUDEV, reason="pyudev is not installed")
def test_udev_info_from_a_fake_udev_database() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) from util-linux for a private mount namespace")
    script = textwrap.dedent(
        f"""
        import json, os
        from libcontainer.configs import Device, DeviceType
        from libcontainer.devices import udev_info
        os.makedirs("/run/udev/data")
        for name, text in {FAKE_DB!r}.items():
            with open("/run/udev/data/" + name, "w") as f:
                f.write(text)
        out = {{}}
        wanted = (("null", "c", 1, 3), ("loop0", "b", 7, 0), ("zero", "c", 1, 5))
        for key, kind, major, minor in wanted:
            info = udev_info(Device(type=DeviceType(kind), major=major, minor=minor))
            out[key] = None if info is None else [
                info.subsystem, info.initialized, list(info.links), list(info.disk_links),
                info.properties.get("ID_FAKE") or info.properties.get("ID_FS_TYPE"),
            ]
        print(json.dumps(out))
        """
    )
    # The tmpfs exists only in the private mount namespace, which ends with the command.
    out = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount -t tmpfs tmpfs /run && exec "$0" -c "$1"',
            sys.executable,
            script,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["null"] == ["mem", True, ["/dev/fake/null-link"], [], "yes"]
    if got["loop0"] is not None:  # loop0 exists when the loop driver is loaded
        assert got["loop0"] == [
            "block",
            True,
            ["/dev/disk/by-id/loop-fake", "/dev/disk/by-uuid/0000-fake"],
            ["/dev/disk/by-id/loop-fake", "/dev/disk/by-uuid/0000-fake"],
            "ext4",
        ]
    # No database entry: the kernel's facts, no links.
    assert got["zero"] == ["mem", False, [], [], None]
