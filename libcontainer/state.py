"""Container state on disk: ``<root>/<id>/state.json``, as runc writes it.

:class:`State` is runc 1.1's ``libcontainer.State`` (its ``BaseState`` fields inline).
:class:`StateStore` owns the root directory: it creates container directories exclusively,
writes ``state.json`` atomically (a crash leaves the old or the new file, never a torn one)
and serialises writers to one container with ``flock(2)`` on its directory.
"""

# jf() is attrs.field() plus the JSON key; ruff cannot know it is a field specifier.
# ruff: noqa: RUF009

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from .configs.config import Config
from .configs.jsonmodel import Model, jf
from .configs.namespaces import NamespaceType
from .configs.timestamp import Timestamp
from .errors import (
    ConfigError,
    ContainerExistsError,
    ContainerNotExistsError,
    InvalidIdError,
    StateFileError,
)

__all__ = [
    "DEFAULT_ROOT",
    "MAX_ID_LENGTH",
    "STATE_FILENAME",
    "State",
    "StateStore",
    "Timestamp",
    "validate_id",
]

#: Where container state lives unless a root is given (runc uses ``/run/runc``).
DEFAULT_ROOT = "/run/pyrunc"
#: The state file in each container directory.
STATE_FILENAME = "state.json"
#: Longest accepted container id. runc sets no bound; ours keeps an id (a directory name,
#: at most 255 bytes on common filesystems, NAME_MAX) usable as one path component.
MAX_ID_LENGTH = 255

#: Go's zero ``time.Time``, the default of :attr:`State.created`.
GO_ZERO_TIME = "0001-01-01T00:00:00Z"

_ID_RE = re.compile(r"[\w+\-.]+", re.ASCII)


def validate_id(container_id: object) -> None:
    """Refuse ids runc refuses: ``^[\\w+\\-.]+$`` (ASCII), not ``.``/``..``, not too long.

    Raises :class:`~libcontainer.errors.InvalidIdError` before anything touches the disk,
    so an id can never name a path outside the root (``../../etc``, ``a/b``).
    """
    if not isinstance(container_id, str):
        raise InvalidIdError(f"container id must be a string, got {type(container_id).__name__}")
    if container_id in ("", ".", ".."):
        raise InvalidIdError(f"invalid container id {container_id!r}")
    if len(container_id) > MAX_ID_LENGTH:
        raise InvalidIdError(f"container id is longer than {MAX_ID_LENGTH} characters")
    if _ID_RE.fullmatch(container_id) is None:
        raise InvalidIdError(
            f"invalid container id {container_id!r}: use only letters, digits and _ + - ."
        )


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


class StateStore:
    """The root directory of container state (runc's factory root).

    ``root`` is created (``mkdir -p``, mode 0700) unless ``create=False``. Each container
    owns ``root/<id>/``; :meth:`lock` serialises writers to one container across threads and
    processes.
    """

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_ROOT, *, create: bool = True):
        self.root = Path(root)
        if create:
            self._make_root()

    def __repr__(self) -> str:
        return f"StateStore({str(self.root)!r})"

    def _make_root(self) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            if not self.root.is_dir():
                raise StateFileError(
                    f"state root {self.root} exists and is not a directory"
                ) from None
        else:
            os.chmod(self.root, 0o700)  # mkdir's mode is filtered through the umask

    def container_dir(self, container_id: str) -> Path:
        """``root/<id>`` after checking the id (:class:`InvalidIdError` if it is bad)."""
        validate_id(container_id)
        return self.root / container_id

    def state_path(self, container_id: str) -> Path:
        """``root/<id>/state.json``."""
        return self.container_dir(container_id) / STATE_FILENAME

    def create(self, container_id: str) -> Path:
        """Create the container's directory (0700); exactly one of racing creators wins.

        Raises :class:`ContainerExistsError` if the directory already exists.
        """
        path = self.container_dir(container_id)
        self._make_root()
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            raise ContainerExistsError(f"container {container_id!r} already exists") from None
        os.chmod(path, 0o700)
        return path

    def exists(self, container_id: str) -> bool:
        """Whether the container's directory exists (it may not have a state.json yet)."""
        return self.container_dir(container_id).is_dir()

    def save(self, state: State) -> None:
        """Write ``state.json`` atomically and durably.

        The JSON goes to a temporary file in the container directory, is fsynced, renamed
        over ``state.json``, and the directory is fsynced. On failure the temporary file is
        removed and the previous ``state.json`` is untouched.
        """
        directory = self.container_dir(state.id)
        data = state.to_json().encode()
        try:
            fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=directory)
        except FileNotFoundError:
            raise ContainerNotExistsError(f"container {state.id!r} does not exist") from None
        except OSError as e:
            raise StateFileError(f"cannot write state of {state.id!r}: {e}") from e
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, directory / STATE_FILENAME)
        except BaseException as e:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(e, OSError):
                raise StateFileError(f"cannot write state of {state.id!r}: {e}") from e
            raise
        _fsync_dir(directory)

    def load(self, container_id: str, *, strict: bool = True) -> State:
        """Read the container's ``state.json``.

        Raises :class:`ContainerNotExistsError` if there is none, :class:`StateFileError` if
        it is corrupt or names another container.
        """
        path = self.state_path(container_id)
        try:
            text = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise ContainerNotExistsError(f"container {container_id!r} does not exist") from None
        except OSError as e:
            raise StateFileError(f"cannot read {path}: {e}") from e
        try:
            state = State.from_json(text, strict=strict)
        except StateFileError as e:
            raise StateFileError(f"{path}: {e}") from e
        if state.id != container_id:
            raise StateFileError(f"{path} holds the state of {state.id!r}, not {container_id!r}")
        return state

    def remove(self, container_id: str) -> None:
        """Delete the container's directory and everything in it; no error if it is gone."""
        path = self.container_dir(container_id)
        with contextlib.suppress(FileNotFoundError):
            # Entries vanishing under a concurrent remove are not errors either.
            shutil.rmtree(path, onerror=_ignore_missing)

    def list_ids(self) -> list[str]:
        """The ids of the containers in the root, sorted."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        ids = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and _is_valid_id(entry.name):
                ids.append(entry.name)
        return sorted(ids)

    @contextlib.contextmanager
    def lock(self, container_id: str) -> Iterator[None]:
        """Hold an exclusive ``flock(2)`` on the container's directory for the block.

        Each call opens the directory anew, so the lock excludes other threads of this
        process as well as other processes. Raises :class:`ContainerNotExistsError` if the
        directory does not exist.
        """
        path = self.container_dir(container_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise ContainerNotExistsError(f"container {container_id!r} does not exist") from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    break
                except InterruptedError:  # pragma: no cover - PEP 475 retries already
                    continue
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the lock


def _is_valid_id(name: str) -> bool:
    try:
        validate_id(name)
    except InvalidIdError:
        return False
    return True


def _ignore_missing(func: Any, path: str, exc_info: Any) -> None:
    if not isinstance(exc_info[1], FileNotFoundError):
        raise exc_info[1]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.EROFS):  # some filesystems refuse; nothing lost
            raise
    finally:
        os.close(fd)
