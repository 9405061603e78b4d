"""The name tables of runc 1.1's specconv: mount options, namespaces, rlimits, capabilities and
seccomp names. Plain data, so ``runc features``-like listings and tests can use them.

Values that are enum members of :mod:`libcontainer.configs` (namespace types, seccomp actions
and operators) are given by member name and resolved when a config is built, so importing this
module stays cheap.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

from libcontainer.capabilities import CAPABILITY_NUMBERS
from libcontainer.system.constants import (
    MOUNT_ATTR__ATIME as MOUNT_ATTR__ATIME,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_NOATIME as MOUNT_ATTR_NOATIME,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_NODEV as MOUNT_ATTR_NODEV,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_NODIRATIME as MOUNT_ATTR_NODIRATIME,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_NOEXEC as MOUNT_ATTR_NOEXEC,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_NOSUID as MOUNT_ATTR_NOSUID,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_NOSYMFOLLOW as MOUNT_ATTR_NOSYMFOLLOW,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_RDONLY as MOUNT_ATTR_RDONLY,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_RELATIME as MOUNT_ATTR_RELATIME,
)
from libcontainer.system.constants import (
    MOUNT_ATTR_STRICTATIME as MOUNT_ATTR_STRICTATIME,
)
from libcontainer.system.constants import (
    MS_BIND as MS_BIND,
)
from libcontainer.system.constants import (
    MS_DIRSYNC as MS_DIRSYNC,
)
from libcontainer.system.constants import (
    MS_I_VERSION as MS_I_VERSION,
)
from libcontainer.system.constants import (
    MS_LAZYTIME as MS_LAZYTIME,
)
from libcontainer.system.constants import (
    MS_MANDLOCK as MS_MANDLOCK,
)
from libcontainer.system.constants import (
    MS_NOATIME as MS_NOATIME,
)
from libcontainer.system.constants import (
    MS_NODEV as MS_NODEV,
)
from libcontainer.system.constants import (
    MS_NODIRATIME as MS_NODIRATIME,
)
from libcontainer.system.constants import (
    MS_NOEXEC as MS_NOEXEC,
)
from libcontainer.system.constants import (
    MS_NOSUID as MS_NOSUID,
)
from libcontainer.system.constants import (
    MS_NOSYMFOLLOW as MS_NOSYMFOLLOW,
)
from libcontainer.system.constants import (
    MS_POSIXACL as MS_POSIXACL,
)
from libcontainer.system.constants import (
    MS_PRIVATE as MS_PRIVATE,
)
from libcontainer.system.constants import (
    MS_RDONLY as MS_RDONLY,
)
from libcontainer.system.constants import (
    MS_REC as MS_REC,
)
from libcontainer.system.constants import (
    MS_RELATIME as MS_RELATIME,
)
from libcontainer.system.constants import (
    MS_REMOUNT as MS_REMOUNT,
)
from libcontainer.system.constants import (
    MS_SHARED as MS_SHARED,
)
from libcontainer.system.constants import (
    MS_SILENT as MS_SILENT,
)
from libcontainer.system.constants import (
    MS_SLAVE as MS_SLAVE,
)
from libcontainer.system.constants import (
    MS_STRICTATIME as MS_STRICTATIME,
)
from libcontainer.system.constants import (
    MS_SYNCHRONOUS as MS_SYNCHRONOUS,
)
from libcontainer.system.constants import (
    MS_UNBINDABLE as MS_UNBINDABLE,
)

__all__ = [
    "ALLOWED_DEVICES",
    "ALLOWED_DEVICE_NODES",
    "CAPABILITIES",
    "EXTENSION_FLAGS",
    "EXT_COPYUP",
    "MOUNT_FLAGS",
    "MOUNT_PROPAGATION",
    "NAMESPACES",
    "REC_ATTR_FLAGS",
    "RLIMITS",
    "SECCOMP_ACTIONS",
    "SECCOMP_ARCHES",
    "SECCOMP_FLAGS",
    "SECCOMP_OPERATORS",
    "DefaultDevice",
    "FlagOp",
    "known_mount_options",
]


# libcontainer mount extensions.
EXT_COPYUP = 0x1


class FlagOp(NamedTuple):
    """A mount option: set (``clear=False``) or clear (``clear=True``) ``flag``."""

    clear: bool
    flag: int


MOUNT_FLAGS: MappingProxyType[str, FlagOp] = MappingProxyType(
    {
        "acl": FlagOp(False, MS_POSIXACL),
        "async": FlagOp(True, MS_SYNCHRONOUS),
        "atime": FlagOp(True, MS_NOATIME),
        "bind": FlagOp(False, MS_BIND),
        "defaults": FlagOp(False, 0),
        "dev": FlagOp(True, MS_NODEV),
        "diratime": FlagOp(True, MS_NODIRATIME),
        "dirsync": FlagOp(False, MS_DIRSYNC),
        "exec": FlagOp(True, MS_NOEXEC),
        "iversion": FlagOp(False, MS_I_VERSION),
        "lazytime": FlagOp(False, MS_LAZYTIME),
        "loud": FlagOp(True, MS_SILENT),
        "mand": FlagOp(False, MS_MANDLOCK),
        "noacl": FlagOp(True, MS_POSIXACL),
        "noatime": FlagOp(False, MS_NOATIME),
        "nodev": FlagOp(False, MS_NODEV),
        "nodiratime": FlagOp(False, MS_NODIRATIME),
        "noexec": FlagOp(False, MS_NOEXEC),
        "noiversion": FlagOp(True, MS_I_VERSION),
        "nolazytime": FlagOp(True, MS_LAZYTIME),
        "nomand": FlagOp(True, MS_MANDLOCK),
        "norelatime": FlagOp(True, MS_RELATIME),
        "nostrictatime": FlagOp(True, MS_STRICTATIME),
        "nosuid": FlagOp(False, MS_NOSUID),
        "nosymfollow": FlagOp(False, MS_NOSYMFOLLOW),
        "rbind": FlagOp(False, MS_BIND | MS_REC),
        "relatime": FlagOp(False, MS_RELATIME),
        "remount": FlagOp(False, MS_REMOUNT),
        "ro": FlagOp(False, MS_RDONLY),
        "rw": FlagOp(True, MS_RDONLY),
        "silent": FlagOp(False, MS_SILENT),
        "strictatime": FlagOp(False, MS_STRICTATIME),
        "suid": FlagOp(True, MS_NOSUID),
        "sync": FlagOp(False, MS_SYNCHRONOUS),
        "symfollow": FlagOp(True, MS_NOSYMFOLLOW),
    }
)

MOUNT_PROPAGATION: MappingProxyType[str, int] = MappingProxyType(
    {
        "rprivate": MS_PRIVATE | MS_REC,
        "private": MS_PRIVATE,
        "rslave": MS_SLAVE | MS_REC,
        "slave": MS_SLAVE,
        "rshared": MS_SHARED | MS_REC,
        "shared": MS_SHARED,
        "runbindable": MS_UNBINDABLE | MS_REC,
        "unbindable": MS_UNBINDABLE,
    }
)

REC_ATTR_FLAGS: MappingProxyType[str, FlagOp] = MappingProxyType(
    {
        "rro": FlagOp(False, MOUNT_ATTR_RDONLY),
        "rrw": FlagOp(True, MOUNT_ATTR_RDONLY),
        "rnosuid": FlagOp(False, MOUNT_ATTR_NOSUID),
        "rsuid": FlagOp(True, MOUNT_ATTR_NOSUID),
        "rnodev": FlagOp(False, MOUNT_ATTR_NODEV),
        "rdev": FlagOp(True, MOUNT_ATTR_NODEV),
        "rnoexec": FlagOp(False, MOUNT_ATTR_NOEXEC),
        "rexec": FlagOp(True, MOUNT_ATTR_NOEXEC),
        "rnodiratime": FlagOp(False, MOUNT_ATTR_NODIRATIME),
        "rdiratime": FlagOp(True, MOUNT_ATTR_NODIRATIME),
        "rrelatime": FlagOp(False, MOUNT_ATTR_RELATIME),
        "rnorelatime": FlagOp(True, MOUNT_ATTR_RELATIME),
        "rnoatime": FlagOp(False, MOUNT_ATTR_NOATIME),
        "ratime": FlagOp(True, MOUNT_ATTR_NOATIME),
        "rstrictatime": FlagOp(False, MOUNT_ATTR_STRICTATIME),
        "rnostrictatime": FlagOp(True, MOUNT_ATTR_STRICTATIME),
        "rnosymfollow": FlagOp(False, MOUNT_ATTR_NOSYMFOLLOW),
        "rsymfollow": FlagOp(True, MOUNT_ATTR_NOSYMFOLLOW),
    }
)

EXTENSION_FLAGS: MappingProxyType[str, FlagOp] = MappingProxyType(
    {"tmpcopyup": FlagOp(False, EXT_COPYUP)}
)


def known_mount_options() -> list[str]:
    """Every mount option runc 1.1 interprets itself, sorted (``runc features`` lists these)."""
    names = {*MOUNT_FLAGS, *MOUNT_PROPAGATION, *REC_ATTR_FLAGS, *EXTENSION_FLAGS}
    return sorted(names)


# Spec namespace type -> libcontainer NamespaceType member name. runc 1.1 knows no "time".
NAMESPACES: MappingProxyType[str, str] = MappingProxyType(
    {
        "pid": "NEWPID",
        "network": "NEWNET",
        "mount": "NEWNS",
        "user": "NEWUSER",
        "ipc": "NEWIPC",
        "uts": "NEWUTS",
        "cgroup": "NEWCGROUP",
    }
)

RLIMITS: MappingProxyType[str, int] = MappingProxyType(
    {
        "RLIMIT_CPU": 0,
        "RLIMIT_FSIZE": 1,
        "RLIMIT_DATA": 2,
        "RLIMIT_STACK": 3,
        "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5,
        "RLIMIT_NPROC": 6,
        "RLIMIT_NOFILE": 7,
        "RLIMIT_MEMLOCK": 8,
        "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10,
        "RLIMIT_SIGPENDING": 11,
        "RLIMIT_MSGQUEUE": 12,
        "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14,
        "RLIMIT_RTTIME": 15,
    }
)

# Capability name -> number, in kernel order: the library's own table.
CAPABILITIES: MappingProxyType[str, int] = MappingProxyType(dict(CAPABILITY_NUMBERS))

# Seccomp action -> libcontainer Action member name.
SECCOMP_ACTIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "SCMP_ACT_KILL": "KILL",
        "SCMP_ACT_KILL_PROCESS": "KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD": "KILL_THREAD",
        "SCMP_ACT_ERRNO": "ERRNO",
        "SCMP_ACT_TRAP": "TRAP",
        "SCMP_ACT_ALLOW": "ALLOW",
        "SCMP_ACT_TRACE": "TRACE",
        "SCMP_ACT_LOG": "LOG",
        "SCMP_ACT_NOTIFY": "NOTIFY",
    }
)

# Seccomp comparison -> libcontainer Operator member name.
SECCOMP_OPERATORS: MappingProxyType[str, str] = MappingProxyType(
    {
        "SCMP_CMP_NE": "NOT_EQUAL_TO",
        "SCMP_CMP_LT": "LESS_THAN",
        "SCMP_CMP_LE": "LESS_THAN_OR_EQUAL_TO",
        "SCMP_CMP_EQ": "EQUAL_TO",
        "SCMP_CMP_GE": "GREATER_THAN_OR_EQUAL_TO",
        "SCMP_CMP_GT": "GREATER_THAN",
        "SCMP_CMP_MASKED_EQ": "MASK_EQUAL_TO",
    }
)

# Seccomp architecture -> the libseccomp name libcontainer stores (runc 1.1: no riscv64).
SECCOMP_ARCHES: MappingProxyType[str, str] = MappingProxyType(
    {
        "SCMP_ARCH_X86": "x86",
        "SCMP_ARCH_X86_64": "amd64",
        "SCMP_ARCH_X32": "x32",
        "SCMP_ARCH_ARM": "arm",
        "SCMP_ARCH_AARCH64": "arm64",
        "SCMP_ARCH_MIPS": "mips",
        "SCMP_ARCH_MIPS64": "mips64",
        "SCMP_ARCH_MIPS64N32": "mips64n32",
        "SCMP_ARCH_MIPSEL": "mipsel",
        "SCMP_ARCH_MIPSEL64": "mipsel64",
        "SCMP_ARCH_MIPSEL64N32": "mipsel64n32",
        "SCMP_ARCH_PPC": "ppc",
        "SCMP_ARCH_PPC64": "ppc64",
        "SCMP_ARCH_PPC64LE": "ppc64le",
        "SCMP_ARCH_S390": "s390",
        "SCMP_ARCH_S390X": "s390x",
    }
)

# Seccomp filter flags runc 1.1.5 accepts: none ("seccomp flags are not yet supported").
SECCOMP_FLAGS: frozenset[str] = frozenset()


class DefaultDevice(NamedTuple):
    """A device cgroup rule runc always appends; ``path`` set means a node is created too."""

    type: str  # "c", "b" or "a"
    major: int  # -1: any
    minor: int  # -1: any
    permissions: str
    path: str = ""


# runc 1.1's AllowedDevices, in order. The rules are appended after the spec's own rules (so
# users cannot take them away); the entries with a path are also created as device nodes,
# unless the spec lists a device with the same path.
ALLOWED_DEVICES: tuple[DefaultDevice, ...] = (
    DefaultDevice("c", -1, -1, "m"),  # mknod of any char device
    DefaultDevice("b", -1, -1, "m"),  # mknod of any block device
    DefaultDevice("c", 1, 3, "rwm", "/dev/null"),
    DefaultDevice("c", 1, 8, "rwm", "/dev/random"),
    DefaultDevice("c", 1, 7, "rwm", "/dev/full"),
    DefaultDevice("c", 5, 0, "rwm", "/dev/tty"),
    DefaultDevice("c", 1, 5, "rwm", "/dev/zero"),
    DefaultDevice("c", 1, 9, "rwm", "/dev/urandom"),
    DefaultDevice("c", 136, -1, "rwm"),  # /dev/pts/*
    DefaultDevice("c", 5, 2, "rwm"),  # /dev/ptmx
    DefaultDevice("c", 10, 200, "rwm"),  # /dev/net/tun
)

ALLOWED_DEVICE_NODES: tuple[DefaultDevice, ...] = tuple(d for d in ALLOWED_DEVICES if d.path)
