"""What a container's process inherits from the runtime (and what it must not).

Each check is made from inside the container (``/proc/self/status``, ``stat``, ``pwd``) or on
the container's init from outside (its open fds), never by timing.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, run_output
from test_cli_helpers import Cli, make_bundle

from libcontainer import Process
from libcontainer.console import recv_console

pytestmark = pytest.mark.root

ZERO_MASK = "0000000000000000"


def _status_masks(out: str) -> dict[str, str]:
    fields = dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)
    return {k: v.strip() for k, v in fields.items() if k in ("SigIgn", "SigBlk")}


def test_signals_start_at_their_defaults(containers: Factories, make_config: Any) -> None:
    """The init is a clone of a Python interpreter, which ignores SIGPIPE and SIGXFSZ: the
    user's program must not inherit that (nor a blocked mask), in the init or an exec."""
    c = containers.create(make_config())
    script = "grep -E '^Sig(Ign|Blk)' /proc/self/status; sleep 1000"
    init = Process(["sh", "-c", script], stdout=subprocess.PIPE)
    c.run(init)
    assert init.stdout is not None
    lines = [init.stdout.readline().decode(), init.stdout.readline().decode()]
    assert _status_masks("".join(lines)) == {"SigIgn": ZERO_MASK, "SigBlk": ZERO_MASK}
    probe = ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]
    ex = Process(probe, init=False, stdout=subprocess.PIPE)
    c.start(ex)
    out, _ = ex.communicate()
    assert ex.returncode == 0
    assert _status_masks(out.decode()) == {"SigIgn": ZERO_MASK, "SigBlk": ZERO_MASK}
    # And so a pipeline whose reader goes away ends, as in any shell.
    ex = Process(["sh", "-c", "yes | head -n 1"], init=False, stdout=subprocess.PIPE)
    c.start(ex)
    out, _ = ex.communicate(timeout=30)
    assert (out, ex.returncode) == (b"y\n", 0)


IGNORING_CALLER = r"""
import ctypes, subprocess, sys
sys.path.insert(0, REPO)
# A caller that ignores more than Python does: the two signals the C library reserves
# (glibc's sigaction refuses them; the raw rt_sigaction does not), e.g. set by a library.
libc = ctypes.CDLL(None, use_errno=True)
ign = (ctypes.c_ulong * 4)(1, 0, 0, 0)  # kernel sigaction: handler SIG_IGN
for sig in (32, 33):
    assert libc.syscall(13, sig, ign, None, 8) == 0  # x86_64 rt_sigaction
from libcontainer import Factory, Process
from libcontainer.configs import config_from_json
c = Factory(ROOT).create(CID, config_from_json(open(CONFIG).read()))
p = Process(["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"], stdout=subprocess.PIPE)
c.run(p)
print(p.stdout.read().decode(), end="")
p.wait()
c.destroy()
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="raw syscall numbers of x86_64")
def test_signals_a_caller_ignored_are_not_inherited(
    make_config: Any, state_root: Path, tmp_path: Path
) -> None:
    from ctutil import unique_id

    from libcontainer.configs import config_to_json

    config_json = tmp_path / "config.json.lib"
    config_json.write_text(config_to_json(make_config()))
    script = (
        IGNORING_CALLER.replace("REPO", repr(str(Path(__file__).resolve().parents[2])))
        .replace("ROOT", repr(str(state_root)))
        .replace("CID", repr(unique_id()))
        .replace("CONFIG", repr(str(config_json)))
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert _status_masks(proc.stdout) == {"SigIgn": ZERO_MASK, "SigBlk": ZERO_MASK}


def _seccomp_close_guard(spec: dict[str, Any]) -> None:
    # close_range refused (as some profiles do), and close() of a high fd fatal: an init that
    # swept fds after loading the filter would fall back to closing them one by one, and die.
    spec["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["close_range"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {
                "names": ["close"],
                "action": "SCMP_ACT_KILL",
                "args": [{"index": 0, "value": 4096, "op": "SCMP_CMP_GE"}],
            },
        ],
    }


@pytest.mark.parametrize("no_new_privileges", [True, False])
def test_fds_are_closed_before_the_seccomp_filter(
    containers: Factories, make_config: Any, no_new_privileges: bool
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        _seccomp_close_guard(spec)
        spec["process"]["noNewPrivileges"] = no_new_privileges

    c = containers.create(make_config(edit))
    init = Process(["sh", "-c", "ls /proc/self/fd | wc -l; sleep 1000"], stdout=subprocess.PIPE)
    c.run(init)
    assert init.stdout is not None
    assert int(init.stdout.readline()) == 4  # 0, 1, 2 and ls's own directory fd
    ex = Process(["sh", "-c", "ls /proc/self/fd | wc -l"], init=False, stdout=subprocess.PIPE)
    c.start(ex)
    out, _ = ex.communicate()
    assert (int(out), ex.returncode) == (4, 0)


def test_cwd_is_entered_before_dropping_to_the_user(
    containers: Factories, make_config: Any, busybox_rootfs: Path
) -> None:
    """runc enters the cwd as root first: a directory only root can reach still works."""
    private = busybox_rootfs / "private"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)

    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}
        spec["process"]["cwd"] = "/private"

    c = containers.create(make_config(edit))
    out, code = run_output(c, ["sh", "-c", "pwd; id -u; ls . >/dev/null 2>&1 || echo denied"])
    assert (out, code) == ("/private\n1000\ndenied\n", 0)


def test_terminal_and_stdio_pipes_belong_to_the_user(
    containers: Factories, make_config: Any
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}

    c = containers.create(make_config(edit))
    out, code = run_output(c, ["stat", "-L", "-c", "%u", "/proc/self/fd/1"])
    assert (out, code) == ("1000\n", 0)  # the stdout pipe (runc's fixStdioPermissions)

    c2 = containers.create(make_config(edit))
    script = "stat -L -c %u $(tty); echo end"
    proc = Process(["sh", "-c", script], terminal=True, user="1000:1000")
    c2.run(proc)
    assert proc.console is not None
    data = b""
    while b"end" not in data:
        try:
            chunk = os.read(proc.console.fileno(), 1024)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    assert proc.wait() == 0
    assert data.split()[0] == b"1000", data


def test_caller_file_is_never_chowned(
    containers: Factories, make_config: Any, tmp_path: Path
) -> None:
    """Unlike runc, a regular file the caller gave as stdout stays the caller's."""

    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}

    log = tmp_path / "out.log"
    c = containers.create(make_config(edit))
    with log.open("wb") as f:
        proc = Process(["echo", "hi"], stdout=f, user="1000:1000")
        c.run(proc)
        assert proc.wait() == 0
    assert log.read_text() == "hi\n"
    assert os.stat(log).st_uid == 0


def _console_server(path: str) -> tuple[socket.socket, threading.Thread, dict[str, Any]]:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    got: dict[str, Any] = {}

    def accept() -> None:
        conn, _ = server.accept()
        with conn:
            got["name"], got["fd"] = recv_console(conn)

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    return server, t, got


def _fd_targets(pid: int) -> set[str]:
    fd_dir = f"/proc/{pid}/fd"
    out = set()
    for name in os.listdir(fd_dir):
        try:
            out.add(os.readlink(f"{fd_dir}/{name}"))
        except OSError:
            pass
    return out


def test_create_with_a_console_socket_holds_none_of_the_callers_stdio(
    state_root: Path, busybox_rootfs: Path, tmp_path: Path
) -> None:
    """``out=$(pyrunc create --console-socket S ID)`` returns at once, as with runc: once
    create is done the init holds none of the caller's stdio (the pipe is not kept open)."""
    bundle = make_bundle(busybox_rootfs.parent, ["sleep", "1000"])
    spec_path = bundle / "config.json"
    spec = json.loads(spec_path.read_text())
    spec["process"]["terminal"] = True
    spec_path.write_text(json.dumps(spec))
    sock_path = str(tmp_path / "console.sock")
    server, thread, got = _console_server(sock_path)
    cli = Cli(state_root)
    cid = "console-" + state_root.name[-8:]
    cli.ids.add(cid)
    try:
        r, w = os.pipe()
        proc = subprocess.Popen(
            [cli.binary, "--root", str(state_root), "create", "-b", str(bundle),
             "--console-socket", sock_path, cid],
            stdout=w,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        os.close(w)
        # Reading stdout to its end is what $(...) does: it ends only when every holder of
        # the pipe's write end has closed it (a hang here is the bug; pytest-timeout ends it).
        with os.fdopen(r, "rb") as reader:
            assert reader.read() == b""
        assert proc.wait() == 0, proc.stderr.read() if proc.stderr else b""
        pid = cli.state(cid)["pid"]
        theirs = _fd_targets(pid)
        assert not any(t.startswith("pipe:") for t in theirs), theirs
        thread.join(10)
        assert "fd" in got
        assert stat.S_ISCHR(os.fstat(got["fd"]).st_mode)
    finally:
        server.close()
        if "fd" in got:
            os.close(got["fd"])
        cli.cleanup()
