"""Bringing ``lo`` up inside the container (runc's ``loopback`` strategy).

One ioctl, so the container init does it without pyroute2 (whose import alone costs
~150 ms and must not happen inside the container).
"""

from __future__ import annotations

import fcntl
import socket
import struct

__all__ = ["link_up"]

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = struct.Struct("16sh22x")


def link_up(name: str = "lo") -> None:
    """Set the IFF_UP flag of interface ``name`` in the current network namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        raw = fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, _IFREQ.pack(name.encode(), 0))
        flags = _IFREQ.unpack(raw)[1]
        fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, _IFREQ.pack(name.encode(), flags | _IFF_UP))
