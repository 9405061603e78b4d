"""runc's CVEs, replayed: each test attempts the real attack against a real container.

Every test names the CVE and the attack in its docstring. "Blocked" means the attack
fails (an error, a refused start) or lands somewhere harmless, and we check which.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, run_output
from testrun import TMP_PREFIX

from libcontainer import Process
from libcontainer.errors import (
    ConfigError,
    InvalidIdError,
    LibcontainerError,
)

pytestmark = pytest.mark.root


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A host directory outside every rootfs: the place an escape would write to."""
    d = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "hostvictim-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def rootfs_of(bundle: Path) -> Path:
    return bundle / "rootfs"


def bind(source: Path | str, dest: str, *options: str) -> dict[str, Any]:
    return {
        "type": "bind",
        "source": str(source),
        "destination": dest,
        "options": ["bind", *options],
    }


def add_mounts(*mounts: dict[str, Any]) -> Any:
    def edit(spec: dict[str, Any]) -> None:
        spec["mounts"].extend(mounts)

    return edit


# --- CVE-2019-5736: /proc/<pid>/exe of the runtime -------------------------------------

EXE_ATTACK = r"""
attack() {
    p=$1
    t=$(readlink "$p/exe" 2>/dev/null) && echo "READLINK $p $t"
    cat "$p/exe" > /dev/null 2>&1 && echo "OPENED $p"
    (exec 3<>"$p/exe") 2>/dev/null && echo "OPENED_RW $p"
    # Listing these directories is allowed (root owns them); following an entry is not.
    for f in "$p"/map_files/* "$p"/fd/*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        readlink "$f" > /dev/null 2>&1 && echo "LINKS $f"
        cat "$f" > /dev/null 2>&1 < /dev/null && echo "OPENED $f"
    done
}
"""


def test_cve_2019_5736_init_exe_while_waiting_on_exec_fifo(
    containers: Factories, make_config: Any
) -> None:
    """CVE-2019-5736: the init is still our Python interpreter while it waits on exec.fifo
    (between create and start). An exec'd process of the container tries to reach the host
    binary through /proc/1/exe: readlink, open for reading, open for writing, map_files,
    fds. The init is non-dumpable (inherited from the spawner), so every path is refused
    without CAP_SYS_PTRACE over the host's user namespace."""
    c = containers.create(make_config())
    c.start(Process(["true"]))  # created, not started: pid 1 is the Python init
    ex = Process(
        ["sh", "-c", EXE_ATTACK + "attack /proc/1; cat /proc/1/cmdline | tr '\\0' ' '"],
        init=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    c.start(ex)
    assert ex.stdout is not None
    out = ex.stdout.read().decode()
    assert ex.wait() == 0, out
    assert "python" in out.lower() or "spawner" in out, f"pid 1 is not the Python init: {out}"
    for word in ("READLINK", "OPENED", "LINKS"):
        assert word not in out, out


def test_cve_2019_5736_exec_before_its_execve(
    containers: Factories, make_config: Any, bundle: Path
) -> None:
    """CVE-2019-5736, exec form: a process being exec'd into the container runs our Python
    in the container's namespaces before its execve. The container holds it there by
    replacing /etc/passwd (read by the init to resolve the user) with a FIFO, then attacks
    its /proc/<pid>/exe while it is blocked, then lets it go."""
    script = textwrap.dedent(
        """
        cp /etc/passwd /etc/passwd.real && rm /etc/passwd && mkfifo /etc/passwd
        echo ready
        i=0
        while [ $i -lt 600 ]; do
            for p in /proc/[0-9]*; do
                case "$(tr '\\0' '\\n' < $p/cmdline 2>/dev/null | head -n 1)" in
                    *python*|*spawner*) echo "FOUND $p"; attack $p; found=1 ;;
                esac
            done
            [ -n "$found" ] && break
            i=$((i+1)); usleep 20000
        done
        cat /etc/passwd.real > /etc/passwd
        echo done
        sleep 1000
        """
    )
    c = containers.create(make_config())
    init = Process(["sh", "-c", EXE_ATTACK + script], stdout=subprocess.PIPE)
    c.run(init)
    assert init.stdout is not None
    assert init.stdout.readline() == b"ready\n"
    ex = Process(["true"], init=False)
    t = threading.Thread(target=lambda: (c.start(ex), ex.wait()))
    t.start()
    lines = []
    while True:
        line = init.stdout.readline().decode()
        lines.append(line)
        if not line or line == "done\n":
            break
    t.join(timeout=30)
    out = "".join(lines)
    assert "FOUND" in out, f"the exec'd init was never seen blocked: {out}"
    for word in ("READLINK", "OPENED", "LINKS"):
        assert word not in out, out
    assert ex.returncode == 0


def test_cve_2019_5736_host_pid_namespace(
    containers: Factories, make_config: Any, bundle: Path
) -> None:
    """CVE-2019-5736 with the host's PID namespace shared: the container sees the caller,
    the spawner helper and every stage process of a second container being created and an
    exec. It attacks every Python process's /proc/<pid>/exe. The helper and the stages are
    non-dumpable; the caller is protected by the capability check (the container's
    permitted set is not a superset of the caller's)."""

    def edit(spec: dict[str, Any]) -> None:
        spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "pid"]

    stop = rootfs_of(bundle) / "tmp" / "stop"
    script = textwrap.dedent(
        """
        echo ready
        while [ ! -e /tmp/stop ]; do
            for p in /proc/[0-9]*; do
                [ "$p" = "/proc/$$" ] && continue
                case "$(tr '\\0' '\\n' < $p/cmdline 2>/dev/null | head -n 1)" in
                    *python*|*spawner*) echo "SEEN $p"; attack $p ;;
                esac
            done
        done
        echo done
        """
    )
    c = containers.create(make_config(edit))
    attacker = Process(["sh", "-c", EXE_ATTACK + script], stdout=subprocess.PIPE)
    c.run(attacker)
    assert attacker.stdout is not None
    assert attacker.stdout.readline() == b"ready\n"
    try:
        # A second container created (its init waits on exec.fifo as Python) and execs.
        other = containers.create(make_config(edit))
        other.start(Process(["true"]))
        for _ in range(3):
            ex = Process(["true"], init=False)
            c.start(ex)
            ex.wait()
        time.sleep(0.5)
    finally:
        stop.touch()
    out = attacker.stdout.read().decode()
    attacker.wait()
    assert "SEEN" in out
    for word in ("READLINK", "OPENED", "LINKS"):
        assert word not in out, "\n".join(ln for ln in out.splitlines() if word in ln)


# --- CVE-2019-16884 / CVE-2019-19921 / CVE-2021-30465 / CVE-2023-27561 / CVE-2023-28642 -


@pytest.mark.parametrize("target", ["host", "relative", "inroot"])
def test_cve_2023_27561_proc_is_a_symlink(
    containers: Factories, make_config: Any, bundle: Path, host_dir: Path, target: str
) -> None:
    """CVE-2023-27561 / CVE-2023-28642 (and CVE-2019-19921): the image's /proc is a
    symlink (to a host path, up and out with ``..``, or to a directory of the image), so
    the procfs would land elsewhere and /proc in the container would be the image's fake.
    The init refuses to mount proc on anything but a real directory."""
    root = rootfs_of(bundle)
    (root / "proc").rmdir()
    (root / "fakeproc").mkdir()
    link = {
        "host": str(host_dir),
        "relative": "../../../../../../" + str(host_dir),
        "inroot": "/fakeproc",
    }
    (root / "proc").symlink_to(link[target])
    c = containers.create(make_config())
    with pytest.raises(LibcontainerError, match=r"ordinary directory|not a directory"):
        run_output(c, ["true"])
    assert list(host_dir.iterdir()) == []


def test_cve_2019_19921_sys_is_a_symlink_to_the_host(
    containers: Factories, make_config: Any, bundle: Path, host_dir: Path
) -> None:
    """CVE-2019-19921 form: /sys of the image is a symlink to a host path; sysfs must not be
    mounted there (nor anywhere but a real /sys directory)."""
    root = rootfs_of(bundle)
    (root / "sys").rmdir()
    (root / "sys").symlink_to(host_dir)
    c = containers.create(make_config())
    with pytest.raises(LibcontainerError, match=r"ordinary directory|not a directory"):
        run_output(c, ["true"])
    assert list(host_dir.iterdir()) == []


@pytest.mark.parametrize("style", ["absolute", "dotdot"])
def test_cve_2021_30465_bind_destination_symlink_stays_in_rootfs(
    containers: Factories, make_config: Any, bundle: Path, host_dir: Path, style: str
) -> None:
    """CVE-2021-30465 / CVE-2019-16884 (non-race form): a bind destination of the image is
    a symlink pointing at a host path. It is resolved *inside* the rootfs, as if the rootfs
    were /: the mount lands in the container and nothing appears on the host path."""
    src = host_dir / "volume"
    src.mkdir()
    (src / "MARK").write_text("volume")
    victim = host_dir / "victim"
    victim.mkdir()
    root = rootfs_of(bundle)
    link = str(victim) if style == "absolute" else "../../../../../../../.." + str(victim)
    (root / "data").symlink_to(link)
    c = containers.create(make_config(add_mounts(bind(src, "/data"))))
    out, code = run_output(c, ["sh", "-c", f"cat {victim}/MARK; echo; ls /data/"])
    assert code == 0, out
    assert out.splitlines()[0] == "volume"
    assert list(victim.iterdir()) == []
    # The directory the mount needed was made inside the rootfs.
    assert (root / str(victim).lstrip("/")).is_dir()


def test_cve_2024_45310_no_files_or_dirs_created_outside(
    containers: Factories, make_config: Any, bundle: Path, host_dir: Path
) -> None:
    """CVE-2024-45310: bind mounts whose destinations do not exist yet, below a symlink that
    points out of the rootfs: making the missing directories and the empty file for a
    file bind must not create anything on the host."""
    victim = host_dir / "victim"
    victim.mkdir()
    src_dir = host_dir / "srcdir"
    src_dir.mkdir()
    src_file = host_dir / "srcfile"
    src_file.write_text("file")
    root = rootfs_of(bundle)
    (root / "escape").symlink_to("../../../../../../../../" + str(victim))
    c = containers.create(
        make_config(
            add_mounts(
                bind(src_dir, "/escape/newdir/sub"),
                bind(src_file, "/escape/newfile"),
            )
        )
    )
    out, code = run_output(c, ["cat", f"{victim}/newfile"])
    assert (out, code) == ("file", 0)
    assert list(victim.iterdir()) == []


def test_bind_mount_sources_checked(
    containers: Factories, make_config: Any, host_dir: Path
) -> None:
    """A bind source that does not exist is a clear ConfigError, not a mount of something
    else (and the container is left startable)."""
    c = containers.create(make_config(add_mounts(bind(host_dir / "missing", "/data"))))
    with pytest.raises(LibcontainerError, match="does not exist"):
        run_output(c, ["true"])


SWAPPER = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
RENAME_EXCHANGE = 2
a, b = sys.argv[1].encode(), sys.argv[2].encode()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    libc.renameat2(-100, a, -100, b, RENAME_EXCHANGE)
"""


def test_cve_2021_30465_racing_symlink_exchange(
    containers: Factories, make_config: Any, bundle: Path, host_dir: Path
) -> None:
    """CVE-2021-30465 (race form): while containers start, a process swaps a bind
    destination between a real directory and a symlink to /proc (renameat2 EXCHANGE in a
    tight loop). A mount that followed the symlink after the checks would cover the
    container's /proc with the volume and void its masks. Mounts go through an fd opened
    and checked once, so each start either mounts on the directory or fails."""
    src = host_dir / "volume"
    src.mkdir()
    (src / "MARK").write_text("volume")
    root = rootfs_of(bundle)
    (root / "race").mkdir()
    (root / "race-link").symlink_to("/proc")
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(root / "race"), str(root / "race-link")]
    )
    holes, failures, ok = [], 0, 0
    try:
        config = make_config(add_mounts(bind(src, "/race")))
        for _ in range(25):
            c = containers.create(config)
            try:
                probe = "ls /proc/MARK 2>/dev/null; cat /race/MARK"
                out, _code = run_output(c, ["sh", "-c", probe])
            except LibcontainerError:
                failures += 1
                continue
            finally:
                c.destroy()
            if "/proc/MARK" in out:
                holes.append(out)
            else:
                ok += 1
    finally:
        swapper.kill()
        swapper.wait()
    assert not holes, holes
    assert ok + failures == 25


# --- CVE-2024-21626: leaked fds and cwd -------------------------------------------------

FD_LIST = 'for f in /proc/self/fd/*; do echo "${f##*/} $(readlink $f)"; done'


def _fds(out: str) -> dict[int, str]:
    fds = {}
    for line in out.splitlines():
        n, _, target = line.partition(" ")
        if n.isdigit():
            fds[int(n)] = target
    return fds


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8, 9, 10, 15, 255, 256, 257])
def test_cve_2024_21626_cwd_through_a_leaked_fd(
    containers: Factories, make_config: Any, n: int
) -> None:
    """CVE-2024-21626: ``cwd: /proc/self/fd/N`` where N was a host directory fd (cgroupfs,
    the state dir) leaked into the init: the process would start with a working directory
    on the host. Every inherited fd is closed before the chdir, so it fails (or, if N is
    not open at all, the chdir just fails)."""
    c = containers.create(make_config(lambda s: s["process"].update(cwd=f"/proc/self/fd/{n}")))
    try:
        out, code = run_output(c, ["sh", "-c", "pwd; ls .."])
    except LibcontainerError as e:
        assert "cwd" in str(e) or "outside" in str(e)
        return
    pytest.fail(f"container started with cwd /proc/self/fd/{n}: {out!r} (exit {code})")


def test_cve_2024_21626_exec_cwd_through_a_leaked_fd(
    containers: Factories, make_config: Any
) -> None:
    """CVE-2024-21626, exec form: ``runc exec --cwd /proc/self/fd/N``."""
    c = containers.create(make_config())
    c.run(Process(["sleep", "1000"]))
    for n in (3, 4, 5, 6, 7, 8, 255, 256):
        ex = Process(["pwd"], init=False, cwd=f"/proc/self/fd/{n}", stdout=subprocess.PIPE)
        try:
            c.start(ex)
        except LibcontainerError:
            continue
        assert ex.stdout is not None
        out = ex.stdout.read().decode()
        ex.wait()
        pytest.fail(f"exec started with cwd /proc/self/fd/{n}: {out!r}")


def test_cve_2024_21626_no_fd_leaks_into_init_or_exec(
    containers: Factories, make_config: Any
) -> None:
    """CVE-2024-21626: the container's processes hold only 0, 1, 2 and the fds the caller
    asked to preserve; nothing of the host (state dir, cgroupfs, sockets, the spawner)."""
    c = containers.create(make_config())
    out, code = run_output(c, ["sh", "-c", FD_LIST])
    assert code == 0, out
    fds = _fds(out)
    assert set(fds) <= {0, 1, 2, 3}, out
    # 3, if listed, is the directory the shell itself opened to expand the glob (closed
    # again by the time readlink runs, so its target reads empty).
    assert fds.get(3, "").startswith(("/proc/", "")), out

    r, w = os.pipe()
    try:
        init = Process(["sh", "-c", FD_LIST + "; sleep 1000"], pass_fds=[r], stdout=subprocess.PIPE)
        c2 = containers.create(make_config())
        c2.run(init)
    finally:
        os.close(r)
        os.close(w)
    assert init.stdout is not None
    lines = []
    while len(lines) < 5:
        line = init.stdout.readline().decode()
        if not line:
            break
        lines.append(line)
        if line.startswith(("3 ", "4 ")) and len(_fds("".join(lines))) >= 4:
            break
    ex = Process(["sh", "-c", FD_LIST], init=False, stdout=subprocess.PIPE)
    c2.start(ex)
    assert ex.stdout is not None
    ex_out = ex.stdout.read().decode()
    ex.wait()
    init_fds = _fds("".join(lines))
    assert init_fds.get(3, "").startswith("pipe:"), lines
    assert set(init_fds) <= {0, 1, 2, 3, 4}, lines
    assert set(_fds(ex_out)) <= {0, 1, 2, 3}, ex_out
    assert not _fds(ex_out).get(3), ex_out


# --- CVE-2025-31133 / CVE-2025-52565 / CVE-2025-52881 -----------------------------------


def _bind_dev(host_dev: Path) -> Any:
    """Replace the spec's /dev tmpfs with a bind of ``host_dev`` (so the image controls it)."""

    def edit(spec: dict[str, Any]) -> None:
        spec["mounts"] = [m for m in spec["mounts"] if m["destination"] != "/dev"]
        spec["mounts"].insert(1, bind(host_dev, "/dev", "rbind"))

    return edit


@pytest.mark.parametrize("kind", ["symlink-core_pattern", "symlink-sysrq", "regular-file"])
def test_cve_2025_31133_dev_null_replaced(
    containers: Factories, make_config: Any, host_dir: Path, kind: str
) -> None:
    """CVE-2025-31133: /dev/null (used to mask files such as /proc/kcore) is replaced by a
    symlink to a writable /proc file or by a regular file, so the "mask" bind-mounts
    core_pattern or sysrq-trigger over masked paths, writable from the container. The init
    checks /dev/null is really char 1:3 and refuses to start otherwise."""
    dev = host_dir / "dev"
    dev.mkdir()
    if kind == "regular-file":
        (dev / "null").write_text("")
    else:
        target = "/proc/sys/kernel/core_pattern" if "core" in kind else "/proc/sysrq-trigger"
        (dev / "null").symlink_to(target)
    c = containers.create(make_config(_bind_dev(dev)))
    with pytest.raises(LibcontainerError, match="/dev/null"):
        run_output(c, ["sh", "-c", "ls -l /proc/kcore; cat /proc/sys/kernel/core_pattern"])


def test_cve_2025_52565_dev_console_symlink(
    containers: Factories, make_config: Any, host_dir: Path
) -> None:
    """CVE-2025-52565: with a terminal, the init bind-mounts the pty on /dev/console. If the
    image made /dev/console a symlink to a /proc file, the bind would land on that /proc
    file (making it a pty, evading the masks and read-only /proc/sys). The init must not
    follow /dev/console."""
    dev = host_dir / "dev"
    dev.mkdir()
    os.mknod(dev / "null", 0o666 | 0o020000, os.makedev(1, 3))
    (dev / "pts").mkdir()
    (dev / "ptmx").symlink_to("pts/ptmx")
    (dev / "console").symlink_to("/proc/sys/kernel/core_pattern")
    c = containers.create(make_config(_bind_dev(dev)))
    proc = Process(["sh", "-c", "ls -l /proc/sys/kernel/core_pattern /dev/console"], terminal=True)
    try:
        c.run(proc)
    except LibcontainerError as e:
        assert "console" in str(e)
        return
    assert proc.console is not None
    out = b""
    try:
        while chunk := proc.console.read(4096):
            out += chunk
    except OSError:
        pass
    proc.wait()
    text = out.decode(errors="replace")
    core = [ln for ln in text.splitlines() if "core_pattern" in ln]
    assert core and core[0].startswith("-"), text  # still a regular procfs file, not a pty


def test_cve_2025_52881_proc_write_redirected_by_a_bind_mount(bundle: Path) -> None:
    """CVE-2025-52881: the init's writes to /proc (sysctls, attr/exec, ...) are redirected
    by a bind mount of *another procfs file* over the target (same filesystem, so a device
    check alone passes). write_proc_file must refuse a target that is a different mount
    from /proc. Run in a private mount and UTS namespace: the redirect target is the UTS
    hostname, harmless there."""
    code = textwrap.dedent(
        """
        import subprocess, sys
        from libcontainer.procfs import write_proc_file
        from libcontainer.errors import SyscallError
        subprocess.run(["mount", "--bind", "/proc/sys/kernel/hostname",
                        "/proc/sys/kernel/domainname"], check=True)
        before = open("/proc/sys/kernel/hostname").read()
        try:
            write_proc_file("/proc/sys/kernel/domainname", "pwned")
        except SyscallError as e:
            print("refused:", e)
        after = open("/proc/sys/kernel/hostname").read()
        print("hostname changed" if after != before else "hostname intact")
        """
    )
    out = subprocess.run(
        ["unshare", "--mount", "--uts", "--propagation", "private", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "hostname intact" in out.stdout, out.stdout + out.stderr
    assert "refused" in out.stdout, out.stdout + out.stderr


def test_cve_2025_52881_sysctl_names_cannot_escape_proc_sys(
    containers: Factories, make_config: Any
) -> None:
    """CVE-2025-52881 (sysctl form): a sysctl key that walks out of /proc/sys
    (``kernel/../../sysrq-trigger``) to have the init write another /proc file."""
    for key in ("kernel/../../sysrq-trigger", "..sysrq-trigger", "kernel.../../../sysrq-trigger"):
        with pytest.raises(ConfigError):
            c = containers.create(make_config(lambda s, k=key: s["linux"].update(sysctl={k: "h"})))
            run_output(c, ["true"])


def test_no_mounts_over_proc_files(containers: Factories, make_config: Any, host_dir: Path) -> None:
    """Redirecting /proc writes by mounting over /proc files from the config: only the files
    lxcfs emulates may be covered (runc's checkProcMount)."""
    f = host_dir / "fake"
    f.write_text("0")
    for dest in ("/proc/sys/kernel/domainname", "/proc/self/attr/exec", "/proc/sysrq-trigger"):
        c = containers.create(make_config(add_mounts(bind(f, dest))))
        with pytest.raises(LibcontainerError, match="inside /proc"):
            run_output(c, ["true"])


# --- ids and paths with "..", hostile /etc/passwd, masked paths -------------------------


@pytest.mark.parametrize("bad", ["..", "../escape", "a/../../b", "/abs", "a/b", ".", ""])
def test_container_ids_with_dotdot(containers: Factories, make_config: Any, bad: str) -> None:
    """A container id is a state-dir name: ``..`` or a slash would put state.json (and its
    removal on destroy) outside the state root."""
    with pytest.raises(InvalidIdError):
        containers.factory.create(bad, make_config())
    assert not (containers.factory.root.parent / "escape").exists()


def test_paths_with_dotdot_stay_in_the_rootfs(
    containers: Factories, make_config: Any, bundle: Path, host_dir: Path
) -> None:
    """Mount destinations, cwd and masked paths with ``..`` resolve inside the rootfs."""
    src = host_dir / "volume"
    src.mkdir()
    (src / "MARK").write_text("v")
    dest = "/../../../../../.." + str(host_dir) + "/dst"

    def edit(spec: dict[str, Any]) -> None:
        spec["mounts"].append(bind(src, dest))
        spec["process"]["cwd"] = "/../../../../tmp"
        spec["linux"]["maskedPaths"].append("/../../../../etc/hostname")

    c = containers.create(make_config(edit))
    out, code = run_output(
        c, ["sh", "-c", f"pwd; cat {host_dir}/dst/MARK; echo; wc -c < /etc/hostname"]
    )
    assert code == 0, out
    assert out.split() == ["/tmp", "v", "0"]
    assert sorted(p.name for p in host_dir.iterdir()) == ["volume"]


def test_hostile_etc_passwd(containers: Factories, make_config: Any, bundle: Path) -> None:
    """A hostile image /etc/passwd: malformed lines, a line of megabytes, and 200 MB of
    (sparse) NULs. Users before the junk resolve; a user after it is not found, quickly,
    without reading 200 MB into memory."""
    passwd = rootfs_of(bundle) / "etc" / "passwd"
    with open(passwd, "wb") as f:
        f.write(b"root:x:0:0:root:/root:/bin/sh\n")
        f.write(b"broken\n::::\n:x:::::\nmallory:x:notanumber:0::/:/bin/sh\n")
        f.write(b"huge:" + b"A" * (4 << 20) + b"\n")
        f.write(b"alice:x:1000:1000:Alice:/home/alice:/bin/sh\n")
        f.seek(200 << 20)
        f.write(b"\nbob:x:1001:1001::/home/bob:/bin/sh\n")
    c = containers.create(make_config())
    out, code = run_output(c, ["sh", "-c", "id -u; echo $HOME"], user="alice")
    # busybox id complains about the bad records; the last two words are ours.
    assert (out.split()[-2:], code) == (["1000", "/home/alice"], 0)
    c2 = containers.create(make_config())
    with pytest.raises(LibcontainerError, match="unable to find user"):
        run_output(c2, ["true"], user="bob")
    c3 = containers.create(make_config())
    with pytest.raises(LibcontainerError, match="unable to find user"):
        run_output(c3, ["true"], user="mallory")


def test_default_masked_paths_are_masked(containers: Factories, make_config: Any) -> None:
    """Every maskedPaths entry of runc's default spec, from inside an exec'd process too:
    files read empty as the null device (char 1:3), directories are empty and read-only."""
    from ctutil import example_spec_dict

    masked = example_spec_dict()["linux"]["maskedPaths"]
    script = textwrap.dedent(
        """
        for p in "$@"; do
            if [ -d "$p" ]; then
                w=$(touch "$p/x" 2>/dev/null && echo rw || echo ro)
                echo "$p dir $(ls -A "$p" | wc -l) $w"
            elif [ -e "$p" ]; then
                echo "$p file $(stat -c '%t,%T' "$p") $(wc -c < "$p")"
            else
                echo "$p absent"
            fi
        done
        """
    )
    c = containers.create(make_config())
    c.run(Process(["sleep", "1000"]))
    for proc_init in (True, False):
        if proc_init:
            c2 = containers.create(make_config())
            out, code = run_output(c2, ["sh", "-c", script, "sh", *masked])
        else:
            ex = Process(["sh", "-c", script, "sh", *masked], init=False, stdout=subprocess.PIPE)
            c.start(ex)
            assert ex.stdout is not None
            out = ex.stdout.read().decode()
            code = ex.wait()
        assert code == 0, out
        seen = 0
        for line in out.splitlines():
            _path, kind, *rest = line.split()
            if kind == "dir":
                assert rest == ["0", "ro"], line
            elif kind == "file":
                assert rest == ["1,3", "0"], line
            seen += kind != "absent"
        assert seen >= 3, out  # /proc/kcore, /proc/keys, /proc/timer_list exist everywhere
