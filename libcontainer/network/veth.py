"""The ``veth`` strategy over pyroute2 (runc's ``veth``, which runc itself later dropped).

The functions here do netlink work in whatever network namespace their thread is in; the
caller (:mod:`libcontainer.network.interfaces`) runs each in the right one with
:func:`~libcontainer.network.netns.run_in_netns`. Importing this module imports pyroute2.

runc created the pair in the host's namespace under a temporary peer name, moved the peer
into the container and renamed it there. Here the peer is created directly inside the
container's namespace (``IFLA_NET_NS_FD`` on the peer), under its final name: nothing
temporary exists in the host's namespace, where the name could collide.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from libcontainer.configs import Network
from libcontainer.errors import ConfigError, NetworkError

from .stats import NetworkInterface, from_host_counters

__all__ = [
    "DEFAULT_NAME",
    "configure_container_side",
    "create_pair",
    "host_counters",
    "remove_host_side",
]

log = logging.getLogger(__name__)

#: The container side's name when the config gives none.
DEFAULT_NAME = "eth0"

_IFA_F_NODAD = 0x02
_BRIDGE_MODE_HAIRPIN = 1


def _fail(what: str, e: NetlinkError) -> NetworkError:
    reason = e.args[1] if len(e.args) > 1 else str(e)
    return NetworkError(f"{what}: {str(reason).lower()}")


def _lookup(ipr: Any, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


def _link(ipr: Any, index: int) -> Any | None:
    try:
        return ipr.get_links(index)[0]
    except NetlinkError as e:
        if e.code == 19:  # ENODEV
            return None
        raise


def _kind(link: Any) -> str | None:
    info = link.get_attr("IFLA_LINKINFO")
    return info.get_attr("IFLA_INFO_KIND") if info is not None else None


def create_pair(net: Network, field: str, host_name: str, peer_netns_fd: int) -> int:
    """Create the pair, its peer inside the namespace ``peer_netns_fd``; set the host side up.

    Runs in the host side's namespace; returns the host side's ifindex. A failure after
    the pair exists removes it again (the peer goes with it). ``field`` names the network
    in errors (``networks[1]``).
    """
    with IPRoute() as ipr:
        bridge = _check_bridge(ipr, net, field)
        if _lookup(ipr, host_name) is not None:
            raise ConfigError(
                "an interface of this name exists in the host's network namespace",
                field=f"{field}.host_interface_name",
                value=host_name,
            )
        peer: dict[str, Any] = {"ifname": net.name or DEFAULT_NAME, "net_ns_fd": peer_netns_fd}
        host: dict[str, Any] = {}
        if net.mtu:
            peer["mtu"] = host["mtu"] = net.mtu
        if net.mac_address:
            peer["address"] = net.mac_address
        if net.tx_queue_len:
            host["txqlen"] = net.tx_queue_len
        try:
            ipr.link("add", ifname=host_name, kind="veth", peer=peer, **host)
        except NetlinkError as e:
            raise _fail(f"creating veth pair {host_name} <-> {peer['ifname']}", e) from None
        index = _lookup(ipr, host_name)
        if index is None:
            raise NetworkError(f"veth {host_name} vanished right after it was created")
        try:
            _configure_host_side(ipr, net, host_name, index, bridge)
        except BaseException:
            try:
                ipr.link("del", index=index)
            except NetlinkError as e:
                log.warning("could not remove %s after a failed setup: %s", host_name, e)
            raise
        return index


def _check_bridge(ipr: Any, net: Network, field: str) -> int | None:
    """The bridge's ifindex; checked before anything is made."""
    if not net.bridge:
        return None
    index = _lookup(ipr, net.bridge)
    where = f" ({net.host_netns})" if net.host_netns else ""
    if index is None:
        raise ConfigError(
            f"no such bridge in the host's network namespace{where}",
            field=f"{field}.bridge",
            value=net.bridge,
        )
    link = _link(ipr, index)
    if link is None or _kind(link) != "bridge":
        raise ConfigError(
            f"not a bridge interface{where}", field=f"{field}.bridge", value=net.bridge
        )
    return index


def _configure_host_side(ipr: Any, net: Network, name: str, index: int, bridge: int | None) -> None:
    try:
        if bridge is not None:
            ipr.link("set", index=index, master=bridge)
            if net.hairpin_mode:
                ipr.brport("set", index=index, mode=_BRIDGE_MODE_HAIRPIN)
        ipr.link("set", index=index, state="up")
    except NetlinkError as e:
        raise _fail(f"configuring host side {name}", e) from None
    # pyroute2 silently ignores what it does not know: read back what we asked for.
    link = _link(ipr, index)
    if link is None:
        raise NetworkError(f"host side {name} vanished while it was configured")
    problems = []
    if net.mtu and link.get_attr("IFLA_MTU") != net.mtu:
        problems.append(f"mtu {link.get_attr('IFLA_MTU')} instead of {net.mtu}")
    if net.tx_queue_len and link.get_attr("IFLA_TXQLEN") != net.tx_queue_len:
        problems.append(f"txqueuelen {link.get_attr('IFLA_TXQLEN')} instead of {net.tx_queue_len}")
    if bridge is not None and link.get_attr("IFLA_MASTER") != bridge:
        problems.append(f"not a port of {net.bridge}")
    if bridge is not None and net.hairpin_mode and _brport_mode(link) != _BRIDGE_MODE_HAIRPIN:
        problems.append("hairpin mode is off")
    if problems:
        raise NetworkError(f"host side {name}: " + ", ".join(problems))


def _brport_mode(link: Any) -> int | None:
    info = link.get_attr("IFLA_LINKINFO")
    data = info.get_attr("IFLA_INFO_SLAVE_DATA") if info is not None else None
    return data.get_attr("IFLA_BRPORT_MODE") if data is not None else None


def configure_container_side(net: Network) -> None:
    """Addresses, link up and default routes of the container side (runc's ``initialize``).

    Runs in the container's namespace, before its init is let go.
    """
    name = net.name or DEFAULT_NAME
    with IPRoute() as ipr:
        index = _lookup(ipr, name)
        if index is None:
            raise NetworkError(f"{name} is not in the container's network namespace")
        step = ""
        try:
            if net.address:
                step = f"adding address {net.address} to {name}"
                v4 = ipaddress.IPv4Interface(net.address)
                ipr.addr("add", index=index, address=str(v4.ip), prefixlen=v4.network.prefixlen)
            if net.ipv6_address:
                step = f"adding address {net.ipv6_address} to {name}"
                v6 = ipaddress.IPv6Interface(net.ipv6_address)
                # No duplicate address detection: the address is usable the moment the
                # container starts, not a second or two later.
                ipr.addr(
                    "add",
                    index=index,
                    address=str(v6.ip),
                    prefixlen=v6.network.prefixlen,
                    flags=_IFA_F_NODAD,
                )
            step = f"setting {name} up"
            ipr.link("set", index=index, state="up")
            if net.gateway:
                step = f"adding the default route via {net.gateway}"
                ipr.route("add", dst="0.0.0.0/0", gateway=net.gateway, oif=index)
            if net.ipv6_gateway:
                step = f"adding the default route via {net.ipv6_gateway}"
                ipr.route(
                    "add",
                    dst="::/0",
                    gateway=net.ipv6_gateway,
                    oif=index,
                    family=socket.AF_INET6,
                )
        except NetlinkError as e:
            raise _fail(f"{step} in the container", e) from None


def remove_host_side(name: str, index: int) -> bool:
    """Delete the host side ``name`` if it is still the veth at ``index``; the peer goes too.

    Runs in the host side's namespace. False when it is already gone (its peer's namespace
    went away) or when ``index`` now is another interface, which is left alone.
    """
    with IPRoute() as ipr:
        link = _link(ipr, index)
        if link is None:
            return False
        if link.get_attr("IFLA_IFNAME") != name or _kind(link) != "veth":
            log.warning(
                "interface %d is no longer veth %s (now %s, %s): not removing it",
                index,
                name,
                link.get_attr("IFLA_IFNAME"),
                _kind(link),
            )
            return False
        try:
            ipr.link("del", index=index)
        except NetlinkError as e:
            if e.code == 19:  # ENODEV: its namespace just went away
                return False
            raise _fail(f"removing {name}", e) from None
        return True


def host_counters(name: str, index: int) -> NetworkInterface | None:
    """The container's counters, read from the host side (None if it is gone)."""
    with IPRoute() as ipr:
        link = _link(ipr, index)
        if link is None or link.get_attr("IFLA_IFNAME") != name:
            return None
        counters = link.get_attr("IFLA_STATS64") or link.get_attr("IFLA_STATS") or {}
        return from_host_counters(name, dict(counters))
