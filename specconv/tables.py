"""The name tables of runc 1.1's specconv: mount options, namespaces, rlimits, capabilities and
seccomp names. Plain data, so ``runc features``-like listings and tests can use them.

Values that are enum members of :mod:`libcontainer.configs` (namespace types, seccomp actions
and operators) are given by member name and resolved when a config is built, so importing this
module stays cheap.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

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

# mount(2) flags, from <linux/mount.h>.
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_POSIXACL = 0x10000
MS_UNBINDABLE = 0x20000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_SHARED = 0x100000
MS_RELATIME = 0x200000
MS_I_VERSION = 0x800000
MS_STRICTATIME = 0x1000000
MS_LAZYTIME = 0x2000000

# mount_setattr(2) attributes.
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR__ATIME = 0x70
MOUNT_ATTR_RELATIME = 0x0
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_NOSYMFOLLOW = 0x200000

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

# Capability name -> number, in kernel order (CAP_LAST_CAP is CAP_CHECKPOINT_RESTORE).
CAPABILITIES: MappingProxyType[str, int] = MappingProxyType(
    {
        name: number
        for number, name in enumerate(
            (
                "CAP_CHOWN",
                "CAP_DAC_OVERRIDE",
                "CAP_DAC_READ_SEARCH",
                "CAP_FOWNER",
                "CAP_FSETID",
                "CAP_KILL",
                "CAP_SETGID",
                "CAP_SETUID",
                "CAP_SETPCAP",
                "CAP_LINUX_IMMUTABLE",
                "CAP_NET_BIND_SERVICE",
                "CAP_NET_BROADCAST",
                "CAP_NET_ADMIN",
                "CAP_NET_RAW",
                "CAP_IPC_LOCK",
                "CAP_IPC_OWNER",
                "CAP_SYS_MODULE",
                "CAP_SYS_RAWIO",
                "CAP_SYS_CHROOT",
                "CAP_SYS_PTRACE",
                "CAP_SYS_PACCT",
                "CAP_SYS_ADMIN",
                "CAP_SYS_BOOT",
                "CAP_SYS_NICE",
                "CAP_SYS_RESOURCE",
                "CAP_SYS_TIME",
                "CAP_SYS_TTY_CONFIG",
                "CAP_MKNOD",
                "CAP_LEASE",
                "CAP_AUDIT_WRITE",
                "CAP_AUDIT_CONTROL",
                "CAP_SETFCAP",
                "CAP_MAC_OVERRIDE",
                "CAP_MAC_ADMIN",
                "CAP_SYSLOG",
                "CAP_WAKE_ALARM",
                "CAP_BLOCK_SUSPEND",
                "CAP_AUDIT_READ",
                "CAP_PERFMON",
                "CAP_BPF",
                "CAP_CHECKPOINT_RESTORE",
            )
        )
    }
)

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
