"""A :class:`~libcontainer.configs.Seccomp` config to a loaded filter (runc 1.1's ``InitSeccomp``).

:func:`build_filter` maps the config exactly as ``libcontainer/seccomp/seccomp_linux.go`` does;
:func:`setup_seccomp` then patches the program with the -ENOSYS stub and loads it like runc's
``patchbpf.PatchAndLoad``.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterable, Sequence

from libcontainer.configs import Action, Operator, Seccomp, Syscall
from libcontainer.errors import ConfigError

from . import libseccomp as scmp
from . import patchbpf

__all__ = [
    "ARCHES",
    "FLAGS",
    "build_filter",
    "get_action",
    "get_operator",
    "resolve_arch",
    "setup_seccomp",
]

log = logging.getLogger(__name__)

SYSCALL_MAX_ARGUMENTS = 6

FLAG_TSYNC = "SECCOMP_FILTER_FLAG_TSYNC"
FLAG_LOG = "SECCOMP_FILTER_FLAG_LOG"
FLAG_SPEC_ALLOW = "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
FLAGS = frozenset({FLAG_TSYNC, FLAG_LOG, FLAG_SPEC_ALLOW})

# libseccomp-golang's architecture names (what runc's configs store) and the OCI SCMP_ARCH_*
# names, to libseccomp tokens.
_GO_ARCHES: dict[str, int] = {
    "x86": scmp.Arch.X86,
    "amd64": scmp.Arch.X86_64,
    "x32": scmp.Arch.X32,
    "arm": scmp.Arch.ARM,
    "arm64": scmp.Arch.AARCH64,
    "mips": scmp.Arch.MIPS,
    "mips64": scmp.Arch.MIPS64,
    "mips64n32": scmp.Arch.MIPS64N32,
    "mipsel": scmp.Arch.MIPSEL,
    "mipsel64": scmp.Arch.MIPSEL64,
    "mipsel64n32": scmp.Arch.MIPSEL64N32,
    "ppc": scmp.Arch.PPC,
    "ppc64": scmp.Arch.PPC64,
    "ppc64le": scmp.Arch.PPC64LE,
    "s390": scmp.Arch.S390,
    "s390x": scmp.Arch.S390X,
    "parisc": scmp.Arch.PARISC,
    "parisc64": scmp.Arch.PARISC64,
    "riscv64": scmp.Arch.RISCV64,
}
_OCI_ARCHES: dict[str, int] = {
    "SCMP_ARCH_" + name: getattr(scmp.Arch, name)
    for name in vars(scmp.Arch)
    if name.isupper() and name != "NATIVE"
}
ARCHES = {**_GO_ARCHES, **_OCI_ARCHES}

_OPERATORS = {
    Operator.EQUAL_TO: scmp.EQ,
    Operator.NOT_EQUAL_TO: scmp.NE,
    Operator.GREATER_THAN: scmp.GT,
    Operator.GREATER_THAN_OR_EQUAL_TO: scmp.GE,
    Operator.LESS_THAN: scmp.LT,
    Operator.LESS_THAN_OR_EQUAL_TO: scmp.LE,
    Operator.MASK_EQUAL_TO: scmp.MASKED_EQ,
}


def resolve_arch(name: str) -> int:
    """The libseccomp token of an architecture name (``amd64`` or ``SCMP_ARCH_X86_64``)."""
    token = ARCHES.get(name)
    if token is None:
        raise ConfigError(
            "unknown seccomp architecture (use a libseccomp-golang name such as amd64 or an "
            "SCMP_ARCH_* name)",
            field="seccomp.architectures",
            value=name,
        )
    return token


def get_action(action: Action | int, errno_ret: int | None = None, field: str = "") -> int:
    """runc's ``getAction``: a config action (and errno) to a libseccomp action."""
    match action:
        case Action.KILL | Action.KILL_THREAD:
            return scmp.KILL_THREAD
        case Action.ERRNO:
            return scmp.ERRNO(errno.EPERM if errno_ret is None else errno_ret)
        case Action.TRAP:
            return scmp.TRAP
        case Action.ALLOW:
            return scmp.ALLOW
        case Action.TRACE:
            return scmp.TRACE(errno.EPERM if errno_ret is None else errno_ret)
        case Action.LOG:
            return scmp.LOG
        case Action.NOTIFY:
            return scmp.NOTIFY
        case Action.KILL_PROCESS:
            return scmp.KILL_PROCESS
    raise ConfigError("invalid seccomp action, cannot use in rule", field=field, value=action)


def get_operator(op: Operator | int, field: str = "") -> int:
    """runc's ``getOperator``: a config operator to a libseccomp comparison."""
    try:
        return _OPERATORS[Operator(op)]
    except (KeyError, ValueError):
        raise ConfigError(
            "invalid seccomp operator, cannot use in rule", field=field, value=op
        ) from None


def _check_notify(config: Seccomp, default_action: int) -> None:
    if default_action == scmp.NOTIFY:
        raise ConfigError(
            "SCMP_ACT_NOTIFY cannot be used as default action", field="seccomp.default_action"
        )
    for i, call in enumerate(config.syscalls):
        if call.action != Action.NOTIFY:
            continue
        level = scmp.get_api()
        if level < 6:
            raise ConfigError(
                f"seccomp notify unsupported: API level: got {level}, want at least 6. "
                "Please try with libseccomp >= 2.5.0 and Linux >= 5.7",
                field=f"seccomp.syscalls[{i}].action",
            )
        # The init reports the listener fd to its parent with write(2) after loading.
        if call.name == "write":
            raise ConfigError(
                "SCMP_ACT_NOTIFY cannot be used for the write syscall",
                field=f"seccomp.syscalls[{i}].action",
            )


def _set_flag(f: scmp.SyscallFilter, flag: str, index: int) -> None:
    if flag == FLAG_TSYNC:
        # runc: nothing to do; the init is single-threaded when it loads the filter.
        return
    if flag == FLAG_LOG:
        f.set_attr(scmp.Attr.CTL_LOG, 1)
    elif flag == FLAG_SPEC_ALLOW:
        f.set_attr(scmp.Attr.CTL_SSB, 1)
    else:
        raise ConfigError(
            f"seccomp flag {flag} is not known (known: {', '.join(sorted(FLAGS))})",
            field=f"seccomp.flags[{index}]",
            value=flag,
        )


def _conditions(call: Syscall, field: str) -> list[scmp.Arg]:
    conds = []
    for j, arg in enumerate(call.args):
        op = get_operator(arg.op, f"{field}.args[{j}].op")
        if not 0 <= arg.index < SYSCALL_MAX_ARGUMENTS:
            raise ConfigError(
                "a syscall has at most 6 arguments (index 0..5)",
                field=f"{field}.args[{j}].index",
                value=arg.index,
            )
        conds.append(scmp.Arg(arg.index, op, arg.value, arg.value_two))
    return conds


def _match_call(f: scmp.SyscallFilter, call: Syscall, default_action: int, field: str) -> None:
    """runc's ``matchCall``: add the rule(s) of one syscall."""
    if not call.name:
        raise ConfigError("empty string is not a valid syscall", field=f"{field}.name")
    action = get_action(call.action, call.errno_ret, f"{field}.action")
    if action == default_action:
        # Redundant: libseccomp would refuse it.
        return
    try:
        num = scmp.resolve_syscall(scmp.Arch.NATIVE, call.name)
    except ValueError:
        # Probably newer than this libseccomp or not on this arch; runc ignores it too.
        log.debug("unknown seccomp syscall %r ignored", call.name)
        return
    if not call.args:
        f.add_rule(action, num)
        return
    conds = _conditions(call, field)
    counts = [0] * SYSCALL_MAX_ARGUMENTS
    for arg in call.args:
        counts[arg.index] += 1
    if any(c > 1 for c in counts):
        # Two conditions on one argument cannot be ANDed by libseccomp: like runc (and
        # Docker), each condition becomes its own rule, so any one of them matches.
        for cond in conds:
            f.add_rule(action, num, cond)
    else:
        f.add_rule(action, num, *conds)


def _build(config: Seccomp) -> tuple[scmp.SyscallFilter, list[int]]:
    default_action = get_action(
        config.default_action, config.default_errno_ret, "seccomp.default_action"
    )
    _check_notify(config, default_action)
    f = scmp.SyscallFilter(default_action)
    arches = [resolve_arch(name) for name in config.architectures]
    for arch in arches:
        f.add_arch(arch)
    for i, flag in enumerate(config.flags):
        _set_flag(f, flag, i)
    if len(config.syscalls) > 32:
        try:
            f.set_attr(scmp.Attr.CTL_OPTIMIZE, 2)
        except OSError as exc:
            log.debug("seccomp binary tree optimization not available: %s", exc)
    # runc sets no_new_privs itself (or not, as configured), never through libseccomp.
    f.set_attr(scmp.Attr.CTL_NNP, 0)
    for i, call in enumerate(config.syscalls):
        _match_call(f, call, default_action, f"seccomp.syscalls[{i}]")
    return f, arches


def build_filter(config: Seccomp) -> scmp.SyscallFilter:
    """The libseccomp filter of ``config``, not loaded (runc's ``InitSeccomp`` up to loading).

    Raises :class:`ConfigError` for an unknown action, operator, architecture or flag, and for
    notify rules the runtime cannot support.
    """
    return _build(config)[0]


def patched_program(config: Seccomp) -> bytes:
    """The BPF program :func:`setup_seccomp` loads: the -ENOSYS stub, then libseccomp's."""
    f, arches = _build(config)
    return _patched(config, f, arches)


def _patched(config: Seccomp, f: scmp.SyscallFilter, arches: Sequence[int]) -> bytes:
    patch = patchbpf.generate_patch(config, arches)
    if patch:
        log.debug("seccomp: prepending -ENOSYS stub filter to user filter...")
        for idx, insn in enumerate(patch):
            log.debug("  [%4d] %s", idx, insn)
    return patchbpf.assemble(patch) + f.export_bpf_bytes()


def filter_flags(config: Seccomp, f: scmp.SyscallFilter) -> tuple[int, bool]:
    """runc's ``filterFlags``: the ``seccomp(2)`` flags and whether to set no_new_privs."""
    flags = 0
    if f.get_attr(scmp.Attr.CTL_LOG):
        flags |= patchbpf.SECCOMP_FILTER_FLAG_LOG
    if f.get_attr(scmp.Attr.CTL_SSB):
        flags |= patchbpf.SECCOMP_FILTER_FLAG_SPEC_ALLOW
    if _has_notify(config.syscalls):
        flags |= patchbpf.SECCOMP_FILTER_FLAG_NEW_LISTENER
    return flags, bool(f.get_attr(scmp.Attr.CTL_NNP))


def _has_notify(calls: Iterable[Syscall]) -> bool:
    return any(call.action == Action.NOTIFY for call in calls)


def setup_seccomp(config: Seccomp) -> int | None:
    """Build, patch and load the filter into the calling process (runc's ``InitSeccomp``).

    Returns the listener fd (owned by the caller) when a rule uses ``SCMP_ACT_NOTIFY``, else
    ``None``. The caller must have set no_new_privs or hold CAP_SYS_ADMIN.
    """
    f, arches = _build(config)
    program = _patched(config, f, arches)
    flags, no_new_privs = filter_flags(config, f)
    if no_new_privs:
        log.warning("potentially misconfigured filter -- setting no_new_privs in seccomp path")
        patchbpf.set_no_new_privs()
    return patchbpf.load_program(program, flags)
