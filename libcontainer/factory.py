"""``Factory``: creates and loads containers under one state root (runc's LinuxFactory)."""

from __future__ import annotations

import contextlib
import os

from libcontainer import configs, eventlog
from libcontainer.container import Container, load_container
from libcontainer.errors import ContainerNotExistsError
from libcontainer.spawner import SpawnerLike, default_spawner
from libcontainer.state import DEFAULT_ROOT, StateStore, validate_id


class Factory:
    """Containers under ``root`` (default ``/run/pyrunc``), one directory each.

    ``spawner`` is the helper that clones container processes; by default one per process,
    started on first use (see :mod:`libcontainer.spawner`).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] = DEFAULT_ROOT,
        *,
        spawner: SpawnerLike | None = None,
        newuidmap: str | None = None,
        newgidmap: str | None = None,
    ) -> None:
        self.store = StateStore(root)
        self.root = self.store.root
        self._spawner = spawner
        self._newuidmap = newuidmap
        self._newgidmap = newgidmap

    @property
    def spawner(self) -> SpawnerLike:
        """The spawner used for this factory's containers."""
        if self._spawner is None:
            self._spawner = default_spawner()
        return self._spawner

    def create(self, container_id: str, config: configs.Config) -> Container:
        """Validate ``config`` and make the container's state dir; it starts *stopped*.

        Raises InvalidIdError, ConfigError, or ContainerExistsError (exactly one of two
        concurrent creates of the same id wins).
        """
        from libcontainer.cgroups import new_manager

        since = eventlog.started()
        validate_id(container_id)
        configs.validate(config)
        self.store.create(container_id)
        try:
            manager = new_manager(config.cgroups) if config.cgroups is not None else None
            container = Container(
                container_id,
                config,
                self.store,
                manager,
                self.spawner,
                newuidmap=self._newuidmap,
                newgidmap=self._newgidmap,
            )
            eventlog.done("create", container_id, since, root=self.root)
            return container
        except BaseException:
            with contextlib.suppress(Exception):
                self.store.remove(container_id)
            raise

    def load(self, container_id: str) -> Container:
        """A container from its state.json (works from any process)."""
        validate_id(container_id)
        if not self.store.exists(container_id):
            raise ContainerNotExistsError(f"container {container_id} does not exist")
        return load_container(
            self.store,
            container_id,
            self.spawner,
            newuidmap=self._newuidmap,
            newgidmap=self._newgidmap,
        )

    def list(self) -> list[str]:
        """Ids of every container under the root."""
        return self.store.list_ids()
