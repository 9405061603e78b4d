"""What the host supports, as far as validation cares (probed once, or given by a test)."""

from __future__ import annotations

import functools
import os

import attrs

__all__ = ["HostFeatures"]


@attrs.frozen(kw_only=True)
class HostFeatures:
    """Host facts some rules depend on. :meth:`detect` probes them; tests build their own."""

    cgroup2_unified: bool = False
    selinux_enabled: bool = False
    intel_rdt_cat: bool = False
    intel_rdt_mba: bool = False
    user_namespaces: bool = True
    cgroup_namespaces: bool = True

    @classmethod
    def detect(cls) -> HostFeatures:
        """Probe this host (cached for the life of the process)."""
        return _detect()


@functools.cache
def _detect() -> HostFeatures:
    # Only the unified hierarchy has cgroup.controllers at the mount root (hybrid mode has a
    # tmpfs there), which is what runc's statfs(CGROUP2_SUPER_MAGIC) check tells apart.
    return HostFeatures(
        cgroup2_unified=os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
        selinux_enabled=os.path.exists("/sys/fs/selinux/enforce"),
        intel_rdt_cat=os.path.isdir("/sys/fs/resctrl/info/L3"),
        intel_rdt_mba=os.path.isdir("/sys/fs/resctrl/info/MB"),
        user_namespaces=os.path.exists("/proc/self/ns/user"),
        cgroup_namespaces=os.path.exists("/proc/self/ns/cgroup"),
    )
