"""Device access control for cgroups: the v1 ``devices.list`` emulator.

The fs2 driver's eBPF program and the systemd driver's ``DeviceAllow=`` properties will live
here too.
"""

from libcontainer.cgroups.devices.emulator import Emulator, Rule, device_type_char

__all__ = ["Emulator", "Rule", "device_type_char"]
