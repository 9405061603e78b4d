"""Mount options to flags, propagation, recursive attributes, extensions and data."""

from __future__ import annotations

import pytest

from libcontainer.configs import MountAttr
from libcontainer.errors import ConfigError
from specconv import tables as t
from specconv.convert_mounts import create_mount, parse_mount_options
from specconv.spec import Mount

SET_FLAGS = {
    "acl": t.MS_POSIXACL,
    "bind": t.MS_BIND,
    "dirsync": t.MS_DIRSYNC,
    "iversion": t.MS_I_VERSION,
    "lazytime": t.MS_LAZYTIME,
    "mand": t.MS_MANDLOCK,
    "noatime": t.MS_NOATIME,
    "nodev": t.MS_NODEV,
    "nodiratime": t.MS_NODIRATIME,
    "noexec": t.MS_NOEXEC,
    "nosuid": t.MS_NOSUID,
    "nosymfollow": t.MS_NOSYMFOLLOW,
    "rbind": t.MS_BIND | t.MS_REC,
    "relatime": t.MS_RELATIME,
    "remount": t.MS_REMOUNT,
    "ro": t.MS_RDONLY,
    "silent": t.MS_SILENT,
    "strictatime": t.MS_STRICTATIME,
    "sync": t.MS_SYNCHRONOUS,
}
# option -> the option whose flag it clears
CLEAR_FLAGS = {
    "noacl": "acl",
    "async": "sync",
    "atime": "noatime",
    "dev": "nodev",
    "diratime": "nodiratime",
    "exec": "noexec",
    "noiversion": "iversion",
    "nolazytime": "lazytime",
    "loud": "silent",
    "nomand": "mand",
    "norelatime": "relatime",
    "nostrictatime": "strictatime",
    "suid": "nosuid",
    "rw": "ro",
    "symfollow": "nosymfollow",
}
PROPAGATION = {
    "private": t.MS_PRIVATE,
    "rprivate": t.MS_PRIVATE | t.MS_REC,
    "shared": t.MS_SHARED,
    "rshared": t.MS_SHARED | t.MS_REC,
    "slave": t.MS_SLAVE,
    "rslave": t.MS_SLAVE | t.MS_REC,
    "unbindable": t.MS_UNBINDABLE,
    "runbindable": t.MS_UNBINDABLE | t.MS_REC,
}
ATIME = t.MOUNT_ATTR__ATIME
REC_SET = {
    "rro": (0x1, 0),
    "rnosuid": (0x2, 0),
    "rnodev": (0x4, 0),
    "rnoexec": (0x8, 0),
    "rnodiratime": (0x80, 0),
    "rnosymfollow": (0x200000, 0),
    "rrelatime": (0, ATIME),
    "rnoatime": (0x10, ATIME),
    "rstrictatime": (0x20, ATIME),
}
REC_CLEAR = {
    "rrw": 0x1,
    "rsuid": 0x2,
    "rdev": 0x4,
    "rexec": 0x8,
    "rdiratime": 0x80,
    "ratime": 0x10,
    "rnostrictatime": 0x20,
    "rsymfollow": 0x200000,
}


def test_tables_cover_every_known_option() -> None:
    covered = {*SET_FLAGS, *CLEAR_FLAGS, *PROPAGATION, *REC_SET, *REC_CLEAR}
    covered |= {"rnorelatime", "tmpcopyup", "defaults"}
    assert covered == set(t.known_mount_options())


@pytest.mark.parametrize(("option", "flag"), sorted(SET_FLAGS.items()))
def test_flag_options_set(option: str, flag: int) -> None:
    parsed = parse_mount_options([option])
    assert parsed.flags == flag
    assert parsed.data == ""


@pytest.mark.parametrize(("option", "setter"), sorted(CLEAR_FLAGS.items()))
def test_flag_options_clear(option: str, setter: str) -> None:
    assert parse_mount_options([setter, option]).flags == 0
    assert parse_mount_options([option, setter]).flags == SET_FLAGS[setter]
    assert parse_mount_options([option]).flags == 0


@pytest.mark.parametrize(("option", "flag"), sorted(PROPAGATION.items()))
def test_propagation_options(option: str, flag: int) -> None:
    parsed = parse_mount_options([option, "shared"])
    assert parsed.propagation_flags == (flag, t.MS_SHARED)
    assert parsed.flags == 0


@pytest.mark.parametrize(("option", "expected"), sorted(REC_SET.items()))
def test_recursive_attributes_set(option: str, expected: tuple[int, int]) -> None:
    parsed = parse_mount_options([option])
    attr_set, attr_clr = expected
    assert parsed.rec_attr == MountAttr(attr_set=attr_set, attr_clr=attr_clr)


@pytest.mark.parametrize(("option", "flag"), sorted(REC_CLEAR.items()))
def test_recursive_attributes_clear(option: str, flag: int) -> None:
    assert parse_mount_options([option]).rec_attr == MountAttr(attr_set=0, attr_clr=flag)


def test_rnorelatime_alone_sets_nothing() -> None:
    # MOUNT_ATTR_RELATIME is 0: clearing it is a no-op, so there is no rec_attr at all.
    assert parse_mount_options(["rnorelatime"]).rec_attr is None


def test_recursive_attributes_accumulate() -> None:
    parsed = parse_mount_options(["rro", "rnosuid", "rexec"])
    assert parsed.rec_attr == MountAttr(attr_set=0x3, attr_clr=0x8)


def test_extension_and_data() -> None:
    parsed = parse_mount_options(["tmpcopyup", "mode=755", "size=1k", "nosuid"])
    assert parsed.extensions == t.EXT_COPYUP
    assert parsed.data == "mode=755,size=1k"
    assert parsed.flags == t.MS_NOSUID


def test_unknown_options_and_defaults_go_to_data() -> None:
    # runc: "defaults" has flag 0, so it falls through to the filesystem data.
    parsed = parse_mount_options(["defaults", "bogus", "x-foo=1"])
    assert parsed.flags == 0
    assert parsed.data == "defaults,bogus,x-foo=1"


def test_bind_mount_device_and_relative_source() -> None:
    mount = create_mount(
        "/bundle",
        Mount(destination="/d", type="none", source="src/../x", options=("rbind",)),
        "mounts[0]",
    )
    assert mount.device == "bind"
    assert mount.source == "/bundle/x"
    assert mount.flags == t.MS_BIND | t.MS_REC


def test_non_bind_mount_keeps_type_and_source() -> None:
    mount = create_mount("/bundle", Mount(destination="/d", type="tmpfs", source="tmpfs"), "m")
    assert (mount.device, mount.source, mount.flags, mount.rec_attr) == ("tmpfs", "tmpfs", 0, None)


def test_relative_destination_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        create_mount("/b", Mount(destination="proc", type="proc"), "mounts[3]")
    assert info.value.field == "mounts[3].destination"
    assert info.value.value == "proc"


@pytest.mark.parametrize("name", ["destination", "source", "type"])
def test_nul_bytes_are_an_error(name: str) -> None:
    fields = {"destination": "/d", "source": "s", "type": "t"}
    fields[name] += "\0x"
    with pytest.raises(ConfigError) as info:
        create_mount("/b", Mount(**fields), "mounts[0]")
    assert info.value.field == f"mounts[0].{name}"
