"""AppArmor and SELinux decisions against a fake /sys and /proc/self/attr in a temp dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from libcontainer import apparmor, selinux
from libcontainer.errors import ConfigError


def fake_sys(tmp: Path, *, securityfs: bool, param: str | None) -> tuple[str, str]:
    """A fake /sys/kernel/security and apparmor module parameter; returns their paths."""
    sec = tmp / "sys" / "kernel" / "security"
    sec.mkdir(parents=True)
    if securityfs:
        (sec / "apparmor").mkdir()
    enabled = tmp / "sys" / "module" / "apparmor" / "parameters" / "enabled"
    if param is not None:
        enabled.parent.mkdir(parents=True)
        enabled.write_text(param)
    return str(sec), str(enabled)


def fake_proc(tmp: Path, *, apparmor_dir: bool = False, current: str | None = None) -> Path:
    """A fake /proc with self/attr/{exec,keycreate,current} (and attr/apparmor/exec)."""
    attr = tmp / "proc" / "self" / "attr"
    attr.mkdir(parents=True)
    for name in ("exec", "keycreate"):
        (attr / name).write_text("")
    if current is not None:
        (attr / "current").write_text(current)
    if apparmor_dir:
        (attr / "apparmor").mkdir()
        (attr / "apparmor" / "exec").write_text("")
    return tmp / "proc"


@pytest.mark.parametrize(
    ("securityfs", "param", "expected"),
    [
        (True, "Y\n", True),
        (True, "N\n", False),
        (True, None, False),
        (False, "Y\n", False),
        (True, "", False),
    ],
)
def test_apparmor_enabled_needs_securityfs_and_param(
    tmp_path: Path, securityfs: bool, param: str | None, expected: bool
) -> None:
    sec, enabled = fake_sys(tmp_path, securityfs=securityfs, param=param)
    assert apparmor.is_enabled(securityfs=sec, module_enabled=enabled) is expected


def test_apparmor_profile_written_to_the_per_lsm_attr(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, apparmor_dir=True)
    applied = apparmor.apply_profile(
        "docker-default", enabled=True, proc_self=str(proc / "self"), proc=str(proc)
    )
    assert applied
    assert (proc / "self/attr/apparmor/exec").read_text() == "exec docker-default"
    assert (proc / "self/attr/exec").read_text() == ""


def test_apparmor_falls_back_to_the_old_attr(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path)
    apparmor.apply_profile("p", enabled=True, proc_self=str(proc / "self"), proc=str(proc))
    assert (proc / "self/attr/exec").read_text() == "exec p"


def test_apparmor_profile_ignored_when_disabled(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, apparmor_dir=True)
    applied = apparmor.apply_profile(
        "p", enabled=False, proc_self=str(proc / "self"), proc=str(proc)
    )
    assert not applied
    assert (proc / "self/attr/apparmor/exec").read_text() == ""


def test_apparmor_no_profile_writes_nothing(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, apparmor_dir=True)
    assert not apparmor.apply_profile("", enabled=True, proc_self=str(proc / "self"))
    assert (proc / "self/attr/apparmor/exec").read_text() == ""


def test_apparmor_refuses_a_symlinked_attr(tmp_path: Path) -> None:
    """The attr file swapped for a symlink (a redirected write) is not followed."""
    proc = fake_proc(tmp_path, apparmor_dir=True)
    victim = tmp_path / "victim"
    victim.write_text("")
    exec_attr = proc / "self/attr/apparmor/exec"
    exec_attr.unlink()
    exec_attr.symlink_to(victim)
    with pytest.raises(Exception, match="apparmor failed to apply profile"):
        apparmor.apply_profile("p", enabled=True, proc_self=str(proc / "self"), proc=str(proc))
    assert victim.read_text() == ""


@pytest.mark.parametrize(
    ("enforce", "current", "expected"),
    [
        (True, "system_u:system_r:unconfined_t:s0\n", True),
        (True, "kernel\0", False),
        (True, None, False),
        (False, "system_u:system_r:unconfined_t:s0", False),
    ],
)
def test_selinux_enabled(
    tmp_path: Path, enforce: bool, current: str | None, expected: bool
) -> None:
    fs = tmp_path / "selinuxfs"
    fs.mkdir()
    if enforce:
        (fs / "enforce").write_text("1")
    proc = fake_proc(tmp_path, current=current)
    assert selinux.is_enabled(selinuxfs=str(fs), proc_self=str(proc / "self")) is expected


def test_selinux_exec_and_key_labels_written_when_enabled(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path)
    label = "system_u:system_r:container_t:s0:c1,c2"
    kw = {"proc_self": str(proc / "self"), "proc": str(proc)}
    assert selinux.set_key_label(label, enabled=True, **kw)
    assert selinux.set_exec_label(label, enabled=True, **kw)
    assert (proc / "self/attr/exec").read_text() == label
    assert (proc / "self/attr/keycreate").read_text() == label


def test_selinux_process_label_is_an_error_when_disabled(tmp_path: Path) -> None:
    """runc 1.1's validator: a label the host cannot enforce is refused, not dropped."""
    proc = fake_proc(tmp_path)
    with pytest.raises(ConfigError, match="selinux is disabled or not supported"):
        selinux.set_exec_label("x_t", enabled=False, proc_self=str(proc / "self"))
    assert (proc / "self/attr/exec").read_text() == ""
    # No label: nothing to enforce, nothing written, no error.
    assert not selinux.set_exec_label("", enabled=False, proc_self=str(proc / "self"))


def test_selinux_key_label_skipped_when_disabled(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path)
    assert not selinux.set_key_label("x_t", enabled=False, proc_self=str(proc / "self"))
    assert (proc / "self/attr/keycreate").read_text() == ""


def test_selinux_mount_label_ignored_when_disabled() -> None:
    assert selinux.format_mount_label("mode=755", "l_t", enabled=False) == "mode=755"
    assert selinux.format_mount_label("mode=755", "", enabled=True) == "mode=755"
    assert selinux.format_mount_label("mode=755", "l_t", enabled=True) == 'mode=755,context="l_t"'
    assert selinux.format_mount_label("", "l_t", enabled=True) == 'context="l_t"'
