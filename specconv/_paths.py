"""Go's ``filepath.Clean``/``Join`` and libcontainer's ``utils.CleanPath``, for POSIX paths."""

from __future__ import annotations

import posixpath

__all__ = ["clean", "clean_path", "join"]


def clean(path: str) -> str:
    """``filepath.Clean``: like ``posixpath.normpath``, but a leading ``//`` is one ``/``."""
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def join(*parts: str) -> str:
    """``filepath.Join``: join the non-empty parts and clean the result."""
    kept = [p for p in parts if p]
    return clean("/".join(kept)) if kept else ""


def clean_path(path: str) -> str:
    """libcontainer's ``CleanPath``: clean, and keep a relative path from climbing above ``/``."""
    if not path:
        return ""
    path = clean(path)
    if not path.startswith("/"):
        path = clean("/" + path)
        path = posixpath.relpath(path, "/")
    return clean(path)
