"""Fixtures for the cgroup unit tests: a fake cgroupfs tree wired into the driver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cgroupfs_fake import FakeCgroupfs

from libcontainer.cgroups import fscommon


@pytest.fixture
def fakefs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCgroupfs]:
    """A fake v1 tree with every controller, our memory cgroup at /process_api/abc."""
    fake = FakeCgroupfs(tmp_path / "cgroup")
    monkeypatch.setattr(fscommon, "write_file", fake.write_file)
    monkeypatch.setattr(fscommon, "mkdir", fake.mkdir)
    monkeypatch.setattr(fscommon, "rmdir", fake.rmdir)
    yield fake
