"""specconv: the OCI runtime-spec ``config.json`` and its conversion to a libcontainer config.

The counterpart of runc's ``libcontainer/specconv``::

    spec = specconv.load_spec("/path/to/bundle")
    config = specconv.create_config(spec, bundle="/path/to/bundle", cgroup_name="c1")
    process = specconv.process_args(spec)

Importing this package imports nothing: every name loads its module on first use (PEP 562),
so a command that only reads a process (``pyrunc exec --process``) builds the process
models and not the whole spec's, and nothing builds runc's example spec or the config
models before it needs them. Defining an attrs class costs about a millisecond (attrs
compiles its methods), and the command line pays that on every call.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from specconv._example import example, to_rootless
    from specconv.convert import create_config
    from specconv.jsonio import dump_spec, load_spec, parse_process, parse_spec, spec_to_dict
    from specconv.newprocess import new_process
    from specconv.process import ProcessSpec, process_args
    from specconv.spec import Spec

__all__ = [
    "ProcessSpec",
    "Spec",
    "create_config",
    "dump_spec",
    "example",
    "load_spec",
    "new_process",
    "parse_process",
    "parse_spec",
    "process_args",
    "spec_to_dict",
    "to_rootless",
]

_LAZY = {
    "ProcessSpec": "specconv.process",
    "Spec": "specconv.spec",
    "create_config": "specconv.convert",
    "dump_spec": "specconv.jsonio",
    "example": "specconv._example",
    "load_spec": "specconv.jsonio",
    "new_process": "specconv.newprocess",
    "parse_process": "specconv.jsonio",
    "parse_spec": "specconv.jsonio",
    "process_args": "specconv.process",
    "spec_to_dict": "specconv.jsonio",
    "to_rootless": "specconv._example",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
