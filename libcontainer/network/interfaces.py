"""The parent's side of a container's veth networks: create, remove, count.

runc 1.1's split: once the init exists (and before it is told to go on), the parent creates
each pair, with the peer inside the init's network namespace, and configures the peer there
too; the init then brings ``lo`` up and adds the config's routes, which may use the new
interfaces. The parent does the configuring (runc left it to the init) because the init
is a clone of the warm spawner and must not import pyroute2 once inside the container,
while the parent can enter the network namespace alone (see :mod:`.netns`).

Where the host side lives: the network's ``host_netns`` (a namespace file), or the calling
process's network namespace when it is empty. The bridge is looked up there.

These are the functions the container's lifecycle calls. Each is cheap for a container
without veth networks: pyroute2 is imported only when there is something to do.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from libcontainer.configs import Network
from libcontainer.errors import NetworkError, os_reason

from . import record
from .netns import current_netns_id, run_in_netns

if TYPE_CHECKING:
    from libcontainer.cgroups.stats import Stats

    from .stats import NetworkInterface

__all__ = [
    "create_interfaces",
    "generate_host_name",
    "interface_stats",
    "remove_interfaces",
    "with_interface_stats",
]

log = logging.getLogger(__name__)


def generate_host_name() -> str:
    """A host side name for a network without ``host_interface_name`` (as runc: ``veth``
    and seven random characters)."""
    import secrets  # hmac and hashlib: not for every container start without veths

    return "veth" + secrets.token_hex(4)[:7]


def create_interfaces(
    networks: Sequence[Network], init_pid: int, state_dir: str | os.PathLike[str]
) -> None:
    """Create and configure every ``veth`` network for the init ``init_pid``.

    ``init_pid`` must be our own unreaped child (so its pid cannot have been reused) that
    is waiting to be told to go on. What was made is recorded in ``state_dir`` as it is
    made; on any failure everything made so far is removed again before the error is
    raised (a :class:`~libcontainer.errors.ConfigError` for a wrong bridge or name, else a
    :class:`~libcontainer.errors.NetworkError`).
    """
    veths = [(i, n) for i, n in enumerate(networks) if n.type == "veth"]
    if not veths:
        return
    from . import veth

    try:
        nsfd = os.open(f"/proc/{init_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NetworkError(f"open the container's network namespace: {os_reason(e)}") from None
    made: list[record.HostSide] = []
    try:
        for i, net in veths:
            host_name = net.host_interface_name or generate_host_name()
            create = functools.partial(_create_pair, net, f"networks[{i}]", host_name, nsfd)
            made.append(run_in_netns(create, path=net.host_netns))
            record.save(state_dir, made)
            run_in_netns(functools.partial(veth.configure_container_side, net), fd=nsfd)
    except BaseException:
        _remove(made)
        record.clear(state_dir)
        raise
    finally:
        os.close(nsfd)


def _create_pair(net: Network, field: str, host_name: str, nsfd: int) -> record.HostSide:
    """In the host side's namespace: make the pair, say what was made."""
    from . import veth

    index = veth.create_pair(net, field, host_name, nsfd)
    return record.HostSide(
        host_interface_name=host_name,
        ifindex=index,
        netns=net.host_netns,
        netns_id=current_netns_id(),
        name=net.name or veth.DEFAULT_NAME,
    )


def remove_interfaces(
    state_dir: str | os.PathLike[str], *, raise_errors: bool = True
) -> NetworkError | None:
    """Remove the host sides recorded in ``state_dir`` (their peers go with them).

    Each is removed only if it still is the veth that was created (same namespace, index
    and name); one already gone is fine (the kernel removes a pair whose container
    namespace went away). Safe to call again, and for a container without veths.
    A failure raises :class:`~libcontainer.errors.NetworkError` once all were tried, or
    with ``raise_errors=False`` is logged and returned (for teardown paths that go on).
    """
    sides = record.load(state_dir)
    if not sides:
        return None
    errors = _remove(sides)
    record.clear(state_dir)
    if not errors:
        return None
    error = NetworkError("; ".join(errors))
    if raise_errors:
        raise error
    log.warning("%s", error)
    return error


def _remove(sides: Sequence[record.HostSide]) -> list[str]:
    from . import veth

    errors = []
    for side in reversed(sides):
        try:
            run_in_netns(
                functools.partial(veth.remove_host_side, side.host_interface_name, side.ifindex),
                path=side.netns,
                expect=side.netns_id,
            )
        except NetworkError as e:
            # Its namespace is gone or is another one now: so is the interface, or it is
            # not ours to remove.
            log.info("not removing %s: %s", side.host_interface_name, e)
        except Exception as e:
            errors.append(f"removing {side.host_interface_name}: {e}")
    return errors


def interface_stats(state_dir: str | os.PathLike[str]) -> list[NetworkInterface]:
    """Counters of each veth network, read from its host side (runc's ``Interfaces``).

    Interfaces that no longer exist (the container stopped) are left out.
    """
    sides = record.load(state_dir)
    if not sides:
        return []
    from . import veth

    out = []
    for side in sides:
        with contextlib.suppress(NetworkError):
            found = run_in_netns(
                functools.partial(veth.host_counters, side.host_interface_name, side.ifindex),
                path=side.netns,
                expect=side.netns_id,
            )
            if found is not None:
                out.append(found)
    return out


def with_interface_stats(stats: Stats, state_dir: str | os.PathLike[str]) -> Stats:
    """``stats`` (a container's cgroup statistics) with its ``interfaces`` filled in."""
    stats.interfaces = interface_stats(state_dir)
    return stats
