"""Reading and writing cgroupfs control files (runc's ``cgroups.WriteFile`` and ``fscommon``).

Every file access of the cgroup drivers goes through :func:`read_file`, :func:`write_file`,
:func:`mkdir` and :func:`rmdir`, so a failure always names the file (and the value, for a
write), and unit tests can wrap the last three to record writes and emulate what the kernel
does (control files appear on ``mkdir`` and vanish on ``rmdir``).
"""

from __future__ import annotations

import errno
import os

from libcontainer.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import TypeVar

    _T = TypeVar("_T")

__all__ = [
    "MAX_UINT64",
    "CgroupFileError",
    "get_value_by_key",
    "if_exists",
    "mkdir",
    "parse_key_value",
    "parse_uint",
    "read_file",
    "read_int",
    "read_lines",
    "read_string",
    "read_uint",
    "rmdir",
    "write_file",
]

MAX_UINT64 = 2**64 - 1
_MAX_INT64 = 2**63 - 1


class CgroupFileError(CgroupError):
    """A cgroup control file could not be read, written or parsed.

    ``path`` is the full file path, ``value`` the data being written (``None`` for a read) and
    ``errno`` the OS error number (``None`` for a parse error).
    """

    def __init__(
        self, message: str, *, path: str, value: str | None = None, errno: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.value = value
        self.errno = errno


def _join(directory: str, name: str) -> str:
    # An empty directory means "controller not mounted / not joined"; refuse rather than
    # touch a file relative to the current directory.
    if not directory:
        raise CgroupFileError(
            f"cannot access {name}: no cgroup directory (controller not mounted or not joined)",
            path=name,
            errno=errno.ENOENT,
        )
    return os.path.join(directory, name)


def write_file(directory: str, name: str, data: str) -> None:
    """Write ``data`` to the control file ``directory/name`` (truncating, never creating)."""
    path = _join(directory, name)
    try:
        # No O_CREAT: a missing control file means the kernel does not support it.
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    except OSError as exc:
        raise _write_error(path, data, exc) from exc
    try:
        while True:
            try:
                os.write(fd, data.encode())
                return
            except InterruptedError:
                continue
            except OSError as exc:
                raise _write_error(path, data, exc) from exc
    finally:
        os.close(fd)


def _write_error(path: str, data: str, exc: OSError) -> CgroupFileError:
    return CgroupFileError(
        f"failed to write {data!r} to {path}: {exc.strerror}",
        path=path,
        value=data,
        errno=exc.errno,
    )


def read_file(directory: str, name: str) -> str:
    """Return the whole content of ``directory/name``."""
    path = _join(directory, name)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise CgroupFileError(
            f"failed to read {path}: {exc.strerror}", path=path, errno=exc.errno
        ) from exc


def read_lines(directory: str, name: str) -> Iterator[str]:
    """Yield the non-empty lines of ``directory/name``."""
    for line in read_file(directory, name).splitlines():
        if line:
            yield line


def read_string(directory: str, name: str) -> str:
    """Return the content of ``directory/name`` without surrounding whitespace."""
    return read_file(directory, name).strip()


def parse_uint(text: str, *, path: str = "") -> int:
    """Parse a cgroup unsigned value; negative numbers read as 0, as runc's ``ParseUint``."""
    try:
        value = int(text, 10)
    except ValueError:
        raise CgroupFileError(
            f"unable to parse {text!r} as an unsigned integer from {path or 'cgroup file'}",
            path=path,
        ) from None
    if value < 0:
        # Kernels report e.g. memory.limit_in_bytes of a v1 root as -1 on some arches.
        return 0
    if value > MAX_UINT64:
        raise CgroupFileError(f"value {text!r} in {path} is out of range", path=path)
    return value


def read_uint(directory: str, name: str) -> int:
    """Read an unsigned value; ``max`` reads as :data:`MAX_UINT64`."""
    text = read_string(directory, name)
    if text == "max":
        return MAX_UINT64
    return parse_uint(text, path=os.path.join(directory, name))


def read_int(directory: str, name: str) -> int:
    """Read a signed value; ``max`` reads as the largest int64."""
    text = read_string(directory, name)
    if text == "max":
        return _MAX_INT64
    try:
        return int(text, 10)
    except ValueError:
        path = os.path.join(directory, name)
        raise CgroupFileError(
            f"unable to parse {text!r} as an integer from {path}", path=path
        ) from None


def parse_key_value(line: str, *, path: str = "") -> tuple[str, int]:
    """Parse a ``key value`` line of a flat-keyed file such as ``memory.stat``."""
    parts = line.split(" ")
    if len(parts) != 2:
        raise CgroupFileError(f"line {line!r} in {path} is not in 'key value' format", path=path)
    return parts[0], parse_uint(parts[1], path=path)


def get_value_by_key(directory: str, name: str, key: str) -> int:
    """Return the value of ``key`` in the flat-keyed file ``directory/name`` (0 if absent)."""
    path = os.path.join(directory, name)
    for line in read_lines(directory, name):
        parts = line.split(" ")
        if len(parts) == 2 and parts[0] == key:
            return parse_uint(parts[1], path=path)
    return 0


def mkdir(path: str) -> bool:
    """Create one cgroup directory; return whether it was created (False if it existed)."""
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        return False
    except OSError as exc:
        raise CgroupFileError(
            f"failed to create cgroup {path}: {exc.strerror}", path=path, errno=exc.errno
        ) from exc
    return True


def rmdir(path: str) -> None:
    """Remove one cgroup directory (its control files go with it); absent is fine.

    Fails with EBUSY while processes are in it and ENOTEMPTY while it has sub-cgroups.
    """
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CgroupFileError(
            f"failed to remove cgroup {path}: {exc.strerror}", path=path, errno=exc.errno
        ) from exc


def if_exists(read: Callable[[str, str], _T], directory: str, name: str) -> _T | None:
    """``read(directory, name)``, or None when the file does not exist (an older kernel)."""
    try:
        return read(directory, name)
    except CgroupFileError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
