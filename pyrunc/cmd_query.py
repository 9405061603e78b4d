"""``state``, ``list``, ``ps``, ``kill`` and ``delete``: the cheap, frequent commands.

They read ``state.json`` through :mod:`pyrunc.fast` and never import the library, except
``delete`` of a container with poststop hooks or systemd cgroups.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from pyrunc import fast
from pyrunc.context import CliError, Globals
from pyrunc.gojson import dumps

__all__ = ["delete", "kill", "list_", "parse_signal", "ps", "state", "tabwrite"]


def state(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc state ID``: the OCI state, indented by two spaces, no final newline."""
    c = fast.load(g.root, args[0])
    sys.stdout.write(dumps(c.oci_state(), indent="  "))
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
    try:
        names = sorted(os.listdir(g.root))
    except FileNotFoundError:
        names = []
    items: list[dict[str, Any]] = []
    for name in names:
        if not fast.valid_id(name) or not os.path.isdir(os.path.join(g.root, name)):
            continue
        try:
            c = fast.load(g.root, name)
        except CliError as e:
            if os.path.exists(os.path.join(g.root, name, "state.json")):
                sys.stderr.write(f"load container {name}: {e}\n")
            continue
        item = c.oci_state()
        item["owner"] = _owner(c.dir)
        items.append(item)
    if opts["quiet"]:
        sys.stdout.write("".join(i["id"] + "\n" for i in items))
    elif fmt == "json":
        sys.stdout.write(dumps(items or None) + "\n")
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
        return int(signal.Signals[name])
    except KeyError:
        raise CliError(f'unknown signal "{raw}"') from None


def kill(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc kill [--all] ID [SIGNAL]`` (SIGTERM by default)."""
    c = fast.load(g.root, args[0])
    sig = parse_signal(args[1]) if len(args) > 1 else int(signal.SIGTERM)
    c.signal(sig, all_processes=opts["all"])
    return 0


def delete(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc delete [--force] ID``: a stopped or created container; ``--force`` any."""
    cid = args[0]
    force = opts["force"]
    try:
        c = fast.load(g.root, cid)
    except CliError as e:
        if force and str(e) == fast.NOT_EXIST:
            # A start aborted before state.json was written leaves only the directory.
            import shutil

            if fast.valid_id(cid):
                shutil.rmtree(os.path.join(g.root, cid), ignore_errors=True)
            return 0
        raise
    status = c.status()
    if status not in ("stopped", "created") and not force:
        raise CliError(f"cannot delete container {cid} that is not stopped: {status}")
    if status != "stopped":
        c.kill_and_wait()
    if c.needs_library():
        from pyrunc.library import load_container

        load_container(g, cid).destroy()
    else:
        c.destroy()
    return 0


def ps(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc ps ID [ps options]``: pids as JSON, or the host's ``ps`` lines of the container."""
    c = fast.load(g.root, args[0])
    pids = c.pids()
    if opts["format"] == "json":
        sys.stdout.write(dumps(pids or None) + "\n")
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
