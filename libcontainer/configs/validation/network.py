"""Checks of a config's networks (runc's ``checks.network``, plus what a veth needs)."""

from __future__ import annotations

import ipaddress
import os

from ...errors import ConfigError
from ..config import Config
from ..namespaces import NamespaceType
from ..network import Network
from .host import HostFeatures

__all__ = ["network"]


def network(config: Config, host: HostFeatures) -> None:
    """Interfaces and routes need a network namespace of the container's own; each
    network must be one the library can set up (``loopback`` or ``veth``) with values
    the kernel will take."""
    if not config.has_namespace(NamespaceType.NEWNET):
        for name, value in (("networks", config.networks), ("routes", config.routes)):
            if value:
                raise ConfigError(
                    "unable to apply network settings without a private NET namespace",
                    field=name,
                    value=len(value),
                )
    names: dict[str, str] = {}
    for i, net in enumerate(config.networks):
        field = f"networks[{i}]"
        if net.type == "loopback":
            continue
        if net.type != "veth":
            raise ConfigError(
                "unknown network type (loopback and veth are supported)",
                field=f"{field}.type",
                value=net.type,
            )
        if config.rootless_euid:
            raise ConfigError(
                "a veth network needs root (CAP_NET_ADMIN in the host's network namespace)",
                field=f"{field}.type",
                value=net.type,
            )
        _veth(net, field, names)


def _veth(net: Network, field: str, names: dict[str, str]) -> None:
    """One veth network's values (names, addresses, sizes), as ``ip link``/``ip addr`` would."""
    for attr, side, value in (
        ("name", "container", net.name or "eth0"),
        ("host_interface_name", "host", net.host_interface_name),
    ):
        if not value:
            continue
        if not _valid_ifname(value):
            raise ConfigError(
                "not a valid interface name (1-15 characters, no '/', ':' or whitespace)",
                field=f"{field}.{attr}",
                value=value,
            )
        if value == "lo" and side == "container":
            raise ConfigError("the container already has lo", field=f"{field}.{attr}", value=value)
        key = f"{side}:{value}"
        if key in names:
            raise ConfigError(
                f"the same {side} side name as {names[key]}", field=f"{field}.{attr}", value=value
            )
        names[key] = field
    if net.bridge and not _valid_ifname(net.bridge):
        raise ConfigError("not a valid interface name", field=f"{field}.bridge", value=net.bridge)
    if net.hairpin_mode and not net.bridge:
        raise ConfigError(
            "hairpin mode is a bridge port setting: it needs a bridge",
            field=f"{field}.hairpin_mode",
            value=True,
        )
    if net.mac_address and not _valid_unicast_mac(net.mac_address):
        raise ConfigError(
            "not a unicast MAC address (six hex octets, like 02:42:ac:11:00:02)",
            field=f"{field}.mac_address",
            value=net.mac_address,
        )
    for attr, version in (("address", 4), ("ipv6_address", 6)):
        value = getattr(net, attr)
        if value and not _cidr(value, version):
            raise ConfigError(
                f"not an IPv{version} address with a prefix length (CIDR)",
                field=f"{field}.{attr}",
                value=value,
            )
    for attr, version in (("gateway", 4), ("ipv6_gateway", 6)):
        value = getattr(net, attr)
        if value and not _ip(value, version):
            raise ConfigError(f"not an IPv{version} address", field=f"{field}.{attr}", value=value)
    if net.mtu and not 68 <= net.mtu <= 65535:
        raise ConfigError("the MTU must be 68 to 65535", field=f"{field}.mtu", value=net.mtu)
    if net.tx_queue_len < 0:
        raise ConfigError(
            "must not be negative", field=f"{field}.txqueuelen", value=net.tx_queue_len
        )
    if net.host_netns and not os.path.isabs(net.host_netns):
        raise ConfigError(
            "must be an absolute path to a network namespace file",
            field=f"{field}.host_netns",
            value=net.host_netns,
        )


def _valid_ifname(name: str) -> bool:
    # The kernel's dev_valid_name(): IFNAMSIZ-1 bytes, not "." or "..", no '/' ':' or space.
    return (
        0 < len(name.encode()) < 16
        and name not in (".", "..")
        and not any(c in name for c in "/:")
        and not any(c.isspace() for c in name)
    )


def _valid_unicast_mac(mac: str) -> bool:
    parts = mac.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        return False
    try:
        octets = [int(p, 16) for p in parts]
    except ValueError:
        return False
    return not octets[0] & 1 and any(octets)


def _cidr(value: str, version: int) -> bool:
    if "/" not in value:
        return False
    try:
        return ipaddress.ip_interface(value).version == version
    except ValueError:
        return False


def _ip(value: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False
