"""Name checks shared by :func:`specconv.create_config` and :func:`specconv.process_args`."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from libcontainer.errors import ConfigError
from specconv._fields import json_name
from specconv.spec_process import LinuxCapabilities, POSIXRlimit
from specconv.tables import CAPABILITIES, RLIMITS

__all__ = ["check_capabilities", "rlimit_numbers"]


def check_capabilities(caps: LinuxCapabilities | None, field: str = "process.capabilities") -> None:
    """Raise ConfigError for the first capability name runc 1.1 does not know."""
    if caps is None:
        return
    for attribute in attrs.fields(LinuxCapabilities):
        names: Sequence[str] = getattr(caps, attribute.name)
        for index, name in enumerate(names):
            if name not in CAPABILITIES:
                raise ConfigError(
                    "unknown capability (expected a CAP_* name such as CAP_KILL)",
                    field=f"{field}.{json_name(attribute)}[{index}]",
                    value=name,
                )


def rlimit_numbers(
    rlimits: Sequence[POSIXRlimit], field: str = "process.rlimits"
) -> list[tuple[int, int, int]]:
    """``(resource number, hard, soft)`` per rlimit; ConfigError for an unknown name."""
    result = []
    for index, rlimit in enumerate(rlimits):
        number = RLIMITS.get(rlimit.type)
        if number is None:
            raise ConfigError(
                "unknown rlimit type (expected an RLIMIT_* name such as RLIMIT_NOFILE)",
                field=f"{field}[{index}].type",
                value=rlimit.type,
            )
        result.append((number, rlimit.hard, rlimit.soft))
    return result
