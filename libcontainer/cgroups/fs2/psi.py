"""Pressure stall information: ``cpu.pressure``, ``memory.pressure``, ``io.pressure``.

Each file has a ``some`` line (at least one task stalled) and, except for cpu on older
kernels, a ``full`` line (all tasks stalled)::

    some avg10=0.00 avg60=0.00 avg300=0.00 total=0
"""

from __future__ import annotations

import errno

import attrs

from libcontainer.cgroups import fscommon
from libcontainer.cgroups.fscommon import CgroupFileError

__all__ = ["PSIData", "PSIStats", "read_psi"]


@attrs.define
class PSIData:
    """Averages (percent of wall time) over 10 s, 60 s and 300 s, and the total in µs."""

    avg10: float = 0.0
    avg60: float = 0.0
    avg300: float = 0.0
    total: int = 0


@attrs.define
class PSIStats:
    """The two lines of a pressure file."""

    some: PSIData = attrs.field(factory=PSIData)
    full: PSIData = attrs.field(factory=PSIData)


def parse_psi(text: str, *, path: str = "") -> PSIStats:
    """Parse the content of a ``*.pressure`` file."""
    stats = PSIStats()
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind not in ("some", "full"):
            continue
        data: PSIData = getattr(stats, kind)
        for field in rest.split():
            key, sep, value = field.partition("=")
            try:
                if key in ("avg10", "avg60", "avg300") and sep:
                    setattr(data, key, float(value))
                elif key == "total" and sep:
                    data.total = int(value)
            except ValueError:
                raise CgroupFileError(
                    f"invalid pressure value {field!r} in {path or 'pressure file'}", path=path
                ) from None
    return stats


def read_psi(directory: str, name: str) -> PSIStats | None:
    """Read ``directory/name``; None when the kernel has no PSI (file absent or disabled)."""
    try:
        text = fscommon.read_file(directory, name)
    except CgroupFileError as exc:
        # ENOENT: no such file; EOPNOTSUPP: PSI compiled in but disabled (psi=0).
        if exc.errno in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENOTSUP):
            return None
        raise
    return parse_psi(text, path=f"{directory}/{name}")
