"""The config's routes, added by the container init in its network namespace (runc's
``setupRoute``).

Uses pyroute2, which the spawner imports before cloning, and only for configs that have
routes (:func:`preload_for`): inside the container an import would read the container's
files.
"""

from __future__ import annotations

from collections.abc import Sequence

from libcontainer.configs import Route
from libcontainer.errors import ConfigError

__all__ = ["add_routes", "preload_for"]


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
