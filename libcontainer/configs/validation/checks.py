"""Checks of single areas of a config: cgroups, rootfs, mounts, devices, seccomp, ..."""

from __future__ import annotations

import os
import stat

from ...errors import ConfigError
from ..cgroup import Resources
from ..config import Config
from ..namespaces import NamespaceType
from ..seccomp import Action, Operator
from .host import HostFeatures

__all__ = [
    "cgroups",
    "devices",
    "intel_rdt",
    "mounts",
    "process",
    "rootfs",
    "seccomp",
    "security",
    "uts",
]

RLIMIT_NLIMITS = 16  # RLIMIT_CPU (0) .. RLIMIT_RTTIME (15)
RLIM_INFINITY = 2**64 - 1
NSIG = 65  # signals are 1..64
SECCOMP_MAX_ARGS = 6
_PERMISSIONS = frozenset("rwm")


def cgroups(config: Config, host: HostFeatures) -> None:
    """runc's ``cgroupsCheck``, plus systemd unit naming and device rule sanity."""
    c = config.cgroups
    if c is None:
        return
    if (c.name or c.parent) and c.path:
        raise ConfigError(
            "either path, or name and parent, may be set (not both)",
            field="cgroups.path",
            value=c.path,
        )
    if c.systemd:
        if c.parent and (not c.parent.endswith(".slice") or "/" in c.parent):
            raise ConfigError(
                "a systemd parent must be a slice name such as 'system.slice'",
                field="cgroups.parent",
                value=c.parent,
            )
        if "/" in c.name:
            raise ConfigError(
                "a systemd unit name cannot contain '/'", field="cgroups.name", value=c.name
            )
    r = c.resources
    if r.skip_devices:
        raise ConfigError(
            "a container cannot be started with skip_devices set",
            field="cgroups.skip_devices",
            value=True,
        )
    if r.unified and not host.cgroup2_unified:
        raise ConfigError(
            "unified resources need cgroup v2, but the host uses cgroup v1",
            field="cgroups.unified",
            value=dict(r.unified),
        )
    if host.cgroup2_unified:
        _check_swap_v2(r)
    for i, rule in enumerate(r.devices):
        if not rule.type.can_cgroup:
            raise ConfigError(
                "this device type cannot be used in a cgroup rule",
                field=f"cgroups.devices[{i}].type",
                value=rule.type.value,
            )
        if not set(rule.permissions) <= _PERMISSIONS:
            raise ConfigError(
                "permissions must be a combination of r, w and m",
                field=f"cgroups.devices[{i}].permissions",
                value=rule.permissions,
            )


def _check_swap_v2(r: Resources) -> None:
    # runc's ConvertMemorySwapToCgroupV2Value: v1 "memory+swap" must translate to v2 "swap".
    swap, memory = r.memory_swap, r.memory
    if (memory == -1 and swap == 0) or swap in (-1, 0):
        return
    if memory in (0, -1):
        raise ConfigError(
            "a swap limit needs a memory limit", field="cgroups.memory_swap", value=swap
        )
    if memory < 0:
        raise ConfigError("invalid memory limit", field="cgroups.memory", value=memory)
    if swap < memory:
        raise ConfigError(
            "memory+swap limit must be >= the memory limit", field="cgroups.memory_swap", value=swap
        )


def rootfs(config: Config, host: HostFeatures) -> None:
    """The rootfs exists, is a directory, and is its own absolute, symlink-free path."""
    path = config.rootfs
    try:
        st = os.stat(path)
    except OSError as e:
        raise ConfigError(f"invalid rootfs: {e.strerror}", field="rootfs", value=path) from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError("invalid rootfs: not a directory", field="rootfs", value=path)
    cleaned = os.path.realpath(os.path.abspath(path))
    if os.path.normpath(path) != cleaned:
        raise ConfigError(
            f"invalid rootfs: not an absolute path, or a symlink (resolves to {cleaned})",
            field="rootfs",
            value=path,
        )


def uts(config: Config, host: HostFeatures) -> None:
    """A hostname needs a UTS namespace."""
    if config.hostname and not config.has_namespace(NamespaceType.NEWUTS):
        raise ConfigError(
            "unable to set hostname without a private UTS namespace",
            field="hostname",
            value=config.hostname,
        )


def security(config: Config, host: HostFeatures) -> None:
    """Masked and read-only paths need a mount namespace; SELinux labels need SELinux."""
    for name, paths in (
        ("mask_paths", config.mask_paths),
        ("readonly_paths", config.readonly_paths),
    ):
        if paths and not config.has_namespace(NamespaceType.NEWNS):
            raise ConfigError(
                "unable to restrict sys entries without a private MNT namespace",
                field=name,
                value=list(paths),
            )
        for i, p in enumerate(paths):
            if not os.path.isabs(p):
                raise ConfigError("path must be absolute", field=f"{name}[{i}]", value=p)
    if config.process_label and not host.selinux_enabled:
        raise ConfigError(
            "an SELinux label is set, but SELinux is disabled or not supported",
            field="process_label",
            value=config.process_label,
        )


def intel_rdt(config: Config, host: HostFeatures) -> None:
    """runc's ``intelrdtCheck``: a safe CLOS name and only the features the host has."""
    rdt = config.intel_rdt
    if rdt is None:
        return
    if rdt.clos_id in (".", "..") or "/" in rdt.clos_id:
        raise ConfigError(
            "invalid class of service id", field="intel_rdt.clos_id", value=rdt.clos_id
        )
    if not host.intel_rdt_cat and not host.intel_rdt_mba:
        raise ConfigError(
            "Intel RDT is set, but the host does not support it (or resctrl is not mounted)",
            field="intel_rdt",
        )
    if rdt.l3_cache_schema and not host.intel_rdt_cat:
        raise ConfigError(
            "an L3 cache schema is set, but Intel RDT/CAT is not enabled",
            field="intel_rdt.l3_cache_schema",
            value=rdt.l3_cache_schema,
        )
    if rdt.mem_bw_schema and not host.intel_rdt_mba:
        raise ConfigError(
            "a memory bandwidth schema is set, but Intel RDT/MBA is not enabled",
            field="intel_rdt.mem_bw_schema",
            value=rdt.mem_bw_schema,
        )


def mounts(config: Config, host: HostFeatures) -> None:
    """Mount destinations are absolute (runc 1.1 refuses relative ones)."""
    for i, m in enumerate(config.mounts):
        if not os.path.isabs(m.destination):
            raise ConfigError(
                "mount destination must be an absolute path",
                field=f"mounts[{i}].destination",
                value=m.destination,
            )


def devices(config: Config, host: HostFeatures) -> None:
    """Device nodes: a type mknod can create, an absolute path, real major/minor numbers."""
    for i, d in enumerate(config.devices):
        if not d.type.can_mknod:
            raise ConfigError(
                "a device node must be of type b, c or p",
                field=f"devices[{i}].type",
                value=d.type.value,
            )
        if not os.path.isabs(d.path):
            raise ConfigError(
                "device path must be absolute", field=f"devices[{i}].path", value=d.path
            )
        for name in ("major", "minor"):
            number = getattr(d, name)
            if number < 0:
                raise ConfigError(
                    "a device node needs a real device number, not a wildcard",
                    field=f"devices[{i}].{name}",
                    value=number,
                )


def seccomp(config: Config, host: HostFeatures) -> None:
    """Known actions and operators, sane arguments, and a listener for notify actions."""
    s = config.seccomp
    if s is None:
        return
    _action(s.default_action, "seccomp.default_action")
    if s.default_action == Action.NOTIFY:
        raise ConfigError(
            "SCMP_ACT_NOTIFY cannot be the default action",
            field="seccomp.default_action",
            value=int(s.default_action),
        )
    _errno(s.default_action, s.default_errno_ret, "seccomp.default_errno_ret")
    notify = False
    for i, call in enumerate(s.syscalls):
        where = f"seccomp.syscalls[{i}]"
        if not call.name:
            raise ConfigError(
                "a syscall rule needs a syscall name", field=f"{where}.name", value=call.name
            )
        _action(call.action, f"{where}.action")
        _errno(call.action, call.errno_ret, f"{where}.errno_ret")
        if call.action == Action.NOTIFY:
            notify = True
            if call.name == "write":
                raise ConfigError(
                    "SCMP_ACT_NOTIFY cannot be used for the write syscall",
                    field=f"{where}.action",
                    value=int(call.action),
                )
        for j, arg in enumerate(call.args):
            if arg.op not in Operator.__members__.values():
                raise ConfigError(
                    "unknown seccomp operator", field=f"{where}.args[{j}].op", value=arg.op
                )
            if not 0 <= arg.index < SECCOMP_MAX_ARGS:
                raise ConfigError(
                    f"a syscall has at most {SECCOMP_MAX_ARGS} arguments (index 0..5)",
                    field=f"{where}.args[{j}].index",
                    value=arg.index,
                )
    if notify and not s.listener_path:
        raise ConfigError(
            "SCMP_ACT_NOTIFY rules need a listener path (the seccomp agent's socket)",
            field="seccomp.listener_path",
            value=s.listener_path,
        )


def _action(action: object, field: str) -> None:
    if action not in Action.__members__.values():
        raise ConfigError("unknown seccomp action", field=field, value=action)


def _errno(action: Action, errno_ret: int | None, field: str) -> None:
    if errno_ret is not None and action not in (Action.ERRNO, Action.TRACE):
        raise ConfigError(
            "an errno return value only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE",
            field=field,
            value=errno_ret,
        )


def process(config: Config, host: HostFeatures) -> None:
    """Process-wide settings: rlimits, OOM score, umask, parent death signal."""
    seen: set[int] = set()
    for i, rl in enumerate(config.rlimits):
        if not 0 <= rl.type < RLIMIT_NLIMITS:
            raise ConfigError("unknown rlimit type", field=f"rlimits[{i}].type", value=rl.type)
        if rl.type in seen:
            raise ConfigError("duplicate rlimit type", field=f"rlimits[{i}].type", value=rl.type)
        seen.add(rl.type)
        for name in ("soft", "hard"):
            v = getattr(rl, name)
            if not 0 <= v <= RLIM_INFINITY:
                raise ConfigError("rlimit out of range", field=f"rlimits[{i}].{name}", value=v)
        if rl.soft > rl.hard:
            raise ConfigError(
                "the soft limit cannot exceed the hard limit",
                field=f"rlimits[{i}].soft",
                value=rl.soft,
            )
    if config.oom_score_adj is not None and not -1000 <= config.oom_score_adj <= 1000:
        raise ConfigError(
            "must be within -1000..1000", field="oom_score_adj", value=config.oom_score_adj
        )
    if config.umask is not None and not 0 <= config.umask <= 0o777:
        raise ConfigError("must be within 0..0o777", field="umask", value=config.umask)
    if not 0 <= config.parent_death_signal < NSIG:
        raise ConfigError(
            "not a signal number", field="parent_death_signal", value=config.parent_death_signal
        )


def hooks(config: Config, host: HostFeatures) -> None:
    """Hook commands with a usable timeout; Python-function hooks only where the runtime
    runs hooks (the hooks of the container's own namespaces run inside it, as commands)."""
    from ..hooks import FuncHook, HookName

    for kind in HookName:
        attr = kind.name.lower()
        for i, hook in enumerate(config.hooks.get(kind)):
            field = f"hooks.{attr}[{i}]"
            if isinstance(hook, FuncHook):
                if kind in (HookName.CREATE_CONTAINER, HookName.START_CONTAINER):
                    raise ConfigError(
                        "runs inside the container's namespaces, where only a command can "
                        "run: give a Command hook",
                        field=field,
                        value=hook,
                    )
                continue
            if not hook.path:
                raise ConfigError("a hook needs a path", field=f"{field}.path")
            if hook.timeout is not None and not hook.timeout > 0:
                raise ConfigError(
                    "must be greater than zero (the OCI runtime spec requires it)",
                    field=f"{field}.timeout",
                    value=hook.timeout,
                )
