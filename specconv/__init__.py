"""specconv: the OCI runtime-spec ``config.json`` and its conversion to a libcontainer config.

The counterpart of runc's ``libcontainer/specconv``::

    spec = specconv.load_spec("/path/to/bundle")
    config = specconv.create_config(spec, bundle="/path/to/bundle", cgroup_name="c1")
    process = specconv.process_args(spec)

Importing this package is cheap: :mod:`libcontainer.configs` is only imported by the
functions that build a config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from specconv.example import example, to_rootless
from specconv.jsonio import dump_spec, load_spec, parse_spec, spec_to_dict
from specconv.process import ProcessSpec, process_args
from specconv.spec import Spec

if TYPE_CHECKING:
    from specconv.convert import create_config
    from specconv.newprocess import new_process

__all__ = [
    "ProcessSpec",
    "Spec",
    "create_config",
    "dump_spec",
    "example",
    "load_spec",
    "new_process",
    "parse_spec",
    "process_args",
    "spec_to_dict",
    "to_rootless",
]


def __getattr__(name: str) -> Any:
    # create_config pulls in libcontainer.configs, new_process the Process class: import
    # them on first use only.
    if name == "create_config":
        from specconv.convert import create_config

        return create_config
    if name == "new_process":
        from specconv.newprocess import new_process

        return new_process
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
