"""Network interfaces and routes (runc ``configs/network.go``)."""

from __future__ import annotations

import attrs

from .jsonmodel import Model, jf

__all__ = ["Network", "Route"]


@attrs.frozen(kw_only=True)
class Network(Model):
    """A network interface set up in the container (``loopback``, ``veth``, ...)."""

    type: str = jf("type", "")
    name: str = jf("name", "")
    bridge: str = jf("bridge", "")
    mac_address: str = jf("mac_address", "")
    address: str = jf("address", "")
    gateway: str = jf("gateway", "")
    ipv6_address: str = jf("ipv6_address", "")
    ipv6_gateway: str = jf("ipv6_gateway", "")
    mtu: int = jf("mtu", 0)
    tx_queue_len: int = jf("txqueuelen", 0)
    host_interface_name: str = jf("host_interface_name", "")
    hairpin_mode: bool = jf("hairpin_mode", False)


@attrs.frozen(kw_only=True)
class Route(Model):
    """A routing table entry added when the container starts."""

    destination: str = jf("destination", "")
    source: str = jf("source", "")
    gateway: str = jf("gateway", "")
    interface_name: str = jf("interface_name", "")
