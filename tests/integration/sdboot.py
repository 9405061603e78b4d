"""Boot a real systemd for tests, isolated: PID 1 of its own PID, mount, cgroup, UTS, IPC and
network namespaces, in its own rootfs (a copy of /etc with a minimal default target and
noisy units masked, the host's /usr read-only, fresh tmpfs for /run, /tmp, /var and /dev),
in a cgroup of its own in every hierarchy, which is the root of its cgroup namespace.

Never on the host's root filesystem: a systemd there runs tmpfiles (wiping /tmp) and leaves
cgroups behind. :meth:`SystemdBox.close` kills it (the whole PID namespace dies with PID 1)
and removes every cgroup it or the test created.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from testrun import TMP_PREFIX

from libcontainer.cgroups import HostCgroups

# The repository (the editable install points here): bound at the same path in the box, as
# are the interpreter's installation and virtual environment.
REPO = str(Path(__file__).resolve().parents[2])

SYSTEMD = "/lib/systemd/systemd"
MASKED = (
    "systemd-journald.service",
    "systemd-journald.socket",
    "systemd-journald-dev-log.socket",
    "systemd-journald-audit.socket",
    "systemd-udevd.service",
    "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket",
    "systemd-tmpfiles-setup.service",
    "systemd-tmpfiles-setup-dev.service",
    "systemd-tmpfiles-clean.timer",
    "systemd-logind.service",
    "systemd-networkd.service",
    "systemd-resolved.service",
    "systemd-timesyncd.service",
    "systemd-remount-fs.service",
    "systemd-update-utmp.service",
    "systemd-random-seed.service",
    "getty.target",
    "console-getty.service",
    "dbus.service",
    "dbus.socket",
    "cron.service",
    "ssh.service",
    "networking.service",
)
TARGET = """[Unit]
Description=pylibcontainer test target (nothing else starts)
AllowIsolate=yes
"""


class SystemdBox:
    """A running isolated systemd; :meth:`client` runs a command in its namespaces."""

    def __init__(self) -> None:
        self.host = HostCgroups.load()
        self.tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "systemd-"))
        self.rootfs = self.tmp / "rootfs"
        self.log = self.tmp / "systemd.log"
        self.name = f"{TMP_PREFIX}sd-{uuid.uuid4().hex[:10]}"
        self.cgroups: list[str] = []
        self.cgroup_of_mount: dict[str, str] = {}
        """Host mount point -> the box's cgroup directory in that hierarchy."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0
        try:
            self._make_rootfs()
            self._make_cgroups()
            self._boot()
        except BaseException:
            self.close()
            raise

    # -- set-up ----------------------------------------------------------------------------

    def _make_rootfs(self) -> None:
        r = self.rootfs
        r.mkdir()
        subprocess.run(["cp", "-a", "/etc", str(r / "etc")], check=True)
        for d in ("usr", "proc", "sys", "dev", "run", "tmp", "var"):
            (r / d).mkdir(parents=True, exist_ok=True)
        for link in ("bin", "sbin", "lib", "lib64"):
            if os.path.islink("/" + link):
                (r / link).symlink_to(os.readlink("/" + link))
        system = r / "etc/systemd/system"
        system.mkdir(parents=True, exist_ok=True)
        # Nothing the host enabled may start here (podman-restart, getty, ...).
        for wants in list(system.glob("*.wants")) + list(system.glob("*.requires")):
            shutil.rmtree(wants)
        (system / "pylibct-test.target").write_text(TARGET)
        default = system / "default.target"
        if default.is_symlink() or default.exists():
            default.unlink()
        default.symlink_to("/etc/systemd/system/pylibct-test.target")
        for unit in MASKED:
            path = system / unit
            if path.is_symlink() or path.exists():
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            path.symlink_to("/dev/null")

    def _make_cgroups(self) -> None:
        seen: set[str] = set()
        for mount in self.host.mounts:
            if not mount.mountpoint.startswith(self.host.root) or mount.mountpoint in seen:
                continue
            seen.add(mount.mountpoint)
            if mount.fstype == "cgroup":
                key = next(
                    (o for o in mount.options if o in self.host.own_cgroups),
                    None,
                )
                if key is None:
                    continue
                own = self.host.own_cgroups[key]
            else:
                own = self.host.own_cgroups.get("", "/")
            relative = os.path.relpath(own, mount.root) if own != mount.root else ""
            path = os.path.normpath(os.path.join(mount.mountpoint, relative, self.name))
            os.mkdir(path)
            self.cgroups.append(path)
            self.cgroup_of_mount[mount.mountpoint] = path
            if "cpuset" in mount.options:
                # A cpuset cgroup takes no task before it has cpus and mems.
                parent = os.path.dirname(path)
                for name in ("cpuset.cpus", "cpuset.mems"):
                    value = Path(parent, name).read_text().strip()
                    Path(path, name).write_text(value)

    def host_path(self, inside: str) -> str:
        """The host path of a cgroup directory as seen inside (``/sys/fs/cgroup/memory/x``)."""
        for mountpoint, path in sorted(self.cgroup_of_mount.items(), key=lambda kv: -len(kv[0])):
            if inside == mountpoint or inside.startswith(mountpoint + "/"):
                return path + inside[len(mountpoint) :]
        raise KeyError(f"{inside} is in no hierarchy the box has")

    def _join_cgroups_script(self) -> str:
        # Each write must work: a process left outside a hierarchy would put systemd's
        # cgroup namespace root (and the cgroups it creates) at the host's root.
        return "set -e; " + "".join(
            f"echo $$ > {shlex.quote(p)}/cgroup.procs; " for p in self.cgroups
        )

    def _boot(self) -> None:
        r = shlex.quote(str(self.rootfs))
        # The client runs this interpreter: its installation (/usr is bound anyway), its
        # virtual environment when that lies outside the repository, and the repository.
        shown = [REPO]
        if "/.pyenv/" in sys.base_prefix:
            shown.append(sys.base_prefix.split("/versions/")[0])
        if sys.prefix != sys.base_prefix and not sys.prefix.startswith(REPO + "/"):
            shown.append(sys.prefix)
        binds = ""
        for path in map(shlex.quote, shown):
            # mkdir here, after the tmpfs mounts: a checkout under /tmp (CI's) would be hidden.
            binds += (
                f"mkdir -p {r}{path}; mount --bind {path} {r}{path}; "
                f"mount -o remount,bind,ro {r}{path}; "
            )
        devs = "".join(
            f"touch {r}/dev/{n}; mount --bind /dev/{n} {r}/dev/{n}; "
            for n in ("null", "zero", "full", "random", "urandom", "tty")
        )
        inner = (
            "set -e; "
            f"mount --bind {r} {r}; "
            f"mount --bind /usr {r}/usr; mount -o remount,bind,ro {r}/usr; "
            + "".join(
                f"mount -t tmpfs -o mode=755 tmpfs {r}/{d}; " for d in ("run", "tmp", "var", "dev")
            )
            + f"chmod 1777 {r}/tmp; "
            + devs
            + f"mount -t proc proc {r}/proc; mount -t sysfs sysfs {r}/sys; "
            + binds
            + f"cd {r}; mkdir -p .oldroot; pivot_root . .oldroot; umount -l /.oldroot; "
            + "rmdir /.oldroot; "
            + f"exec {SYSTEMD} systemd.unified_cgroup_hierarchy=0 systemd.show_status=0 "
            "--log-target=console --log-level=info"
        )
        wrapper = (
            self._join_cgroups_script()
            + "exec unshare --pid --fork --mount --uts --ipc --net --cgroup "
            + f"--propagation private sh -c {shlex.quote(inner)}"
        )
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "container": "pylibcontainer-test"}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["sh", "-c", wrapper], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"systemd exited early:\n{self.log.read_text()[-3000:]}")
            if not self.pid:
                self.pid = self._child_of(self.proc.pid)
            if self.pid and os.path.exists(f"/proc/{self.pid}/root/run/systemd/private"):
                state = self.client(["systemctl", "is-system-running"], check=False)
                if state.stdout.strip() in ("running", "degraded"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"systemd did not come up in 20 s:\n{self.log.read_text()[-3000:]}")

    @staticmethod
    def _child_of(pid: int) -> int:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0
        return int(children[0]) if children else 0

    # -- use -------------------------------------------------------------------------------

    def nsenter_argv(self, argv: list[str]) -> list[str]:
        """``argv`` run inside systemd's namespaces, in the test's cgroup (the ns root)."""
        enter = ["nsenter", "-t", str(self.pid), "-m", "-p", "-C", "-u", "-i", "-n", "--", *argv]
        script = self._join_cgroups_script() + "exec " + shlex.join(enter)
        return ["sh", "-c", script]

    def client(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside and wait for it."""
        return subprocess.run(
            self.nsenter_argv(argv), capture_output=True, text=True, check=check, timeout=60
        )

    def popen(self, argv: list[str]) -> subprocess.Popen[str]:
        """Start ``argv`` inside with pipes on stdin and stdout."""
        return subprocess.Popen(
            self.nsenter_argv(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # -- tear-down -------------------------------------------------------------------------

    def close(self) -> list[str]:
        """Kill systemd and everything in its PID namespace; remove every cgroup and the
        temporary rootfs. Returns the cgroups that could not be removed."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        left = []
        for path in self.cgroups:
            for attempt in range(50):
                try:
                    _remove_tree(path)
                    break
                except OSError:
                    time.sleep(0.05 * (attempt + 1) / 10)
            if os.path.exists(path):
                left.append(path)
        # The rootfs mounts lived in systemd's mount namespace only, gone with it.
        shutil.rmtree(self.tmp, ignore_errors=True)
        return left


def _remove_tree(path: str) -> None:
    for dirpath, dirnames, _files in os.walk(path, topdown=False):
        for d in dirnames:
            os.rmdir(os.path.join(dirpath, d))
    if os.path.isdir(path):
        os.rmdir(path)
