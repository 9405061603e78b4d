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


class _ModelCodeHook:
    """Arms :mod:`libcontainer.modelcode` (the models' compiled methods, kept between runs)
    when attrs' class builder is first imported; until then, and in the commands that never
    define a model, it costs one string comparison per import."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "attr._make":
            return None
        from libcontainer import modelcode

        return modelcode.spec_installing(self, path, target)


def _arm_model_code() -> None:
    import sys

    if "attr._make" in sys.modules:
        from libcontainer import modelcode

        modelcode.install(sys.modules["attr._make"])
    elif not any(type(f).__name__ == "_ModelCodeHook" for f in sys.meta_path):
        sys.meta_path.insert(0, _ModelCodeHook())


_arm_model_code()
