"""``state``, ``list``, ``ps``, ``kill`` and ``delete``: the cheap, frequent commands.

They act through the lifecycle core (:mod:`pyrunc.handles`) and never import the library's
config models (``delete`` of a systemd container excepted: its unit is stopped over D-Bus).
"""

from __future__ import annotations

import os
import sys

from libcontainer.jsontext import marshal, marshal_indent
from pyrunc import handles
from pyrunc.context import CliError, Globals

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than a whole command
    from typing import Any

__all__ = ["delete", "kill", "list_", "parse_signal", "ps", "state", "tabwrite"]

#: runc kill's default signal (15 on every Linux architecture).
SIGTERM = 15


def state(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc state ID``: the OCI state, indented by two spaces, no final newline."""
    c = handles.load(g, args[0])
    sys.stdout.write(marshal_indent(c.oci_state(), "  "))
    return 0


def tabwrite(rows: list[list[str]], minwidth: int = 12, padding: int = 3) -> str:
    """Go's ``tabwriter.NewWriter(w, 12, 1, 3, ' ', 0)`` for rows of tab-separated cells.

    Every cell but the last of a row is a column; a column is as wide as its widest cell
    plus the padding, and at least ``minwidth``.
    """
    ncols = max((len(r) - 1 for r in rows), default=0)
    widths = [
        max([minwidth] + [len(r[i]) + padding for r in rows if len(r) - 1 > i])
        for i in range(ncols)
    ]
    lines = []
    for r in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])]
        lines.append("".join(cells) + (r[-1] if r else ""))
    return "".join(line + "\n" for line in lines)


def _owner(path: str) -> str:
    import pwd

    uid = os.stat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"#{uid}"


def list_(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc list``: a table, ``--format json`` (``null`` when empty) or ``--quiet`` ids."""
    fmt = opts["format"]
    if fmt not in ("table", "json"):
        raise CliError(f"invalid format option {fmt!r}")
    from libcontainer.errors import ContainerNotExistsError, LibcontainerError
    from libcontainer.lifecycle.handle import ContainerHandle

    store = handles.store(g)
    items: list[dict[str, Any]] = []
    for name in store.list_ids():
        try:
            c = ContainerHandle.load(store, name)
        except ContainerNotExistsError:
            continue
        except LibcontainerError as e:
            # One unreadable container never hides the others (runc prints and goes on).
            sys.stderr.write(f"load container {name}: {e}\n")
            continue
        item = c.oci_state()
        item["owner"] = _owner(c.dir)
        items.append(item)
    if opts["quiet"]:
        sys.stdout.write("".join(i["id"] + "\n" for i in items))
    elif fmt == "json":
        sys.stdout.write(marshal(items or None) + "\n")
    else:
        rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        rows += [
            [i["id"], str(i["pid"]), i["status"], i["bundle"], i["created"], i["owner"]]
            for i in items
        ]
        sys.stdout.write(tabwrite(rows))
    return 0


def parse_signal(raw: str) -> int:
    """A signal number from ``9``, ``KILL`` or ``SIGKILL`` (runc's parseSignal)."""
    try:
        return int(raw)
    except ValueError:
        pass
    name = raw.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        import signal  # only for a name: the module costs an enum

        return int(signal.Signals[name])
    except KeyError:
        raise CliError(f'unknown signal "{raw}"') from None


def kill(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc kill [--all] ID [SIGNAL]`` (SIGTERM by default)."""
    c = handles.load(g, args[0])
    sig = parse_signal(args[1]) if len(args) > 1 else SIGTERM
    c.signal(sig, all=opts["all"])
    return 0


def delete(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc delete [--force] ID``: a stopped or created container; ``--force`` any."""
    from libcontainer.errors import StateFileError

    cid = args[0]
    force = opts["force"]
    try:
        c = handles.load(g, cid)
    except CliError as e:
        if str(e) != handles.NOT_EXIST:
            raise
        # runc: a start aborted before state.json was written leaves only the directory.
        handles.store(g).remove(cid)
        if force:
            return 0
        raise
    except StateFileError as e:
        if not force:
            raise
        # Nothing in an unreadable state can be proven the container's own: only its state
        # directory (below our root) goes.
        sys.stderr.write(
            f"{e}; removing only its state directory (any processes or cgroups it had are "
            "left alone)\n"
        )
        handles.store(g).remove(cid)
        return 0
    c.delete(force=force)
    return 0


def ps(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc ps ID [ps options]``: pids as JSON, or the host's ``ps`` lines of the container."""
    c = handles.load(g, args[0])
    pids = c.pids()
    if opts["format"] == "json":
        sys.stdout.write(marshal(pids or None) + "\n")
        return 0
    if opts["format"] != "table":
        raise CliError(f"invalid format option {opts['format']!r}")
    import subprocess

    ps_args = args[1:] or ["-ef"]
    result = subprocess.run(["ps", *ps_args], capture_output=True, text=True)
    if result.returncode != 0:
        raise CliError(f"ps: {(result.stdout + result.stderr).strip()}")
    lines = result.stdout.split("\n")
    header = lines[0].split()
    if "PID" not in header:
        raise CliError("couldn't find PID field in ps output")
    index = header.index("PID")
    out = [lines[0]]
    wanted = set(pids)
    for line in lines[1:]:
        fields = line.split()
        if fields and fields[index].isdigit() and int(fields[index]) in wanted:
            out.append(line)
    sys.stdout.write("\n".join(out) + "\n")
    return 0
