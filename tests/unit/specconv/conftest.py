"""Fixtures for the specconv tests: runc 1.1.5 outputs and a bundle with a rootfs dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path("/work/shared/fixtures")


@pytest.fixture
def runc_fixture() -> Callable[[str], Path]:
    """Path of a shared runc 1.1.5 fixture by file name; skips if it is not there."""

    def path_of(name: str) -> Path:
        path = FIXTURES / name
        if not path.exists():
            pytest.skip(f"shared fixture {name} is not available")
        return path

    return path_of


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """An empty bundle directory with a ``rootfs`` directory in it."""
    (tmp_path / "rootfs").mkdir()
    return tmp_path
