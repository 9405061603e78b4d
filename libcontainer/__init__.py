"""libcontainer: an embeddable Linux container library (a Python port of runc's libcontainer).

    from libcontainer import Factory, Process

    factory = Factory("/run/mycontainers")
    container = factory.create("demo", config)      # a libcontainer.configs.Config
    proc = Process(["echo", "hello"], stdout=subprocess.PIPE)
    container.run(proc)
    print(proc.stdout.read(), proc.wait())
    container.destroy()

Names are imported lazily (PEP 562), so ``from libcontainer import Factory`` stays cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from libcontainer import configs, errors
    from libcontainer.container import Container
    from libcontainer.errors import (
        ConfigError,
        ContainerExistsError,
        ContainerNotExistsError,
        LibcontainerError,
        ProcessStartError,
    )
    from libcontainer.factory import Factory
    from libcontainer.lifecycle.status import Status
    from libcontainer.process import DEVNULL, PIPE, STDOUT, Process
    from libcontainer.state import State

__version__ = "0.1.0"

_LAZY = {
    "Factory": "libcontainer.factory",
    "Container": "libcontainer.container",
    "Process": "libcontainer.process",
    "PIPE": "libcontainer.process",
    "DEVNULL": "libcontainer.process",
    "STDOUT": "libcontainer.process",
    "Status": "libcontainer.lifecycle.status",
    "State": "libcontainer.state",
    "ConfigError": "libcontainer.errors",
    "ContainerExistsError": "libcontainer.errors",
    "ContainerNotExistsError": "libcontainer.errors",
    "LibcontainerError": "libcontainer.errors",
    "ProcessStartError": "libcontainer.errors",
}
_MODULES = {"configs", "errors"}

__all__ = [
    "DEVNULL",
    "PIPE",
    "STDOUT",
    "ConfigError",
    "Container",
    "ContainerExistsError",
    "ContainerNotExistsError",
    "Factory",
    "LibcontainerError",
    "Process",
    "ProcessStartError",
    "State",
    "Status",
    "configs",
    "errors",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        import importlib

        module = importlib.import_module(f"libcontainer.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'libcontainer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


# The models' generated code is compiled once and kept (see libcontainer.modelcode); this
# only arms a hook, and costs the commands that never define a model nothing more.
from libcontainer import modelcode as _modelcode  # noqa: E402

_modelcode.install_on_import()
