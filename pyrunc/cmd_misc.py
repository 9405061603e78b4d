"""``spec``, ``features``, ``pause``, ``resume``, ``update`` and the unsupported commands."""

from __future__ import annotations

import os
import sys

from libcontainer.jsontext import loads, marshal_indent
from pyrunc import SPEC_VERSION, __version__, handles, library
from pyrunc.context import CliError, Globals

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than a whole command
    from typing import Any

__all__ = [
    "checkpoint",
    "features",
    "not_supported",
    "parse_bytes",
    "pause",
    "resume",
    "spec",
    "update",
]


def spec(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc spec [--rootless] [--bundle DIR]``: write an example ``config.json``."""
    import specconv

    bundle = opts["bundle"]
    if bundle:
        try:
            os.chdir(bundle)
        except OSError as e:
            raise CliError(f"chdir {bundle}: {(e.strerror or str(e)).lower()}") from None
    if os.path.exists("config.json"):
        raise CliError("File config.json exists. Remove it first.")
    s = specconv.example()
    if opts["rootless"]:
        s = specconv.to_rootless(s)
    with open("config.json", "w") as f:
        f.write(specconv.dump_spec(s))
    return 0


def not_supported(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``restore`` (and ``checkpoint`` of a container that exists): there is no CRIU
    integration (yet). Every runc flag parses first, so the caller learns this, not that
    its command line is wrong."""
    raise CliError("checkpoint/restore is not supported by pyrunc: it has no CRIU integration yet")


def checkpoint(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc checkpoint``: a missing container is reported as runc does, then "not
    supported"."""
    handles.load(g, args[0])
    return not_supported(g, opts, args)


def pause(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc pause``: freeze every process of the container."""
    handles.load(g, args[0]).pause()
    return 0


def resume(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc resume``: thaw a paused container."""
    handles.load(g, args[0]).resume()
    return 0


# The mount options runc 1.1 accepts (``runc features`` lists them sorted).
_MOUNT_OPTIONS = [
    "acl",
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "iversion",
    "lazytime",
    "loud",
    "mand",
    "noacl",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "noiversion",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
]
_SECCOMP_ACTIONS = [
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_TRAP",
]
_SECCOMP_OPERATORS = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_LE",
    "SCMP_CMP_LT",
    "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
]
_SECCOMP_ARCHS = [
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
]


def _capability_names() -> list[str]:
    """Every capability the kernel and our tables know, as ``CAP_*`` names."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = 40
    from libcontainer.capabilities import CAPABILITY_NAMES

    return [name for number, name in enumerate(CAPABILITY_NAMES) if number <= last]


def features(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc features``: what this runtime implements, in runc 1.1's JSON shape."""
    seccomp_version = ""
    try:
        from libcontainer.seccomp.libseccomp import version

        seccomp_version = ".".join(map(str, version()))
    except Exception:
        seccomp_version = ""
    out = {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop",
        ],
        "mountOptions": _MOUNT_OPTIONS,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
            "capabilities": _capability_names(),
            # Drivers built in: fs (v1), fs2 (v2), systemd over the system bus or its private
            # socket; a systemd *user* instance is not supported yet.
            "cgroup": {"v1": True, "v2": True, "systemd": True, "systemdUser": False},
            "seccomp": {
                "enabled": bool(seccomp_version),
                "actions": _SECCOMP_ACTIONS,
                "operators": _SECCOMP_OPERATORS,
                "archs": _SECCOMP_ARCHS,
            },
            "apparmor": {"enabled": os.path.isdir("/sys/kernel/security/apparmor")},
            "selinux": {"enabled": os.path.isdir("/sys/fs/selinux")},
        },
        "annotations": {
            **(
                {"io.github.seccomp.libseccomp.version": seccomp_version} if seccomp_version else {}
            ),
            "org.opencontainers.runc.checkpoint.enabled": "false",
            "org.opencontainers.runc.version": f"pyrunc {__version__}",
        },
    }
    sys.stdout.write(marshal_indent(out, "    ") + "\n")
    return 0


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(text: str) -> int:
    """A size like docker's RAMInBytes: ``512m``, ``1g``, ``1024``, ``-1``."""
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = t[-1] if t and t[-1] in _UNITS else ""
    number = t[: len(t) - len(unit)] if unit else t
    try:
        return int(float(number) * _UNITS[unit]) if number != "-1" else -1
    except ValueError:
        raise CliError(f"invalid size: {text!r}") from None


# flag -> (Resources field, parser); the JSON form of --resources uses the OCI names.
_UPDATE_FLAGS = {
    "blkio_weight": ("blkio_weight", int),
    "cpu_period": ("cpu_period", int),
    "cpu_quota": ("cpu_quota", int),
    "cpu_share": ("cpu_shares", int),
    "cpu_rt_period": ("cpu_rt_period", int),
    "cpu_rt_runtime": ("cpu_rt_runtime", int),
    "cpuset_cpus": ("cpuset_cpus", str),
    "cpuset_mems": ("cpuset_mems", str),
    "memory": ("memory", parse_bytes),
    "memory_reservation": ("memory_reservation", parse_bytes),
    "memory_swap": ("memory_swap", parse_bytes),
    "pids_limit": ("pids_limit", int),
}
_OCI_RESOURCES = {
    ("memory", "limit"): "memory",
    ("memory", "reservation"): "memory_reservation",
    ("memory", "swap"): "memory_swap",
    ("cpu", "shares"): "cpu_shares",
    ("cpu", "quota"): "cpu_quota",
    ("cpu", "period"): "cpu_period",
    ("cpu", "realtimeRuntime"): "cpu_rt_runtime",
    ("cpu", "realtimePeriod"): "cpu_rt_period",
    ("cpu", "cpus"): "cpuset_cpus",
    ("cpu", "mems"): "cpuset_mems",
    ("blockIO", "weight"): "blkio_weight",
    ("pids", "limit"): "pids_limit",
}


def _resource_changes(opts: dict[str, Any]) -> dict[str, Any]:
    if opts["resources"]:
        if opts["resources"] == "-":
            data = loads(sys.stdin.read())
        else:
            with open(opts["resources"]) as f:
                data = loads(f.read())
        changes = {}
        for (group, key), field in _OCI_RESOURCES.items():
            value = (data.get(group) or {}).get(key)
            if value is not None:
                changes[field] = value
        return changes
    given = opts["_given"]
    if "l3_cache_schema" in given or "mem_bw_schema" in given:
        raise CliError("Intel RDT is not supported by pyrunc")
    return {
        field: parse(opts[flag]) if isinstance(opts[flag], str) else opts[flag]  # type: ignore[operator]
        for flag, (field, parse) in _UPDATE_FLAGS.items()
        if flag in given
    }


def update(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc update``: change the cgroup limits of a running container."""
    import attrs

    changes = _resource_changes(opts)
    container = library.load_container(g, args[0])
    if container.status() == "stopped":
        raise CliError("container not running")
    cgroups = container.config.cgroups
    if cgroups is None:
        raise CliError("the container has no cgroups to update")
    resources = attrs.evolve(cgroups.resources, **changes)
    config = attrs.evolve(container.config, cgroups=attrs.evolve(cgroups, resources=resources))
    container.set(config)
    return 0
