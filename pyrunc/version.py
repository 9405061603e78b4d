"""What ``pyrunc --version`` prints: runc's lines, with pyrunc's names.

runc prints ``runc version 1.1.5``, ``commit: ...``, ``spec: 1.0.2-dev``, ``go: go1.19.8``
and ``libseccomp: 2.5.4``. Here the runtime is Python, so ``go:`` becomes ``python:``; the
commit is the git commit of a source checkout, else ``unknown``. podman shows the whole
text in ``podman info``; scripts read the first line's last word.
"""

from __future__ import annotations

import os
import sys

from pyrunc import SPEC_VERSION, __version__

__all__ = ["git_commit", "version_text"]


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def _git_dir(start: str) -> str | None:
    """The git directory of the checkout holding ``start`` (a worktree's ``.git`` is a
    file naming it), or None."""
    here = os.path.abspath(start)
    while True:
        dot_git = os.path.join(here, ".git")
        if os.path.isdir(dot_git):
            return dot_git
        if os.path.isfile(dot_git):
            text = _read(dot_git)
            if text.startswith("gitdir:"):
                return os.path.join(here, text.removeprefix("gitdir:").strip())
            return None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _resolve(git_dir: str, ref: str) -> str | None:
    common = git_dir
    if os.path.isfile(os.path.join(git_dir, "commondir")):
        common = os.path.normpath(os.path.join(git_dir, _read(os.path.join(git_dir, "commondir"))))
    for base in (git_dir, common):
        path = os.path.join(base, ref)
        if os.path.isfile(path):
            return _read(path)
    packed = os.path.join(common, "packed-refs")
    if os.path.isfile(packed):
        for line in _read(packed).splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    return None


def git_commit(start: str | None = None) -> str | None:
    """The commit checked out where pyrunc's sources are (read from the files, no ``git``
    needed), or None for an installed copy."""
    try:
        git_dir = _git_dir(start or os.path.dirname(os.path.abspath(__file__)))
        if git_dir is None:
            return None
        head = _read(os.path.join(git_dir, "HEAD"))
        if head.startswith("ref:"):
            return _resolve(git_dir, head.removeprefix("ref:").strip())
        return head or None
    except OSError:
        return None


def _libseccomp() -> str:
    try:
        from libcontainer.seccomp.libseccomp import version

        return ".".join(map(str, version()))
    except Exception:
        return "unknown (libseccomp not found)"


def version_text() -> str:
    """The text of ``pyrunc --version``, one ``key: value`` line each after the first."""
    impl = sys.implementation.name
    number = ".".join(map(str, sys.version_info[:3]))
    python = f"{'CPython' if impl == 'cpython' else impl} {number}"
    return (
        f"pyrunc version {__version__}\n"
        f"commit: {git_commit() or 'unknown'}\n"
        f"spec: {SPEC_VERSION}\n"
        f"python: {python}\n"
        f"libseccomp: {_libseccomp()}\n"
    )
