"""Container state directories under a root: ``<root>/<id>/state.json``, as runc keeps them.

Import-light on purpose (no attrs, no config models): the command line reads and writes
state through this module on every call. What it guarantees:

- ids are checked before any filesystem call, so an id can never name a path outside the
  root (``../../etc``, ``a/b``);
- a container directory appears whole: :meth:`Store.create` builds it (with its first
  ``state.json``) under a temporary name and renames it into place with
  ``RENAME_NOREPLACE``, so a caller killed at any moment leaves a loadable container or
  nothing, and exactly one of two racing creators wins;
- ``state.json`` is replaced atomically (temporary file, rename): readers see the old or
  the new file, never a torn one;
- :meth:`Store.lock` serialises the mutating operations on one container across threads and
  processes (``flock(2)`` on its directory), as every verb of the lifecycle needs.
"""

from __future__ import annotations

import errno
import fcntl
import os

from libcontainer.errors import (
    ConfigError,
    ContainerExistsError,
    ContainerNotExistsError,
    InvalidIdError,
    StateFileError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "DEFAULT_ROOT",
    "MAX_ID_LENGTH",
    "STATE_FILENAME",
    "ContainerLock",
    "Store",
    "is_valid_id",
    "validate_id",
]

#: Where container state lives unless a root is given (runc uses ``/run/runc``).
DEFAULT_ROOT = "/run/pyrunc"
#: The state file in each container directory.
STATE_FILENAME = "state.json"
#: Longest accepted container id. runc sets no bound; ours keeps an id (a directory name,
#: at most 255 bytes on common filesystems, NAME_MAX) usable as one path component.
MAX_ID_LENGTH = 255

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")
_TEMP_PREFIX = "."


def validate_id(container_id: object) -> None:
    """Refuse ids runc refuses: ``^[\\w+\\-.]+$`` (ASCII), not ``.``/``..``, not too long.

    Raises :class:`~libcontainer.errors.InvalidIdError` before anything touches the disk.
    """
    if not isinstance(container_id, str):
        raise InvalidIdError(f"container id must be a string, got {type(container_id).__name__}")
    if container_id in ("", ".", ".."):
        raise InvalidIdError(f"invalid container id {container_id!r}")
    if len(container_id) > MAX_ID_LENGTH:
        raise InvalidIdError(f"container id is longer than {MAX_ID_LENGTH} characters")
    if not _ID_CHARS.issuperset(container_id):
        shown = container_id if len(container_id) <= 80 else container_id[:77] + "..."
        raise InvalidIdError(
            f"invalid container id {shown!r}: use only letters, digits and _ + - ."
        )


def is_valid_id(name: str) -> bool:
    """Whether ``name`` is a valid container id (a directory of the root worth looking at)."""
    return 0 < len(name) <= MAX_ID_LENGTH and name not in (".", "..") and _ID_CHARS.issuperset(name)


def _check_root(root: object) -> str:
    if not isinstance(root, str | os.PathLike):
        raise ConfigError("the state root must be a path", field="root", value=root)
    path = os.fspath(root)
    if isinstance(path, bytes):
        raise ConfigError("the state root must be a str path", field="root", value=path)
    if "\0" in path:
        raise ConfigError("contains a NUL byte", field="root", value=path)
    if not path:
        raise ConfigError("must not be empty", field="root")
    return os.path.abspath(path)


class Store:
    """The root directory of container state (runc's factory root).

    ``root`` is created (``mkdir -p``, mode 0700) unless ``create=False``.
    """

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_ROOT, *, create: bool = True):
        self.root = _check_root(root)
        if create:
            self._make_root()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root!r})"

    def _make_root(self) -> None:
        try:
            os.makedirs(self.root, mode=0o700)
        except FileExistsError:
            if not os.path.isdir(self.root):
                raise StateFileError(
                    f"state root {self.root} exists and is not a directory"
                ) from None
        except OSError as e:
            raise StateFileError(f"cannot create the state root {self.root}: {e}") from e
        else:
            os.chmod(self.root, 0o700)  # makedirs' mode is filtered through the umask

    def container_dir(self, container_id: str) -> str:
        """``root/<id>`` after checking the id (:class:`InvalidIdError` if it is bad)."""
        validate_id(container_id)
        return os.path.join(self.root, container_id)

    def state_path(self, container_id: str) -> str:
        """``root/<id>/state.json``."""
        return os.path.join(self.container_dir(container_id), STATE_FILENAME)

    def exists(self, container_id: str) -> bool:
        """Whether the container's directory exists."""
        return os.path.isdir(self.container_dir(container_id))

    def create(self, container_id: str, state: bytes) -> str:
        """Make the container's directory holding ``state`` as its ``state.json``, atomically.

        Raises :class:`ContainerExistsError` if the container exists (exactly one of racing
        creators wins). Returns the directory.
        """
        target = self.container_dir(container_id)
        self._make_root()
        if os.path.lexists(target):
            raise ContainerExistsError(f"container {container_id!r} already exists")
        temp = os.path.join(self.root, f"{_TEMP_PREFIX}{container_id}.{os.urandom(6).hex()}")
        try:
            os.mkdir(temp, 0o700)
            os.chmod(temp, 0o700)
            _write_atomically(temp, STATE_FILENAME, state)
            _rename_noreplace(temp, target)
        except FileExistsError:
            _remove_tree(temp)
            raise ContainerExistsError(f"container {container_id!r} already exists") from None
        except BaseException as e:
            _remove_tree(temp)
            if isinstance(e, OSError):
                raise StateFileError(f"cannot create container {container_id!r}: {e}") from e
            raise
        return target

    def write(self, container_id: str, state: bytes) -> None:
        """Replace the container's ``state.json`` with ``state`` atomically."""
        directory = self.container_dir(container_id)
        try:
            _write_atomically(directory, STATE_FILENAME, state)
        except FileNotFoundError:
            raise ContainerNotExistsError(f"container {container_id!r} does not exist") from None
        except OSError as e:
            raise StateFileError(f"cannot write state of {container_id!r}: {e}") from e

    def read(self, container_id: str) -> bytes:
        """The bytes of the container's ``state.json``.

        Raises :class:`ContainerNotExistsError` if there is none, :class:`StateFileError`
        (naming the file) if it cannot be read.
        """
        path = self.state_path(container_id)
        try:
            with open(path, "rb") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            raise ContainerNotExistsError(f"container {container_id!r} does not exist") from None
        except OSError as e:
            raise StateFileError(f"cannot read {path}: {os.strerror(e.errno or 0)}") from e

    def remove(self, container_id: str) -> None:
        """Delete the container's directory and everything in it; no error if it is gone.

        Symbolic links inside are removed, never followed.
        """
        _remove_tree(self.container_dir(container_id))

    def list_ids(self) -> list[str]:
        """The ids of the container directories in the root, sorted."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        return sorted(
            e.name for e in entries if is_valid_id(e.name) and e.is_dir(follow_symlinks=False)
        )

    def lock(self, container_id: str) -> ContainerLock:
        """The container's lock (see :class:`ContainerLock`)."""
        return ContainerLock(self.container_dir(container_id), container_id)


class ContainerLock:
    """An exclusive ``flock(2)`` on a container's directory, re-entrant within a process.

    ``with lock:`` blocks until no other process (and no other thread of this one) holds it.
    Entering checks that the directory still is the container's (a destroy may have removed
    it while we waited): if not, :class:`ContainerNotExistsError`. Nested ``with`` blocks of
    one thread only count.
    """

    def __init__(self, directory: str, container_id: str) -> None:
        import _thread  # the C module: threading itself costs more than this whole file

        self.directory = directory
        self.container_id = container_id
        self._thread_lock = _thread.RLock()
        self._depth = 0
        self._fd = -1

    @property
    def held(self) -> bool:
        """Whether some thread of this process holds the lock now."""
        return self._depth > 0

    def __enter__(self) -> ContainerLock:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                self._fd = self._acquire()
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            fd, self._fd = self._fd, -1
            os.close(fd)  # closing the last descriptor releases the flock
        self._thread_lock.release()

    def _acquire(self) -> int:
        gone = ContainerNotExistsError(f"container {self.container_id!r} does not exist")
        try:
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise gone from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                now = os.stat(self.directory)
            except FileNotFoundError:
                raise gone from None
            if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino) or held.st_nlink == 0:
                raise gone
        except BaseException:
            os.close(fd)
            raise
        return fd


def _write_atomically(directory: str, name: str, data: bytes) -> None:
    # No fsync: state lives under /run and matters while the machine is up; what a crash of
    # this *process* must never leave is a torn file, and the rename rules that out.
    temp = os.path.join(directory, f"{_TEMP_PREFIX}{name}.{os.urandom(6).hex()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.rename(temp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _rename_noreplace(source: str, target: str) -> None:
    from libcontainer.system import RENAME_NOREPLACE, linux

    try:
        linux().renameat2(source, target, RENAME_NOREPLACE)
    except OSError as e:
        if e.errno == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target) from None
        raise


def _remove_tree(path: str) -> None:
    """``rm -rf path`` without following symbolic links; entries vanishing meanwhile are fine."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    except NotADirectoryError:
        _unlink(path)
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _remove_tree(entry.path)
        else:
            _unlink(entry.path)
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
