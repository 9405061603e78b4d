"""Fixtures for integration tests: bundles, configs from the OCI example spec, factories."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, SpecEdit, example_spec_dict, unique_id
from rootless_env import RootlessUser

import specconv
from libcontainer import configs


@pytest.fixture
def bundle(busybox_rootfs: Path) -> Path:
    """A bundle directory holding the busybox rootfs."""
    return busybox_rootfs.parent


@pytest.fixture
def make_config(bundle: Path) -> Callable[..., configs.Config]:
    """Build a Config from the example spec, edited by a function on its dict form."""

    def make(
        edit: SpecEdit | None = None, *, cgroup_name: str = "", **kwargs: Any
    ) -> configs.Config:
        spec = example_spec_dict()
        spec["root"]["readonly"] = False
        if edit is not None:
            edit(spec)
        (bundle / "config.json").write_text(json.dumps(spec))
        loaded = specconv.load_spec(str(bundle / "config.json"))
        return specconv.create_config(
            loaded, bundle=str(bundle), cgroup_name=cgroup_name or unique_id("cg"), **kwargs
        )

    return make


@pytest.fixture
def containers(state_root: Path) -> Iterator[Factories]:
    """A factory on a private state root; every container made through it is destroyed."""
    f = Factories(state_root)
    try:
        yield f
    finally:
        f.cleanup()


@pytest.fixture(scope="session")
def rootless_user(busybox_rootfs_template: Path) -> Iterator[RootlessUser]:
    """A real unprivileged user (with subordinate ids, a home, an XDG_RUNTIME_DIR and a
    bundle of its own), made for the session and removed after (see rootless_env.py)."""
    user = RootlessUser(busybox_rootfs_template)
    try:
        yield user
    finally:
        user.close()


@pytest.fixture
def rootless_spec(rootless_user: RootlessUser) -> Iterator[dict[str, Any]]:
    """``pyrunc spec --rootless`` as the user writes it in its bundle, terminal off; the
    test fails if a container is left in the user's state root."""
    user = rootless_user
    config = user.bundle / "config.json"
    config.unlink(missing_ok=True)
    done = user.run([user.pyrunc, "spec", "--rootless"], cwd=user.bundle)
    assert done.returncode == 0, done.stderr
    spec: dict[str, Any] = json.loads(config.read_text())
    spec["process"]["terminal"] = False
    yield spec
    left = sorted(os.listdir(user.state_root)) if user.state_root.is_dir() else []
    assert left == [], f"containers left in the user's state root: {left}"
