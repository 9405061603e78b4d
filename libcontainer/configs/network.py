"""Network interfaces and routes (runc ``configs/network.go``)."""

from __future__ import annotations

import attrs

from .jsonmodel import Model, jf

__all__ = ["Network", "Route"]


@attrs.frozen(kw_only=True)
class Network(Model):
    """A network interface set up in the container: ``loopback`` or ``veth``.

    A ``veth`` is a pair: the container side (``name``, default ``eth0``, with
    ``mac_address``, ``address``/``ipv6_address`` as CIDR and default routes via
    ``gateway``/``ipv6_gateway``) and the host side (``host_interface_name``, generated when
    empty; joins ``bridge`` with ``hairpin_mode``). ``mtu`` applies to both sides,
    ``tx_queue_len`` to the host side.

    ``host_netns`` is ours, not runc's: the path of the network namespace the host side is
    created in (``/run/netns/NAME``, ``/proc/PID/ns/net``); empty means the caller's. It is
    written only when set, so runc reads our state files.
    """

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
    host_netns: str = jf("host_netns", "", omitempty=True)


@attrs.frozen(kw_only=True)
class Route(Model):
    """A routing table entry added when the container starts."""

    destination: str = jf("destination", "")
    source: str = jf("source", "")
    gateway: str = jf("gateway", "")
    interface_name: str = jf("interface_name", "")
