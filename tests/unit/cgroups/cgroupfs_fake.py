"""A fake cgroup v1 filesystem in a temporary directory, for the unit tests.

It lays out one directory per hierarchy with the control files a kernel would show, writes
the matching mountinfo and ``/proc/self/cgroup`` text, and wraps the driver's file
primitives (``fscommon.write_file``, ``mkdir``, ``rmdir``) so that it can record every write
and react as the kernel would: control files appear on ``mkdir`` and vanish on ``rmdir``
(which is refused while tasks are in the cgroup), ``devices.list`` follows
``devices.allow``/``devices.deny``, ``cgroup.procs`` accumulates pids.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.host import HostCgroups

UNLIMITED = "9223372036854771712"

COMMON = {"cgroup.procs": "", "tasks": "", "notify_on_release": "0", "cgroup.clone_children": "0"}

# Control files of a freshly created (non-root) cgroup, per controller.
NEW_CGROUP_FILES: dict[str, dict[str, str]] = {
    "cpuset": {
        "cpuset.cpus": "\n",
        "cpuset.mems": "\n",
        "cpuset.effective_cpus": "\n",
        "cpuset.cpu_exclusive": "0\n",
        "cpuset.mem_exclusive": "0\n",
        "cpuset.mem_hardwall": "0\n",
        "cpuset.memory_migrate": "0\n",
        "cpuset.memory_pressure": "0\n",
        "cpuset.memory_spread_page": "0\n",
        "cpuset.memory_spread_slab": "0\n",
        "cpuset.sched_load_balance": "1\n",
        "cpuset.sched_relax_domain_level": "-1\n",
    },
    "devices": {"devices.allow": "", "devices.deny": ""},  # devices.list: copied from parent
    "memory": {
        "memory.limit_in_bytes": UNLIMITED + "\n",
        "memory.soft_limit_in_bytes": UNLIMITED + "\n",
        "memory.memsw.limit_in_bytes": UNLIMITED + "\n",
        "memory.kmem.limit_in_bytes": UNLIMITED + "\n",
        "memory.kmem.tcp.limit_in_bytes": UNLIMITED + "\n",
        "memory.usage_in_bytes": "0\n",
        "memory.max_usage_in_bytes": "0\n",
        "memory.failcnt": "0\n",
        "memory.memsw.usage_in_bytes": "0\n",
        "memory.memsw.max_usage_in_bytes": "0\n",
        "memory.memsw.failcnt": "0\n",
        "memory.kmem.usage_in_bytes": "0\n",
        "memory.kmem.max_usage_in_bytes": "0\n",
        "memory.kmem.failcnt": "0\n",
        "memory.kmem.tcp.usage_in_bytes": "0\n",
        "memory.kmem.tcp.max_usage_in_bytes": "0\n",
        "memory.kmem.tcp.failcnt": "0\n",
        "memory.swappiness": "60\n",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
        "memory.use_hierarchy": "1\n",
        "memory.stat": "cache 0\nrss 0\n",
        "memory.numa_stat": "total=0 N0=0\nfile=0 N0=0\nanon=0 N0=0\nunevictable=0 N0=0\n",
    },
    "cpu": {
        "cpu.shares": "1024\n",
        "cpu.cfs_period_us": "100000\n",
        "cpu.cfs_quota_us": "-1\n",
        "cpu.rt_period_us": "1000000\n",
        "cpu.rt_runtime_us": "0\n",
        "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
    },
    "cpuacct": {
        "cpuacct.usage": "0\n",
        "cpuacct.usage_percpu": "0 0 \n",
        "cpuacct.stat": "user 0\nsystem 0\n",
        "cpuacct.usage_all": "cpu user system\n0 0 0\n1 0 0\n",
    },
    "pids": {"pids.max": "max\n", "pids.current": "0\n"},
    "blkio": {
        "blkio.weight": "100\n",
        "blkio.leaf_weight": "100\n",
        "blkio.weight_device": "",
        "blkio.leaf_weight_device": "",
        "blkio.throttle.read_bps_device": "",
        "blkio.throttle.write_bps_device": "",
        "blkio.throttle.read_iops_device": "",
        "blkio.throttle.write_iops_device": "",
        "blkio.throttle.io_service_bytes_recursive": "Total 0\n",
        "blkio.throttle.io_serviced_recursive": "Total 0\n",
    },
    "hugetlb": {
        "hugetlb.2MB.limit_in_bytes": UNLIMITED + "\n",
        "hugetlb.2MB.usage_in_bytes": "0\n",
        "hugetlb.2MB.max_usage_in_bytes": "0\n",
        "hugetlb.2MB.failcnt": "0\n",
    },
    "net_cls": {"net_cls.classid": "0\n"},
    "net_prio": {"net_prio.ifpriomap": "lo 0\n", "net_prio.prioidx": "1\n"},
    "perf_event": {},
    "freezer": {
        "freezer.state": "THAWED\n",
        "freezer.self_freezing": "0\n",
        "freezer.parent_freezing": "0\n",
    },
    "rdma": {"rdma.max": "", "rdma.current": ""},
    "misc": {"misc.max": "", "misc.current": ""},
    "name=systemd": {},
}

# The root cgroup differs: cpuset has values, and freezer/pids have no limit files there.
ROOT_OVERRIDES: dict[str, dict[str, str | None]] = {
    "cpuset": {"cpuset.cpus": "0-3\n", "cpuset.mems": "0\n", "cpuset.effective_cpus": "0-3\n"},
    "freezer": {"freezer.state": None, "freezer.self_freezing": None},
    "pids": {"pids.max": None},
    "devices": {"devices.list": "a *:* rwm\n"},
}

ALL_CONTROLLERS = tuple(NEW_CGROUP_FILES)

# The unified (v2) hierarchy of a hybrid host: no v1 files, the cgroup2 core files only.
UNIFIED_FILES = {
    "cgroup.procs": "",
    "cgroup.controllers": "",
    "cgroup.subtree_control": "",
    "cgroup.type": "domain\n",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.freeze": "0\n",
}


def _dir_name(controller: str) -> str:
    return controller.removeprefix("name=")


class FakeCgroupfs:
    """A fake v1 (+ optional unified) cgroup tree under ``root``."""

    def __init__(
        self,
        root: Path,
        controllers: Iterable[str] = ALL_CONTROLLERS,
        own: Mapping[str, str] | None = None,
        *,
        unified: bool = True,
    ) -> None:
        self.root = root
        self.controllers = tuple(controllers)
        # Like this host: our memory cgroup is nested, the others are the root.
        self.own = {c: "/" for c in self.controllers}
        if own is not None:
            self.own.update(own)
        elif "memory" in self.controllers:
            self.own["memory"] = "/process_api/abc"
        self.unified = unified
        self.writes: list[tuple[str, str]] = []
        self.fail: dict[str, int] = {}
        self._real_write: Callable[[str, str, str], None] = fscommon.write_file
        self._real_mkdir: Callable[[str], bool] = fscommon.mkdir
        self._real_rmdir: Callable[[str], None] = fscommon.rmdir
        for controller in self.controllers:
            mount = self.mountpoint(controller)
            mount.mkdir(parents=True)
            self._populate(mount, controller, is_root=True)
            own_path = self.own.get(controller, "/")
            if own_path != "/":
                current = mount
                for part in own_path.strip("/").split("/"):
                    current = current / part
                    current.mkdir()
                    self._populate(current, controller, is_root=False)
        if unified:
            current = root / "unified"
            current.mkdir()
            self._populate(current, "", is_root=True)
            for part in self.own.get("", "/").strip("/").split("/"):
                if part:
                    current = current / part
                    current.mkdir()
                    self._populate(current, "", is_root=False)

    # -- layout --------------------------------------------------------------------------

    def mountpoint(self, controller: str) -> Path:
        """Where ``controller`` is mounted."""
        return self.root / _dir_name(controller)

    def mountinfo(self) -> str:
        """mountinfo text for the fake mounts (plus an unrelated root mount)."""
        lines = ["22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw"]
        lines.append(f"31 22 0:28 / {self.root} rw,relatime - tmpfs tmpfs rw,mode=755")
        for i, controller in enumerate(self.controllers):
            lines.append(
                f"{32 + i} 31 0:{29 + i} / {self.mountpoint(controller)} rw,nosuid,nodev "
                f"shared:{9 + i} - cgroup cgroup rw,{controller}"
            )
        if self.unified:
            lines.append(f"90 31 0:90 / {self.root}/unified rw - cgroup2 cgroup2 rw")
        return "\n".join(lines) + "\n"

    def proc_cgroup(self) -> str:
        """``/proc/self/cgroup`` text for the fake process."""
        lines = [f"{i + 1}:{c}:{self.own.get(c, '/')}" for i, c in enumerate(self.controllers)]
        if self.unified:
            lines.append(f"0::{self.own.get('', '/')}")
        return "\n".join(lines) + "\n"

    def host(self, **kwargs: object) -> HostCgroups:
        """A HostCgroups describing this tree."""
        kwargs.setdefault("hugepage_sizes", ("2MB",))
        return HostCgroups.from_text(
            self.mountinfo(),
            self.proc_cgroup(),
            root=str(self.root),
            **kwargs,  # type: ignore[arg-type]
        )

    def _populate(self, directory: Path, controller: str, *, is_root: bool) -> None:
        if controller == "":
            for name, content in UNIFIED_FILES.items():
                if not (is_root and name == "cgroup.freeze"):  # the root cannot be frozen
                    (directory / name).write_text(content)
            return
        files: dict[str, str | None] = {**COMMON, **NEW_CGROUP_FILES[controller]}
        if is_root:
            files.update(ROOT_OVERRIDES.get(controller, {}))
        elif controller == "devices":
            # The kernel copies the parent's exceptions into a new devices cgroup.
            files["devices.list"] = (directory.parent / "devices.list").read_text()
        for name, content in files.items():
            if content is not None:
                (directory / name).write_text(content)

    def _controller_of(self, path: str) -> str:
        rel = Path(path).relative_to(self.root)
        first = rel.parts[0]
        if self.unified and first == "unified":
            return ""
        for controller in self.controllers:
            if _dir_name(controller) == first:
                return controller
        raise AssertionError(f"{path} is not in a fake hierarchy")

    # -- reading back --------------------------------------------------------------------

    def read(self, relpath: str) -> str:
        """Content of a file, by path relative to the fake root."""
        return (self.root / relpath).read_text()

    def writes_to(self, suffix: str) -> list[str]:
        """The data of every write to files whose relative path ends with ``suffix``."""
        return [data for path, data in self.writes if path.endswith(suffix)]

    def files_written(self) -> list[str]:
        """File names written, in order (basename only)."""
        return [os.path.basename(path) for path, _ in self.writes]

    def exit(self, pid: int) -> None:
        """The process ``pid`` ended: it leaves every cgroup.procs."""
        for procs in self.root.rglob("cgroup.procs"):
            kept = [line for line in procs.read_text().splitlines() if line != str(pid)]
            procs.write_text("".join(line + "\n" for line in kept))

    # -- the wrapped primitives ----------------------------------------------------------

    def write_file(self, directory: str, name: str, data: str) -> None:
        """Record the write, perform it, then apply the kernel's side effects."""
        if directory:
            rel = str(Path(directory, name).relative_to(self.root))
            self.writes.append((rel, data))
        errno_to_fail = self.fail.get(name)
        if errno_to_fail is not None:
            raise fscommon.CgroupFileError(
                f"failed to write {data!r} to {directory}/{name}: injected",
                path=f"{directory}/{name}",
                value=data,
                errno=errno_to_fail,
            )
        if name == "cgroup.procs":
            before = Path(directory, name).read_text() if directory else ""
            self._real_write(directory, name, data)
            Path(directory, name).write_text(before + data + "\n")
            return
        self._real_write(directory, name, data)
        if name in ("devices.allow", "devices.deny"):
            self._devices_update(Path(directory), data, allow=name == "devices.allow")
        elif name == "freezer.state":
            Path(directory, "freezer.self_freezing").write_text(
                "1\n" if data == "FROZEN" else "0\n"
            )

    def mkdir(self, path: str) -> bool:
        """Create the directory and, like the kernel, its control files."""
        created = self._real_mkdir(path)
        if created:
            self._populate(Path(path), self._controller_of(path), is_root=False)
        return created

    def rmdir(self, path: str) -> None:
        """Remove a cgroup like the kernel: control files go too; busy if tasks are in it."""
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

    def _devices_update(self, directory: Path, line: str, *, allow: bool) -> None:
        """A small model of the kernel's exception list, independent of the emulator."""
        listing = directory / "devices.list"
        entries = [e for e in listing.read_text().splitlines() if e]
        node, numbers, perms = line.split()
        blacklist = entries == ["a *:* rwm"]
        if node == "a":
            entries = ["a *:* rwm"] if allow else []
        elif not blacklist:
            existing = {f"{e.split()[0]} {e.split()[1]}": e.split()[2] for e in entries}
            key = f"{node} {numbers}"
            old = existing.get(key, "")
            if allow:
                new = "".join(p for p in "rwm" if p in old or p in perms)
            else:
                new = "".join(p for p in "rwm" if p in old and p not in perms)
            if key in existing:
                entries = [e for e in entries if not e.startswith(key + " ")]
            if new:
                entries.append(f"{key} {new}")
        listing.write_text("".join(e + "\n" for e in entries))
