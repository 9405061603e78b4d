"""A small blocking D-Bus client for systemd's manager, on jeepney.

It talks to the system bus when one runs (``/run/dbus/system_bus_socket``), or directly to
PID 1 on its private socket (``/run/systemd/private``: peer-to-peer, no bus, no ``Hello``).
Only the calls the driver needs are here, each with a typed signature. jeepney is imported
here only, so the other drivers never load it.

systemd 252 can drop a call that arrives right after the SASL ``BEGIN`` on the private socket;
the first call after connecting is therefore made after a short pause and retried once.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from libcontainer.errors import CgroupError

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection

__all__ = [
    "PRIVATE_SOCKET",
    "SYSTEM_BUS_SOCKET",
    "DBusError",
    "SystemdDBus",
]

SYSTEM_BUS_SOCKET = "/run/dbus/system_bus_socket"
PRIVATE_SOCKET = "/run/systemd/private"

_SYSTEMD = "org.freedesktop.systemd1"
_MANAGER_PATH = "/org/freedesktop/systemd1"
_MANAGER_IFACE = "org.freedesktop.systemd1.Manager"
_UNIT_IFACE = "org.freedesktop.systemd1.Unit"
_PROPS_IFACE = "org.freedesktop.DBus.Properties"

Property = tuple[str, tuple[str, Any]]
"""A unit property as D-Bus wants it in ``a(sv)``: ``(name, (signature, value))``."""


class DBusError(CgroupError):
    """systemd answered with an error; ``name`` is the D-Bus error name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name = name


class SystemdDBus:
    """One connection to systemd's manager, opened lazily and reopened once if it drops.

    ``address`` forces a socket path; by default the system bus is used if its socket
    exists, else the private socket. Calls are serialised by a lock.
    """

    def __init__(self, address: str | None = None, *, timeout: float = 30.0) -> None:
        self._address = address
        self._timeout = timeout
        self._conn: DBusConnection | None = None
        self._peer_to_peer = False
        self._lock = threading.Lock()
        self._version: int | None = None

    # -- connection ----------------------------------------------------------------------

    def _socket_path(self) -> tuple[str, bool]:
        if self._address:
            return self._address, self._address != SYSTEM_BUS_SOCKET
        if os.path.exists(SYSTEM_BUS_SOCKET):
            return SYSTEM_BUS_SOCKET, False
        if os.path.exists(PRIVATE_SOCKET):
            return PRIVATE_SOCKET, True
        raise CgroupError(
            "cannot reach systemd: neither the system bus "
            f"({SYSTEM_BUS_SOCKET}) nor systemd's private socket ({PRIVATE_SOCKET}) exists; "
            "is systemd PID 1 here? (or use the cgroupfs driver: systemd=False)"
        )

    def _connect(self) -> DBusConnection:
        from jeepney.io import blocking

        path, p2p = self._socket_path()
        try:
            # prep_socket does the SASL EXTERNAL exchange and sends BEGIN.
            sock = blocking.prep_socket(path, timeout=self._timeout)
        except (OSError, TimeoutError) as exc:
            raise CgroupError(f"cannot connect to systemd at {path}: {exc}") from exc
        if p2p:
            conn = _peer_connection(sock)
            # systemd may miss a message that follows BEGIN too closely.
            time.sleep(0.01)
        else:
            conn = blocking.DBusConnection(sock)  # says Hello to the bus
        self._peer_to_peer = p2p
        return conn

    def close(self) -> None:
        """Close the connection (a later call reconnects)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def call(
        self,
        path: str,
        interface: str,
        method: str,
        signature: str = "",
        body: tuple[Any, ...] = (),
        *,
        timeout: float | None = None,
    ) -> tuple[Any, ...]:
        """Call ``method`` on systemd; return the reply body or raise :class:`DBusError`."""
        from jeepney import DBusAddress, MessageType, new_method_call

        address = DBusAddress(path, bus_name=_SYSTEMD, interface=interface)
        with self._lock:
            for attempt in range(3):
                fresh = self._conn is None
                if self._conn is None:
                    self._conn = self._connect()
                message = new_method_call(address, method, signature, body)
                # A first call systemd may have dropped: a short timeout, then retry.
                wait = 2.0 if fresh and self._peer_to_peer else (timeout or self._timeout)
                try:
                    reply = self._conn.send_and_get_reply(message, timeout=wait)
                except (TimeoutError, OSError, ConnectionError) as exc:
                    self._conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise CgroupError(f"D-Bus call {method} to systemd failed: {exc}") from exc
                    continue
                if reply.header.message_type is MessageType.error:
                    name = str(reply.header.fields.get(4, "org.freedesktop.DBus.Error.Failed"))
                    text = str(reply.body[0]) if reply.body else ""
                    raise DBusError(name, text)
                return tuple(reply.body)
        raise AssertionError("unreachable")

    # -- systemd's manager API -----------------------------------------------------------

    def manager_call(self, method: str, signature: str = "", *args: Any) -> tuple[Any, ...]:
        """Call a method of ``org.freedesktop.systemd1.Manager``."""
        return self.call(_MANAGER_PATH, _MANAGER_IFACE, method, signature, args)

    def version(self) -> int:
        """systemd's major version (``252`` from ``"252.38-1~deb12u1"``), 0 if unknown."""
        if self._version is None:
            (variant,) = self.call(
                _MANAGER_PATH, _PROPS_IFACE, "Get", "ss", (_MANAGER_IFACE, "Version")
            )
            text = str(variant[1]).lstrip("v")
            digits = ""
            for ch in text:
                if not ch.isdigit():
                    break
                digits += ch
            self._version = int(digits) if digits else 0
        return self._version

    def start_transient_unit(self, name: str, properties: list[Property]) -> str:
        """``StartTransientUnit(name, "replace", properties, [])``; return the job path."""
        (job,) = self.manager_call(
            "StartTransientUnit", "ssa(sv)a(sa(sv))", name, "replace", properties, []
        )
        return str(job)

    def stop_unit(self, name: str) -> str:
        """``StopUnit(name, "replace")``; return the job path."""
        (job,) = self.manager_call("StopUnit", "ss", name, "replace")
        return str(job)

    def reset_failed_unit(self, name: str) -> None:
        """``ResetFailedUnit(name)``; an unknown unit is fine."""
        try:
            self.manager_call("ResetFailedUnit", "s", name)
        except DBusError as exc:
            if not exc.name.endswith("NoSuchUnit"):
                raise

    def set_unit_properties(self, name: str, properties: list[Property]) -> None:
        """``SetUnitProperties(name, runtime=true, properties)``."""
        self.manager_call("SetUnitProperties", "sba(sv)", name, True, properties)

    def unit_property(self, name: str, prop: str, interface: str = _UNIT_IFACE) -> Any:
        """A property of a loaded unit; raises DBusError (``...NoSuchUnit``) if not loaded."""
        (path,) = self.manager_call("GetUnit", "s", name)
        (variant,) = self.call(str(path), _PROPS_IFACE, "Get", "ss", (interface, prop))
        return variant[1]

    def job_exists(self, job: str) -> bool:
        """Whether the job at ``job`` (an object path) is still queued or running."""
        try:
            self.call(job, _PROPS_IFACE, "Get", "ss", ("org.freedesktop.systemd1.Job", "Id"))
        except DBusError as exc:
            if (
                "UnknownObject" in exc.name
                or "NoSuchJob" in exc.name
                or "UnknownMethod" in exc.name
            ):
                return False
            raise
        return True


def _peer_connection(sock: socket.socket) -> DBusConnection:
    """A jeepney connection on an authenticated socket, without the bus ``Hello``.

    ``DBusConnection.__init__`` always says Hello, which a peer (systemd's private socket)
    does not understand; so the base class is initialised and the routing state set here.
    """
    from jeepney.io import blocking

    conn = blocking.DBusConnection.__new__(blocking.DBusConnection)
    blocking.DBusConnectionBase.__init__(conn, sock, False)
    conn._filters = blocking.MessageFilters()
    conn.unique_name = None
    return conn
