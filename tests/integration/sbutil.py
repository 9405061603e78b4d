"""Sandboxes placed under this run's names, and a check that they left nothing behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from testrun import RUN_TOKEN, TMP_PREFIX

from libcontainer import sandbox
from libcontainer.sandbox.location import Placement

CGROUP_ROOT = "/sys/fs/cgroup"


def cgroup_dirs(cgroup_parent: str) -> list[str]:
    """Every directory of ``cgroup_parent`` (itself included) in every hierarchy."""
    found = []
    for hierarchy in os.listdir(CGROUP_ROOT):
        base = os.path.join(CGROUP_ROOT, hierarchy, cgroup_parent.lstrip("/"))
        for dirpath, _dirnames, _files in os.walk(base):
            found.append(dirpath)
    return found


def cgroup_children(cgroup_parent: str) -> list[str]:
    """Sandbox cgroups still under ``cgroup_parent``."""
    parents = {
        os.path.join(CGROUP_ROOT, h, cgroup_parent.lstrip("/")) for h in os.listdir(CGROUP_ROOT)
    }
    return [d for d in cgroup_dirs(cgroup_parent) if d not in parents]


def leftovers(place: Placement) -> list[str]:
    """What sandboxes under ``place`` left behind: state, roots, cgroups, processes."""
    found: list[str] = []
    for d in (place.state_root, place.rootfs_root):
        if d.is_dir():
            found += [str(d / name) for name in os.listdir(d)]
    found += cgroup_children(place.cgroup_parent)
    marker = f"/{place.cgroup_parent.strip('/')}/"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cgroup") as f:
            if marker in f.read():
                found.append(f"process {pid}")
    return found


@contextlib.contextmanager
def placed() -> Iterator[Placement]:
    """Sandboxes made in the block are named with this run's token; removed afterwards."""
    root = tempfile.mkdtemp(prefix=TMP_PREFIX + "sandbox-")
    parent = f"/pytest-{RUN_TOKEN}-sandbox-{Path(root).name[-8:]}"
    try:
        with sandbox.placement(
            root=root, cgroup_parent=parent, prefix=f"pytest-{RUN_TOKEN}"
        ) as place:
            yield place
    finally:
        for d in sorted(cgroup_dirs(parent), key=len, reverse=True):
            with contextlib.suppress(OSError):
                os.rmdir(d)
        shutil.rmtree(root, ignore_errors=True)
