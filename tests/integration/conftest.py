"""Fixtures for integration tests: bundles, configs from the OCI example spec, factories."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, SpecEdit, example_spec_dict, unique_id

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
