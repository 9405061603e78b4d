"""``Factory``: creates and loads containers under one state root (runc's LinuxFactory)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from libcontainer import configs, eventlog, rootless
from libcontainer.container import Container, load_container
from libcontainer.errors import (
    ConfigError,
    ContainerExistsError,
    ContainerNotExistsError,
    LibcontainerError,
    OwnershipError,
)
from libcontainer.spawner import SpawnerLike, default_spawner
from libcontainer.state import State, StateStore, validate_id

log = logging.getLogger("libcontainer")


class Factory:
    """Containers under ``root``, one directory each.

    ``root`` defaults to ``/run/pyrunc``, or for an unprivileged user to
    ``$XDG_RUNTIME_DIR/pyrunc`` (made with mode 0700 and the sticky bit), as runc chooses
    its own (see :mod:`libcontainer.rootless`). ``spawner`` is the helper that clones
    container processes; by default one per process, started on first use (see
    :mod:`libcontainer.spawner`). ``newuidmap``/``newgidmap`` are the setuid helpers that
    write id mappings an unprivileged user may not write itself; by default found on
    ``PATH``, as runc finds them.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        spawner: SpawnerLike | None = None,
        newuidmap: str | None = None,
        newgidmap: str | None = None,
    ) -> None:
        if root is None:
            root = rootless.default_root()
            rootless.prepare_root(root)
            rootless.check_root(root)
        self.store = StateStore(root)
        self.root = Path(self.store.root)
        self._spawner = spawner
        self._newuidmap = newuidmap if newuidmap is not None else _look_path("newuidmap")
        self._newgidmap = newgidmap if newgidmap is not None else _look_path("newgidmap")

    @property
    def spawner(self) -> SpawnerLike:
        """The spawner used for this factory's containers."""
        if self._spawner is None:
            self._spawner = default_spawner()
        return self._spawner

    def create(self, container_id: str, config: configs.Config) -> Container:
        """Validate ``config`` and record the container on disk; it starts *stopped*.

        A config whose cgroup has neither a path nor a name gets runc's default from the
        id: ``/<id>`` (fs drivers), ``system.slice:runc:<id>`` (systemd). A cgroup that
        resolves to a hierarchy's root is refused. Raises InvalidIdError, ConfigError, or
        ContainerExistsError (exactly one of two concurrent creates of the same id wins).
        """
        from libcontainer.cgroups import new_manager
        from libcontainer.cgroups.precheck import check_before_create

        since = eventlog.started()
        validate_id(container_id)
        if not isinstance(config, configs.Config):
            raise ConfigError(
                "Factory.create needs a libcontainer.configs.Config (see "
                f"specconv.create_config), not {type(config).__name__}",
                field="config",
            )
        config = with_default_cgroup(config, container_id)
        configs.validate(config)
        if self.store.exists(container_id):
            raise ContainerExistsError(f"container {container_id!r} already exists")
        owner = self.store.container_dir(container_id)
        manager = None
        if config.cgroups is not None:
            manager = new_manager(config.cgroups, owner=owner)
            _refuse_hierarchy_roots(config.cgroups, manager.get_paths(), manager)
            check_before_create(manager)
        rootless.check_config(
            config,
            manager.get_paths() if manager is not None else None,
            newuidmap=self._newuidmap,
            newgidmap=self._newgidmap,
        )
        state = State(
            id=container_id,
            created=configs.Timestamp.now(),
            config=config,
            rootless=config.rootless_euid,
            cgroup_paths=manager.get_paths() if manager is not None else {},
        )
        data = state.to_json().encode()
        self.store.create(container_id, data)
        container = Container(
            container_id,
            config,
            self.store,
            manager,
            self.spawner,
            state=state,
            state_json=data,
            newuidmap=self._newuidmap,
            newgidmap=self._newgidmap,
        )
        eventlog.done("create", container_id, since, root=self.root)
        return container

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
        """Ids of the containers under the root whose state can be read.

        A container directory that cannot be read (corrupt ``state.json``) is skipped with
        a warning naming it: it never hides the others.
        """
        from libcontainer.lifecycle.handle import ContainerHandle

        ids = []
        for container_id in self.store.list_ids():
            try:
                ContainerHandle.load(self.store, container_id)
            except ContainerNotExistsError:
                continue
            except LibcontainerError as e:
                log.warning("skipping container %s: %s", container_id, e)
                continue
            ids.append(container_id)
        return ids


def _look_path(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def with_default_cgroup(config: configs.Config, container_id: str) -> configs.Config:
    """``config`` with runc's default cgroup name when it names none (see Factory.create)."""
    import attrs

    cgroup = config.cgroups
    if cgroup is None or cgroup.path or cgroup.name or cgroup.paths:
        return config
    if cgroup.systemd:
        named = attrs.evolve(
            cgroup,
            parent=cgroup.parent or "system.slice",
            scope_prefix=cgroup.scope_prefix or "runc",
            name=container_id,
        )
    elif cgroup.parent or cgroup.rootless:
        # Rootless: runc's own default, the id relative to the caller's cgroup in each
        # hierarchy, which is where a cgroup delegated to the user (systemd's Delegate=)
        # has it; a cgroup that cannot be made there is done without (see cgroups.fs).
        named = attrs.evolve(cgroup, name=container_id)
    else:
        named = attrs.evolve(cgroup, path="/" + container_id)
    return attrs.evolve(config, cgroups=named)


def _refuse_hierarchy_roots(cgroup: configs.Cgroup, paths: dict[str, str], manager: Any) -> None:
    from libcontainer.cgroups.host import HostCgroups
    from libcontainer.cgroups.owned import confine

    if cgroup.paths:
        return  # existing cgroups to join: never created, signalled through or removed
    host = getattr(manager, "host", None) or HostCgroups.load()  # the manager's own view
    for key, path in paths.items():
        try:
            confine(host, key, path)
        except OwnershipError as e:
            field, value = (
                ("cgroups.path", cgroup.path)
                if cgroup.path
                else ("cgroups.name", f"{cgroup.parent}:{cgroup.name}")
            )
            raise ConfigError(
                f"the container's cgroup must be below a hierarchy's root ({e})",
                field=field,
                value=value,
            ) from None
