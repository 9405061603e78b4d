"""A real unprivileged user for the rootless tests, made by the test and removed after.

:class:`RootlessUser` adds a user whose name carries the run's token (``useradd``), gives it
subordinate uid and gid ranges of its own (``usermod --add-subuids``, within a band chosen
from the token so that two runs never share one), a home and an ``XDG_RUNTIME_DIR`` made by
the test (as a login would), a busybox bundle it owns, and a Python it can run that imports
this checkout: a virtual environment made from an interpreter of the same version the user
may execute, whose ``.pth`` names the checkout and the site-packages of the interpreter that
runs the tests. Nothing on the host is loosened: the user reads the checkout only if it is
world-readable already (otherwise the tests skip and say so).

Commands run as the user through ``runuser`` with the environment a login gives (``HOME``,
``USER``, ``XDG_RUNTIME_DIR``, a plain ``PATH``), optionally from inside a
:class:`Delegation`: cgroups the test makes in every hierarchy and chowns to the user, as
systemd's ``Delegate=`` does for ``user@UID.service``, with the user's command started in
them (the way systemd starts a user's session there).

At the end every process of the user's uids is killed (they are the test's: the user and
its subordinate ids exist only for it), then the user, its ranges, its group and its files
are removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from testrun import RUN_TOKEN, TMP_PREFIX, unique_name

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "bin" / "pyrunc"
SUB_COUNT = 65536
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


#: The run's band of host ids for user namespaces: one per run token, high above what
#: useradd hands out (SUB_UID_MAX is 600100000), so concurrent runs never share one.
SUB_START = 1_000_000_000 + (int(RUN_TOKEN, 16) % 40000) * SUB_COUNT


def _tools_or_skip() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create and remove a user")
    for tool in ("useradd", "userdel", "usermod", "runuser"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: passwd, util-linux)")


class RootlessUser:
    """An unprivileged user of the test's own (see the module's docstring)."""

    def __init__(self, busybox_template: Path) -> None:
        _tools_or_skip()
        self.name = f"pylct-{RUN_TOKEN}-{secrets.token_hex(2)}"
        self.base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "rootless-"))
        self.sub_start = SUB_START
        self.created = False
        try:
            # Traversable by the user (mkdtemp makes it 0700); it lists nothing of ours.
            os.chmod(self.base, 0o711)
            self.home = self.base / "home"
            self.xdg = self.base / "run"
            self.bundle = self.base / "bundle"
            subprocess.run(
                [
                    "useradd",
                    "--no-create-home",
                    "--user-group",
                    "--shell",
                    "/bin/sh",
                    "--home-dir",
                    str(self.home),
                    "-K",
                    "SUB_UID_COUNT=0",
                    "-K",
                    "SUB_GID_COUNT=0",
                    self.name,
                ],
                check=True,
                capture_output=True,
            )
            self.created = True
            ids = f"{self.sub_start}-{self.sub_start + SUB_COUNT - 1}"
            subprocess.run(
                ["usermod", "--add-subuids", ids, "--add-subgids", ids, self.name],
                check=True,
                capture_output=True,
            )
            import pwd

            entry = pwd.getpwnam(self.name)
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
            for d, mode in ((self.home, 0o755), (self.xdg, 0o700)):
                d.mkdir()
                os.chown(d, self.uid, self.gid)
                os.chmod(d, mode)
            self.bundle.mkdir()
            subprocess.run(
                ["cp", "-a", str(busybox_template), str(self.bundle / "rootfs")], check=True
            )
            subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", str(self.bundle)], check=True)
            self.python, self.pyrunc = self._make_venv()
        except BaseException:
            self.close()
            raise

    # -- the user's Python --------------------------------------------------------------------

    def _make_venv(self) -> tuple[str, str]:
        """A venv the user can run, importing this checkout and the tests' site-packages."""
        venv = self.base / "venv"
        base = self._usable_interpreter()
        subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
        version = "python{}.{}".format(*sys.version_info[:2])
        site_dir = venv / "lib" / version / "site-packages"
        import site

        paths = [str(REPO), *(p for p in site.getsitepackages() if os.path.isdir(p))]
        (site_dir / "pylibcontainer-tests.pth").write_text("\n".join(paths) + "\n")
        shutil.copy(LAUNCHER, venv / "bin" / "pyrunc")
        os.chmod(venv / "bin" / "pyrunc", 0o755)
        python = str(venv / "bin" / "python3")
        probe = self.run(
            [python, "-c", "import libcontainer._nsenter, attrs, cattrs, specconv, pyrunc"]
        )
        if probe.returncode != 0:
            pytest.skip(
                f"the checkout or its virtual environment is not readable by other users "
                f"(the rootless tests run as one; nothing is loosened for them): "
                f"{probe.stderr.strip().splitlines()[-1:]}"
            )
        return python, str(venv / "bin" / "pyrunc")

    def _usable_interpreter(self) -> str:
        """An interpreter of our version the user may execute (ours may sit under a 0700
        home, as pyenv's does under /root)."""
        want = "{}.{}".format(*sys.version_info[:2])
        candidates = [
            os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
            f"/usr/bin/python{want}",
            f"/usr/local/bin/python{want}",
        ]
        for candidate in dict.fromkeys(candidates):
            if not os.path.exists(candidate):
                continue
            probe = self.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            if probe.returncode == 0 and probe.stdout.strip() == want:
                return candidate
        pytest.skip(f"no Python {want} that an unprivileged user may run (tried {candidates})")

    # -- running things as the user -----------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        """What a login gives the user (and the run's token, for names the user makes)."""
        return {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "SHELL": "/bin/sh",
            "PATH": PATH,
            "XDG_RUNTIME_DIR": str(self.xdg),
            "PYLIBCONTAINER_RUN": RUN_TOKEN,
            "PYTHONDONTWRITEBYTECODE": "1",
            **extra,
        }

    def command(self, args: Sequence[str], **extra_env: str) -> list[str]:
        """``args`` as the user, through runuser, with :meth:`env` only."""
        env = [f"{k}={v}" for k, v in self.env(**extra_env).items()]
        return ["runuser", "-u", self.name, "--", "env", "-i", *env, *args]

    def run(
        self,
        args: Sequence[str],
        *,
        delegation: Delegation | None = None,
        input: str | None = None,
        cwd: str | Path | None = None,
        timeout: float = 120,
        **extra_env: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``args`` as the user (in ``delegation``'s cgroups if given); stdio on pipes
        the test made, output captured as text."""
        return subprocess.run(
            self.command(args, **extra_env),
            input=input,
            capture_output=True,
            text=True,
            cwd=str(cwd or self.home),
            timeout=timeout,
            preexec_fn=delegation.join_self if delegation is not None else None,
        )

    def python_json(
        self, code: str, *, delegation: Delegation | None = None, timeout: float = 120
    ) -> dict[str, Any]:
        """Run ``code`` with the user's Python; it prints one JSON object as its last line."""
        done = self.run([self.python, "-c", code], delegation=delegation, timeout=timeout)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            raise AssertionError(
                f"user program failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        result: dict[str, Any] = json.loads(lines[-1])
        result["_stderr"] = done.stderr
        return result

    def write_config(self, spec: dict[str, Any], bundle: Path | None = None) -> Path:
        """Write ``spec`` as the bundle's config.json, owned by the user."""
        path = (bundle or self.bundle) / "config.json"
        path.write_text(json.dumps(spec))
        os.chown(path, self.uid, self.gid)
        return path

    @property
    def state_root(self) -> Path:
        """Where the library and pyrunc keep this user's state by default."""
        return self.xdg / "pyrunc"

    # -- cleanup -------------------------------------------------------------------------------

    def owned_pids(self) -> list[int]:
        """Processes running as the user or one of its subordinate uids (the test's own)."""
        lo, hi = self.sub_start, self.sub_start + SUB_COUNT
        mine = getattr(self, "uid", -1)
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:  # the real uid (a non-dumpable process's /proc dir belongs to root)
                with open(f"/proc/{entry}/status") as f:
                    line = next(x for x in f if x.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            uid = int(line.split()[1])
            if uid == mine or lo <= uid < hi:
                found.append(int(entry))
        return found

    def close(self) -> None:
        """Kill what is left of the user's, remove the user, its ranges and its files."""
        if self.created:
            for _ in range(50):
                pids = self.owned_pids()
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.02)
            ids = f"{self.sub_start}-{self.sub_start + SUB_COUNT - 1}"
            subprocess.run(
                ["usermod", "--del-subuids", ids, "--del-subgids", ids, self.name],
                capture_output=True,
            )
            subprocess.run(["userdel", self.name], capture_output=True)
            self.created = False
        shutil.rmtree(self.base, ignore_errors=True)


class Delegation:
    """A cgroup in every mounted hierarchy (``only``: just those keys), chowned to ``user``
    as systemd's ``Delegate=`` chowns one: the directory and the files that move processes
    and delegate controllers. The user's commands start inside it (:meth:`join_self`)."""

    _CHOWNED = ("cgroup.procs", "tasks", "cgroup.threads", "cgroup.subtree_control")

    def __init__(self, user: RootlessUser, only: Sequence[str] | None = None) -> None:
        from libcontainer.cgroups import HostCgroups
        from libcontainer.cgroups.fs.paths import SUBSYSTEM_NAMES

        host = HostCgroups.load()
        self.name = unique_name("deleg")
        self.dirs: dict[str, str] = {}
        """Subsystem (``""``: cgroup v2, as in state.json) -> the delegated directory."""
        try:
            for m in host.mounts:
                if not m.mountpoint.startswith("/sys/fs/cgroup/") or m.root != "/":
                    continue
                keys = (
                    [""]
                    if m.fstype == "cgroup2"
                    else [o for o in m.options if o in SUBSYSTEM_NAMES]
                )
                if not keys or (only is not None and not set(keys) & set(only)):
                    continue
                path = os.path.join(m.mountpoint, self.name)
                os.mkdir(path)
                self.dirs.update(dict.fromkeys(keys, path))
                for name in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset starts empty
                    if os.path.exists(os.path.join(m.mountpoint, name)):
                        value = Path(m.mountpoint, name).read_text().strip()
                        Path(path, name).write_text(value)
                os.chown(path, user.uid, user.gid)
                for name in self._CHOWNED:
                    with contextlib.suppress(FileNotFoundError):
                        os.chown(os.path.join(path, name), user.uid, user.gid)
        except BaseException:
            self.close()
            raise

    def join_self(self) -> None:
        """(In a child, before it execs runuser) move this process into the cgroups."""
        for path in set(self.dirs.values()):
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write("0")

    def children(self) -> list[str]:
        """Directories below the delegated cgroups (the user's), deepest first."""
        found = []
        for top in set(self.dirs.values()):
            for dirpath, dirnames, _ in os.walk(top):
                found += [os.path.join(dirpath, d) for d in dirnames]
        return sorted(found, key=len, reverse=True)

    def close(self) -> None:
        """Remove the cgroups (the user's processes must be gone: RootlessUser.close)."""
        for path in [*self.children(), *set(self.dirs.values())]:
            for _ in range(100):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


@contextlib.contextmanager
def delegated(user: RootlessUser, only: Sequence[str] | None = None) -> Iterator[Delegation]:
    """A :class:`Delegation` for the ``with`` block; processes left in it are killed."""
    d = Delegation(user, only)
    try:
        yield d
    finally:
        for path in set(d.dirs.values()):
            for dirpath, _, _ in os.walk(path):
                with contextlib.suppress(OSError):
                    for pid in Path(dirpath, "cgroup.procs").read_text().split():
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(int(pid), signal.SIGKILL)
        d.close()
