"""``pyrunc``: the entry point. Global flags, then one command, then runc's exit codes.

Only :mod:`pyrunc.flags`, :mod:`pyrunc.commands` (with :mod:`libcontainer.rootless`, for the
default state root) and :mod:`pyrunc.logs` are imported before the command is known; each
command imports what it needs itself. Engines start one pyrunc per
container operation, so nothing here imports a module the command does not need (no
``typing``, ``importlib`` or ``collections`` at run time: on a slow machine each costs more
than a ``state`` command's own work), and the process ends with :func:`os._exit` once its
output is flushed (see :func:`main`).
"""

from __future__ import annotations

import gc
import os
import sys

from pyrunc.commands import BY_NAME, COMMANDS, GLOBAL_FLAGS
from pyrunc.context import Globals, error_message
from pyrunc.flags import Command, Flag, UsageError, flag_synopsis, parse_flags
from pyrunc.logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main", "run"]

_HELP = (Flag(("help", "h"), help="show help"),)


def version_text() -> str:
    """What ``--version`` prints (podman shows it in ``podman info``): see pyrunc.version."""
    from pyrunc.version import version_text as text

    return text()


def help_text() -> str:
    """The top-level help."""
    lines = [
        "NAME:",
        "   pyrunc - Open Container Initiative runtime (a Python port of runc)",
        "",
        "USAGE:",
        "   pyrunc [global options] command [command options] [arguments...]",
        "",
        "COMMANDS:",
    ]
    lines += [f"   {c.name:<11} {c.summary}" for c in COMMANDS]
    lines += ["", "GLOBAL OPTIONS:"]
    lines += [f"   {flag_synopsis(f):<19} {f.help}" for f in GLOBAL_FLAGS]
    return "\n".join(lines) + "\n"


def _arg_count_error(cmd: Command, n: int) -> str | None:
    lo, hi = cmd.min_args, cmd.max_args
    if lo == hi and n != lo:
        return f'pyrunc: "{cmd.name}" requires exactly {lo} argument(s)'
    if n < lo:
        return f'pyrunc: "{cmd.name}" requires a minimum of {lo} argument(s)'
    if hi is not None and n > hi:
        return f'pyrunc: "{cmd.name}" requires a maximum of {hi} argument(s)'
    return None


def run(argv: Sequence[str]) -> int:
    """Parse ``argv`` (without the program name), run the command, return the exit status."""
    try:
        gopts, rest, given = parse_flags(GLOBAL_FLAGS, argv)
    except UsageError as e:
        logger.error(str(e))
        return 1
    if gopts["version"]:
        sys.stdout.write(version_text())
        return 0
    if not rest or gopts["help"] or rest[0] in ("help", "h"):
        topic = rest[1] if len(rest) > 1 and rest[0] in ("help", "h") else None
        if topic in BY_NAME:
            sys.stdout.write(BY_NAME[topic].help_text())
        else:
            sys.stdout.write(help_text())
        return 0
    try:
        logger.configure(gopts["log"], gopts["log_format"], gopts["debug"])
    except (OSError, ValueError) as e:
        logger.error(str(e))
        return 1
    cmd = BY_NAME.get(rest[0])
    if cmd is None:
        logger.error(f"No help topic for '{rest[0]}'")
        return 3
    try:
        opts, args, _given = parse_flags(cmd.flags + _HELP, rest[1:], reorder=cmd.reorder)
    except UsageError as e:
        sys.stdout.write("Incorrect Usage: " + str(e) + "\n\n" + cmd.help_text())
        logger.fatal(str(e))
        return 1
    opts["_given"] = _given
    if opts.pop("help"):
        sys.stdout.write(cmd.help_text())
        return 0
    problem = _arg_count_error(cmd, len(args))
    if problem:
        sys.stdout.write(cmd.help_text())
        logger.fatal(problem)
        return 1
    g = Globals(
        root=os.path.abspath(gopts["root"]),
        log=gopts["log"],
        log_format=gopts["log_format"],
        debug=gopts["debug"],
        systemd_cgroup=gopts["systemd_cgroup"],
        rootless=gopts["rootless"],
        criu=gopts["criu"],
    )
    if "root" not in given:
        # The default root (under $XDG_RUNTIME_DIR when not root) is made as runc makes it,
        # and one the user cannot write is said plainly by the commands that use it.
        from libcontainer.errors import StateFileError
        from libcontainer.rootless import check_root, prepare_root

        try:
            prepare_root(g.root)
            if cmd.name != "spec":
                check_root(g.root)
        except StateFileError as e:
            logger.fatal(error_message(e))
            return 1
    module_name, func_name = cmd.handler.split(":")
    # __import__ with a fromlist returns the submodule itself (importlib costs an import).
    handler = getattr(__import__(module_name, fromlist=[func_name]), func_name)
    try:
        code: int = handler(g, opts, args)
        return code
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if g.debug:
            import traceback

            logger.debug(traceback.format_exc())
        logger.fatal(error_message(e))
        return 1


def main(argv: Sequence[str] | None = None) -> None:
    """The command: run, flush, and exit with the command's status.

    The exit is :func:`os._exit`: the interpreter's finalisation (tearing down every module
    and collecting what attrs and cattrs generated) takes longer than most commands, and
    there is nothing left for it to do. The command's output is flushed here; log lines are
    flushed as they are written; the container's processes are not ours to wait for (runc
    leaves them to the subreaper too); the library's background threads are daemons.
    """
    # A call allocates its objects once and exits; the cyclic collector's passes over what
    # attrs and cattrs generate cost a create or exec several per cent. Collect rarely
    # instead (never, in most calls): a long-running `run` or `events` still collects.
    gc.set_threshold(100_000, 10, 10)
    code = run(sys.argv[1:] if argv is None else argv)
    # What atexit would have done: keep the models' compiled code for the next call.
    models = sys.modules.get("libcontainer.modelcode")
    if models is not None:
        models.save()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
