"""A private containerd serving the CRI, with runc and pyrunc as runtime handlers.

What a Kubernetes node needs, made small enough for a test machine without network:

- containerd's CRI plugin (config version 2) with one ``io.containerd.runc.v2`` runtime per
  handler, differing only in ``options.BinaryName`` and ``options.Root``;
- CNI pointed at empty dirs: pods run on the host network, so no plugin is called;
- ``restrict_oom_score_adj``: the sandbox asks for oom_score_adj -998, which root without
  CAP_SYS_RESOURCE (as on the development VM) may not set;
- an image built from the busybox rootfs and imported with ``ctr -n k8s.io images import``:
  it is the ``sandbox_image`` (its default command sleeps forever, like ``pause``) and the
  workload image.

:class:`CriNode` is kubelet's side: the gRPC stubs of ``cri_api.v1`` and request builders.
No pytest here: ``benchmarks/cri.py`` drives the same node.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
from containerd_env import Containerd, daemon_config, remove_cgroup_tree
from cri_api.v1 import api_pb2 as cri
from cri_api.v1 import api_pb2_grpc as cri_grpc
from ociimage import build_oci_image
from testrun import RUN_TOKEN, TMP_PREFIX

#: The namespace containerd's CRI plugin keeps its pods, containers and images in.
K8S_NAMESPACE = "k8s.io"
IMAGE = "docker.io/library/pyrunc-busybox:cri"
#: The sandbox ("pause") container: PID 1 that waits for SIGKILL, as ``pause`` does.
PAUSE_CMD = ("sleep", "inf")
#: Kubelet's defaults for a host-network pod: the node's network, a PID namespace per
#: container, one IPC namespace per pod. Kubelet sends them for the pod and each container.
NAMESPACES = cri.NamespaceOption(network=cri.NODE, pid=cri.CONTAINER, ipc=cri.POD)
README = Path(__file__).resolve().parents[2] / "README.md"

_CRI = """
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{image}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{d}/cni/bin"
    conf_dir = "{d}/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{snapshotter}"
    default_runtime_name = "runc"
"""


class CriUnavailable(Exception):
    """This containerd cannot serve the CRI at all (built without the plugin)."""


def readme_runtime_stanza() -> tuple[str, str]:
    """The handler name and the runtime stanza of the README's "Running on Kubernetes".

    The test runs what the README tells users to paste: the ``[...runtimes.NAME]`` tables
    of its ``toml`` block; only ``BinaryName`` and ``Root`` are pointed at the test's own.
    """
    text = README.read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    stanza = next((b for b in blocks if "io.containerd.runc.v2" in b), None)
    if stanza is None:
        raise AssertionError("README.md lost its containerd runtime stanza")
    runtimes = tomllib.loads(stanza)["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
    (handler,) = runtimes["runtimes"]
    return handler, stanza


def readme_runtime_class_handler() -> str:
    """The ``handler`` of the README's ``RuntimeClass``."""
    for block in re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S):
        if re.search(r"^kind: *RuntimeClass$", block, re.M):
            match = re.search(r"^handler: *(\S+)$", block, re.M)
            if match:
                return match.group(1)
    raise AssertionError("README.md lost its RuntimeClass")


def snapshotter() -> str:
    """overlayfs (what nodes use) where the kernel has it, else the copying ``native``."""
    return "overlayfs" if "\toverlay\n" in Path("/proc/filesystems").read_text() else "native"


def runtime_stanza(handler: str, binary: str, root: Path) -> str:
    """The ``runtimes.<handler>`` tables for a runc-compatible ``binary``."""
    return f"""
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{handler}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{handler}.options]
        BinaryName = "{binary}"
        Root = "{root}"
"""


def cri_config(base: Path, pyrunc: str) -> tuple[str, str]:
    """containerd's config with the CRI and two handlers; returns (config, pyrunc handler).

    The pyrunc handler is the README's stanza, with the binary and state root replaced.
    """
    handler, stanza = readme_runtime_stanza()
    ours = re.sub(r'BinaryName = "[^"]*"', f'BinaryName = "{pyrunc}"', stanza)
    ours = re.sub(r'Root = "[^"]*"', f'Root = "{base}/{handler}-root"', ours)
    cri_text = (
        _CRI.format(d=base, image=IMAGE, snapshotter=snapshotter())
        + runtime_stanza("runc", "runc", base / "runc-root")
        + "\n"
        + ours
    )
    return daemon_config(base, cri_text), handler


class CriNode:
    """containerd with the CRI, the image imported, and kubelet's gRPC stubs.

    Every pod gets ``cgroup_parent`` ``/<prefix>-<token>-pods/<pod name>`` (kubelet's
    layout in miniature) and its log directory under the base dir; :meth:`close` removes
    what kubelet would: pods, then the pod cgroups.
    """

    def __init__(self, rootfs: Path, pyrunc: str) -> None:
        self.base = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + "cri-"))
        self.cgroup_root = f"pylibcontainer-{RUN_TOKEN}-pods"
        self.daemon: Containerd | None = None
        self._channel: grpc.Channel | None = None
        try:
            for d in ("cni/bin", "cni/net.d", "logs"):
                (self.base / d).mkdir(parents=True)
            config, self.handler = cri_config(self.base, pyrunc)
            runtime_class = readme_runtime_class_handler()
            if runtime_class != self.handler:
                raise AssertionError(
                    f"README: RuntimeClass handler {runtime_class!r} is not the "
                    f"runtime {self.handler!r} of its containerd stanza"
                )
            self.daemon = Containerd(self.base, K8S_NAMESPACE, config)
            self._check_cri_plugin()
            image = build_oci_image(rootfs, self.base / "image", IMAGE, PAUSE_CMD)
            self.daemon.ctr("images", "import", "--snapshotter", snapshotter(), str(image))
            self._channel = grpc.insecure_channel(f"unix://{self.daemon.sock}")
            # The generated stubs are untyped; their messages (api_pb2.pyi) are typed.
            self.runtime: Any = cri_grpc.RuntimeServiceStub(self._channel)  # type: ignore[no-untyped-call]
            self.images: Any = cri_grpc.ImageServiceStub(self._channel)  # type: ignore[no-untyped-call]
        except BaseException:
            self.close()
            raise

    def _check_cri_plugin(self) -> None:
        assert self.daemon is not None
        rows = [r.split() for r in self.daemon.ctr("plugins", "ls").stdout.splitlines()]
        status = next((r[3] for r in rows if r[:2] == ["io.containerd.grpc.v1", "cri"]), None)
        if status is None:
            raise CriUnavailable("this containerd has no CRI plugin (io.containerd.grpc.v1.cri)")
        if status != "ok":  # our config, or the host, is wrong: that must fail, not skip
            raise RuntimeError(f"containerd's CRI plugin failed ({status}):\n{self.daemon.logs()}")

    @property
    def pyrunc_root(self) -> Path:
        """The pyrunc handler's state root (``options.Root``)."""
        return self.base / f"{self.handler}-root"

    # --- request builders: what kubelet sends ------------------------------------------

    def pod_config(self, name: str, **linux: Any) -> cri.PodSandboxConfig:
        """A host-network pod with no hostname (so no UTS namespace) under our cgroup."""
        logs = self.base / "logs" / name
        logs.mkdir(exist_ok=True)
        return cri.PodSandboxConfig(
            metadata=cri.PodSandboxMetadata(name=name, namespace="default", uid=name),
            log_directory=str(logs),
            linux=cri.LinuxPodSandboxConfig(
                cgroup_parent=f"/{self.cgroup_root}/{name}",
                security_context=cri.LinuxSandboxSecurityContext(namespace_options=NAMESPACES),
                **linux,
            ),
        )

    def container_config(
        self,
        name: str,
        command: Sequence[str],
        *,
        resources: cri.LinuxContainerResources | None = None,
        envs: Mapping[str, str] | None = None,
        **security: Any,
    ) -> cri.ContainerConfig:
        """A container of the test image running ``command``, logging to ``<name>.log``.

        ``security`` adds fields of its ``LinuxContainerSecurityContext`` (``run_as_user``,
        ``readonly_rootfs``, ...).
        """
        return cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name=name),
            image=cri.ImageSpec(image=IMAGE),
            command=list(command),
            envs=[cri.KeyValue(key=k, value=v) for k, v in (envs or {}).items()],
            log_path=f"{name}.log",
            linux=cri.LinuxContainerConfig(
                resources=resources,
                security_context=cri.LinuxContainerSecurityContext(
                    namespace_options=NAMESPACES, **security
                ),
            ),
        )

    # --- calls ---------------------------------------------------------------------------

    def run_pod(self, config: cri.PodSandboxConfig, handler: str) -> str:
        """RunPodSandbox on ``handler``; the pod's id."""
        reply = self.runtime.RunPodSandbox(
            cri.RunPodSandboxRequest(config=config, runtime_handler=handler), timeout=60
        )
        return str(reply.pod_sandbox_id)

    def create(
        self, pod: str, pod_config: cri.PodSandboxConfig, config: cri.ContainerConfig
    ) -> str:
        """CreateContainer in ``pod``; the container's id."""
        reply = self.runtime.CreateContainer(
            cri.CreateContainerRequest(
                pod_sandbox_id=pod, config=config, sandbox_config=pod_config
            ),
            timeout=60,
        )
        return str(reply.container_id)

    def start(self, cid: str) -> None:
        """StartContainer."""
        self.runtime.StartContainer(cri.StartContainerRequest(container_id=cid), timeout=60)

    def exec_sync(self, cid: str, *cmd: str, timeout: int = 20) -> cri.ExecSyncResponse:
        """ExecSync (what an exec probe does)."""
        reply: cri.ExecSyncResponse = self.runtime.ExecSync(
            cri.ExecSyncRequest(container_id=cid, cmd=list(cmd), timeout=timeout),
            timeout=timeout + 30,
        )
        return reply

    def status(self, cid: str) -> cri.ContainerStatus:
        """ContainerStatus."""
        reply: cri.ContainerStatusResponse = self.runtime.ContainerStatus(
            cri.ContainerStatusRequest(container_id=cid), timeout=30
        )
        return reply.status

    def info(self, cid: str) -> dict[str, Any]:
        """ContainerStatus' verbose info (containerd's: pid, runtime spec, ...)."""
        reply = self.runtime.ContainerStatus(
            cri.ContainerStatusRequest(container_id=cid, verbose=True), timeout=30
        )
        return dict(json.loads(reply.info["info"]))

    def pod_info(self, pod: str) -> dict[str, Any]:
        """PodSandboxStatus' verbose info (the sandbox container's pid, its spec, ...)."""
        reply = self.runtime.PodSandboxStatus(
            cri.PodSandboxStatusRequest(pod_sandbox_id=pod, verbose=True), timeout=30
        )
        return dict(json.loads(reply.info["info"]))

    def stop_container(self, cid: str, timeout: int) -> None:
        """StopContainer with a grace period (seconds) before SIGKILL."""
        self.runtime.StopContainer(
            cri.StopContainerRequest(container_id=cid, timeout=timeout), timeout=timeout + 60
        )

    def remove_pod(self, pod: str) -> None:
        """StopPodSandbox + RemovePodSandbox (which removes the pod's containers)."""
        self.runtime.StopPodSandbox(cri.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=60)
        self.runtime.RemovePodSandbox(cri.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=60)

    def pods(self) -> list[str]:
        """Ids of every pod sandbox the daemon knows."""
        return [p.id for p in self.runtime.ListPodSandbox(cri.ListPodSandboxRequest()).items]

    def containers(self) -> list[str]:
        """Ids of every container the daemon knows."""
        return [c.id for c in self.runtime.ListContainers(cri.ListContainersRequest()).containers]

    def remove_pod_cgroup(self, name: str) -> None:
        """Remove the pod-level cgroup (kubelet's job, not the runtime's)."""
        remove_cgroup_tree(f"{self.cgroup_root}/{name}")

    def close(self) -> None:
        """Remove every pod, stop the daemon and its shims, remove cgroups and the base."""
        try:
            if self.daemon is not None and self._channel is not None:
                for pod in self.pods():
                    try:
                        self.remove_pod(pod)
                    except grpc.RpcError:
                        pass  # the daemon's stop and the cgroup clean-up below catch it
        finally:
            if self._channel is not None:
                self._channel.close()
            if self.daemon is not None:
                self.daemon.stop()
            remove_cgroup_tree(self.cgroup_root)
            shutil.rmtree(self.base, ignore_errors=True)
