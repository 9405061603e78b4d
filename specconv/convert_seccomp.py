"""``linux.seccomp`` to a libcontainer seccomp filter (runc 1.1's ``SetupSeccomp``)."""

from __future__ import annotations

from libcontainer.configs import Action, Arg, Operator, Seccomp, Syscall
from libcontainer.errors import ConfigError
from specconv.spec import LinuxSeccomp
from specconv.tables import (
    SECCOMP_ACTIONS,
    SECCOMP_ARCHES,
    SECCOMP_FLAGS,
    SECCOMP_OPERATORS,
)

__all__ = ["setup_seccomp"]

_FIELD = "linux.seccomp"


def _action(name: str, field: str) -> Action:
    member = SECCOMP_ACTIONS.get(name)
    if member is None:
        raise ConfigError(
            "unknown seccomp action (expected an SCMP_ACT_* name such as SCMP_ACT_ERRNO)",
            field=field,
            value=name,
        )
    return Action[member]


def _operator(name: str, field: str) -> Operator:
    member = SECCOMP_OPERATORS.get(name)
    if member is None:
        raise ConfigError(
            "unknown seccomp operator (expected an SCMP_CMP_* name such as SCMP_CMP_EQ)",
            field=field,
            value=name,
        )
    return Operator[member]


def _flags(flags: tuple[str, ...]) -> tuple[str, ...]:
    for index, flag in enumerate(flags):
        if flag not in SECCOMP_FLAGS:
            raise ConfigError(
                "seccomp flags are not supported by runc 1.1 (leave linux.seccomp.flags empty)",
                field=f"{_FIELD}.flags[{index}]",
                value=flag,
            )
    return flags


def _architectures(arches: tuple[str, ...]) -> tuple[str, ...]:
    result = []
    for index, arch in enumerate(arches):
        name = SECCOMP_ARCHES.get(arch)
        if name is None:
            raise ConfigError(
                "unknown seccomp architecture (expected an SCMP_ARCH_* name)",
                field=f"{_FIELD}.architectures[{index}]",
                value=arch,
            )
        result.append(name)
    return tuple(result)


def setup_seccomp(seccomp: LinuxSeccomp) -> Seccomp | None:
    """Convert ``linux.seccomp``; ``None`` when it has neither a default action nor rules.

    Each rule is expanded to one :class:`~libcontainer.configs.Syscall` per name.
    """
    if not seccomp.default_action and not seccomp.syscalls:
        return None
    flags = _flags(seccomp.flags)
    architectures = _architectures(seccomp.architectures)
    default_action = _action(seccomp.default_action, f"{_FIELD}.defaultAction")
    syscalls: list[Syscall] = []
    for i, rule in enumerate(seccomp.syscalls):
        rule_field = f"{_FIELD}.syscalls[{i}]"
        action = _action(rule.action, f"{rule_field}.action")
        args = tuple(
            Arg(
                index=arg.index,
                value=arg.value,
                value_two=arg.value_two,
                op=_operator(arg.op, f"{rule_field}.args[{j}].op"),
            )
            for j, arg in enumerate(rule.args)
        )
        syscalls.extend(
            Syscall(name=name, action=action, errno_ret=rule.errno_ret, args=args)
            for name in rule.names
        )
    return Seccomp(
        default_action=default_action,
        architectures=architectures,
        flags=flags,
        syscalls=tuple(syscalls),
        default_errno_ret=seccomp.default_errno_ret,
        listener_path=seccomp.listener_path,
        listener_metadata=seccomp.listener_metadata,
    )
