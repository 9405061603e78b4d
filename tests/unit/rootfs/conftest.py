"""Fixtures for the rootfs unit tests: a rootfs in a temp dir and the recording fake."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rootfs_fakes import FakeSyscalls

from libcontainer.configs import Config, Namespace, NamespaceType
from libcontainer.rootfs import MountContext


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """An empty-ish rootfs: /etc, /proc, /tmp (1777), /dev, in a real (resolved) temp dir."""
    root = tmp_path.resolve() / "rootfs"
    for d in ("etc", "proc", "dev", "sys"):
        (root / d).mkdir(parents=True)
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    return root


@pytest.fixture(params=[False, True], ids=["fallback", "openat2"])
def sc(request: pytest.FixtureRequest, rootfs: Path) -> FakeSyscalls:
    """The fake, once with the secure_join fallback and once with the real openat2."""
    return FakeSyscalls(rootfs, real_openat2=bool(request.param))


@pytest.fixture
def ctx(rootfs: Path, sc: FakeSyscalls) -> MountContext:
    return MountContext(root=str(rootfs), syscalls=sc)


@pytest.fixture
def umask_restored() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def make_config(rootfs: Path) -> Callable[..., Config]:
    """Build a Config for the test rootfs (with a mount namespace unless told otherwise)."""

    def make(**kw: Any) -> Config:
        kw.setdefault("namespaces", (Namespace(NamespaceType.NEWNS),))
        return Config(rootfs=str(rootfs), **kw)

    return make
