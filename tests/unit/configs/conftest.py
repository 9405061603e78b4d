"""The valid base config the validation tests start from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from configs_helpers import ALL_NS

from libcontainer.configs import Config


@pytest.fixture
def base(tmp_path: Path) -> Config:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    return Config(rootfs=os.path.realpath(rootfs), namespaces=ALL_NS, hostname="c")
