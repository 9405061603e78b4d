"""Per-interface counters of a container (runc's ``types.NetworkInterface``)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["NetworkInterface", "from_host_counters"]


@attrs.define
class NetworkInterface:
    """Traffic counters of one container interface, as the container sees them.

    ``name`` is the host side's name (as runc reports it). The counters are read from the
    host side, whose receive is the container's transmit: they are swapped accordingly.
    """

    name: str = ""
    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0


def from_host_counters(name: str, counters: Mapping[str, int]) -> NetworkInterface:
    """The container's view of the host side's ``rtnl_link_stats64`` counters.

    What the host side transmits, the container receives (runc's
    ``getNetworkInterfaceStats`` reads ``tx_bytes`` into ``RxBytes`` and so on).
    """
    return NetworkInterface(
        name=name,
        rx_bytes=counters.get("tx_bytes", 0),
        rx_packets=counters.get("tx_packets", 0),
        rx_errors=counters.get("tx_errors", 0),
        rx_dropped=counters.get("tx_dropped", 0),
        tx_bytes=counters.get("rx_bytes", 0),
        tx_packets=counters.get("rx_packets", 0),
        tx_errors=counters.get("rx_errors", 0),
        tx_dropped=counters.get("rx_dropped", 0),
    )
