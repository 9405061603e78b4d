"""pyrunc side by side with runc 1.1: the same command under both, and they must agree.

Each test runs a command line the way an engine or a shell script would, once under the
installed ``runc`` (its own ``--root``) and once under ``pyrunc``, each on a container of
its own (ids and cgroups differ, the busybox rootfs is shared), and compares what callers
look at: the exit status, the substring engines parse, and the effect on the machine
(cgroup files, ``/proc/<pid>/cgroup``, files written). Where runc's exact words are
Go-specific, the test names the part that must match.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_cli_helpers import pyrunc_binary
from testrun import TMP_PREFIX, unique_name

from libcontainer.cgroups import CgroupMode, HostCgroups

pytestmark = pytest.mark.root

RUNC = shutil.which("runc")
FIXTURES = Path(os.environ["PYLIBCONTAINER_FIXTURES"])
RUNTIMES = ("runc", "pyrunc")


@dataclass
class Result:
    """One command's outcome."""

    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout and stderr together (runc prints some errors bare, some as log lines)."""
        return self.out + self.err


@dataclass
class Both:
    """The same command's outcome under each runtime."""

    runc: Result
    pyrunc: Result

    def __iter__(self) -> Iterator[Result]:
        return iter((self.runc, self.pyrunc))

    def rcs(self) -> tuple[int, int]:
        """(runc's exit status, pyrunc's)."""
        return self.runc.rc, self.pyrunc.rc

    def all_contain(self, text: str) -> bool:
        """Whether both outputs contain ``text``."""
        return all(text in r.text for r in self)


class Pair:
    """runc and pyrunc, each on its own state root, and the containers they made.

    Arguments may hold ``{id}``: each runtime gets its own container id in its place
    (``<name>-runc``, ``<name>-pyrunc``; the name carries this run's token, and so do the
    default cgroup paths, ``/<id>``).
    """

    def __init__(self, rootfs: Path, wrap: tuple[str, ...] = ()) -> None:
        assert RUNC is not None
        self.wrap = wrap
        """A command line every command runs under (see :data:`AS_UNIFIED_HOST`)."""
        self.binaries = {"runc": RUNC, "pyrunc": pyrunc_binary()}
        self.base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "vs-runc-"))
        self.roots = {rt: self.base / f"{rt}-root" for rt in RUNTIMES}
        self.rootfs = rootfs
        self.made: dict[str, set[str]] = {rt: set() for rt in RUNTIMES}
        self.name = ""
        self.count = 0

    def new_name(self, prefix: str = "vs") -> str:
        """Start using a fresh container name (``{id}`` in later commands)."""
        self.name = unique_name(prefix)
        return self.name

    def cid(self, rt: str) -> str:
        """The container id ``{id}`` stands for under ``rt``."""
        return f"{self.name}-{rt}"

    def bundle(self, args: list[str], edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
        """A bundle (config.json only, the shared rootfs by absolute path) from runc's own
        default spec, running ``args`` without a terminal."""
        spec = json.loads((FIXTURES / "runc-1.1.5-spec-default.json").read_text())
        spec["process"].update(args=args, terminal=False)
        spec["root"] = {"path": str(self.rootfs), "readonly": False}
        if edit is not None:
            edit(spec)
        self.count += 1
        bundle = self.base / f"bundle{self.count}"
        bundle.mkdir()
        (bundle / "config.json").write_text(json.dumps(spec))
        return bundle

    def argv(self, rt: str, args: tuple[str, ...]) -> list[str]:
        """The command line of ``args`` under ``rt``."""
        return [
            *self.wrap,
            self.binaries[rt],
            "--root",
            str(self.roots[rt]),
            *(a.replace("{id}", self.cid(rt)) for a in args),
        ]

    def one(self, rt: str, *args: str, timeout: float = 60, cwd: Path | None = None) -> Result:
        """Run under ``rt`` with stdio on files (a created init keeps them open)."""
        if self.name:
            self.made[rt].add(self.cid(rt))
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            rc = subprocess.run(
                self.argv(rt, args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                timeout=timeout,
                cwd=cwd,
            ).returncode
            out.seek(0)
            err.seek(0)
            return Result(rc, out.read(), err.read())

    def both(self, *args: str, timeout: float = 60, cwd: Path | None = None) -> Both:
        """Run under runc, then under pyrunc."""
        return Both(*(self.one(rt, *args, timeout=timeout, cwd=cwd) for rt in RUNTIMES))

    def state_json(self, rt: str) -> dict[str, Any]:
        """The runtime's own ``state.json`` of ``{id}``."""
        data: dict[str, Any] = json.loads(
            (self.roots[rt] / self.cid(rt) / "state.json").read_text()
        )
        return data

    def pid(self, rt: str) -> int:
        """The init pid ``state`` reports."""
        result = self.one(rt, "state", "{id}")
        assert result.rc == 0, result.text
        pid: int = json.loads(result.out)["pid"]
        return pid

    def cgroup(self, rt: str, key: str) -> Path:
        """The container's cgroup directory for hierarchy ``key`` (``""``: cgroup v2)."""
        return Path(self.state_json(rt)["cgroup_paths"][key])

    def cleanup(self) -> None:
        """Delete every container either runtime made, then the roots and bundles."""
        for rt in RUNTIMES:
            for cid in sorted(self.made[rt]):
                subprocess.run(
                    [
                        *self.wrap,
                        self.binaries[rt],
                        "--root",
                        str(self.roots[rt]),
                        "delete",
                        "-f",
                        cid,
                    ],
                    capture_output=True,
                    timeout=60,
                )
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def pair(busybox_rootfs: Path) -> Iterator[Pair]:
    """runc and pyrunc side by side; skipped without runc."""
    if RUNC is None:
        pytest.skip("runc is not installed: nothing to compare with (apt-get install runc)")
    p = Pair(busybox_rootfs)
    try:
        yield p
    finally:
        p.cleanup()


def _sleeping(pair: Pair, edit: Callable[[dict[str, Any]], None] | None = None) -> None:
    """``run -d`` a sleeping container under both runtimes."""
    pair.new_name()
    bundle = pair.bundle(["sleep", "1000"], edit)
    started = pair.both("run", "-d", "--bundle", str(bundle), "{id}")
    assert started.rcs() == (0, 0), (started.runc.text, started.pyrunc.text)


def _hybrid() -> bool:
    return HostCgroups.load().mode is CgroupMode.HYBRID


#: Run a command as on a cgroup v2 (unified) host: in a mount namespace of its own, with
#: a hybrid host's cgroup2 hierarchy mounted over /sys/fs/cgroup. Both runtimes then use
#: their v2 drivers; the cgroups they make are the host's, under /sys/fs/cgroup/unified.
AS_UNIFIED_HOST = (
    "unshare",
    "--mount",
    "sh",
    "-c",
    'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec "$@"',
    "--",
)


def _own_lines(text: str, pair: Pair, rt: str) -> list[str]:
    """``/proc/self/cgroup`` lines with the runtime's container id made neutral."""
    return sorted(text.replace(pair.cid(rt), "ID").splitlines())


# -- argument parsing ------------------------------------------------------------------------


def test_update_takes_flags_after_the_container_id(pair: Pair) -> None:
    _sleeping(pair)
    for args in (
        ("update", "{id}", "--memory", "100m"),
        ("update", "{id}", "--pids-limit", "50"),
        ("update", "{id}", "--cpu-rt-period", "900000", "--cpu-rt-runtime", "0"),
        ("update", "{id}", "--memory", "-1"),  # a value that starts with a dash
    ):
        done = pair.both(*args)
        assert done.rcs() == (0, 0), (args, done.runc.text, done.pyrunc.text)
    for rt in RUNTIMES:
        assert (pair.cgroup(rt, "pids") / "pids.max").read_text().strip() == "50"
        assert (pair.cgroup(rt, "cpu") / "cpu.rt_period_us").read_text().strip() == "900000"
        limit = int((pair.cgroup(rt, "memory") / "memory.limit_in_bytes").read_text())
        assert limit > 1 << 40  # -1: unlimited again after 100m
    # urfave/cli moves a flag and the argument after it, even for a bool flag: both read
    # "kill ID --all KILL" as "kill --all KILL ID" and look for a container named KILL.
    quirk = pair.both("kill", "{id}", "--all", "KILL")
    assert quirk.rcs() == (1, 1) and quirk.all_contain("container does not exist")
    # exec and ps keep what follows the id: it is the process's command line.
    ps = pair.both("ps", "{id}", "--format", "json")
    assert ps.rcs() == (1, 1)


def test_checkpoint_parses_every_runc_flag(pair: Pair) -> None:
    assert RUNC is not None
    help_text = subprocess.run([RUNC, "checkpoint", "--help"], capture_output=True, text=True)
    flags = re.findall(r"^\s+--([\w-]+)( value)?", help_text.stdout, re.MULTILINE)
    assert len(flags) >= 15, help_text.stdout
    args: list[str] = []
    for name, takes_value in flags:
        args += [f"--{name}", "3"] if takes_value else [f"--{name}"]
    pair.new_name()
    # On a container that does not exist, both parse every flag, then look it up.
    missing = pair.both("checkpoint", *args, "{id}")
    assert missing.rcs() == (1, 1), (missing.runc.text, missing.pyrunc.text)
    assert missing.all_contain("container does not exist")
    unknown = pair.both("checkpoint", "--no-such-flag", "{id}")
    assert unknown.rcs() == (1, 1) and unknown.all_contain("flag provided but not defined")
    # On one that does, pyrunc says it cannot (runc would run criu: not compared).
    _sleeping(pair)
    ours = pair.one("pyrunc", "checkpoint", *args, "{id}")
    assert ours.rc == 1 and "not supported" in ours.err and "Incorrect Usage" not in ours.out


def test_exec_cgroup_joins_sub_cgroups(pair: Pair) -> None:
    if HostCgroups.load().mode is CgroupMode.UNIFIED:
        pytest.skip("a unified host has no v1 hierarchies (see the v2 test below)")
    _sleeping(pair)
    for rt in RUNTIMES:
        for key, path in pair.state_json(rt)["cgroup_paths"].items():
            if os.path.isdir(path):
                os.mkdir(os.path.join(path, "sub"))
                if key == "cpuset":  # a cpuset cgroup takes no task without cpus and mems
                    for name in ("cpuset.cpus", "cpuset.mems"):
                        value = Path(path, name).read_text()
                        Path(path, "sub", name).write_text(value)
    # ctrl[,ctrl]:path joins those controllers' sub-cgroups, the rest stay the container's.
    per_controller = pair.both(
        "exec", "--cgroup", "memory,pids:sub", "{id}", "cat", "/proc/self/cgroup"
    )
    assert per_controller.rcs() == (0, 0), (per_controller.runc.text, per_controller.pyrunc.text)
    lines = {
        rt: _own_lines(r.out, pair, rt) for rt, r in zip(RUNTIMES, per_controller, strict=True)
    }
    assert lines["runc"] == lines["pyrunc"]
    assert any(line.startswith("8:pids:") and line.endswith("/ID/sub") for line in lines["runc"])
    # A bare path: every hierarchy, the unified (v2) one of a hybrid host included.
    everywhere = pair.both("exec", "--cgroup", "sub", "{id}", "cat", "/proc/self/cgroup")
    assert everywhere.rcs() == (0, 0), (everywhere.runc.text, everywhere.pyrunc.text)
    lines = {rt: _own_lines(r.out, pair, rt) for rt, r in zip(RUNTIMES, everywhere, strict=True)}
    assert lines["runc"] == lines["pyrunc"]
    assert all(line.endswith("/ID/sub") for line in lines["pyrunc"])
    if _hybrid():
        assert "0::/ID/sub" in lines["pyrunc"]
    # Mistakes: both refuse with exec's status; the process never runs.
    for value, words in (
        ("a:b:c", "invalid --cgroup argument"),
        ("bogus:sub", "unknown controller bogus"),
        ("memory:../x", "is not a sub cgroup path"),
        ("nosuch", "exec failed"),
    ):
        refused = pair.both("exec", "--cgroup", value, "{id}", "true")
        assert refused.rcs() == (255, 255), (value, refused.runc.text, refused.pyrunc.text)
        assert refused.all_contain(words), (value, refused.runc.text, refused.pyrunc.text)


def test_exec_cgroup_on_cgroup_v2(busybox_rootfs: Path) -> None:
    if RUNC is None:
        pytest.skip("runc is not installed: nothing to compare with (apt-get install runc)")
    mode = HostCgroups.load().mode
    if mode is CgroupMode.LEGACY:
        pytest.skip("a legacy cgroup host has no cgroup v2 hierarchy")
    if mode is CgroupMode.HYBRID and shutil.which("unshare") is None:
        pytest.skip("util-linux's unshare is needed to show a hybrid host as a unified one")
    pair = Pair(busybox_rootfs, AS_UNIFIED_HOST if mode is CgroupMode.HYBRID else ())
    try:
        _sleeping(pair)
        for rt in RUNTIMES:
            (cgroup,) = pair.state_json(rt)["cgroup_paths"].values()  # v2: one, keyed ""
            os.mkdir(
                Path(
                    cgroup.replace("/sys/fs/cgroup/", "/sys/fs/cgroup/unified/", 1)
                    if mode is CgroupMode.HYBRID
                    else cgroup,
                    "sub",
                )
            )
        joined = pair.both("exec", "--cgroup", "sub", "{id}", "cat", "/proc/self/cgroup")
        assert joined.rcs() == (0, 0), (joined.runc.text, joined.pyrunc.text)
        lines = [
            r.out.splitlines()[-1].replace(pair.cid(rt), "ID")
            for rt, r in zip(RUNTIMES, joined, strict=True)
        ]
        assert lines == ["0::/ID/sub", "0::/ID/sub"]
        # One hierarchy: no per-controller paths.
        refused = pair.both("exec", "--cgroup", "memory:sub", "{id}", "true")
        assert refused.rcs() == (255, 255)
        assert refused.all_contain("unknown controller memory in SubCgroupPaths")
    finally:
        pair.cleanup()


def test_relative_pid_file_is_the_callers(pair: Pair, tmp_path: Path) -> None:
    pair.new_name()
    bundle = pair.bundle(["sleep", "1000"])
    for rt in RUNTIMES:
        here = tmp_path / rt
        here.mkdir()
        created = pair.one(
            rt, "create", "--bundle", str(bundle), "--pid-file", "init.pid", "{id}", cwd=here
        )
        assert created.rc == 0, created.text
        assert (here / "init.pid").read_text() == str(pair.pid(rt))
        assert not (bundle / "init.pid").exists()


# -- exit codes and wording ------------------------------------------------------------------


def test_exec_failures_exit_255_with_runcs_prefix(pair: Pair) -> None:
    _sleeping(pair)
    missing_binary = pair.both("exec", "{id}", "no-such-binary")
    assert missing_binary.rcs() == (255, 255)
    # (logrus text quotes the message: compare around the quoted program name)
    assert missing_binary.all_contain("exec failed: unable to start container process: exec: ")
    assert missing_binary.all_contain("no-such-binary")
    assert missing_binary.all_contain("executable file not found in $PATH")
    no_container = pair.both("exec", "{id}-gone", "true")
    assert no_container.rcs() == (255, 255)
    assert no_container.all_contain("exec failed: container does not exist")
    assert pair.both("pause", "{id}").rcs() == (0, 0)
    paused = pair.both("exec", "{id}", "true")
    assert paused.rcs() == (255, 255)
    assert paused.all_contain("exec failed: cannot exec in a paused container")
    assert pair.both("resume", "{id}").rcs() == (0, 0)


def test_exec_ignore_paused_runs_once_resumed(pair: Pair, tmp_path: Path) -> None:
    _sleeping(pair)
    assert pair.both("pause", "{id}").rcs() == (0, 0)
    # The new process joins the frozen cgroup: exec returns once the container is resumed.
    waiting = {}
    for rt in RUNTIMES:
        out = (tmp_path / f"{rt}.out").open("w")
        waiting[rt] = subprocess.Popen(
            pair.argv(rt, ("exec", "-d", "--ignore-paused", "{id}", "sleep", "999")),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
    assert pair.both("resume", "{id}").rcs() == (0, 0)
    for rt, proc in waiting.items():
        assert proc.wait(timeout=60) == 0, (tmp_path / f"{rt}.out").read_text()
        pids = json.loads(pair.one(rt, "ps", "--format", "json", "{id}").out)
        assert len(pids) == 2  # the init and the exec'd sleep


def test_validation_errors_say_invalid_configuration(pair: Pair) -> None:
    pair.new_name()
    if HostCgroups.load().mode is not CgroupMode.UNIFIED:
        bundle = pair.bundle(
            ["true"], lambda s: s["linux"]["resources"].update(unified={"memory.high": "1000000"})
        )
        refused = pair.both("create", "--bundle", str(bundle), "{id}")
        assert refused.rcs() == (1, 1)
        assert refused.all_contain("invalid configuration")
    # A relative mount destination: a warning saying so, and the mount under the root.
    mount = {"destination": "reltmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}
    bundle = pair.bundle(
        ["sh", "-c", "grep -c ' /reltmp ' /proc/self/mountinfo"],
        lambda s: s["mounts"].append(mount),
    )
    pair.new_name()
    ran = pair.both("run", "--bundle", str(bundle), "{id}")
    assert ran.rcs() == (0, 0), (ran.runc.text, ran.pyrunc.text)
    assert [r.out for r in ran] == ["1\n", "1\n"]
    assert ran.all_contain('level=warning msg="invalid configuration"')


def test_failing_start_container_hook(pair: Pair) -> None:
    pair.new_name()
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "echo hook-said-no >&2; exit 3"]}
    bundle = pair.bundle(["true"], lambda s: s.update(hooks={"startContainer": [hook]}))
    ran = pair.both("run", "--bundle", str(bundle), "{id}")
    assert ran.rcs() == (1, 1), (ran.runc.text, ran.pyrunc.text)
    assert ran.all_contain("error running hook")


def test_unreachable_seccomp_agent(pair: Pair) -> None:
    pair.new_name()
    seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": str(pair.base / "no-agent.sock"),
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
    }
    bundle = pair.bundle(["true"], lambda s: s["linux"].update(seccomp=seccomp))
    ran = pair.both("run", "-d", "--bundle", str(bundle), "{id}")
    assert ran.rcs() == (1, 1)
    assert ran.all_contain("failed to connect with seccomp agent")
    for rt in RUNTIMES:
        assert pair.one(rt, "state", "{id}").rc == 1  # nothing left half-made


class ExistingCgroup:
    """A cgroup made by the test (devices, freezer, and the unified hierarchy of a hybrid
    host) with a sleeping process in it; removed (after killing that) at the end, with
    what a runtime made next to it."""

    def __init__(self) -> None:
        self.name = "/" + unique_name("precg")
        host = HostCgroups.load()
        from libcontainer.cgroups.fs.paths import init_paths
        from libcontainer.configs import Cgroup

        every = init_paths(Cgroup(path=self.name), host)
        # Where both runtimes look for processes and for the freezer state (and the
        # unified hierarchy, on a hybrid host); the runtimes make the others.
        self.paths = {k: p for k, p in every.items() if k in ("devices", "freezer", "")}
        self.sleeper = subprocess.Popen(["sleep", "1000"])
        try:
            for path in self.paths.values():
                os.makedirs(path, exist_ok=True)
                Path(path, "cgroup.procs").write_text(str(self.sleeper.pid))
        except BaseException:
            self.remove()
            raise

    def freeze(self) -> None:
        """Freeze it (v1 freezer)."""
        Path(self.paths["freezer"], "freezer.state").write_text("FROZEN")

    def remove(self) -> None:
        """Thaw, kill the sleeper, remove every directory made (busy until the killed
        tasks are gone)."""
        freezer = Path(self.paths["freezer"], "freezer.state")
        if freezer.exists():
            freezer.write_text("THAWED")
        if self.sleeper.poll() is None:  # (runc's delete kills what is in the cgroup)
            self.sleeper.kill()
            self.sleeper.wait()
        for path in self.paths.values():
            deadline = time.monotonic() + 10
            while os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError:
                    assert time.monotonic() < deadline, f"{path} stays busy"
                    time.sleep(0.01)


@pytest.fixture
def existing_cgroups(pair: Pair) -> Iterator[Callable[[], ExistingCgroup]]:
    """Make :class:`ExistingCgroup` s; all removed at the end, after the containers in
    them are deleted."""
    made: list[ExistingCgroup] = []

    def make() -> ExistingCgroup:
        made.append(ExistingCgroup())
        return made[-1]

    try:
        yield make
    finally:
        pair.cleanup()
        for cgroup in made:
            cgroup.remove()


def _cgroups_path(path: str) -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec["linux"].update(cgroupsPath=path)


def test_create_in_a_non_empty_cgroup_warns(
    pair: Pair, existing_cgroups: Callable[[], ExistingCgroup]
) -> None:
    pair.new_name()
    for rt in RUNTIMES:
        cgroup = existing_cgroups()
        bundle = pair.bundle(["sleep", "1000"], _cgroups_path(cgroup.name))
        created = pair.one(rt, "create", "--bundle", str(bundle), "{id}")
        assert created.rc == 0, created.text
        assert "container's cgroup is not empty: 1 process(es) found" in created.err
        assert pair.one(rt, "state", "{id}").rc == 0
        assert cgroup.sleeper.poll() is None


def test_create_in_a_frozen_cgroup_is_refused(
    pair: Pair, existing_cgroups: Callable[[], ExistingCgroup]
) -> None:
    pair.new_name()
    for rt in RUNTIMES:
        cgroup = existing_cgroups()
        cgroup.freeze()
        bundle = pair.bundle(["sleep", "1000"], _cgroups_path(cgroup.name))
        # A hang would end in TimeoutExpired here: the test fails instead of waiting.
        created = pair.one(rt, "create", "--bundle", str(bundle), "{id}", timeout=60)
        assert created.rc == 1, created.text
        assert "container's cgroup unexpectedly frozen" in created.err
        assert pair.one(rt, "state", "{id}").rc == 1


def test_update_cpu_period_below_the_kernels_minimum(pair: Pair) -> None:
    _sleeping(pair)
    refused = pair.both("update", "{id}", "--cpu-period", "500")
    assert refused.rcs() == (1, 1)
    assert refused.all_contain("cpu.cfs_period_us")
    for rt in RUNTIMES:
        assert (pair.cgroup(rt, "cpu") / "cpu.cfs_period_us").read_text().strip() == "100000"
    fine = pair.both("update", "{id}", "--cpu-period", "50000")
    assert fine.rcs() == (0, 0)
    for rt in RUNTIMES:
        assert (pair.cgroup(rt, "cpu") / "cpu.cfs_period_us").read_text().strip() == "50000"


@pytest.mark.parametrize("access", ["r", "wr", "rrw", "mrw", "rwmrwm", "rwx", "xm"])
def test_device_access_strings(pair: Pair, access: str) -> None:
    rule = {"allow": True, "type": "c", "major": 1, "minor": 1, "access": access}
    _sleeping(pair, lambda s: s["linux"]["resources"]["devices"].append(rule))
    listed = {}
    for rt in RUNTIMES:
        devices = (pair.cgroup(rt, "devices") / "devices.list").read_text().splitlines()
        listed[rt] = [line for line in devices if line.startswith("c 1:1 ")]
    assert listed["runc"] == listed["pyrunc"] != []


def _device_rule(rule: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec["linux"]["resources"]["devices"].append(rule)


def test_device_access_that_grants_nothing(pair: Pair) -> None:
    for allow, status in ((True, 1), (False, 0)):
        rule = {"allow": allow, "type": "c", "major": 1, "minor": 1, "access": "R"}
        pair.new_name()
        bundle = pair.bundle(["true"], _device_rule(rule))
        ran = pair.both("run", "--bundle", str(bundle), "{id}")
        assert ran.rcs() == (status, status), (allow, ran.runc.text, ran.pyrunc.text)


# -- --debug, --log, --log-format ----------------------------------------------------------------

_STAGE = re.compile(r"^(nsexec(?:-\d)?)\[\d+\]: ")
#: What both runtimes log under --debug: every nsexec stage, and the init's own lines.
_CREATE_SHAPES = {
    "nsexec",
    "nsexec-0",
    "nsexec-1",
    "nsexec-2",
    "child process in init()",
    "init: closing the pipe to signal completion",
}
_EXEC_SHAPES = {"nsexec", "nsexec-0", "nsexec-1", "nsexec-2", "setns_init: about to exec"}


def _shapes(messages: list[str]) -> set[str]:
    found = set()
    for msg in messages:
        stage = _STAGE.match(msg)
        found.add(stage.group(1) if stage else msg)
    return found


def test_debug_json_log_has_every_stage(pair: Pair, tmp_path: Path) -> None:
    pair.new_name()
    bundle = pair.bundle(["sleep", "1000"])
    for rt in RUNTIMES:
        log = tmp_path / f"{rt}.json"
        base = ("--debug", "--log", str(log), "--log-format", "json")
        created = pair.one(rt, *base, "create", "--bundle", str(bundle), "{id}")
        assert created.rc == 0, created.text
        records = [json.loads(line) for line in log.read_text().splitlines()]
        assert all(r["level"] == "debug" and {"msg", "time"} <= set(r) for r in records)
        assert all(list(r) == sorted(r) for r in records)  # Go's encoding/json
        assert _shapes([r["msg"] for r in records]) >= _CREATE_SHAPES, (rt, records)
        # exec, attached: the stages, the setns init, and the parent's "process exited".
        log.unlink()
        ran = pair.one(rt, *base, "exec", "{id}", "true")
        assert ran.rc == 0, ran.text
        records = [json.loads(line) for line in log.read_text().splitlines()]
        assert _shapes([r["msg"] for r in records]) >= _EXEC_SHAPES, (rt, records)
        exited = [r for r in records if r["msg"] == "process exited"]
        assert len(exited) == 1 and exited[0]["status"] == 0 and exited[0]["pid"] > 0
        assert {"func", "file"} <= set(exited[0])  # the parent names its caller


def test_debug_text_on_stderr_and_quiet_without(pair: Pair) -> None:
    pair.new_name()
    bundle = pair.bundle(["true"])
    line = re.compile(r'^time="[^"]+" level=debug msg="nsexec-1\[\d+\]: ', re.MULTILINE)
    debug = pair.both("--debug", "run", "--bundle", str(bundle), "{id}")
    assert debug.rcs() == (0, 0)
    assert all(line.search(r.err) for r in debug), (debug.runc.err, debug.pyrunc.err)
    pair.new_name()
    quiet = pair.both("--log-format", "text", "run", "--bundle", str(bundle), "{id}")
    assert quiet.rcs() == (0, 0)
    assert [r.err for r in quiet] == ["", ""]


def test_errors_in_json_as_containerds_shim_reads_them(pair: Pair, tmp_path: Path) -> None:
    pair.new_name()
    for rt in RUNTIMES:
        log = tmp_path / f"{rt}.json"
        failed = pair.one(rt, "--log", str(log), "--log-format", "json", "start", "{id}")
        assert failed.rc == 1
        (record,) = [json.loads(line) for line in log.read_text().splitlines()]
        assert list(record) == ["level", "msg", "time"]
        assert record["level"] == "error" and record["msg"] == "container does not exist"
        assert failed.err == "container does not exist\n"  # also bare, for the user


# -- version -------------------------------------------------------------------------------------


def test_version_has_runcs_lines() -> None:
    if RUNC is None:
        pytest.skip("runc is not installed: nothing to compare with (apt-get install runc)")
    theirs = subprocess.run([RUNC, "--version"], capture_output=True, text=True, check=True)
    ours = subprocess.run(
        [pyrunc_binary(), "--version"], capture_output=True, text=True, check=True
    )

    def fields(text: str) -> list[tuple[str, str]]:
        first, *rest = text.splitlines()
        name = first.partition(" version ")[0]
        return [("version", name), *(tuple(line.split(": ", 1)) for line in rest)]  # type: ignore[misc]

    runc_fields, our_fields = dict(fields(theirs.stdout)), dict(fields(ours.stdout))
    assert [k for k, _ in fields(theirs.stdout)] == [
        "version",
        "commit",
        "spec",
        "go",
        "libseccomp",
    ]
    assert [k for k, _ in fields(ours.stdout)] == [
        "version",
        "commit",
        "spec",
        "python",
        "libseccomp",
    ]
    assert our_fields["version"] == "pyrunc" and runc_fields["version"] == "runc"
    assert our_fields["spec"] == runc_fields["spec"]
    assert our_fields["libseccomp"] == runc_fields["libseccomp"]
    assert ours.stdout.splitlines()[0].startswith("pyrunc version ")  # what podman shows
    # Neither has a "version" command.
    for binary in (RUNC, pyrunc_binary()):
        assert subprocess.run([binary, "version"], capture_output=True).returncode == 3


# -- hybrid cgroups ------------------------------------------------------------------------------


def test_hybrid_host_processes_join_the_unified_hierarchy(pair: Pair) -> None:
    if not _hybrid():
        pytest.skip("not a hybrid cgroup host: there is no separate unified hierarchy to join")
    _sleeping(pair)
    for rt in RUNTIMES:
        unified = pair.cgroup(rt, "")
        assert unified.parent == Path(HostCgroups.load().unified_mount().mountpoint)  # type: ignore[union-attr]
        assert unified.name == pair.cid(rt)
        init_line = Path(f"/proc/{pair.pid(rt)}/cgroup").read_text().splitlines()[-1]
        assert init_line == f"0::/{pair.cid(rt)}"
    execd = pair.both("exec", "{id}", "cat", "/proc/self/cgroup")
    assert [
        r.out.splitlines()[-1].replace(pair.cid(rt), "ID")
        for rt, r in zip(RUNTIMES, execd, strict=True)
    ] == [
        "0::/ID",
        "0::/ID",
    ]
    paths = {rt: pair.cgroup(rt, "") for rt in RUNTIMES}
    assert pair.both("delete", "-f", "{id}").rcs() == (0, 0)
    assert not any(p.exists() for p in paths.values())
