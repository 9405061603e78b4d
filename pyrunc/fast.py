"""Container state read straight from ``state.json``, for the commands engines call most.

``state``, ``list``, ``kill`` and ``delete`` run once per container operation of an engine,
so they must start fast. The library's :class:`~libcontainer.state.State` model costs
tens of milliseconds to import (attrs, cattrs, the config models) for fields these commands
never look at, so this module reads the few they need from the JSON itself, and only uses
``json``, ``os`` and ``signal``. What it computes mirrors :class:`libcontainer.Container`:
status from the init's liveness (pid + start time), the freezer and ``exec.fifo``.
Anything it cannot do as the library would (poststop hooks, systemd cgroups) it leaves to
the library: see :meth:`RawContainer.needs_library`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import time
from typing import Any

from pyrunc.context import CliError

__all__ = ["RawContainer", "load", "valid_id"]

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")
NOT_EXIST = "container does not exist"


def valid_id(container_id: str) -> bool:
    """runc's id rule (``^[\\w+\\-.]+$``, ASCII), never ``.``/``..``: one path component."""
    return (
        0 < len(container_id) <= 255
        and container_id not in (".", "..")
        and all(ch in _ID_CHARS for ch in container_id)
    )


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data.rsplit(b")", 1)[1].split()


def is_alive(pid: int, start: int) -> bool:
    """The process exists, is not a zombie and is the one that started at ``start``."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if not fields:
        return False
    return fields[0] not in (b"Z", b"X") and int(fields[19]) == start


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


class RawContainer:
    """One container's ``state.json``, as plain data."""

    def __init__(self, root: str, container_id: str, data: dict[str, Any]) -> None:
        self.id = container_id
        self.dir = os.path.join(root, container_id)
        self.data = data
        self.config: dict[str, Any] = data.get("config") or {}
        self.pid = int(data.get("init_process_pid") or 0)
        self.start = int(data.get("init_process_start") or 0)
        self.cgroup_paths: dict[str, str] = data.get("cgroup_paths") or {}

    # -- facts -------------------------------------------------------------------------

    def labels(self) -> tuple[str, dict[str, str]]:
        """The bundle and the annotations recorded in the config's labels."""
        bundle, annotations = "", {}
        for label in self.config.get("labels") or ():
            key, sep, value = label.partition("=")
            if not sep:
                continue
            if key == "bundle":
                bundle = value
            else:
                annotations[key] = value
        return bundle, annotations

    def alive(self) -> bool:
        """Whether the container's init is still running."""
        return is_alive(self.pid, self.start)

    def _freezer_file(self) -> tuple[str, str, str] | None:
        """(file, frozen value, thawed value) of the container's freezer, if it has one."""
        if "" in self.cgroup_paths:
            return os.path.join(self.cgroup_paths[""], "cgroup.freeze"), "1", "0"
        if "freezer" in self.cgroup_paths:
            return os.path.join(self.cgroup_paths["freezer"], "freezer.state"), "FROZEN", "THAWED"
        return None

    def frozen(self) -> bool:
        """Whether the freezer says FROZEN."""
        freezer = self._freezer_file()
        if freezer is None:
            return False
        try:
            return _read(freezer[0]) == freezer[1]
        except OSError:
            return False

    def status(self) -> str:
        """``stopped``, ``paused``, ``created`` or ``running``, as runc reports them."""
        if not self.alive():
            return "stopped"
        if self.frozen():
            return "paused"
        if os.path.exists(os.path.join(self.dir, "exec.fifo")):
            return "created"
        return "running"

    def oci_state(self, status: str | None = None) -> dict[str, Any]:
        """The OCI state in runc's field order (``runc state``)."""
        status = status or self.status()
        bundle, annotations = self.labels()
        out: dict[str, Any] = {
            "ociVersion": self.config.get("version") or "1.0.2-dev",
            "id": self.id,
            "pid": self.pid if status != "stopped" else 0,
            "status": status,
            "bundle": bundle,
            "rootfs": self.config.get("rootfs", ""),
            "created": self.data.get("created") or "0001-01-01T00:00:00Z",
        }
        if annotations:
            out["annotations"] = annotations
        out["owner"] = ""
        return out

    def private_pidns(self) -> bool:
        """Whether the container has a PID namespace of its own (killing init kills all)."""
        return any(
            ns.get("type") == "NEWPID" and not ns.get("path")
            for ns in self.config.get("namespaces") or ()
        )

    def needs_library(self) -> bool:
        """Whether deleting must go through the library (poststop hooks, systemd units)."""
        hooks = self.config.get("Hooks") or {}
        cgroups = self.config.get("cgroups") or {}
        return bool(hooks.get("poststop")) or bool(cgroups.get("Systemd"))

    def pids(self) -> list[int]:
        """Every pid in the container's cgroup (and its sub-cgroups), like GetAllPids."""
        paths = self.cgroup_paths
        base = next((paths[k] for k in ("", "devices", "pids", "freezer") if k in paths), None)
        if base is None:
            return [self.pid] if self.alive() else []
        pids: list[int] = []
        for dirpath, _dirs, files in os.walk(base):
            if "cgroup.procs" in files:
                with contextlib.suppress(OSError):
                    pids += [int(p) for p in _read(os.path.join(dirpath, "cgroup.procs")).split()]
        return pids

    # -- actions -----------------------------------------------------------------------

    def set_frozen(self, frozen: bool, timeout: float = 2.0) -> bool:
        """Freeze or thaw the cgroup; True when the freezer reached that state."""
        freezer = self._freezer_file()
        if freezer is None:
            return False
        path, on, off = freezer
        want = on if frozen else off
        deadline = time.monotonic() + timeout
        try:
            while True:
                with open(path, "w") as f:
                    f.write(want)
                if _read(path) == want or not frozen:
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.001)
        except OSError:
            return False

    def signal_all(self, sig: int) -> None:
        """Signal every process in the cgroup, frozen meanwhile (runc signalAllProcesses)."""
        frozen = self.set_frozen(True)
        try:
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        finally:
            if frozen:
                self.set_frozen(False)

    def signal(self, sig: int, all_processes: bool = False) -> None:
        """runc 1.1's Container.Signal."""
        status = self.status()
        if all_processes:
            if status == "stopped" and not any(
                os.path.isdir(p) for p in self.cgroup_paths.values()
            ):
                return
            self.signal_all(sig)
            return
        if status == "stopped":
            raise CliError("container not running")
        os.kill(self.pid, sig)
        if status == "paused" and sig == signal.SIGKILL:
            # A cgroup v1 process killed while frozen only dies once thawed.
            self.set_frozen(False)

    def has_poststart_hooks(self) -> bool:
        """Whether ``start`` must run poststart hooks (then it goes through the library)."""
        return bool((self.config.get("Hooks") or {}).get("poststart"))

    def release(self, timeout: float | None = None) -> None:
        """Open ``exec.fifo`` and read the init's byte so it execs the program (runc start).

        The open never blocks; then poll, checking the init is alive, so a dead init cannot
        make us wait forever (as :meth:`libcontainer.Container.exec`).
        """
        import select

        path = os.path.join(self.dir, "exec.fifo")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    try:
                        if os.read(fd, 1):
                            break
                    except BlockingIOError:
                        pass
                if not self.alive():
                    raise CliError("container init exited before it was started")
                if deadline is not None and time.monotonic() > deadline:
                    raise CliError("timed out waiting for the container init")
        finally:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def kill_and_wait(self) -> None:
        """SIGKILL the init and wait up to 10 s for it to be gone (runc killContainer)."""
        with contextlib.suppress(ProcessLookupError):
            self.signal(signal.SIGKILL)
        for _ in range(10000):
            if not self.alive():
                return
            time.sleep(0.001)
        raise CliError("container init still running")

    def destroy(self) -> None:
        """Kill what is left, remove the cgroups and the state directory."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        if not self.private_pidns() or self.alive():
            for _ in range(500):
                if not self.pids():
                    break
                self.signal_all(signal.SIGKILL)
                time.sleep(0.002)
        for path in self.cgroup_paths.values():
            _remove_cgroup(path)
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def _remove_cgroup(path: str) -> None:
    """rmdir the cgroup and its children, bottom-up, retrying while it drains (EBUSY)."""
    if not os.path.isdir(path):
        return
    dirs = [d for d, _, _ in os.walk(path)]
    for d in reversed(dirs):
        for attempt in range(200):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY or attempt == 199:
                    raise
                time.sleep(0.005)


def load(root: str, container_id: str) -> RawContainer:
    """The container's state, or :class:`CliError` ``container does not exist``."""
    if not valid_id(container_id):
        raise CliError("invalid id format: " + container_id)
    path = os.path.join(root, container_id, "state.json")
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (FileNotFoundError, NotADirectoryError):
        raise CliError(NOT_EXIST) from None
    except ValueError as e:
        raise CliError(f"{path}: state.json is not valid JSON: {e}") from None
    if not isinstance(data, dict) or data.get("id") != container_id:
        raise CliError(f"{path} does not hold the state of {container_id}")
    return RawContainer(root, container_id, data)
