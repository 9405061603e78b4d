"""Config -> libseccomp filter, as runc 1.1's ``InitSeccomp`` maps it (nothing is loaded)."""

from __future__ import annotations

import errno
import logging

import pytest
from seccomp_bpfsim import run, seccomp_data

from libcontainer.configs import Action, Arg, Operator, Seccomp, Syscall
from libcontainer.errors import ConfigError
from libcontainer.seccomp import build_filter
from libcontainer.seccomp import libseccomp as scmp
from libcontainer.seccomp.filter import (
    filter_flags,
    get_action,
    get_operator,
    patched_program,
    resolve_arch,
)
from libcontainer.seccomp.patchbpf import (
    SECCOMP_FILTER_FLAG_LOG,
    SECCOMP_FILTER_FLAG_NEW_LISTENER,
    SECCOMP_FILTER_FLAG_SPEC_ALLOW,
)
from libcontainer.seccomp.profiles import docker_default

NATIVE = scmp.system_arch()


def nr(name: str, arch: int = NATIVE) -> int:
    num = scmp.resolve_syscall(arch, name)
    assert isinstance(num, int)
    return num


def verdict(config: Seccomp, name: str, *args: int, arch: int = NATIVE) -> int:
    """What the loaded program would answer for ``name(args)`` (runs the BPF in Python)."""
    return run(patched_program(config), seccomp_data(nr(name, arch), arch, args))


def rules(*calls: Syscall, **kw: object) -> Seccomp:
    return Seccomp(syscalls=calls, **kw)  # type: ignore[arg-type]


# --- actions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "errno_ret", "expected"),
    [
        (Action.KILL, None, scmp.KILL_THREAD),
        (Action.KILL_THREAD, None, scmp.KILL_THREAD),
        (Action.KILL_PROCESS, None, scmp.KILL_PROCESS),
        (Action.ERRNO, None, scmp.ERRNO(errno.EPERM)),
        (Action.ERRNO, errno.ENOSPC, scmp.ERRNO(errno.ENOSPC)),
        (Action.ERRNO, 0, scmp.ERRNO(0)),
        (Action.TRAP, None, scmp.TRAP),
        (Action.ALLOW, None, scmp.ALLOW),
        (Action.TRACE, None, scmp.TRACE(errno.EPERM)),
        (Action.TRACE, 42, scmp.TRACE(42)),
        (Action.LOG, None, scmp.LOG),
        (Action.NOTIFY, None, scmp.NOTIFY),
    ],
)
def test_get_action(action: Action, errno_ret: int | None, expected: int) -> None:
    assert get_action(action, errno_ret) == expected


def test_bad_action_and_operator() -> None:
    with pytest.raises(ConfigError, match="invalid seccomp action"):
        get_action(99)
    with pytest.raises(ConfigError, match="invalid seccomp operator"):
        get_operator(0)
    bad_rule = rules(Syscall(name="mkdir", action=42), default_action=Action.ALLOW)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as info:
        build_filter(bad_rule)
    assert info.value.field == "seccomp.syscalls[0].action"
    bad_op = rules(
        Syscall(name="mkdir", action=Action.ERRNO, args=(Arg(index=0, value=1, op=77),)),  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigError) as info:
        build_filter(bad_op)
    assert info.value.field == "seccomp.syscalls[0].args[0].op"
    with pytest.raises(ConfigError, match="invalid seccomp action"):
        build_filter(Seccomp(default_action=0))  # type: ignore[arg-type]


def test_bad_arg_index() -> None:
    cfg = rules(Syscall(name="mkdir", action=Action.ERRNO, args=(Arg(index=6, value=1),)))
    with pytest.raises(ConfigError, match="at most 6 arguments"):
        build_filter(cfg)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        (Operator.EQUAL_TO, scmp.EQ),
        (Operator.NOT_EQUAL_TO, scmp.NE),
        (Operator.GREATER_THAN, scmp.GT),
        (Operator.GREATER_THAN_OR_EQUAL_TO, scmp.GE),
        (Operator.LESS_THAN, scmp.LT),
        (Operator.LESS_THAN_OR_EQUAL_TO, scmp.LE),
        (Operator.MASK_EQUAL_TO, scmp.MASKED_EQ),
    ],
)
def test_get_operator(operator: Operator, expected: int) -> None:
    assert get_operator(operator) == expected


# --- default action -------------------------------------------------------------------------


def test_default_action_and_errno() -> None:
    f = build_filter(Seccomp(default_action=Action.ERRNO, default_errno_ret=errno.ENOSYS))
    assert f.get_attr(scmp.Attr.ACT_DEFAULT) == scmp.ERRNO(errno.ENOSYS)
    f = build_filter(Seccomp(default_action=Action.ERRNO))
    assert f.get_attr(scmp.Attr.ACT_DEFAULT) == scmp.ERRNO(errno.EPERM)
    f = build_filter(Seccomp(default_action=Action.KILL))
    assert f.get_attr(scmp.Attr.ACT_DEFAULT) == scmp.KILL_THREAD


def test_no_new_privs_is_never_set_by_libseccomp() -> None:
    f = build_filter(Seccomp(default_action=Action.ALLOW))
    assert f.get_attr(scmp.Attr.CTL_NNP) == 0
    assert filter_flags(Seccomp(), f) == (0, False)


def test_notify_checks() -> None:
    with pytest.raises(ConfigError, match="default action"):
        build_filter(Seccomp(default_action=Action.NOTIFY))
    with pytest.raises(ConfigError, match="write syscall"):
        build_filter(rules(Syscall(name="write", action=Action.NOTIFY)))


# --- architectures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("amd64", scmp.Arch.X86_64),
        ("x86", scmp.Arch.X86),
        ("x32", scmp.Arch.X32),
        ("arm64", scmp.Arch.AARCH64),
        ("SCMP_ARCH_X86_64", scmp.Arch.X86_64),
        ("SCMP_ARCH_AARCH64", scmp.Arch.AARCH64),
        ("riscv64", scmp.Arch.RISCV64),
    ],
)
def test_resolve_arch(name: str, token: int) -> None:
    assert resolve_arch(name) == token


def test_unknown_arch_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown seccomp architecture"):
        build_filter(Seccomp(architectures=("vax",)))


def test_architectures_added_native_always_present() -> None:
    f = build_filter(Seccomp(default_action=Action.ALLOW, architectures=("x86", "arm64")))
    assert f.exist_arch(scmp.Arch.NATIVE)
    assert f.exist_arch(scmp.Arch.X86)
    assert f.exist_arch(scmp.Arch.AARCH64)
    assert not f.exist_arch(scmp.Arch.S390X)


def test_rule_applies_to_every_arch() -> None:
    cfg = rules(
        Syscall(name="mkdir", action=Action.ERRNO, errno_ret=errno.EROFS),
        default_action=Action.ALLOW,
        architectures=("amd64", "x86"),
    )
    for arch in (scmp.Arch.X86_64, scmp.Arch.X86):
        assert verdict(cfg, "mkdir", arch=arch) == scmp.ERRNO(errno.EROFS)
        assert verdict(cfg, "rmdir", arch=arch) == scmp.ALLOW
    # An architecture the filter does not have gets the bad-arch action (KILL).
    assert verdict(cfg, "mkdir", arch=scmp.Arch.ARM) == scmp.KILL_THREAD


# --- rules ----------------------------------------------------------------------------------


def test_errno_values_per_rule() -> None:
    cfg = rules(
        Syscall(name="mkdir", action=Action.ERRNO),
        Syscall(name="rmdir", action=Action.ERRNO, errno_ret=errno.EBUSY),
        Syscall(name="chdir", action=Action.KILL_PROCESS),
        Syscall(name="getpid", action=Action.LOG),
        default_action=Action.ALLOW,
    )
    assert verdict(cfg, "mkdir") == scmp.ERRNO(errno.EPERM)
    assert verdict(cfg, "rmdir") == scmp.ERRNO(errno.EBUSY)
    assert verdict(cfg, "chdir") == scmp.KILL_PROCESS
    assert verdict(cfg, "getpid") == scmp.LOG
    assert verdict(cfg, "read") == scmp.ALLOW


def test_rule_equal_to_default_is_skipped() -> None:
    cfg = rules(
        Syscall(name="mkdir", action=Action.ERRNO),
        default_action=Action.ERRNO,
        default_errno_ret=errno.EPERM,
    )
    assert '"mkdir"' not in build_filter(cfg).export_pfc_text()


def test_unknown_syscalls_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    cfg = rules(
        Syscall(name="no_such_syscall_ever", action=Action.ALLOW),
        Syscall(name="read", action=Action.ALLOW),
        default_action=Action.ERRNO,
    )
    with caplog.at_level(logging.DEBUG, logger="libcontainer.seccomp.filter"):
        pfc = build_filter(cfg).export_pfc_text()
    assert '"read"' in pfc
    assert "unknown seccomp syscall 'no_such_syscall_ever' ignored" in caplog.text


def test_several_args_on_one_rule_are_anded() -> None:
    cfg = rules(
        Syscall(
            name="personality",
            action=Action.ERRNO,
            args=(Arg(index=0, value=8), Arg(index=1, value=3, op=Operator.GREATER_THAN)),
        ),
        default_action=Action.ALLOW,
    )
    eperm = scmp.ERRNO(errno.EPERM)
    assert verdict(cfg, "personality", 8, 4) == eperm
    assert verdict(cfg, "personality", 8, 3) == scmp.ALLOW
    assert verdict(cfg, "personality", 0, 4) == scmp.ALLOW


def test_same_argument_twice_expands_to_one_rule_per_condition() -> None:
    """runc: two conditions on one argument become two rules, so either one matches."""
    cfg = rules(
        Syscall(
            name="personality",
            action=Action.ERRNO,
            args=(Arg(index=0, value=8), Arg(index=0, value=0x20008)),
        ),
        default_action=Action.ALLOW,
    )
    eperm = scmp.ERRNO(errno.EPERM)
    assert verdict(cfg, "personality", 8) == eperm
    assert verdict(cfg, "personality", 0x20008) == eperm
    assert verdict(cfg, "personality", 0) == scmp.ALLOW


def test_masked_equal_value_is_the_mask() -> None:
    """runc passes (value, value_two) to libseccomp: value is the mask, value_two the datum."""
    mask = 0x7E020000  # CLONE_NEW*
    cfg = rules(
        Syscall(
            name="clone",
            action=Action.ALLOW,
            args=(Arg(index=0, value=mask, value_two=0, op=Operator.MASK_EQUAL_TO),),
        ),
        default_action=Action.ERRNO,
        default_errno_ret=errno.EPERM,
    )
    assert verdict(cfg, "clone", 0x11) == scmp.ALLOW  # SIGCHLD-only fork
    assert verdict(cfg, "clone", 0x10000000 | 0x11) == scmp.ERRNO(errno.EPERM)  # NEWUSER


def test_many_rules_turn_on_the_binary_tree() -> None:
    cfg = docker_default()
    assert len(cfg.syscalls) > 32
    assert build_filter(cfg).get_attr(scmp.Attr.CTL_OPTIMIZE) == 2
    small = rules(Syscall(name="read", action=Action.ALLOW), default_action=Action.ERRNO)
    assert build_filter(small).get_attr(scmp.Attr.CTL_OPTIMIZE) == 1


# --- flags ----------------------------------------------------------------------------------


def test_flags() -> None:
    cfg = Seccomp(
        default_action=Action.ALLOW,
        flags=(
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        ),
    )
    f = build_filter(cfg)
    assert f.get_attr(scmp.Attr.CTL_LOG) == 1
    assert f.get_attr(scmp.Attr.CTL_SSB) == 1
    flags, nnp = filter_flags(cfg, f)
    assert flags == SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW
    assert not nnp


def test_unknown_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not known") as info:
        build_filter(Seccomp(flags=("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",)))
    assert info.value.field == "seccomp.flags[0]"


def test_notify_asks_for_a_listener() -> None:
    cfg = rules(
        Syscall(name="mkdir", action=Action.NOTIFY),
        default_action=Action.ALLOW,
        listener_path="/run/agent.sock",
    )
    f = build_filter(cfg)
    assert filter_flags(cfg, f)[0] == SECCOMP_FILTER_FLAG_NEW_LISTENER
    assert verdict(cfg, "mkdir") == scmp.NOTIFY
