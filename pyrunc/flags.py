"""A tiny command-line parser with Go's (urfave/cli v1) rules, as runc parses its arguments.

Flags come first and parsing stops at the first argument that is not a flag or at ``--``.
A flag may be spelled with one or two dashes (``-root`` or ``--root``), take its value as
the next argument or after ``=``, and a bool flag accepts ``--detach=false``.

Before that, a command's arguments are *reordered* as urfave/cli 1.22 does for runc (see
:func:`reorder_args`): the command's flags found after the container id move in front, so
``update ID --memory 1g`` and ``delete ID --force`` work. ``exec`` and ``ps`` skip this
(their trailing arguments are the process's: ``exec ID sh -c 'x'``, ``ps ID -o pid``), and
so does the global level (the command name ends it). argparse is not used: it costs more
to import and build than a whole ``state`` command should take.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than a whole command
    from collections.abc import Sequence
    from typing import Any

__all__ = ["Command", "Flag", "UsageError", "parse_flags", "reorder_args"]


class UsageError(Exception):
    """The command line is wrong (runc answers with its usage text and exit status 1)."""


class Flag:
    """One flag: ``names[0]`` is its key in the parsed options, the rest are aliases.

    ``kind`` is ``bool``, ``str``, ``int`` or ``list`` (a flag that may be repeated). (A
    plain class: ``dataclasses`` imports ``inspect``, which costs more than a command.)
    """

    __slots__ = ("default", "help", "key", "kind", "names")

    def __init__(
        self, names: tuple[str, ...], kind: str = "bool", default: Any = None, help: str = ""
    ) -> None:
        self.names = names
        self.kind = kind
        self.default = default
        self.help = help
        self.key = names[0].replace("-", "_")
        """The name the parsed value is stored under (dashes become underscores)."""

    def initial(self) -> Any:
        """The value when the flag is not given."""
        if self.kind == "list":
            return []
        if self.default is not None:
            return self.default
        return {"bool": False, "str": "", "int": 0}[self.kind]


class Command:
    """A subcommand: its flags, argument count and the function that runs it.

    ``handler`` is ``module:function``, imported only when the command runs. ``reorder``
    is false for the commands runc marks ``SkipArgReorder`` (``exec``, ``ps``).
    """

    __slots__ = (
        "description",
        "flags",
        "handler",
        "max_args",
        "min_args",
        "name",
        "reorder",
        "summary",
        "usage",
    )

    def __init__(
        self,
        name: str,
        summary: str,
        usage: str = "",
        *,
        flags: tuple[Flag, ...] = (),
        min_args: int = 0,
        max_args: int | None = None,
        handler: str = "",
        description: str = "",
        reorder: bool = True,
    ) -> None:
        self.name = name
        self.reorder = reorder
        self.summary = summary
        self.usage = usage
        self.flags = flags
        self.min_args = min_args
        self.max_args = max_args
        self.handler = handler
        self.description = description

    def help_text(self, prog: str = "pyrunc") -> str:
        """The usage text printed by ``--help`` and after a usage error."""
        lines = ["NAME:", f"   {prog} {self.name} - {self.summary}", "", "USAGE:"]
        lines.append(f"   {prog} {self.name} [command options] {self.usage}".rstrip())
        if self.description:
            lines += ["", "DESCRIPTION:", f"   {self.description}"]
        if self.flags:
            lines += ["", "OPTIONS:"]
            lines += [f"   {flag_synopsis(f):<34} {f.help}".rstrip() for f in self.flags]
        return "\n".join(lines) + "\n"


def flag_synopsis(flag: Flag) -> str:
    """``--bundle value, -b value`` as urfave/cli prints a flag."""
    suffix = "" if flag.kind == "bool" else " value"
    return ", ".join(("-" if len(n) == 1 else "--") + n + suffix for n in flag.names)


_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


def _flag_name(arg: str) -> str:
    """The name urfave/cli's argIsFlag looks up: ``--x=1``, ``-x`` and ``---x`` give ``x``."""
    if arg.startswith("--"):
        arg = arg.replace("-", "", 2)
    if arg.startswith("-"):
        arg = arg.replace("-", "", 1)
    return arg.split("=", 1)[0]


def reorder_args(flags: Sequence[Flag], argv: Sequence[str]) -> list[str]:
    """urfave/cli 1.22's reorderArgs: the command's flags (each with the argument after it,
    unless that is a flag too or the flag has ``=``) move before the other arguments; a
    ``--`` ends the reordering and is kept in front of those other arguments.

    Faithful to a fault, as runc is: a bool flag takes the next argument with it too, so
    ``kill ID --all KILL`` reads as ``kill --all KILL ID``.
    """
    names = {name for f in flags for name in f.names}

    def is_flag(arg: str) -> bool:
        return arg not in ("-", "--") and arg.startswith("-") and _flag_name(arg) in names

    moved: list[str] = []
    rest: list[str] = []
    value_may_follow = False
    for i, arg in enumerate(argv):
        if value_may_follow and not is_flag(arg):
            value_may_follow = False
            moved.append(arg)
        elif arg == "--":
            rest = ["--", *rest, *argv[i + 1 :]]
            break
        elif is_flag(arg):
            moved.append(arg)
            value_may_follow = "=" not in arg
        else:
            rest.append(arg)
    return moved + rest


def parse_flags(
    flags: Sequence[Flag],
    argv: Sequence[str],
    *,
    allow_unknown: bool = False,
    reorder: bool = False,
) -> tuple[dict[str, Any], list[str], set[str]]:
    """Parse leading flags; returns (options, remaining arguments, keys given explicitly).

    ``allow_unknown`` keeps an unknown flag (and everything after it) as positional
    arguments instead of failing. ``reorder`` first applies :func:`reorder_args` (a
    command's arguments; never the global ones).
    """
    if reorder:
        argv = reorder_args(flags, argv)
    by_name = {name: f for f in flags for name in f.names}
    opts: dict[str, Any] = {f.key: f.initial() for f in flags}
    given: set[str] = set()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if len(arg) < 2 or arg[0] != "-":
            break
        name, eq, value = arg.lstrip("-").partition("=")
        if arg.startswith("---") or not name:
            raise UsageError(f"bad flag syntax: {arg}")
        flag = by_name.get(name)
        if flag is None:
            if allow_unknown:
                break
            raise UsageError(f"flag provided but not defined: -{name}")
        i += 1
        if flag.kind == "bool":
            if eq and value not in _TRUE | _FALSE:
                raise UsageError(f'invalid boolean value "{value}" for -{name}')
            opts[flag.key] = not eq or value in _TRUE
        else:
            if not eq:
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: -{name}")
                value = argv[i]
                i += 1
            opts[flag.key] = _convert(flag, name, value, opts[flag.key])
        given.add(flag.key)
    return opts, list(argv[i:]), given


def _convert(flag: Flag, name: str, value: str, current: Any) -> Any:
    if flag.kind == "int":
        try:
            return int(value, 0)
        except ValueError:
            raise UsageError(f'invalid value "{value}" for flag -{name}: parse error') from None
    if flag.kind == "list":
        return [*current, value]
    return value
