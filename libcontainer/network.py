"""Network setup inside a new network namespace.

Bringing ``lo`` up is one ioctl, so the container init does it without pyroute2 (whose
import alone costs ~150 ms). Anything richer (veth pairs, routes) is pyroute2's job and is
imported only when a config asks for it.
"""

from __future__ import annotations

import fcntl
import socket
import struct
from collections.abc import Sequence

from libcontainer.configs import Route
from libcontainer.errors import ConfigError

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


def add_routes(routes: Sequence[Route]) -> None:
    """Add the config's routes in the current network namespace (runc's setupRoute).

    Uses pyroute2, which the spawner imports before cloning only for configs that have
    routes (the import alone costs ~150 ms and must not happen inside the container).
    """
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        for route in routes:
            kwargs: dict[str, object] = {"dst": route.destination}
            if route.gateway:
                kwargs["gateway"] = route.gateway
            if route.source:
                kwargs["prefsrc"] = route.source
            if route.interface_name:
                found = ipr.link_lookup(ifname=route.interface_name)
                if not found:
                    raise ConfigError(
                        "no such interface in the container",
                        field="routes.interface_name",
                        value=route.interface_name,
                    )
                kwargs["oif"] = found[0]
            try:
                ipr.route("add", **kwargs)
            except OSError as e:
                raise ConfigError(
                    f"adding route failed: {e}", field="routes", value=route.destination
                ) from None


def preload_for(routes: Sequence[Route]) -> None:
    """Import what :func:`add_routes` needs, while the host's files are still ours."""
    if routes:
        import pyroute2
        import pyroute2.iproute.linux  # noqa: F401
