"""The libseccomp binding: constants, resolution, rules, attributes, export."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from libcontainer.errors import SyscallError
from libcontainer.seccomp import libseccomp as scmp
from libcontainer.seccomp._ffi_build import CDEF, generate, inline_ffi

X86_64_ONLY = pytest.mark.skipif(
    scmp.system_arch() != scmp.Arch.X86_64, reason="syscall numbers below are x86_64's"
)


def test_import_is_lazy_and_cheap() -> None:
    """Importing the package loads neither cffi, libseccomp nor the config models."""
    code = (
        "import sys, libcontainer.seccomp\n"
        "bad = [m for m in ('cffi', '_cffi_backend', 'libcontainer.seccomp.libseccomp',"
        " 'libcontainer.configs', 'attrs') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_binding_does_not_parse_declarations_at_run_time() -> None:
    """The pre-parsed module is used: pycparser never loads."""
    code = (
        "import sys\n"
        "from libcontainer.seccomp import libseccomp as s\n"
        "s.SyscallFilter(s.ALLOW)\n"
        "print('pycparser' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_generated_ffi_matches_cdef(tmp_path: Path) -> None:
    """The committed ``_libseccomp_ffi.py`` is what ``_ffi_build`` generates from ``CDEF``."""
    generate(str(tmp_path))
    committed = Path(scmp.__file__).with_name("_libseccomp_ffi.py").read_text()
    assert committed == (tmp_path / "_libseccomp_ffi.py").read_text(), (
        "regenerate with: python3 -m libcontainer.seccomp._ffi_build"
    )
    assert _declared(scmp._binding()[0]) == _declared(inline_ffi())


def _declared(ffi: Any) -> list[str]:
    lib = ffi.dlopen(scmp.SONAME)
    names = sorted(n for n in dir(lib) if not n.startswith("_"))
    return [f"{n}: {ffi.typeof(getattr(lib, n)).cname}" for n in names]


def test_cdef_names_every_function_used() -> None:
    for name in ("seccomp_init", "seccomp_export_bpf", "seccomp_notify_fd", "seccomp_attr_set"):
        assert name in CDEF


@pytest.mark.parametrize(
    "name",
    ["x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32", "mipsel",
     "mipsel64", "mipsel64n32", "ppc", "ppc64", "ppc64le", "s390", "s390x", "parisc",
     "parisc64", "riscv64"],
)  # fmt: skip
def test_arch_constants_match_libseccomp(name: str) -> None:
    assert getattr(scmp.Arch, name.upper()) == scmp.Arch.resolve(name)


def test_unknown_arch_name() -> None:
    with pytest.raises(ValueError, match="unknown seccomp architecture"):
        scmp.Arch.resolve("vax")


def test_action_values() -> None:
    assert scmp.ERRNO(errno.EPERM) == 0x00050001
    assert scmp.ERRNO(0x1_0001) == 0x00050001  # only 16 bits of data
    assert scmp.TRACE(7) == 0x7FF00007
    assert scmp.KILL == scmp.KILL_THREAD == 0
    assert scmp.KILL_PROCESS == 0x80000000
    assert (scmp.TRAP, scmp.NOTIFY, scmp.LOG, scmp.ALLOW) == (
        0x00030000,
        0x7FC00000,
        0x7FFC0000,
        0x7FFF0000,
    )


def test_version_and_api() -> None:
    major, minor, _ = scmp.version()
    assert (major, minor) >= (2, 5)
    assert scmp.get_api() >= 1


@X86_64_ONLY
def test_resolve_syscall_both_ways() -> None:
    assert scmp.resolve_syscall(scmp.Arch.X86_64, "mkdir") == 83
    assert scmp.resolve_syscall(scmp.Arch.X86, "mkdir") == 39
    assert scmp.resolve_syscall(scmp.Arch.X32, "read") == 0x40000000
    assert scmp.resolve_syscall(scmp.Arch.X86_64, 0) == "read"
    assert scmp.resolve_syscall(scmp.Arch.NATIVE, b"read") == 0
    # A multiplexed call on x86 is a negative pseudo-syscall, not an error.
    socket_nr = scmp.resolve_syscall(scmp.Arch.X86, "socket")
    assert isinstance(socket_nr, int) and socket_nr < 0


def test_resolve_unknown_syscall() -> None:
    with pytest.raises(ValueError, match="unknown syscall"):
        scmp.resolve_syscall(scmp.Arch.NATIVE, "no_such_syscall")
    with pytest.raises(ValueError, match="unknown syscall number"):
        scmp.resolve_syscall(scmp.Arch.NATIVE, 99999)


def test_arch_management() -> None:
    f = scmp.SyscallFilter(scmp.ALLOW)
    assert f.exist_arch(scmp.Arch.NATIVE)
    other = scmp.Arch.AARCH64 if scmp.system_arch() != scmp.Arch.AARCH64 else scmp.Arch.X86_64
    assert not f.exist_arch(other)
    f.add_arch(other)
    f.add_arch(other)  # already there: fine
    assert f.exist_arch(other)
    f.remove_arch(other)
    assert not f.exist_arch(other)
    with pytest.raises(SyscallError):
        f.remove_arch(other)


def test_rules_and_pfc() -> None:
    f = scmp.SyscallFilter(scmp.ERRNO(errno.EPERM))
    f.add_rule(scmp.ALLOW, "read")
    f.add_rule(scmp.ALLOW, "personality", scmp.Arg(0, scmp.EQ, 8))
    f.add_rule_exactly(scmp.LOG, "getpid")
    pfc = f.export_pfc_text()
    assert 'filter for syscall "read"' in pfc
    assert 'filter for syscall "personality"' in pfc
    assert "$a0" in pfc and "== 8" in pfc
    assert "action ERRNO(1);" in pfc
    assert "action LOG;" in pfc


def test_rule_equal_to_default_is_refused() -> None:
    f = scmp.SyscallFilter(scmp.ALLOW)
    with pytest.raises(SyscallError):
        f.add_rule(scmp.ALLOW, "read")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="argument index"):
        scmp.Arg(6, scmp.EQ, 0)
    with pytest.raises(ValueError, match="operator"):
        scmp.Arg(0, 99, 0)
    f = scmp.SyscallFilter(scmp.ALLOW)
    with pytest.raises(TypeError):
        f.add_rule(scmp.KILL, "read", (0, scmp.EQ, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        scmp.SyscallFilter(0x12345678)


def test_arg_equality() -> None:
    assert scmp.Arg(0, scmp.EQ, 1) == scmp.Arg(0, scmp.EQ, 1)
    assert scmp.Arg(0, scmp.EQ, -1).datum_a == 0xFFFFFFFFFFFFFFFF
    assert len({scmp.Arg(1, scmp.NE, 2), scmp.Arg(1, scmp.NE, 2)}) == 1


def test_attributes() -> None:
    f = scmp.SyscallFilter(scmp.ALLOW)
    assert f.get_attr(scmp.Attr.ACT_DEFAULT) == scmp.ALLOW
    assert f.get_attr(scmp.Attr.CTL_NNP) == 1  # libseccomp's default
    f.set_attr(scmp.Attr.CTL_NNP, 0)
    assert f.get_attr(scmp.Attr.CTL_NNP) == 0
    f.set_attr(scmp.Attr.CTL_LOG, 1)
    assert f.get_attr(scmp.Attr.CTL_LOG) == 1
    f.set_attr(scmp.Attr.CTL_SSB, 1)
    assert f.get_attr(scmp.Attr.CTL_SSB) == 1
    f.set_attr(scmp.Attr.CTL_TSYNC, 1)
    assert f.get_attr(scmp.Attr.CTL_TSYNC) == 1
    with pytest.raises(SyscallError):
        f.get_attr(999)


def test_export_bpf_to_file_fd_and_bytes(tmp_path: Path) -> None:
    f = scmp.SyscallFilter(scmp.ERRNO(errno.EPERM))
    f.add_rule(scmp.ALLOW, "read")
    data = f.export_bpf_bytes()
    assert data and len(data) % 8 == 0
    path = tmp_path / "prog.bpf"
    with open(path, "wb") as fh:
        f.export_bpf(fh)
    assert path.read_bytes() == data
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        f.export_bpf(fd)
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    with open(path, "w") as text:
        f.export_pfc(text)
    assert "pseudo filter code" in path.read_text()


def test_reset_and_merge() -> None:
    a = scmp.SyscallFilter(scmp.ALLOW)
    a.add_rule(scmp.KILL, "mkdir")
    # libseccomp merges filters with disjoint architectures only.
    b = scmp.SyscallFilter(scmp.ALLOW)
    other = scmp.Arch.AARCH64 if scmp.system_arch() != scmp.Arch.AARCH64 else scmp.Arch.X86_64
    b.add_arch(other)
    b.remove_arch(scmp.Arch.NATIVE)
    b.add_rule(scmp.KILL, "rmdir")
    a.merge(b)
    pfc = a.export_pfc_text()
    assert '"mkdir"' in pfc and '"rmdir"' in pfc
    a.reset(scmp.ERRNO(1))
    assert a.get_attr(scmp.Attr.ACT_DEFAULT) == scmp.ERRNO(1)
    assert '"mkdir"' not in a.export_pfc_text()


def test_notify_fd_before_load_fails() -> None:
    f = scmp.SyscallFilter(scmp.ALLOW)
    f.add_rule(scmp.NOTIFY, "mkdir")
    with pytest.raises(SyscallError):
        f.get_notify_fd()
