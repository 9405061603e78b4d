"""Keep the code attrs generates for the library's models, compiled, between runs.

attrs writes each model's ``__init__``, ``__repr__``, ``__eq__`` and ``__hash__`` as source
text and compiles it when the class is defined: every ``pyrunc create`` or ``exec`` defines
about ninety models and spends ~35 ms of its ~150 ms of imports in ``compile()``, to get the
same code objects as the run before. This module keeps them, marshalled, next to the
package's ``.pyc`` files (the same policy: written only where the interpreter may write
bytecode, read only from a file owned by root or by us that nobody else can write), keyed by
the generated file name and the exact source text: an entry is the compilation of the same
text, or it is not used.

Only the classes of this project's packages (and of attrs and cattrs) are cached, others'
compile as they always do; nothing changes when attrs lacks the private hook used here.
"""

from __future__ import annotations

import atexit
import marshal
import os
import sys
from collections.abc import Mapping
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

#: Generated-code "filenames" of the classes this cache is for (attrs names them
#: ``<attrs generated methods MODULE.QUALNAME>``): our models, and those attrs and cattrs
#: define for themselves when the models load them.
_OURS = tuple(
    f"<attrs generated methods {package}."
    for package in ("libcontainer", "specconv", "pyrunc", "attr", "cattrs")
)
#: attrs salts each class's ``__hash__`` with ``hash()`` of a string, which differs per
#: process (PYTHONHASHSEED); the cached source names this global instead of the number.
_SALT_NAME = "_modelcode_hash_salt"
#: A cache that outgrows this (new versions of the models, over time) starts over.
_MAX_ENTRIES = 1000

#: Each entry is one marshalled code object, unmarshalled only when used: entries of other
#: commands, or left by an older version of a model, cost a load almost nothing.
_codes: dict[str, bytes] = {}
#: The entries this process used: what a cache that starts over keeps.
_used: dict[str, bytes] = {}
_new = 0
_path = ""
_installed = False
#: The process that installed the cache: the only one that saves it (a forked child, such
#: as a container's init inside its mount namespace, never writes files for it).
_owner_pid = 0


def cache_path() -> str:
    """The cache file: per interpreter, next to this package's bytecode.

    Not per attrs version: an entry is keyed by its whole source, and what other versions
    generate only grows the file up to :data:`_MAX_ENTRIES`.
    """
    tag = sys.implementation.cache_tag or "python"
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "__pycache__", f"attrs-models.{tag}.marshal")


def _load(path: str) -> dict[str, bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return {}
    try:
        st = os.fstat(fd)
        # Code read from here runs in a process that is root and enters containers.
        if st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
            return {}
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    finally:
        os.close(fd)
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, bytes)}


def _unmarshal(blob: bytes | None) -> CodeType | None:
    try:
        code = marshal.loads(blob) if blob else None
    except (ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _salted(script: str, filename: str) -> tuple[str, int | None]:
    """``script`` with attrs' per-process hash salt replaced by :data:`_SALT_NAME`."""
    qualified = filename[len("<attrs generated methods ") :]
    salt = hash(f"<attrs generated hash {qualified}")
    text = str(salt)
    if script.count(text) != 1:
        return script, None
    return script.replace(text, _SALT_NAME), salt


def _compile_and_eval(
    script: str,
    globs: dict[str, Any] | None,
    locs: Mapping[str, object] | None = None,
    filename: str = "",
) -> None:
    """attrs' ``_compile_and_eval``, with the compiled code of our models kept."""
    global _new
    if not filename.startswith(_OURS) or globs is None:
        eval(compile(script, filename, "exec"), globs, locs)
        return
    source, salt = _salted(script, filename)
    key = f"{filename}\n{source}"
    code = _unmarshal(_codes.get(key))
    if code is None:
        code = compile(source, filename, "exec")
        _codes[key] = marshal.dumps(code)
        _new += 1
    _used[key] = _codes[key]
    if salt is not None:
        globs[_SALT_NAME] = salt
    eval(code, globs, locs)


def install(make: ModuleType | None = None) -> None:
    """Cache the models' generated code from now on (idempotent).

    ``make`` is attrs' ``attr._make`` module (imported when not given). :func:`save` writes
    what was compiled; it also runs at exit.
    """
    global _installed, _path, _codes, _owner_pid
    if _installed:
        return
    _installed = True
    builder: Any = make
    if builder is None:
        try:
            from attr import _make as builder
        except ImportError:  # pragma: no cover - not attrs as we know it
            return
    if not callable(getattr(builder, "_compile_and_eval", None)):
        return  # another attrs: compile as it does
    _path = cache_path()
    _codes = _load(_path)
    _owner_pid = os.getpid()
    builder._compile_and_eval = _compile_and_eval
    atexit.register(save)


def spec_installing(hook: object, path: Any = None, target: Any = None) -> ModuleSpec | None:
    """For the meta path finder ``hook`` (``libcontainer._ModelCodeHook``), asked for
    ``attr._make``: take ``hook`` off the path, find the module as the rest of the path
    would, and have :func:`install` run right after the module is executed, before any
    model is defined."""
    try:
        sys.meta_path.remove(hook)  # type: ignore[arg-type]
    except ValueError:
        pass
    spec: ModuleSpec | None = None
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = find("attr._make", path, target) if find is not None else None
        if spec is not None:
            break
    loader: Any = spec.loader if spec is not None else None
    exec_module = getattr(loader, "exec_module", None)
    if spec is None or exec_module is None:
        return spec

    def exec_then_install(module: ModuleType) -> None:
        exec_module(module)
        install(module)

    loader.exec_module = exec_then_install
    return spec


def save() -> None:
    """Write the cache if this process compiled anything new (atomically; never an error)."""
    global _new, _codes
    if not _new or not _path or sys.dont_write_bytecode or os.getpid() != _owner_pid:
        return
    _new = 0
    directory = os.path.dirname(_path)
    tmp = f"{_path}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, exist_ok=True)
        # Another process may have saved other models meanwhile: keep theirs too.
        merged = {**_load(_path), **_codes}
        _codes = merged if len(merged) <= _MAX_ENTRIES else dict(_used)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps(_codes))
        os.replace(tmp, _path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
