"""A safe place to prove that destroy never touches what is not the container's own.

The bugs these tests guard against once killed processes all over a host (a destroy that
walked the hierarchy roots) and removed cgroups the container never made. A test that would
catch a regression must not itself do that harm if the regression comes back, so it runs
the dangerous scenario in a child process whose world is small:

- its own cgroups (one per hierarchy, named with the run's token), holding it and a
  *bystander* process, so "the caller's own cgroup" is a cgroup only the test's processes
  are in;
- optionally its own mount namespace in which each hierarchy's mount point is a bind mount
  of those cgroups, so "a hierarchy's root" there is the sacrificial cgroup too.

Whatever a regressed destroy signals or removes is then the test's own, and the test sees
it (the bystander died, its cgroup vanished) and fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from testrun import unique_name

from libcontainer.cgroups import HostCgroups

REPO = str(Path(__file__).resolve().parents[2])
TESTS = str(Path(__file__).resolve().parent)


class Sacrifice:
    """Cgroups of the test's own in every mounted hierarchy, and a bystander in them."""

    def __init__(self) -> None:
        host = HostCgroups.load()
        self.name = unique_name("sacrifice")
        self.mountpoints: dict[str, str] = {}
        for m in host.mounts:
            if m.mountpoint.startswith("/sys/fs/cgroup/") and m.root == "/":
                self.mountpoints[m.mountpoint] = os.path.join(m.mountpoint, self.name)
        self.bystander: subprocess.Popen[bytes] | None = None
        try:
            for mountpoint, path in self.mountpoints.items():
                os.mkdir(path)
                for name in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset is empty at first
                    if os.path.exists(os.path.join(mountpoint, name)):
                        value = Path(mountpoint, name).read_text().strip()
                        Path(path, name).write_text(value)
            self.bystander = self.spawn(["sleep", "1000"])
        except BaseException:
            self.close()
            raise

    @property
    def dirs(self) -> list[str]:
        """The sacrificial cgroup directories (that exist)."""
        return [p for p in self.mountpoints.values() if os.path.isdir(p)]

    def join(self, pid: int) -> None:
        """Move ``pid`` into every sacrificial cgroup."""
        for path in self.dirs:
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(pid))

    def spawn(self, args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        """Start ``args`` inside the sacrificial cgroups (joined before it execs)."""
        dirs = self.dirs

        def join_self() -> None:
            for path in dirs:
                with open(os.path.join(path, "cgroup.procs"), "w") as f:
                    f.write("0")  # 0: the writing process itself

        return subprocess.Popen(args, preexec_fn=join_self, **kwargs)  # type: ignore[call-overload,no-any-return]

    def run_python(
        self, script: str, *, bind_roots: bool = False, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``script`` (Python, the repository importable) inside the sacrificial
        cgroups; with ``bind_roots``, in a mount namespace where each hierarchy's mount
        point shows the sacrificial cgroup (the script sees it as the hierarchy's root)."""
        prelude = f"import sys; sys.path[:0] = [{REPO!r}, {TESTS!r}]\n"
        if bind_roots:
            pairs = json.dumps(self.mountpoints)
            prelude += (
                "import json, subprocess\n"
                "subprocess.run(['mount', '--make-rprivate', '/'], check=True)\n"
                f"for mp, src in json.loads({pairs!r}).items():\n"
                "    subprocess.run(['mount', '--bind', src, mp], check=True)\n"
            )
        argv = [sys.executable, "-c", prelude + script]
        if bind_roots:
            argv = ["unshare", "--mount", "--propagation", "private", *argv]
        proc = self.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # A regressed destroy may have frozen the scenario in its own cgroup (runc's
            # freeze-then-kill, aimed at the wrong cgroup): report, close() cleans up.
            self._thaw_and_kill()
            out, err = proc.communicate()
            err += b"\n(the scenario hung and was killed)"
        return subprocess.CompletedProcess(argv, proc.returncode, out.decode(), err.decode())

    def bystander_alive(self) -> bool:
        """Whether the bystander still runs."""
        return self.bystander is not None and self.bystander.poll() is None

    def intact(self) -> bool:
        """Whether every sacrificial cgroup still exists."""
        return all(os.path.isdir(p) for p in self.mountpoints.values())

    def _thaw_and_kill(self) -> None:
        for path in self.dirs:
            for state in Path(path).glob("**/freezer.state"):
                with contextlib.suppress(OSError):
                    state.write_text("THAWED")
            _kill_all_in(path)

    def close(self) -> None:
        """Kill what is in the sacrificial cgroups (thawed first) and remove them."""
        self._thaw_and_kill()
        if self.bystander is not None:
            with contextlib.suppress(ProcessLookupError):
                self.bystander.kill()
            self.bystander.wait()
        for path in self.dirs:
            deadline = time.monotonic() + 10
            while os.path.isdir(path):
                self._thaw_and_kill()
                with contextlib.suppress(FileNotFoundError, OSError):
                    for sub in sorted(Path(path).glob("**/"), key=lambda p: -len(p.parts)):
                        if sub != Path(path):
                            os.rmdir(sub)
                    os.rmdir(path)
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)


def _kill_all_in(path: str) -> None:
    for procs in Path(path).glob("**/cgroup.procs"):
        with contextlib.suppress(OSError):
            for pid in procs.read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
