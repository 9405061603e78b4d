"""Seccomp filters loaded for real: a forked child loads the filter, then execs busybox.

Each test forks the (single-threaded) test process; the child sets no_new_privs (unless the
test is about CAP_SYS_ADMIN), calls :func:`setup_seccomp` like the init will, and execs an
applet of the busybox rootfs by host path (no chroot needed to observe syscalls).
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from libcontainer.configs import Action, Arg, Operator, Seccomp, Syscall
from libcontainer.seccomp import libseccomp as scmp
from libcontainer.seccomp import send_listener_fd, setup_seccomp
from libcontainer.seccomp.patchbpf import set_no_new_privs
from libcontainer.seccomp.profiles import docker_default

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "examples" / "seccomp_agent.py"


class Result(NamedTuple):
    status: int
    stdout: str
    stderr: str

    @property
    def exit_code(self) -> int | None:
        return os.WEXITSTATUS(self.status) if os.WIFEXITED(self.status) else None

    @property
    def signal(self) -> int | None:
        return os.WTERMSIG(self.status) if os.WIFSIGNALED(self.status) else None


def run_filtered(
    config: Seccomp,
    argv: list[str] | None = None,
    *,
    no_new_privs: bool = True,
    after_load: Callable[[int | None], None] | None = None,
) -> Result:
    """Fork; in the child load ``config`` then exec ``argv`` (or run ``after_load``)."""
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 127
        try:
            os.dup2(w_out, 1)
            os.dup2(w_err, 2)
            # KILL tests end in SIGSYS, whose default action dumps core.
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if no_new_privs:
                set_no_new_privs()
            fd = setup_seccomp(config)
            if after_load is not None:
                after_load(fd)
                code = 0
            else:
                assert argv is not None
                os.execv(argv[0], argv)
        except BaseException:
            os.write(2, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(w_out)
    os.close(w_err)
    with os.fdopen(r_out, "rb") as out, os.fdopen(r_err, "rb") as err:
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    return Result(status, stdout, stderr)


@pytest.fixture
def busybox(busybox_rootfs: Path) -> str:
    return str(busybox_rootfs / "bin" / "busybox")


def block(*names: str, action: Action = Action.ERRNO, errno_ret: int | None = None) -> Seccomp:
    calls = tuple(Syscall(name=n, action=action, errno_ret=errno_ret) for n in names)
    return Seccomp(default_action=Action.ALLOW, syscalls=calls)


def test_blocked_syscall_fails_with_eperm(busybox: str, busybox_rootfs: Path) -> None:
    target = busybox_rootfs / "tmp" / "denied"
    res = run_filtered(block("mkdir", "mkdirat"), [busybox, "mkdir", str(target)])
    assert res.exit_code == 1
    assert "Operation not permitted" in res.stderr
    assert not target.exists()


def test_configured_errno_is_returned(busybox: str, busybox_rootfs: Path) -> None:
    target = busybox_rootfs / "tmp" / "rofs"
    res = run_filtered(
        block("mkdir", "mkdirat", errno_ret=errno.EROFS), [busybox, "mkdir", str(target)]
    )
    assert res.exit_code == 1
    assert "Read-only file system" in res.stderr


def test_unblocked_syscalls_still_work(busybox: str, busybox_rootfs: Path) -> None:
    target = busybox_rootfs / "tmp" / "made"
    res = run_filtered(block("rmdir"), [busybox, "mkdir", str(target)])
    assert res.exit_code == 0, res.stderr
    assert target.is_dir()


def test_arg_filtered_rule_blocks_only_that_argument(busybox: str) -> None:
    """personality(PER_LINUX32) is refused; personality(PER_LINUX) is not."""
    cfg = Seccomp(
        default_action=Action.ALLOW,
        syscalls=(
            Syscall(
                name="personality",
                action=Action.ERRNO,
                args=(Arg(index=0, value=0x0008, op=Operator.EQUAL_TO),),
            ),
        ),
    )
    res = run_filtered(cfg, [busybox, "linux32", busybox, "uname", "-m"])
    assert res.exit_code != 0
    assert "Operation not permitted" in res.stderr
    res = run_filtered(cfg, [busybox, "linux64", busybox, "uname", "-m"])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == os.uname().machine


@pytest.mark.parametrize("action", [Action.KILL, Action.KILL_PROCESS])
def test_kill_kills_with_sigsys(busybox: str, busybox_rootfs: Path, action: Action) -> None:
    res = run_filtered(
        block("mkdir", "mkdirat", action=action),
        [busybox, "mkdir", str(busybox_rootfs / "tmp" / "k")],
    )
    assert res.signal == signal.SIGSYS, res


def test_trap_delivers_sigsys(busybox: str, busybox_rootfs: Path) -> None:
    res = run_filtered(
        block("mkdir", "mkdirat", action=Action.TRAP),
        [busybox, "mkdir", str(busybox_rootfs / "tmp" / "t")],
    )
    assert res.signal == signal.SIGSYS, res


def _kernel_log() -> str:
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out


def test_log_action_allows_and_logs(busybox: str, busybox_rootfs: Path) -> None:
    """SCMP_ACT_LOG lets the syscall through and the kernel logs it (when it can)."""
    target = busybox_rootfs / "tmp" / "logged"
    cfg = block("mkdir", "mkdirat", action=Action.LOG)
    res = run_filtered(cfg, [busybox, "mkdir", str(target)])
    assert res.exit_code == 0, res.stderr
    assert target.is_dir()
    actions_logged = Path("/proc/sys/kernel/seccomp/actions_logged")
    if "log" not in actions_logged.read_text().split():
        pytest.skip("the kernel is configured not to log SCMP_ACT_LOG")
    mkdir_nr = scmp.resolve_syscall(scmp.Arch.NATIVE, "mkdir")
    mkdirat_nr = scmp.resolve_syscall(scmp.Arch.NATIVE, "mkdirat")
    log = ""
    for _ in range(20):
        log = _kernel_log()
        if f"syscall={mkdir_nr} " in log or f"syscall={mkdirat_nr} " in log:
            break
        time.sleep(0.1)
    else:
        pytest.skip("no seccomp audit record in the kernel log (audit may be consuming it)")
    assert "code=0x7ffc0000" in log


def test_flags_load_through_seccomp2(busybox: str, busybox_rootfs: Path) -> None:
    cfg = Seccomp(
        default_action=Action.ALLOW,
        flags=(
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        ),
        syscalls=(Syscall(name="mkdir", action=Action.ERRNO),),
    )
    res = run_filtered(cfg, [busybox, "mkdir", str(busybox_rootfs / "tmp" / "f")])
    assert res.exit_code == 1
    assert "Operation not permitted" in res.stderr


def test_loads_without_no_new_privs_as_root(busybox: str) -> None:
    """With no_new_privileges false the filter still loads: root has CAP_SYS_ADMIN."""
    res = run_filtered(
        block("rmdir"),
        [busybox, "grep", "-E", "NoNewPrivs|Seccomp:", "/proc/self/status"],
        no_new_privs=False,
    )
    assert res.exit_code == 0, res.stderr
    fields = dict(line.split(":\t") for line in res.stdout.splitlines())
    assert fields == {"NoNewPrivs": "0", "Seccomp": "2"}


def test_docker_default_profile_runs_busybox_sh(busybox: str, busybox_rootfs: Path) -> None:
    work = busybox_rootfs / "tmp"
    script = (
        f"cd {work} && echo hello > f && cat f && mkdir d && ls && rm -r d f && "
        "grep Seccomp: /proc/self/status && (sleep 0 &) && wait && "
        "ps >/dev/null && date >/dev/null && echo done"
    )
    res = run_filtered(docker_default(), [busybox, "sh", "-c", script])
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.split()
    assert lines[0] == "hello"
    assert "d" in lines and "f" in lines
    assert "2" in lines  # Seccomp: 2 (filter mode)
    assert lines[-1] == "done"


def test_docker_default_profile_refuses_namespaces(busybox: str) -> None:
    res = run_filtered(docker_default(), [busybox, "unshare", "-U", busybox, "true"])
    assert res.exit_code != 0
    assert "Operation not permitted" in res.stderr


def test_enosys_for_syscalls_newer_than_the_profile() -> None:
    """runc's patchbpf: unknown-new syscalls get ENOSYS (glibc falls back), old ones EPERM."""

    def probe(_fd: int | None) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        results = []
        for name_or_nr in (1000, "acct"):
            nr = name_or_nr
            if isinstance(nr, str):
                nr = int(scmp.resolve_syscall(scmp.Arch.NATIVE, nr))
            ctypes.set_errno(0)
            rc = libc.syscall(ctypes.c_long(nr), 0, 0, 0)
            results.append(f"{rc}:{errno.errorcode.get(ctypes.get_errno(), '0')}")
        os.write(1, " ".join(results).encode())

    res = run_filtered(docker_default(), after_load=probe)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.split() == ["-1:ENOSYS", "-1:EPERM"]


def test_notify_with_the_example_agent(busybox: str, busybox_rootfs: Path, tmp_path: Path) -> None:
    """The listener fd goes to the agent, which creates one directory and refuses the rest."""
    sock = tmp_path / "agent.sock"
    allowed = busybox_rootfs / "tmp" / "allowed"
    denied = busybox_rootfs / "tmp" / "denied"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    agent = subprocess.Popen(
        [sys.executable, str(AGENT), "--socket", str(sock), "--allow-mkdir", str(allowed),
         "--once", "-v"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert agent.stdout is not None
        assert agent.stdout.readline().strip() == "ready"
        cfg = Seccomp(
            default_action=Action.ALLOW,
            syscalls=(
                Syscall(name="mkdir", action=Action.NOTIFY),
                Syscall(name="mkdirat", action=Action.NOTIFY),
            ),
            listener_path=str(sock),
            listener_metadata="test-metadata",
        )

        def hand_off_then_exec(fd: int | None) -> None:
            assert fd is not None
            state = {"ociVersion": "1.0.2", "id": "notify", "status": "creating",
                     "pid": os.getpid(), "bundle": str(busybox_rootfs.parent)}  # fmt: skip
            send_listener_fd(cfg.listener_path, fd, state, cfg.listener_metadata)
            os.close(fd)
            script = f"{busybox} mkdir {allowed}; echo $?; {busybox} mkdir {denied}; echo $?"
            os.execv(busybox, [busybox, "sh", "-c", script])

        res = run_filtered(cfg, after_load=hand_off_then_exec)
        assert res.stdout.split() == ["0", "1"], res
        assert "Operation not permitted" in res.stderr
        assert allowed.is_dir()
        assert not denied.exists()
        _, agent_log = agent.communicate(timeout=30)
        assert agent.returncode == 0, agent_log
        assert "metadata 'test-metadata'" in agent_log
        assert "mkdir -> success" in agent_log or "mkdirat -> success" in agent_log
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.communicate()
