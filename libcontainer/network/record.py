"""What the parent made for a container's veth networks, kept in its state dir.

``network.json`` lists each host side as created: its name and ifindex, and which network
namespace it lives in. Teardown and stats find the interfaces through it, and it is how
teardown proves an interface is the container's own before removing it (a name alone
could by then belong to someone else's interface). It is written before anything else is
configured, so a start that fails midway can still be undone.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["RECORD_FILE", "HostSide", "clear", "load", "save"]

RECORD_FILE = "network.json"


@dataclass(frozen=True)
class HostSide:
    """One veth pair's host side, as created."""

    host_interface_name: str
    """The host side's name."""
    ifindex: int
    """Its interface index in ``netns``: with the name, what proves it is ours."""
    netns: str
    """The config's ``host_netns`` (empty: the creating process's network namespace)."""
    netns_id: tuple[int, int]
    """``(st_dev, st_ino)`` of that network namespace, so a reused path is noticed."""
    name: str
    """The container side's name (``eth0``)."""


def load(state_dir: str | os.PathLike[str]) -> list[HostSide]:
    """The recorded host sides of the container whose state dir this is (none: ``[]``)."""
    try:
        data = json.loads((Path(state_dir) / RECORD_FILE).read_text())
    except FileNotFoundError:
        return []
    return [
        HostSide(
            host_interface_name=str(item["host_interface_name"]),
            ifindex=int(item["ifindex"]),
            netns=str(item["netns"]),
            netns_id=(int(item["netns_id"][0]), int(item["netns_id"][1])),
            name=str(item["name"]),
        )
        for item in data.get("interfaces", [])
    ]


def save(state_dir: str | os.PathLike[str], sides: list[HostSide]) -> None:
    """Record ``sides`` (atomically: a reader sees the old list or the new one)."""
    path = Path(state_dir) / RECORD_FILE
    tmp = path.with_name(RECORD_FILE + ".tmp")
    tmp.write_text(json.dumps({"interfaces": [asdict(s) for s in sides]}))
    os.replace(tmp, path)


def clear(state_dir: str | os.PathLike[str]) -> None:
    """Forget the record (after the interfaces are gone)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(state_dir) / RECORD_FILE).unlink()
