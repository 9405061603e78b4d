"""``create``, ``start``, ``run`` and ``exec``: the commands that start processes.

``create`` leaves the init waiting on ``exec.fifo`` and exits; the init is this process's
child (see :mod:`pyrunc.library`), so once we exit it belongs to the nearest subreaper
(containerd's shim, conmon) or PID 1, as runc's init does. Its stdio is ours. ``start``
releases it through the lifecycle core, without the library.
"""

from __future__ import annotations

import os

from libcontainer.jsontext import loads
from pyrunc import handles, library
from pyrunc.context import CliError, Globals
from pyrunc.failures import EXEC_FAILED_STATUS, describe
from pyrunc.logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than a whole command
    from typing import Any

    from libcontainer import Process
    from libcontainer.container import Container
    from specconv import ProcessSpec

__all__ = ["create", "exec_", "run", "start"]


def check_terminal(detach: bool, terminal: bool, console_socket: str) -> None:
    """runc's checkTerminal: a detached tty needs a console socket, and vice versa."""
    if detach and terminal and not console_socket:
        raise CliError("cannot allocate tty if runc will detach without setting console socket")
    if (not detach or not terminal) and console_socket:
        raise CliError("cannot use console socket if runc will not detach or allocate tty")


def relax_mount_destinations(spec: dict[str, Any]) -> None:
    """runc 1.1 still takes a mount destination that is not absolute, as relative to the
    container's root, with two warnings (``invalid configuration`` among them): so do we."""
    for mount in spec.get("mounts") or ():
        dest = mount.get("destination") if isinstance(mount, dict) else None
        if not isinstance(dest, str) or not dest or dest.startswith("/"):
            continue
        logger.warning(
            f"mount destination {dest} is not absolute. Support for non-absolute mount "
            "destinations will be removed in a future release."
        )
        logger.log(
            "warning",
            "invalid configuration",
            error=f"invalid mount {dest} ({mount.get('type') or 'bind'} from "
            f"{mount.get('source') or 'none'}): mount destination not absolute",
        )
        mount["destination"] = "/" + dest


def _read_spec(path: str) -> Any:
    """The spec in ``path``, with runc's leniency for relative mount destinations."""
    import specconv

    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = loads(raw)
    except ValueError:
        return specconv.parse_spec(raw)  # which says what is wrong with it
    if isinstance(data, dict):
        relax_mount_destinations(data)
    return specconv.parse_spec(data)


def _load_bundle(g: Globals, opts: dict[str, Any], cid: str) -> tuple[ProcessSpec, Any]:
    """Read ``config.json`` from the bundle (runc chdirs into it first) and convert it."""
    bundle = os.path.abspath(opts["bundle"] or os.getcwd())
    try:
        os.chdir(bundle)
    except OSError as e:
        raise CliError(f"chdir {bundle}: {(e.strerror or str(e)).lower()}") from None
    if not os.path.exists("config.json"):
        raise CliError("JSON specification file config.json not found")
    import specconv

    spec = _read_spec("config.json")
    ps = specconv.process_args(spec)
    config = specconv.create_config(
        spec,
        bundle=bundle,
        cgroup_name=cid,
        use_systemd_cgroup=g.systemd_cgroup,
        no_pivot_root=opts["no_pivot"],
        no_new_keyring=opts["no_new_keyring"],
        rootless_euid=os.geteuid() != 0,
        rootless_cgroups=library.rootless_cgroups(g),
    )
    return ps, config


def _create(
    g: Globals, opts: dict[str, Any], cid: str, *, detach: bool
) -> tuple[Container, Process]:
    """Create the container and start its init, which then waits on exec.fifo."""
    handles.check_id(cid)
    # Relative to where we were called from, not to the bundle we chdir into (as runc).
    pid_file = os.path.abspath(opts["pid_file"]) if opts["pid_file"] else ""
    ps, config = _load_bundle(g, opts, cid)
    check_terminal(detach, ps.terminal, opts["console_socket"])
    container = library.factory(g).create(cid, config)
    try:
        proc = library.build_process(
            ps,
            init=True,
            console_socket=opts["console_socket"],
            preserve_fds=opts["preserve_fds"],
        )
        container.start(proc)
        assert proc.pid is not None
        library.write_pid_file(pid_file, proc.pid)
    except BaseException:
        container.destroy()
        raise
    return container, proc


def create(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc create``: the container is *created*; ``start`` runs the program."""
    try:
        _create(g, opts, args[0], detach=True)
    except Exception as e:
        raise CliError(f"pyrunc create failed: {describe(e)}") from e
    return 0


def _attach(proc: Process) -> int:
    """Wait for an attached process, forwarding signals and relaying its pty."""
    from pyrunc.tty import exit_status, forward_signals, relay_pty  # signal, contextlib

    assert proc.pid is not None
    with forward_signals(proc.pid):
        if proc.console is not None:
            relay_pty(proc.console)
        code = proc.wait()
    status = exit_status(code)
    logger.debug("process exited", pid=proc.pid, status=status)
    return status


def run(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc run``: create and start; attached, exit with the program's status."""
    detach = opts["detach"]
    try:
        container, proc = _create(g, opts, args[0], detach=detach)
        try:
            container.exec()
        except BaseException:
            container.destroy()
            raise
    except Exception as e:
        raise CliError(f"pyrunc run failed: {describe(e)}") from e
    if detach:
        return 0
    try:
        return _attach(proc)
    finally:
        if not opts["keep"]:
            container.destroy()


def start(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc start``: release a *created* container's init."""
    handles.load(g, args[0]).start()
    return 0


_CAP_SETS = ("bounding", "effective", "permitted")


def exec_process_spec(g: Globals, opts: dict[str, Any], args: list[str], bundle: str) -> Any:
    """runc's getProcess: ``--process FILE``, or the bundle's process edited by the flags."""
    import specconv

    if opts["process"]:
        with open(opts["process"], "rb") as f:
            data = loads(f.read())
        return specconv.process_args(specconv.parse_process(data))
    if len(args) < 2:
        raise CliError("exec args cannot be empty")
    with open(os.path.join(bundle, "config.json"), "rb") as f:
        p: dict[str, Any] = loads(f.read()).get("process") or {}
    p["args"] = args[1:]
    if opts["cwd"]:
        p["cwd"] = opts["cwd"]
    if opts["apparmor"]:
        p["apparmorProfile"] = opts["apparmor"]
    if opts["process_label"]:
        p["selinuxLabel"] = opts["process_label"]
    caps = p.setdefault("capabilities", {})
    for cap in opts["cap"]:
        for name in _CAP_SETS:
            caps[name] = [*(caps.get(name) or []), cap]
        if caps.get("inheritable") is not None:
            caps["ambient"] = [*(caps.get("ambient") or []), cap]
    p["env"] = [*(p.get("env") or []), *opts["env"]]
    p["terminal"] = opts["tty"] if "tty" in opts["_given"] else False
    if "no_new_privs" in opts["_given"]:
        p["noNewPrivileges"] = opts["no_new_privs"]
    user = p.setdefault("user", {})
    if opts["user"]:
        uid, _, gid = opts["user"].partition(":")
        try:
            user["uid"] = int(uid)
            if gid:
                user["gid"] = int(gid)
        except ValueError:
            raise CliError(f"parsing {opts['user']} as <uid>[:<gid>] failed") from None
    try:
        extra = [int(x) for x in opts["additional_gids"]]
    except ValueError:
        raise CliError("--additional-gids takes numeric gids") from None
    user["additionalGids"] = [*(user.get("additionalGids") or []), *extra]
    return specconv.process_args(specconv.parse_process(p))


def sub_cgroup_paths(values: list[str]) -> dict[str, str]:
    """runc's ``--cgroup`` values: ``path`` (every hierarchy; then the only one given) or
    ``ctrl[,ctrl]:path`` (per controller), as :class:`libcontainer.Process` takes them."""
    paths: dict[str, str] = {}
    for value in values:
        parts = value.split(":", 2)
        if len(parts) > 2:
            raise CliError(f"invalid --cgroup argument: {value}")
        if len(parts) == 1:
            if len(values) != 1:
                raise CliError(f"invalid --cgroup argument: {value} (missing <controller>: prefix)")
            paths[""] = value
        else:
            for controller in parts[0].split(","):
                paths[controller] = parts[1]
    return paths


def _start_exec(g: Globals, opts: dict[str, Any], args: list[str], pid_file: str) -> Process:
    """Everything runc's execProcess does: any failure here is an ``exec failed``."""
    c = handles.load(g, args[0])
    status = c.status()
    if status == "stopped":
        raise CliError("cannot exec in a stopped container")
    if status == "paused" and not opts["ignore_paused"]:
        raise CliError("cannot exec in a paused container (use --ignore-paused to override)")
    cgroups = sub_cgroup_paths(opts["cgroup"])
    if cgroups:
        from libcontainer.cgroups.subcgroups import check_sub_cgroup_paths

        check_sub_cgroup_paths(cgroups, c.record.cgroup_paths)
    ps = exec_process_spec(g, opts, args, c.record.bundle)
    check_terminal(opts["detach"], ps.terminal, opts["console_socket"])
    container = library.load_container(g, args[0])
    proc = library.build_process(
        ps,
        init=False,
        console_socket=opts["console_socket"],
        preserve_fds=opts["preserve_fds"],
        sub_cgroup_paths=cgroups,
    )
    # In a paused container (--ignore-paused) this returns once someone resumes it, as
    # with runc: the process joined the frozen cgroup and waits there.
    container.start(proc, ignore_paused=opts["ignore_paused"])
    assert proc.pid is not None
    library.write_pid_file(pid_file, proc.pid)
    return proc


def exec_(g: Globals, opts: dict[str, Any], args: list[str]) -> int:
    """``runc exec``: run a process in a running container; attached, exit with its status.

    A process that could not be started is runc's ``exec failed: ...`` and exit status 255.
    """
    pid_file = os.path.abspath(opts["pid_file"]) if opts["pid_file"] else ""
    try:
        proc = _start_exec(g, opts, args, pid_file)
    except Exception as e:
        logger.fatal(f"exec failed: {describe(e)}")
        return EXEC_FAILED_STATUS
    if opts["detach"]:
        return 0
    return _attach(proc)
