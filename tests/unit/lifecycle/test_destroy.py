"""Container.destroy when cgroup removal fails: the state dir still goes, the error is raised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from libcontainer.configs import Config
from libcontainer.container import Container
from libcontainer.errors import CgroupError
from libcontainer.state import State, StateStore


class FailingManager:
    def __init__(self) -> None:
        self.destroyed = 0

    def get_all_pids(self) -> list[int]:
        return []

    def destroy(self) -> None:
        self.destroyed += 1
        raise CgroupError("cannot reach systemd")


def test_destroy_removes_state_even_if_cgroups_fail(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "root")
    state = State(id="c1", config=Config())
    store.create_state(state)
    manager: Any = FailingManager()
    c = Container("c1", Config(), store, manager, spawner=None, state=state)  # type: ignore[arg-type]
    with pytest.raises(CgroupError, match="cannot reach systemd"):
        c.destroy()
    assert manager.destroyed == 1
    assert not store.exists("c1")
    c.destroy()  # idempotent: nothing left to do, no error
    assert manager.destroyed == 1
