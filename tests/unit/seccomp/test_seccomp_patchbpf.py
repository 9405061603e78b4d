"""The -ENOSYS stub (runc's patchbpf), checked by running the patched programs in Python."""

from __future__ import annotations

import errno

import pytest
from seccomp_bpfsim import run, seccomp_data

from libcontainer.configs import Action, Seccomp, Syscall
from libcontainer.seccomp import libseccomp as scmp
from libcontainer.seccomp.filter import patched_program
from libcontainer.seccomp.patchbpf import (
    RET_ERRNO_ENOSYS,
    Insn,
    _section,
    assemble,
    find_last_syscalls,
    generate_enosys_stub,
    generate_patch,
    parse_program,
)

EPERM = scmp.ERRNO(errno.EPERM)
X86_64_ONLY = pytest.mark.skipif(
    scmp.system_arch() != scmp.Arch.X86_64, reason="uses the x86_64/x32/x86 tables"
)


def profile(
    *names: str, arches: tuple[str, ...] = ("amd64", "x86", "x32"), **kw: object
) -> Seccomp:
    calls = tuple(Syscall(name=n, action=Action.ALLOW) for n in names)
    kw.setdefault("default_action", Action.ERRNO)
    return Seccomp(architectures=arches, syscalls=calls, **kw)  # type: ignore[arg-type]


def nr(name: str, arch: int) -> int:
    num = scmp.resolve_syscall(arch, name)
    assert isinstance(num, int)
    return num


def test_parse_and_assemble_round_trip() -> None:
    prog = [Insn(0x20, 0, 0, 4), Insn(0x15, 1, 0, 0xC000003E), Insn(0x06, 0, 0, 0x7FFF0000)]
    assert parse_program(assemble(prog)) == prog
    with pytest.raises(ValueError, match="mid-instruction"):
        parse_program(b"\0" * 7)


@pytest.mark.parametrize(
    "cfg",
    [
        profile("read", default_action=Action.ALLOW),
        profile("read", default_action=Action.LOG),
        profile("read", default_action=Action.TRACE),
        profile("read", default_errno_ret=errno.ENOSYS),
    ],
    ids=["allow", "log", "trace", "errno-enosys"],
)
def test_no_stub_when_default_is_permissive_or_enosys(cfg: Seccomp) -> None:
    assert generate_patch(cfg, [scmp.Arch.X86_64]) == []


def test_stub_without_architectures_is_a_no_op() -> None:
    """runc only looks at the listed architectures: none listed, nothing is answered ENOSYS."""
    stub = generate_patch(profile("read", arches=()), [])
    assert stub == [Insn(0x20, 0, 0, 4), Insn(0x05, 0, 0, 2), Insn(0x05, 0, 0, 1),
                    Insn(0x06, 0, 0, RET_ERRNO_ENOSYS)]  # fmt: skip


@X86_64_ONLY
def test_find_last_syscalls_x86_family() -> None:
    cfg = profile("read", "write", "mkdir", "openat")
    last = find_last_syscalls(cfg, [scmp.Arch.X86_64, scmp.Arch.X86, scmp.Arch.X32])
    assert last == {
        scmp.Arch.X86_64: {scmp.Arch.X86_64: 257, scmp.Arch.X32: 0x40000000 | 257},
        scmp.Arch.X86: {scmp.Arch.X86: 295},
    }


@X86_64_ONLY
@pytest.mark.parametrize(
    "arches", [("amd64",), ("amd64", "x32"), ("amd64", "x86", "x32"), ("x86", "amd64")]
)
def test_newer_syscalls_get_enosys_older_ones_the_default(arches: tuple[str, ...]) -> None:
    cfg = profile("read", "write", "mkdir", "openat", arches=arches)
    prog = patched_program(cfg)
    x86_64 = scmp.Arch.X86_64
    # Listed: allowed. Older and unlisted: the default action. Newer than openat: ENOSYS.
    assert run(prog, seccomp_data(nr("mkdir", x86_64), x86_64)) == scmp.ALLOW
    assert run(prog, seccomp_data(nr("rmdir", x86_64), x86_64)) == EPERM
    assert run(prog, seccomp_data(nr("clone3", x86_64), x86_64)) == RET_ERRNO_ENOSYS
    assert run(prog, seccomp_data(1000, x86_64)) == RET_ERRNO_ENOSYS
    if "x32" in arches:
        x32_read = nr("read", scmp.Arch.X32)
        assert run(prog, seccomp_data(x32_read, x86_64)) == scmp.ALLOW
        assert run(prog, seccomp_data(0x40000000 | 1000, x86_64)) == RET_ERRNO_ENOSYS
    if "x86" in arches:
        x86 = scmp.Arch.X86
        assert run(prog, seccomp_data(nr("mkdir", x86), x86)) == scmp.ALLOW
        assert run(prog, seccomp_data(nr("rmdir", x86), x86)) == EPERM
        assert run(prog, seccomp_data(nr("clone3", x86), x86)) == RET_ERRNO_ENOSYS


@X86_64_ONLY
def test_x32_bit_without_x32_in_profile_skips_the_check() -> None:
    """Only amd64 listed: an x32 call is not compared with amd64 numbers (runc's jset)."""
    prog = patched_program(profile("read", "openat", arches=("amd64",)))
    # libseccomp's own filter then decides; it does not know x32, so not ENOSYS.
    assert run(prog, seccomp_data(0x40000000 | 1000, scmp.Arch.X86_64)) != RET_ERRNO_ENOSYS


def test_s390x_section_answers_setup_with_enosys() -> None:
    section = _section(scmp.Arch.S390X, {scmp.Arch.S390X: 300}, 1)
    assert section[:3] == [
        Insn(0x20, 0, 0, 0),
        Insn(0x15, 0, 1, 0),
        Insn(0x06, 0, 0, RET_ERRNO_ENOSYS),
    ]
    stub = generate_enosys_stub({scmp.Arch.S390X: {scmp.Arch.S390X: 300}})
    prog = [*stub, Insn(0x06, 0, 0, scmp.ALLOW)]
    s390x = scmp.Arch.S390X
    assert run(prog, seccomp_data(0, s390x)) == RET_ERRNO_ENOSYS
    assert run(prog, seccomp_data(5, s390x)) == scmp.ALLOW
    assert run(prog, seccomp_data(301, s390x)) == RET_ERRNO_ENOSYS


@pytest.mark.parametrize("base", [1, 254, 300])
def test_long_jumps_keep_the_same_meaning(base: int) -> None:
    """Past 255 instructions runc switches to jle/ret/ja; the verdicts must not change."""
    for max_syscalls in ({scmp.Arch.AARCH64: 400}, {scmp.Arch.X86_64: 400}):
        native = next(iter(max_syscalls))
        sec = _section(native, max_syscalls, base)
        # The tail the section jumps into: `base` filler, ENOSYS, then the "filter".
        tail = [Insn(0x05, 0, 0, base)] + [Insn(0x06, 0, 0, 0)] * (base - 1)
        tail += [Insn(0x06, 0, 0, RET_ERRNO_ENOSYS), Insn(0x06, 0, 0, scmp.ALLOW)]
        prog = sec + tail
        assert run(prog, seccomp_data(401, native)) == RET_ERRNO_ENOSYS
        assert run(prog, seccomp_data(399, native)) == scmp.ALLOW


@pytest.mark.parametrize("base", [1, 300])
def test_x86_64_with_x32_long_and_short(base: int) -> None:
    max_syscalls = {scmp.Arch.X86_64: 400, scmp.Arch.X32: 0x40000000 | 500}
    sec = _section(scmp.Arch.X86_64, max_syscalls, base)
    tail = [Insn(0x05, 0, 0, base)] + [Insn(0x06, 0, 0, 0)] * (base - 1)
    tail += [Insn(0x06, 0, 0, RET_ERRNO_ENOSYS), Insn(0x06, 0, 0, scmp.ALLOW)]
    prog = sec + tail
    arch = scmp.Arch.X86_64
    assert run(prog, seccomp_data(401, arch)) == RET_ERRNO_ENOSYS
    assert run(prog, seccomp_data(399, arch)) == scmp.ALLOW
    assert run(prog, seccomp_data(0x40000000 | 450, arch)) == scmp.ALLOW
    assert run(prog, seccomp_data(0x40000000 | 501, arch)) == RET_ERRNO_ENOSYS


def test_bad_overlaps_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        _section(scmp.Arch.AARCH64, {scmp.Arch.AARCH64: 1, scmp.Arch.ARM: 2}, 1)
    with pytest.raises(ValueError, match="amd64"):
        _section(scmp.Arch.X86_64, {scmp.Arch.ARM: 1}, 1)
