"""A fake cgroup v2 (unified) filesystem in a temporary directory, for the fs2 unit tests.

Like :mod:`cgroupfs_fake` for v1: it lays out a cgroup2 root with the files a kernel shows,
writes matching mountinfo and ``/proc/self/cgroup`` text, and wraps the driver's file
primitives to record writes and act as the kernel would: a new cgroup gets the control files
of the controllers its parent enabled in ``cgroup.subtree_control``, ``cgroup.freeze`` shows
up in ``cgroup.events``, ``cgroup.kill`` empties the tree, ``io.max`` merges per device, and
``rmdir`` refuses while processes are in the cgroup.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from libcontainer.cgroups import ebpf, fscommon
from libcontainer.cgroups.host import HostCgroups

CONTROLLERS = ("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc")

# Files every non-root cgroup has, whatever is enabled.
CORE_FILES = {
    "cgroup.controllers": "",
    "cgroup.subtree_control": "",
    "cgroup.procs": "",
    "cgroup.threads": "",
    "cgroup.type": "domain\n",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.freeze": "0\n",
    "cgroup.kill": "",
    "cgroup.max.depth": "max\n",
    "cgroup.stat": "nr_descendants 0\nnr_dying_descendants 0\n",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
    "cpu.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    "io.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    "memory.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
}

CONTROLLER_FILES: dict[str, dict[str, str]] = {
    "cpuset": {"cpuset.cpus": "\n", "cpuset.mems": "\n", "cpuset.cpus.effective": "0-3\n"},
    "cpu": {
        "cpu.weight": "100\n",
        "cpu.weight.nice": "0\n",
        "cpu.max": "max 100000\n",
        "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\n"
        "nr_throttled 0\nthrottled_usec 0\n",
    },
    "io": {"io.weight": "default 100\n", "io.max": "", "io.stat": ""},
    "memory": {
        "memory.current": "0\n",
        "memory.max": "max\n",
        "memory.high": "max\n",
        "memory.low": "0\n",
        "memory.min": "0\n",
        "memory.swap.current": "0\n",
        "memory.swap.max": "max\n",
        "memory.stat": "anon 0\nfile 0\n",
        "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
        "memory.numa_stat": "anon N0=0\nfile N0=0\nunevictable N0=0\n",
    },
    "hugetlb": {
        "hugetlb.2MB.max": "max\n",
        "hugetlb.2MB.current": "0\n",
        "hugetlb.2MB.events": "max 0\n",
    },
    "pids": {"pids.max": "max\n", "pids.current": "0\n", "pids.events": "max 0\n"},
    "rdma": {"rdma.max": "", "rdma.current": ""},
    "misc": {"misc.max": "", "misc.current": ""},
}


class FakeCgroupfs2:
    """A fake unified hierarchy mounted at ``root`` (the host's ``/sys/fs/cgroup``)."""

    def __init__(
        self,
        root: Path,
        *,
        own: str = "/user.slice/session-1.scope",
        controllers: Iterable[str] = CONTROLLERS,
        hybrid: bool = False,
    ) -> None:
        self.root = root
        self.hybrid = hybrid
        self.mountpoint = root / "unified" if hybrid else root
        self.controllers = tuple(controllers)
        self.own = own
        self.writes: list[tuple[str, str]] = []
        self.fail: dict[str, int] = {}
        self.frozen_after_reads = 0
        self.device_filters: list[tuple[str, list[Any]]] = []
        self._real_write: Callable[[str, str, str], None] = fscommon.write_file
        self._real_mkdir: Callable[[str], bool] = fscommon.mkdir
        self._real_rmdir: Callable[[str], None] = fscommon.rmdir
        self.mountpoint.mkdir(parents=True)
        root_files = {
            "cgroup.controllers": " ".join(self.controllers) + "\n",
            "cgroup.subtree_control": "",
            "cgroup.procs": "1\n",
            "cgroup.max.depth": "max\n",
            "cgroup.stat": "",
            "cpu.stat": "usage_usec 5\n",
            "cpu.pressure": CORE_FILES["cpu.pressure"],
        }
        for name, content in root_files.items():
            (self.mountpoint / name).write_text(content)
        current = self.mountpoint
        for part in own.strip("/").split("/") if own.strip("/") else []:
            current = current / part
            current.mkdir()
            self._populate(current)

    # -- layout --------------------------------------------------------------------------

    def mountinfo(self) -> str:
        """mountinfo text with the cgroup2 mount (at the root, or at root/unified)."""
        lines = ["22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw"]
        if self.hybrid:
            lines.append(f"31 22 0:28 / {self.root} rw - tmpfs tmpfs rw,mode=755")
            lines.append(f"32 31 0:29 / {self.root}/memory rw - cgroup cgroup rw,memory")
        lines.append(f"90 22 0:90 / {self.mountpoint} rw,nosuid - cgroup2 cgroup2 rw")
        return "\n".join(lines) + "\n"

    def proc_cgroup(self) -> str:
        """``/proc/self/cgroup`` of the fake process."""
        if self.hybrid:
            return f"1:memory:/\n0::{self.own}\n"
        return f"0::{self.own}\n"

    def host(self, **kwargs: object) -> HostCgroups:
        """A HostCgroups describing this tree."""
        kwargs.setdefault("hugepage_sizes", ("2MB",))
        return HostCgroups.from_text(
            self.mountinfo(),
            self.proc_cgroup(),
            root=str(self.root),
            **kwargs,  # type: ignore[arg-type]
        )

    def _populate(self, directory: Path) -> None:
        enabled = (directory.parent / "cgroup.subtree_control").read_text().split()
        files = dict(CORE_FILES)
        files["cgroup.controllers"] = " ".join(enabled) + ("\n" if enabled else "")
        for controller in enabled:
            files.update(CONTROLLER_FILES[controller])
        for name, content in files.items():
            (directory / name).write_text(content)

    # -- reading back --------------------------------------------------------------------

    def read(self, relpath: str) -> str:
        """Content of a file, by path relative to the mount point."""
        return (self.mountpoint / relpath).read_text()

    def writes_to(self, suffix: str) -> list[str]:
        """The data of every write to a file whose relative path ends with ``suffix``."""
        return [data for path, data in self.writes if path.endswith(suffix)]

    def files_written(self) -> list[str]:
        """Basenames of the files written, in order."""
        return [os.path.basename(path) for path, _ in self.writes]

    def exit(self, pid: int) -> None:
        """Process ``pid`` ended: it leaves every cgroup.procs."""
        for procs in self.mountpoint.rglob("cgroup.procs"):
            kept = [line for line in procs.read_text().splitlines() if line != str(pid)]
            procs.write_text("".join(line + "\n" for line in kept))
            self._update_populated(procs.parent)

    # -- the wrapped primitives ----------------------------------------------------------

    def write_file(self, directory: str, name: str, data: str) -> None:
        """Record, perform, then apply the kernel's side effects."""
        if directory:
            rel = os.path.relpath(os.path.join(directory, name), self.mountpoint)
            self.writes.append((rel, data))
        injected = self.fail.get(name)
        if injected is not None:
            raise fscommon.CgroupFileError(
                f"failed to write {data!r} to {directory}/{name}: injected",
                path=f"{directory}/{name}",
                value=data,
                errno=injected,
            )
        path = Path(directory, name)
        before = path.read_text() if path.exists() else ""
        self._real_write(directory, name, data)  # ENOENT for files the kernel lacks
        handler = getattr(self, "_on_" + name.replace(".", "_"), None)
        if handler is not None:
            handler(Path(directory), before, data)

    def _on_cgroup_procs(self, directory: Path, before: str, data: str) -> None:
        for procs in self.mountpoint.rglob("cgroup.procs"):
            if procs.parent != directory:
                kept = [x for x in procs.read_text().splitlines() if x != data]
                procs.write_text("".join(x + "\n" for x in kept))
        (directory / "cgroup.procs").write_text(before + data + "\n")
        for d in [directory, *directory.parents]:
            if d == self.mountpoint.parent:
                break
            self._update_populated(d)

    def _update_populated(self, directory: Path) -> None:
        events = directory / "cgroup.events"
        if not events.exists():
            return
        populated = any(p.read_text().strip() for p in directory.rglob("cgroup.procs"))
        frozen = events.read_text().split("frozen ")[1].strip()
        events.write_text(f"populated {int(populated)}\nfrozen {frozen}\n")

    def _on_cgroup_subtree_control(self, directory: Path, before: str, data: str) -> None:
        available = (directory / "cgroup.controllers").read_text().split()
        enabled = before.split()
        for item in data.split():
            controller = item[1:]
            if controller not in available:
                (directory / "cgroup.subtree_control").write_text(before)
                raise fscommon.CgroupFileError(
                    f"failed to write {data!r}: No such file or directory",
                    path=str(directory / "cgroup.subtree_control"),
                    value=data,
                    errno=errno.ENOENT,
                )
            if item[0] == "+" and controller not in enabled:
                enabled.append(controller)
            elif item[0] == "-" and controller in enabled:
                enabled.remove(controller)
        ordered = [c for c in self.controllers if c in enabled]
        (directory / "cgroup.subtree_control").write_text(" ".join(ordered) + "\n")
        # Children see the controllers at once, with their files.
        for child in directory.iterdir():
            if child.is_dir():
                (child / "cgroup.controllers").write_text(" ".join(ordered) + "\n")
                for controller in ordered:
                    for name, content in CONTROLLER_FILES[controller].items():
                        if not (child / name).exists():
                            (child / name).write_text(content)

    def _on_cgroup_freeze(self, directory: Path, before: str, data: str) -> None:
        populated = "1" if (directory / "cgroup.procs").read_text().strip() else "0"
        frozen = "0" if self.frozen_after_reads else data.strip()
        (directory / "cgroup.events").write_text(f"populated {populated}\nfrozen {frozen}\n")
        (directory / "cgroup.freeze").write_text(data.strip() + "\n")

    def _on_cgroup_kill(self, directory: Path, before: str, data: str) -> None:
        for procs in directory.rglob("cgroup.procs"):
            procs.write_text("")
            self._update_populated(procs.parent)

    def _on_io_max(self, directory: Path, before: str, data: str) -> None:
        # The kernel keeps one line per device, merging the keys written.
        device, _, setting = data.partition(" ")
        lines: dict[str, dict[str, str]] = {}
        for line in before.splitlines():
            dev, *kvs = line.split()
            lines[dev] = dict(kv.split("=") for kv in kvs)
        entry = lines.setdefault(
            device, {"rbps": "max", "wbps": "max", "riops": "max", "wiops": "max"}
        )
        key, _, value = setting.partition("=")
        entry[key] = value
        text = "".join(
            f"{dev} " + " ".join(f"{k}={v}" for k, v in kv.items()) + "\n"
            for dev, kv in lines.items()
        )
        (directory / "io.max").write_text(text)

    def mkdir(self, path: str) -> bool:
        """Create a cgroup and its control files."""
        created = self._real_mkdir(path)
        if created:
            self._populate(Path(path))
        return created

    def rmdir(self, path: str) -> None:
        """Remove a cgroup like the kernel: busy while tasks are in it."""
        directory = Path(path)
        if directory.is_dir() and not any(p.is_dir() for p in directory.iterdir()):
            procs = directory / "cgroup.procs"
            if procs.exists() and procs.read_text().strip():
                raise fscommon.CgroupFileError(
                    f"failed to remove cgroup {path}: Device or resource busy",
                    path=path,
                    errno=errno.EBUSY,
                )
            for child in directory.iterdir():
                child.unlink()
        self._real_rmdir(path)


@pytest.fixture
def fakefs2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCgroupfs2]:
    """A fake unified host, our process in /user.slice/session-1.scope; the driver's
    file primitives wrapped, and device filters recorded instead of loaded."""
    fake = FakeCgroupfs2(tmp_path / "cgroup")
    monkeypatch.setattr(fscommon, "write_file", fake.write_file)
    monkeypatch.setattr(fscommon, "mkdir", fake.mkdir)
    monkeypatch.setattr(fscommon, "rmdir", fake.rmdir)
    fake.device_filters = []

    def record(path: str, rules: Iterable[object]) -> int:
        fake.device_filters.append((path, list(rules)))
        return len(fake.device_filters)

    monkeypatch.setattr(ebpf, "load_attach_device_filter", record)
    yield fake
