"""The sandbox's logic without containers: configs, options, accounting on fake cgroup trees."""

from __future__ import annotations

import os
import resource
import socket
from pathlib import Path

import pytest

from libcontainer import sync
from libcontainer.configs import NamespaceType
from libcontainer.errors import ConfigError
from libcontainer.sandbox.accounting import Usage, read_usage, reset_peak
from libcontainer.sandbox.box import rlimits
from libcontainer.sandbox.config import HOST_DIRS, container_config, make_skeleton
from libcontainer.sandbox.options import Bind, SandboxOptions, program_env
from libcontainer.sandbox.result import make_result
from libcontainer.sandbox.warm import DeferredProcess


class FakeManager:
    """Only what accounting uses: the saved paths."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths

    def get_paths(self) -> dict[str, str]:
        return dict(self.paths)


def test_config_from_runc_spec_with_sandbox_changes(tmp_path: Path) -> None:
    options = SandboxOptions.build(memory=64 << 20, pids=10, cpus=0.5, mounts=[str(tmp_path)])
    config = container_config(options, rootfs="/some/root", cgroup_path="/parent/box-1")
    assert config.rootfs == "/some/root" and config.readonlyfs
    assert config.cgroups is not None and config.cgroups.path == "/parent/box-1"
    res = config.cgroups.resources
    assert res.memory == 64 << 20 and res.pids_limit == 10
    assert (res.cpu_quota, res.cpu_period) == (50_000, 100_000)
    assert {ns.type for ns in config.namespaces} == {
        NamespaceType.NEWPID,
        NamespaceType.NEWIPC,
        NamespaceType.NEWUTS,
        NamespaceType.NEWNS,
        NamespaceType.NEWNET,
    }
    assert config.capabilities is not None and not any(
        (config.capabilities.bounding, config.capabilities.effective, config.capabilities.ambient)
    )
    assert config.no_new_privileges and config.hostname == "sandbox"
    dests = {m.destination: m for m in config.mounts}
    assert {"/proc", "/dev", "/dev/pts", "/dev/shm", "/tmp", str(tmp_path)} <= set(dests)
    assert "/sys" not in dests
    assert dests["/usr"].is_bind() and dests["/usr"].flags & 1  # MS_RDONLY
    assert config.mask_paths and config.readonly_paths  # runc's, kept
    host_net = container_config(
        SandboxOptions.build(network="host"), rootfs="/r", cgroup_path="/p/b"
    )
    assert not host_net.has_namespace(NamespaceType.NEWNET)


def test_skeleton_mirrors_host_top_dirs(tmp_path: Path) -> None:
    make_skeleton(tmp_path / "root")
    for name in HOST_DIRS:
        host, ours = Path("/") / name, tmp_path / "root" / name
        if host.is_symlink():
            assert ours.is_symlink() and ours.readlink() == host.readlink()
        elif host.is_dir():
            assert ours.is_dir() and not ours.is_symlink()
    assert all((tmp_path / "root" / d).is_dir() for d in ("proc", "dev", "tmp"))


def test_options_normalise_mounts(tmp_path: Path) -> None:
    options = SandboxOptions.build(
        mounts=[str(tmp_path), (str(tmp_path), "/data"), Bind(str(tmp_path), "/w", False)]
    )
    assert options.mounts == (
        Bind(str(tmp_path), str(tmp_path), True),
        Bind(str(tmp_path), "/data", True),
        Bind(str(tmp_path), "/w", False),
    )
    with pytest.raises(ConfigError, match="cannot bind over /"):
        SandboxOptions.build(mounts=[(str(tmp_path), "/")])
    with pytest.raises(ConfigError):
        SandboxOptions.build(mounts=[42])  # type: ignore[list-item]


def test_env_forms() -> None:
    assert program_env({"A": "1"}) == ("A=1",)
    assert program_env(["A=1", "B="]) == ("A=1", "B=")
    assert program_env(None)[0].startswith("PATH=")
    for bad in ("A=1", ["NOEQUALS"], ["=x"]):
        with pytest.raises(ConfigError):
            program_env(bad)  # type: ignore[arg-type]


def test_accounting_v1_fake_tree(tmp_path: Path) -> None:
    cpu, mem = tmp_path / "cpuacct", tmp_path / "memory"
    cpu.mkdir()
    mem.mkdir()
    (cpu / "cpuacct.usage").write_text("123456789\n")
    (mem / "memory.max_usage_in_bytes").write_text("4096\n")
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    manager = FakeManager({"cpuacct": str(cpu), "memory": str(mem), "pids": str(tmp_path)})
    assert read_usage(manager) == Usage(cpu_ns=123456789, peak_memory=4096, oom_kills=2)  # type: ignore[arg-type]
    assert reset_peak(manager)  # type: ignore[arg-type]
    assert (mem / "memory.max_usage_in_bytes").read_text() == "0"


def test_accounting_v2_fake_tree(tmp_path: Path) -> None:
    (tmp_path / "cpu.stat").write_text("usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n")
    (tmp_path / "memory.peak").write_text("8192\n")
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    manager = FakeManager({"": str(tmp_path)})
    assert read_usage(manager) == Usage(cpu_ns=2_500_000, peak_memory=8192, oom_kills=1)  # type: ignore[arg-type]
    assert not reset_peak(manager)  # type: ignore[arg-type]


def test_accounting_without_controllers(tmp_path: Path) -> None:
    assert read_usage(FakeManager({"": str(tmp_path)})) == Usage()  # type: ignore[arg-type]
    assert read_usage(FakeManager({"pids": str(tmp_path)})) == Usage()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("timed_out", "oom", "code", "reason"),
    [
        (True, 1, -9, "timeout"),
        (False, 1, -9, "oom"),
        (False, 1, 137, "oom"),  # a shell whose child was OOM-killed
        (False, 0, -15, "signaled"),
        (False, 0, 3, "exited"),
    ],
)
def test_reason(timed_out: bool, oom: int, code: int, reason: str) -> None:
    r = make_result(
        ("x",),
        code,
        None,
        None,
        timed_out=timed_out,
        duration=1.0,
        before=Usage(cpu_ns=1_000_000, oom_kills=0),
        after=Usage(cpu_ns=3_000_000, peak_memory=10, oom_kills=oom),
    )
    assert r.reason == reason
    assert r.cpu_time == pytest.approx(0.002)


def test_deferred_process_asks_for_a_deferred_init() -> None:
    proc = DeferredProcess(user="65534:65534", rlimits=rlimits())
    try:
        spec = proc._spec()
        assert spec.deferred and spec.extra_fds == 1 and spec.user == "65534:65534"
        assert spec.rlimits and spec.rlimits[0].type == resource.RLIMIT_NOFILE
    finally:
        proc.discard()


def test_program_message_round_trip() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with a, b:
        r, w = os.pipe()
        sync.send(a, sync.Program(args=("ls", "-l"), env=("A=1",), cwd="/tmp"), [r, w, w])
        msg, fds = sync.recv(b)
        assert isinstance(msg, sync.Program) and len(fds) == 3
        assert (list(msg.args), list(msg.env), msg.cwd) == (["ls", "-l"], ["A=1"], "/tmp")
        for fd in (r, w, *fds):
            os.close(fd)
