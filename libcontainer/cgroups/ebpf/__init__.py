"""Device access control on cgroup v2: an eBPF program per cgroup.

:func:`load_attach_device_filter` loads the program generated from the device rules by
:mod:`~libcontainer.cgroups.ebpf.devicefilter` and attaches it to a cgroup directory,
replacing (or detaching) the programs attached there before, as runc does.
"""

from __future__ import annotations

from libcontainer.cgroups.ebpf.attach import (
    attached_program_ids,
    detach_all,
    load_attach_device_filter,
)
from libcontainer.cgroups.ebpf.devicefilter import device_filter

__all__ = ["attached_program_ids", "detach_all", "device_filter", "load_attach_device_filter"]
