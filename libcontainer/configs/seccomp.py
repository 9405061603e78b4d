"""Seccomp filters (runc ``configs.Seccomp``; numbers are runc's ``Action``/``Operator``)."""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

import enum

import attrs

from .jsonmodel import Model, jf

__all__ = ["Action", "Arg", "Operator", "Seccomp", "Syscall"]


class Action(enum.IntEnum):
    """What happens when a rule matches (runc's numbering, as written in JSON)."""

    KILL = 1
    ERRNO = 2
    TRAP = 3
    ALLOW = 4
    TRACE = 5
    LOG = 6
    NOTIFY = 7
    KILL_THREAD = 8
    KILL_PROCESS = 9


class Operator(enum.IntEnum):
    """How a syscall argument is compared (runc's numbering, as written in JSON)."""

    EQUAL_TO = 1
    NOT_EQUAL_TO = 2
    GREATER_THAN = 3
    GREATER_THAN_OR_EQUAL_TO = 4
    LESS_THAN = 5
    LESS_THAN_OR_EQUAL_TO = 6
    MASK_EQUAL_TO = 7


@attrs.frozen(kw_only=True)
class Arg(Model):
    """A condition on syscall argument ``index`` (``value_two`` is the mask for MASK_EQUAL_TO)."""

    index: int = jf("index", 0)
    value: int = jf("value", 0)
    value_two: int = jf("value_two", 0)
    op: Operator = jf("op", Operator.EQUAL_TO)


@attrs.frozen(kw_only=True)
class Syscall(Model):
    """A rule: ``action`` for syscall ``name`` when all ``args`` match."""

    name: str = jf("name", "")
    action: Action = jf("action", Action.ALLOW)
    errno_ret: int | None = jf("errnoRet", None)
    args: tuple[Arg, ...] = jf("args", ())


@attrs.frozen(kw_only=True)
class Seccomp(Model):
    """A seccomp filter: rules, a default action, extra architectures and filter flags."""

    default_action: Action = jf("default_action", Action.ALLOW)
    architectures: tuple[str, ...] = jf("architectures", ())
    flags: tuple[str, ...] = jf("flags", ())
    syscalls: tuple[Syscall, ...] = jf("syscalls", ())
    default_errno_ret: int | None = jf("default_errno_ret", None)
    listener_path: str = jf("listener_path", "", omitempty=True)
    listener_metadata: str = jf("listener_metadata", "", omitempty=True)
