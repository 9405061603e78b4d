"""Resolving and opening paths inside a container's rootfs without escaping it.

The rootfs is attacker-controlled: an image can ship ``/etc -> /`` or ``a -> ../../..``, and a
process already in the container can swap a directory for a symlink while we work. So:

* :func:`secure_join` resolves symlinks *lexically inside* the root, as if chrooted
  (cyphar/filepath-securejoin's ``SecureJoin``): ``..`` clamps at the root and absolute
  symlinks restart at the root.
* :func:`mkdir_all_in_root` creates missing directories one component at a time through
  directory fds opened with ``O_NOFOLLOW``, so a symlink swapped in cannot redirect the
  ``mkdir`` outside the rootfs (CVE-2024-45310).
* :func:`open_in_root` opens with ``openat2(RESOLVE_IN_ROOT)`` where the kernel has it, and
  otherwise with :func:`secure_join` plus a check of where the fd really landed.
* :func:`procfd` yields ``/proc/self/fd/N`` for a target opened and verified *first*, so a
  mount made through that path lands on the verified inode even if the path is swapped
  afterwards (runc's ``WithProcfd``, the CVE-2021-30465 fix).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator

from libcontainer.errors import SyscallError
from libcontainer.system import RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, Syscalls
from libcontainer.system import linux as _kernel

__all__ = [
    "MAX_SYMLINKS",
    "clean_path",
    "create_file_in_root",
    "fd_path",
    "mkdir_all_in_root",
    "open_in_root",
    "procfd",
    "secure_join",
    "strip_root",
]

#: How many symlinks one resolution may follow (filepath-securejoin's limit).
MAX_SYMLINKS = 255

_O_PATH: int = os.O_PATH
# openat2 can fail with EAGAIN when a rename races the lookup (RESOLVE_IN_ROOT is
# conservative about ".."); a few retries make that vanishingly rare.
_OPENAT2_RETRIES = 32


def _error(err: int, message: str) -> SyscallError:
    return SyscallError(err, f"{message}: {os.strerror(err).lower()}")


def _has_dotdot(path: str) -> bool:
    return "/../" in f"/{path}/"


def fd_path(fd: int) -> str:
    """The magic-link path of ``fd`` (``/proc/self/fd/N``), usable as a mount source/target."""
    return f"/proc/self/fd/{fd}"


def clean_path(path: str) -> str:
    """``path`` as a clean absolute path: ``..`` resolved lexically, one leading slash.

    (runc's ``utils.CleanPath``; ``os.path.normpath`` alone keeps a leading ``//``.)
    """
    path = os.path.normpath("/" + path)
    return "/" + path.lstrip("/")


def strip_root(root: str, path: str) -> str:
    """``path`` relative to the container root, as an absolute container path.

    Callers sometimes pass a host path that already starts with the rootfs; runc strips it
    (``stripRoot``) so the path is always resolved from the container's ``/``.
    """
    root = os.path.normpath(root)
    path = clean_path(path)
    if root == "/":
        return path
    if path == root:
        return "/"
    if path.startswith(root + "/"):
        return path[len(root) :]
    return path


def secure_join(root: str, unsafe_path: str) -> str:
    """Join ``unsafe_path`` to ``root`` resolving every symlink as if ``root`` were ``/``.

    The result is always ``root`` or below it. Components that do not exist are taken
    literally (there is nothing to resolve). Raises SyscallError(ELOOP) after
    :data:`MAX_SYMLINKS` links (a symlink loop), and for a ``root`` that contains ``..``.

    The guarantee holds only while nobody changes the path afterwards; use
    :func:`open_in_root` / :func:`procfd` to act on the result race-free.
    """
    if _has_dotdot(root):
        raise _error(errno.EINVAL, f"securejoin: root {root!r} contains '..' components")
    root = os.path.normpath(root) if root else "/"
    current = ""  # resolved so far, relative to root, never contains a symlink or ".."
    remaining = unsafe_path
    links = 0
    while remaining:
        part, _, remaining = remaining.partition("/")
        candidate = os.path.normpath(os.path.join("/", current, part))
        if candidate == "/":
            current = ""
            continue
        full = root.rstrip("/") + candidate
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            current = candidate
            continue
        except OSError as e:
            raise _error(e.errno or errno.EIO, f"securejoin: lstat {full}") from None
        if not stat.S_ISLNK(st.st_mode):
            current = candidate
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise _error(errno.ELOOP, f"securejoin: resolve {unsafe_path} in {root}")
        try:
            target = os.readlink(full)
        except OSError as e:
            raise _error(e.errno or errno.EIO, f"securejoin: readlink {full}") from None
        remaining = f"{target}/{remaining}" if remaining else target
        if target.startswith("/"):
            current = ""  # an absolute symlink restarts at the (container) root
    final = os.path.normpath(os.path.join("/", current))
    return root if final == "/" else root.rstrip("/") + final


def _relative(root: str, joined: str) -> list[str]:
    rel = os.path.relpath(joined, root)
    return [] if rel == "." else rel.split("/")


def _open_dir_nofollow(dirfd: int, name: str, where: str, mode: int) -> int:
    """Open directory ``name`` under ``dirfd`` (creating it if missing) without following."""
    flags = _O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    for attempt in range(2):
        try:
            return os.open(name, flags, dir_fd=dirfd)
        except FileNotFoundError:
            if attempt:
                raise _error(errno.ENOENT, f"open {where}") from None
        except OSError as e:
            err = e.errno or errno.EIO
            if err == errno.ELOOP:
                # A symlink here means the tree changed after secure_join: refuse it.
                raise _error(err, f"mkdir {where}: path component is a symlink (raced?)") from None
            raise _error(err, f"open {where}") from None
        try:
            os.mkdir(name, mode, dir_fd=dirfd)
        except FileExistsError:
            pass  # made concurrently: open it on the next round
        except OSError as e:
            raise _error(e.errno or errno.EIO, f"mkdir {where}") from None
    raise AssertionError("unreachable")


def mkdir_all_in_root_fd(root: str, path: str, mode: int = 0o755) -> int:
    """Like :func:`mkdir_all_in_root` but return an ``O_PATH`` fd of the directory.

    The caller owns (and must close) the fd. ``path`` is a container path; it is resolved
    with :func:`secure_join` first, then walked and created component by component, each
    opened with ``O_NOFOLLOW`` relative to its parent's fd.
    """
    root = os.path.normpath(root)
    existing = _existing_dir_fd(root, path)
    if existing is not None:
        return existing
    joined = secure_join(root, strip_root(root, path))
    fd = os.open(root, _O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    done = root.rstrip("/")
    try:
        for part in _relative(root, joined):
            where = f"{done}/{part}"
            nxt = _open_dir_nofollow(fd, part, where, mode)
            os.close(fd)
            fd = nxt
            done = where
    except BaseException:
        os.close(fd)
        raise
    return fd


def _existing_dir_fd(root: str, path: str) -> int | None:
    """Fast path: an existing directory in one openat2(RESOLVE_IN_ROOT) call, or None.

    The kernel resolves the whole path as if ``root`` were ``/`` (symlinks included), which
    is the containment the component walk gives; anything unusual (missing components, a
    non-directory, no openat2) falls back to that walk and its precise errors.
    """
    rel = strip_root(root, path).lstrip("/") or "."
    try:
        rootfd = os.open(root, _O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return _kernel().openat2(
            rootfd,
            rel,
            _O_PATH | os.O_DIRECTORY | os.O_CLOEXEC,
            0,
            RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        )
    except OSError:
        return None
    finally:
        os.close(rootfd)


def mkdir_all_in_root(root: str, path: str, mode: int = 0o755) -> None:
    """``mkdir -p`` of container path ``path`` inside ``root``, never leaving ``root``.

    Existing components are resolved as inside a chroot; missing ones are created with
    ``mode`` (minus the umask). A component that exists but is not a directory raises
    SyscallError(ENOTDIR).
    """
    os.close(mkdir_all_in_root_fd(root, path, mode))


def create_file_in_root(root: str, path: str, mode: int = 0o755) -> None:
    """Create an empty regular file at container path ``path`` unless something is there.

    Missing parents are created with :func:`mkdir_all_in_root_fd`; the file itself is created
    with ``O_NOFOLLOW`` relative to its parent's fd, so a dangling symlink in its place is
    not followed out of the rootfs (runc's ``createIfNotExists`` for a file).
    """
    root = os.path.normpath(root)
    joined = secure_join(root, strip_root(root, path))
    if joined == root:
        return  # "/" always exists
    parent, name = os.path.split(joined)
    pfd = mkdir_all_in_root_fd(root, strip_root(root, parent))
    try:
        # O_EXCL: never follows a symlink and never opens (a device, a fifo) what is there.
        fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, mode, dir_fd=pfd)
    except FileExistsError:
        return
    except OSError as e:
        raise _error(e.errno or errno.EIO, f"create {joined}") from None
    finally:
        os.close(pfd)
    os.close(fd)


def _inside(root: str, real: str) -> bool:
    return root == "/" or real == root or real.startswith(root.rstrip("/") + "/")


def open_in_root(
    root: str, path: str, flags: int, syscalls: Syscalls, *, follow: bool = True
) -> int:
    """Open container path ``path`` inside ``root``; returns a close-on-exec fd.

    With ``openat2(2)`` the kernel resolves the path as if ``root`` were ``/``
    (``RESOLVE_IN_ROOT``) and refuses magic links (``RESOLVE_NO_MAGICLINKS``). Without it
    (ENOSYS, or EPERM from a seccomp filter) the path is resolved with :func:`secure_join`,
    opened with ``O_NOFOLLOW`` and then checked: the fd must not be a symlink and must
    resolve to the path we meant. ``follow=False`` opens a final symlink itself (with
    ``O_PATH``) instead of resolving it.
    """
    root = os.path.normpath(root)
    rel = strip_root(root, path).lstrip("/") or "."
    flags |= os.O_CLOEXEC
    if not follow:
        flags |= os.O_NOFOLLOW
    rootfd = os.open(root, _O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = _openat2(syscalls, rootfd, rel, flags)
    finally:
        os.close(rootfd)
    if fd is None:
        fd = _open_fallback(root, rel, flags, follow)
    try:
        real = os.readlink(fd_path(fd))
    except OSError as e:
        os.close(fd)
        raise _error(e.errno or errno.EIO, f"procfd verification of {path} failed") from None
    if not _inside(root, real):
        os.close(fd)
        raise _error(
            errno.EXDEV,
            f"possibly malicious path detected: {path} resolved to {real}, outside {root}",
        )
    return fd


def _openat2(syscalls: Syscalls, rootfd: int, rel: str, flags: int) -> int | None:
    resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
    for _ in range(_OPENAT2_RETRIES):
        try:
            return syscalls.openat2(rootfd, rel, flags, 0, resolve)
        except SyscallError as e:
            if e.errno == errno.EAGAIN:
                continue
            if e.errno in (errno.ENOSYS, errno.EPERM):
                return None  # no openat2 here (old kernel, seccomp): use the fallback
            raise _error(e.errno or errno.EIO, f"open /{rel} in {_rootfd_name(rootfd)}") from None
    raise _error(errno.EAGAIN, f"open /{rel}: openat2 kept racing")


def _rootfd_name(fd: int) -> str:
    """Where ``fd`` points, for error messages (best effort)."""
    try:
        return os.readlink(fd_path(fd))
    except OSError:
        return f"fd {fd}"


def _open_fallback(root: str, rel: str, flags: int, follow: bool) -> int:
    parent, name = os.path.split(rel)
    if follow or name in ("", "."):
        joined = secure_join(root, rel)
    else:
        # The last component is opened as it is (O_NOFOLLOW): resolve only its parent.
        joined = os.path.join(secure_join(root, parent), name)
    try:
        # O_NOFOLLOW even when following: secure_join already resolved every symlink, so
        # one found now was swapped in after it and must not be trusted.
        fd = os.open(joined, flags | os.O_NOFOLLOW)
    except OSError as e:
        raise _error(e.errno or errno.EIO, f"open {joined}") from None
    st = os.fstat(fd)
    if follow and stat.S_ISLNK(st.st_mode):
        os.close(fd)
        raise _error(errno.ELOOP, f"open {joined}: is a symlink (raced?)")
    real = os.readlink(fd_path(fd))
    if real != joined:
        os.close(fd)
        raise _error(errno.EXDEV, f"possibly malicious path detected: {joined} is really {real}")
    return fd


@contextlib.contextmanager
def procfd(
    root: str, path: str, syscalls: Syscalls, *, flags: int = 0, follow: bool = True
) -> Iterator[str]:
    """Open ``path`` inside ``root`` (``O_PATH`` + ``flags``) and yield its fd's magic path.

    Mount onto the yielded ``/proc/self/fd/N`` rather than onto the path: the target was
    opened and checked before the mount, so swapping a symlink in between has no effect.
    A new mount on the target is not visible through the old fd, so re-open (a new
    ``procfd``) to act on the mount just made.
    """
    fd = open_in_root(root, path, _O_PATH | flags, syscalls, follow=follow)
    try:
        yield fd_path(fd)
    finally:
        os.close(fd)
