"""pyrunc as a RuntimeClass handler under containerd's CRI: what kubelet does, over gRPC.

A private containerd (its own config, root, state and socket in a temp dir; stopped by its
pid at the end) serves the CRI with two ``io.containerd.runc.v2`` handlers, ``runc`` and
the README's ``pyrunc`` stanza. The tests call the CRI as kubelet does (RunPodSandbox with
``runtime_handler``, CreateContainer, StartContainer, ExecSync, StopContainer,
UpdateContainerResources, StopPodSandbox, RemovePodSandbox) and check the result where it
lands: the CRI log file, the cgroup files, the namespaces of the processes, the runtime's
state root, the mounts and the shims.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from containerd_env import cgroup_dirs, mounts_under, pids_mentioning
from cri_api.v1 import api_pb2 as cri
from cri_env import CriNode, CriUnavailable, readme_runtime_class_handler, readme_runtime_stanza
from test_cli_helpers import pyrunc_binary

pytestmark = pytest.mark.root

MiB = 1 << 20


@pytest.fixture(scope="module")
def node(busybox_rootfs_template: Path) -> Iterator[CriNode]:
    """containerd with the CRI, both handlers and the test image; torn down after the module."""
    for tool in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed (apt-get install containerd)")
    try:
        n = CriNode(busybox_rootfs_template, pyrunc_binary())
    except CriUnavailable as e:
        pytest.skip(str(e))
    try:
        yield n
    finally:
        n.close()


class Pod:
    """One pod sandbox on a handler; :meth:`remove` does what kubelet does when it ends."""

    def __init__(self, node: CriNode, name: str, handler: str) -> None:
        self.node = node
        self.name = name
        self.config = node.pod_config(name)
        self.id = node.run_pod(self.config, handler)

    def run(
        self,
        name: str,
        *command: str,
        resources: cri.LinuxContainerResources | None = None,
        envs: dict[str, str] | None = None,
        **security: Any,
    ) -> str:
        """CreateContainer + StartContainer; the container's id."""
        config = self.node.container_config(
            name, command, resources=resources, envs=envs, **security
        )
        cid = self.node.create(self.id, self.config, config)
        self.node.start(cid)
        return cid

    def remove(self) -> None:
        """StopPodSandbox, RemovePodSandbox, then the pod cgroup (kubelet's own)."""
        self.node.remove_pod(self.id)
        self.node.remove_pod_cgroup(self.name)


@pytest.fixture
def pod(node: CriNode, request: pytest.FixtureRequest) -> Iterator[Pod]:
    """A pod on the pyrunc handler, removed after the test."""
    p = Pod(node, request.node.name.replace("_", "-"), node.handler)
    try:
        yield p
    finally:
        p.remove()


def wait_for_log(path: str, text: str, timeout: float = 20) -> str:
    """The CRI log file once it holds ``text`` (containers write it asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(FileNotFoundError):
            content = Path(path).read_text()
            if text in content:
                return content
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never reached {path}")
        time.sleep(0.05)


def cri_lines(log: str) -> list[tuple[str, str]]:
    """(stream, message) of each CRI log line: ``<RFC 3339 time> <stream> <F|P> <message>``."""
    out = []
    for line in log.splitlines():
        stamp, stream, tag, message = line.split(" ", 3)
        assert stamp.endswith("Z") and "T" in stamp and tag in ("F", "P"), line
        out.append((stream, message))
    return out


def wait_exited(node: CriNode, cid: str, timeout: float = 20) -> cri.ContainerStatus:
    """The container's status once it has exited."""
    deadline = time.monotonic() + timeout
    while (status := node.status(cid)).state != cri.CONTAINER_EXITED:
        if time.monotonic() > deadline:
            raise AssertionError(f"{cid} still {cri.ContainerState.Name(status.state)}")
        time.sleep(0.05)
    return status


def runtime_ids(binary: str, root: Path) -> set[str]:
    """Container ids a runtime's state root holds (``list -q`` under containerd's namespace)."""
    out = subprocess.run(
        [binary, "--root", str(root / "k8s.io"), "list", "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def cgroup_of(pid: int, controller: str) -> Path:
    """The v1 cgroup directory of ``pid`` for ``controller``."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path("/sys/fs/cgroup") / controller / path.lstrip("/")
    raise AssertionError(f"pid {pid} has no {controller} cgroup")


def test_readme_stanza_and_runtime_class(node: CriNode) -> None:
    """The README's containerd stanza and RuntimeClass are what the node runs."""
    handler, stanza = readme_runtime_stanza()
    assert handler == readme_runtime_class_handler() == node.handler == "pyrunc"
    runtime = tomllib.loads(stanza)["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
    options = runtime["runtimes"]["pyrunc"]
    assert options["runtime_type"] == "io.containerd.runc.v2"
    assert set(options["options"]) == {"BinaryName", "Root"}
    config = (node.base / "config.toml").read_text()
    assert f'BinaryName = "{pyrunc_binary()}"' in config
    assert f'Root = "{node.pyrunc_root}"' in config


def test_pod_and_container_on_the_pyrunc_handler(node: CriNode, pod: Pod) -> None:
    status = node.runtime.PodSandboxStatus(
        cri.PodSandboxStatusRequest(pod_sandbox_id=pod.id), timeout=30
    ).status
    assert (status.state, status.runtime_handler) == (cri.SANDBOX_READY, node.handler)
    cid = pod.run(
        "hello",
        "sh",
        "-c",
        'echo "hello $GREETING"; echo oops >&2; exec sleep inf',
        envs={"GREETING": "from the CRI"},
    )
    assert node.status(cid).state == cri.CONTAINER_RUNNING
    # Both the sandbox and the container are pyrunc's: the shim was given the pyrunc binary
    # and root, and their state is there, not in runc's root.
    for info in (node.pod_info(pod.id), node.info(cid)):
        assert info["runtimeOptions"] == {
            "binary_name": pyrunc_binary(),
            "root": str(node.pyrunc_root),
        }
    assert {pod.id, cid} <= runtime_ids(pyrunc_binary(), node.pyrunc_root)
    assert not (node.base / "runc-root" / "k8s.io" / cid).exists()
    log = wait_for_log(node.status(cid).log_path, "oops")
    assert sorted(cri_lines(log)) == [("stderr", "oops"), ("stdout", "hello from the CRI")]


def test_exec_sync_exit_codes_and_output(node: CriNode, pod: Pod) -> None:
    cid = pod.run("probe", "sleep", "inf")
    ok = node.exec_sync(cid, "sh", "-c", "echo out; echo err >&2")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, b"out\n", b"err\n")
    assert node.exec_sync(cid, "sh", "-c", "exit 3").exit_code == 3
    assert node.exec_sync(cid, "false").exit_code == 1
    # The exec joins the container: its PID namespace (PID 1 is the container's sleep),
    # its mount namespace, and the node's hostname (host network, no UTS namespace).
    ps = node.exec_sync(cid, "cat", "/proc/1/cmdline")
    assert ps.stdout == b"sleep\0inf\0"
    pid = node.info(cid)["pid"]
    inner = node.exec_sync(cid, "readlink", "/proc/self/ns/mnt").stdout.decode().strip()
    assert inner == os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    assert node.exec_sync(cid, "hostname").stdout.decode().strip() == os.uname().nodename
    # A probe whose binary is missing is an error naming it, not a silent exit code.
    with pytest.raises(grpc.RpcError) as missing:
        node.exec_sync(cid, "/no/such/probe")
    assert "/no/such/probe" in str(missing.value.details())
    assert "no such file or directory" in str(missing.value.details())
    # A probe that outlives its timeout is killed, and nothing of it stays in the container.
    with pytest.raises(grpc.RpcError) as slow:
        node.exec_sync(cid, "sleep", "30", timeout=1)
    assert slow.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert b"sleep 30" not in node.exec_sync(cid, "ps", "-o", "args").stdout
    assert node.status(cid).state == cri.CONTAINER_RUNNING


def test_stop_container_grace_then_sigkill(node: CriNode, pod: Pod) -> None:
    cid = pod.run(
        "stubborn",
        "sh",
        "-c",
        "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.1; done",
    )
    log_path = node.status(cid).log_path
    wait_for_log(log_path, "ready")
    assert node.exec_sync(cid, "echo", "alive").stdout == b"alive\n"
    node.stop_container(cid, timeout=2)
    status = node.status(cid)
    # SIGTERM reached PID 1 (its trap ran and it went on), then SIGKILL ended it: 128 + 9.
    assert (status.state, status.exit_code, status.reason) == (cri.CONTAINER_EXITED, 137, "Error")
    assert ("stdout", "got TERM") in cri_lines(Path(log_path).read_text())
    # containerd deleted the exited task through the runtime (``pyrunc delete``).
    assert cid not in runtime_ids(pyrunc_binary(), node.pyrunc_root)
    with pytest.raises(grpc.RpcError):
        node.exec_sync(cid, "true")


def test_containers_share_the_pod_ipc_namespace(node: CriNode, pod: Pod) -> None:
    first = pod.run("first", "sleep", "inf")
    second = pod.run("second", "sleep", "inf")

    def ns(cid: str, kind: str) -> str:
        return node.exec_sync(cid, "readlink", f"/proc/self/ns/{kind}").stdout.decode().strip()

    sandbox_ipc = os.readlink(f"/proc/{node.pod_info(pod.id)['pid']}/ns/ipc")
    assert ns(first, "ipc") == ns(second, "ipc") == sandbox_ipc != os.readlink("/proc/self/ns/ipc")
    # One IPC namespace, but a mount and PID namespace each.
    assert ns(first, "mnt") != ns(second, "mnt")
    assert ns(first, "pid") != ns(second, "pid")
    # The pod's /dev/shm is shared too: what one container writes there, the other reads.
    node.exec_sync(first, "sh", "-c", "echo shared > /dev/shm/note")
    assert node.exec_sync(second, "cat", "/dev/shm/note").stdout == b"shared\n"


def test_cpu_and_memory_limits_and_update(node: CriNode, pod: Pod) -> None:
    limits = cri.LinuxContainerResources(
        cpu_period=100000, cpu_quota=50000, cpu_shares=512, memory_limit_in_bytes=64 * MiB
    )
    cid = pod.run("limited", "sleep", "inf", resources=limits)
    pid = node.info(cid)["pid"]
    memory, cpu = cgroup_of(pid, "memory"), cgroup_of(pid, "cpu")
    # The container's cgroup sits under the pod's cgroup_parent, as kubelet laid it out.
    assert memory.parent.name == pod.name and memory.name == cid

    def host() -> tuple[int, int, int]:
        return (
            int((memory / "memory.limit_in_bytes").read_text()),
            int((cpu / "cpu.cfs_quota_us").read_text()),
            int((cpu / "cpu.shares").read_text()),
        )

    def inside() -> tuple[int, ...]:
        files = ("memory/memory.limit_in_bytes", "cpu/cpu.cfs_quota_us", "cpu/cpu.shares")
        out = node.exec_sync(cid, "cat", *(f"/sys/fs/cgroup/{f}" for f in files))
        return tuple(int(v) for v in out.stdout.split())

    assert host() == inside() == (64 * MiB, 50000, 512)
    assert int((cpu / "cpu.cfs_period_us").read_text()) == 100000
    node.runtime.UpdateContainerResources(
        cri.UpdateContainerResourcesRequest(
            container_id=cid,
            linux=cri.LinuxContainerResources(
                cpu_period=100000, cpu_quota=20000, cpu_shares=256, memory_limit_in_bytes=96 * MiB
            ),
        ),
        timeout=60,
    )
    assert host() == inside() == (96 * MiB, 20000, 256)
    reported = node.status(cid).resources.linux
    assert (reported.memory_limit_in_bytes, reported.cpu_quota) == (96 * MiB, 20000)


def test_memory_limit_enforced_and_reported_as_oomkilled(node: CriNode, pod: Pod) -> None:
    limits = cri.LinuxContainerResources(memory_limit_in_bytes=16 * MiB)
    # ``tail`` keeps the endless "line" of /dev/zero in memory until the kernel kills it.
    cid = pod.run("hungry", "tail", "/dev/zero", resources=limits)
    status = wait_exited(node, cid)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")


def test_run_as_user_and_read_only_rootfs(node: CriNode, pod: Pod) -> None:
    cid = pod.run(
        "confined",
        "sleep",
        "inf",
        run_as_user=cri.Int64Value(value=1000),
        readonly_rootfs=True,
    )
    # The exec (a probe) runs as the container's user, without capabilities, read-only.
    probe = node.exec_sync(cid, "sh", "-c", "id -u; id -g; touch /x || echo read-only")
    assert probe.stdout.split() == [b"1000", b"1000", b"read-only"]
    caps = node.exec_sync(cid, "grep", "CapEff", "/proc/self/status").stdout.split()
    assert caps == [b"CapEff:", b"0000000000000000"]
    pid = node.info(cid)["pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    assert "Uid:\t1000\t1000\t1000\t1000" in status


def test_failing_start_names_the_cause(node: CriNode, pod: Pod) -> None:
    cid = node.create(
        pod.id, pod.config, node.container_config("broken", ["/no/such/binary", "--flag"])
    )
    with pytest.raises(grpc.RpcError) as failed:
        node.start(cid)
    details = str(failed.value.details())
    assert "pyrunc create failed" in details
    assert "/no/such/binary" in details and "no such file or directory" in details
    status = node.status(cid)
    assert (status.state, status.reason) == (cri.CONTAINER_EXITED, "StartError")
    assert "/no/such/binary" in status.message
    # The failed create left nothing in the runtime: no state, no cgroup, no process.
    assert cid not in runtime_ids(pyrunc_binary(), node.pyrunc_root)
    assert not any(list(d.rglob(cid)) for d in cgroup_dirs(f"{node.cgroup_root}/{pod.name}"))
    node.runtime.RemoveContainer(cri.RemoveContainerRequest(container_id=cid), timeout=60)
    assert cid not in node.containers()


@pytest.mark.parametrize("handler", ["runc", "pyrunc"])
def test_nothing_left_behind(node: CriNode, handler: str) -> None:
    """A pod with an exited and a running container, exec'd into, then removed.

    The same on runc's handler shows the checks are right (runc leaves nothing either).
    """
    runtime = {"runc": "runc", "pyrunc": node.handler}[handler]
    root = node.base / ("runc-root" if handler == "runc" else node.pyrunc_root.name)
    binary = "runc" if handler == "runc" else pyrunc_binary()
    pod = Pod(node, f"leftovers-{handler}", runtime)
    try:
        done = pod.run("done", "sh", "-c", "exit 3")
        running = pod.run("running", "sleep", "inf")
        assert node.exec_sync(running, "true").exit_code == 0
        ids = {pod.id, done, running}
        exited = wait_exited(node, done)
        assert (exited.exit_code, exited.reason) == (3, "Error")
        # An exited container's task is deleted at once; the running ones are the runtime's.
        assert ids & runtime_ids(binary, root) == {pod.id, running}
        # What the checks below must find gone is there now (or they would prove nothing).
        mounted = {i for i in ids for m in mounts_under(node.base) if i in m}
        assert mounted == {pod.id, running}  # the pod's /dev/shm, the container's rootfs
        assert pids_mentioning(pod.id), "no shim for the pod"
        pod_cgroups = cgroup_dirs(f"{node.cgroup_root}/{pod.name}")
        assert {pod.id, running} <= {c.name for d in pod_cgroups for c in d.iterdir()}
        node.remove_pod(pod.id)
        assert not ids & set(node.pods() + node.containers())
        # State: the runtime's root, containerd's task dirs, the CRI's sandbox dir.
        assert not ids & runtime_ids(binary, root)
        assert not ids & {p.name for p in (root / "k8s.io").iterdir()}
        tasks = node.base / "state" / "io.containerd.runtime.v2.task" / "k8s.io"
        assert not ids & {p.name for p in tasks.iterdir()}
        assert not (
            node.base / "root" / "io.containerd.grpc.v1.cri" / "sandboxes" / pod.id
        ).exists()
        # Mounts (rootfs, the pod's /dev/shm) and shims.
        assert [m for m in mounts_under(node.base) if any(i in m for i in ids)] == []
        assert [p for i in ids for p in pids_mentioning(i)] == []
        # Cgroups: the runtime removed the containers' own; the pod's is kubelet's (below).
        assert [c for d in pod_cgroups for c in d.iterdir() if c.is_dir()] == []
    finally:
        with contextlib.suppress(grpc.RpcError):
            node.remove_pod(pod.id)
        node.remove_pod_cgroup(pod.name)
    assert cgroup_dirs(f"{node.cgroup_root}/{pod.name}") == []
