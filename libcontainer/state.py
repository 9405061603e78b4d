"""Container state on disk: ``<root>/<id>/state.json``, as runc writes it.

:class:`State` is runc 1.1's ``libcontainer.State`` (its ``BaseState`` fields inline).
:class:`StateStore` is the lifecycle core's :class:`~libcontainer.lifecycle.store.Store`
(exclusive, atomic creation; atomic writes; the per-container lock) reading and writing
these models.
"""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from .configs.config import Config
from .configs.jsonmodel import Model, jf
from .configs.namespaces import NamespaceType
from .configs.timestamp import Timestamp
from .errors import ConfigError, StateFileError
from .lifecycle.store import DEFAULT_ROOT, MAX_ID_LENGTH, STATE_FILENAME, Store, validate_id

__all__ = [
    "DEFAULT_ROOT",
    "MAX_ID_LENGTH",
    "STATE_FILENAME",
    "State",
    "StateStore",
    "Timestamp",
    "validate_id",
]

#: Go's zero ``time.Time``, the default of :attr:`State.created`.
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


@attrs.frozen(kw_only=True)
class State(Model):
    """What runc records about a container (``libcontainer.State``).

    ``created`` keeps nanoseconds (:class:`Timestamp`). ``cgroup_paths`` maps a controller
    (``""`` on cgroup v2) to its path; ``namespace_paths`` maps each namespace type to the
    ``/proc/<pid>/ns/*`` file; ``external_descriptors`` are the paths of the init's stdio.
    """

    id: str = jf("id", "")
    init_process_pid: int = jf("init_process_pid", 0)
    init_process_start: int = jf("init_process_start", 0)
    created: Timestamp = jf("created", factory=lambda: Timestamp.parse(GO_ZERO_TIME))
    config: Config = jf("config", factory=Config)
    rootless: bool = jf("rootless", False)
    cgroup_paths: Mapping[str, str] = jf("cgroup_paths", factory=dict)
    namespace_paths: Mapping[NamespaceType, str] = jf("namespace_paths", factory=dict)
    external_descriptors: tuple[str, ...] = jf("external_descriptors", (), omitempty=True)
    intel_rdt_path: str = jf("intel_rdt_path", "")

    @classmethod
    def from_json(cls, text: str | bytes, *, strict: bool = True) -> State:
        """Load a ``state.json``; :class:`StateFileError` names what is wrong and where.

        ``strict=False`` accepts (and keeps, for writing back) keys this version does not know.
        """
        from .configs.convert import structure

        try:
            data = json.loads(text)
        except ValueError as e:
            raise StateFileError(f"state.json is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise StateFileError("state.json must hold a JSON object")
        try:
            return structure(data, cls, strict=strict)
        except ConfigError as e:
            raise StateFileError(f"invalid state.json: {e}") from e

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict (loaded states keep their keys; new ones are written as runc 1.1)."""
        from .configs.convert import unstructure

        return unstructure(self)

    def to_json(self) -> str:
        """Compact JSON text, as runc writes ``state.json``."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)


class StateStore(Store):
    """The root directory of container state, reading and writing :class:`State` models.

    Directory handling, atomic writes and locking are :class:`~libcontainer.lifecycle.store.Store`'s
    (the lifecycle core's, shared with the command line); this adds the models.
    """

    def create_state(self, state: State) -> str:
        """Make the container's directory holding ``state`` (ContainerExistsError if taken)."""
        return self.create(state.id, state.to_json().encode())

    def save(self, state: State) -> bytes:
        """Replace the container's ``state.json`` atomically; returns the bytes written."""
        data = state.to_json().encode()
        self.write(state.id, data)
        return data

    def load(self, container_id: str, *, strict: bool = True) -> State:
        """Read the container's ``state.json``.

        Raises :class:`ContainerNotExistsError` if there is none, :class:`StateFileError` if
        it is corrupt or names another container.
        """
        return self.parse(container_id, self.read(container_id), strict=strict)

    def parse(self, container_id: str, data: bytes, *, strict: bool = True) -> State:
        """The :class:`State` in ``data``, the bytes of the container's ``state.json``."""
        path = self.state_path(container_id)
        try:
            state = State.from_json(data, strict=strict)
        except StateFileError as e:
            raise StateFileError(f"{path}: {e}") from e
        if state.id != container_id:
            raise StateFileError(f"{path} holds the state of {state.id!r}, not {container_id!r}")
        return state
