"""Validation of a :class:`~libcontainer.configs.Config` (runc's ``configs/validate``).

:func:`validate` runs runc 1.1's checks, in runc's order, plus a few that runc leaves to
the kernel or to ``specconv`` (namespace files of the right type, seccomp and rlimit values,
device nodes). The first failure is raised as a :class:`~libcontainer.errors.ConfigError`
whose ``field`` names the offending attribute (``mounts[2].destination``) and whose
``value`` is the bad value.
"""

from __future__ import annotations

from ..config import Config
from . import checks, namespaces, network, strings
from .host import HostFeatures

__all__ = ["HostFeatures", "validate"]

_CHECKS = (
    strings.no_nul_bytes,
    checks.cgroups,
    checks.rootfs,
    network.network,
    checks.uts,
    checks.security,
    namespaces.namespaces,
    namespaces.sysctl,
    checks.intel_rdt,
    namespaces.rootless_euid,
    checks.mounts,
    checks.devices,
    checks.seccomp,
    checks.process,
    checks.hooks,
)


def validate(config: Config, *, host: HostFeatures | None = None) -> None:
    """Raise :class:`~libcontainer.errors.ConfigError` if ``config`` cannot be run here.

    ``host`` describes what the host supports; by default it is probed
    (:meth:`HostFeatures.detect`). Namespace paths and the rootfs are checked on the real
    filesystem.
    """
    features = host if host is not None else HostFeatures.detect()
    for check in _CHECKS:
        check(config, features)
