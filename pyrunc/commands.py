"""The command table: every runc 1.1 command, its flags and where its code lives.

Handlers are ``module:function`` strings imported only when that command runs, so
``pyrunc state`` never pays for what ``pyrunc create`` needs.
"""

from __future__ import annotations

from libcontainer.rootless import default_root
from pyrunc.flags import Command, Flag

GLOBAL_FLAGS = (
    Flag(("debug",), help="enable debug logging"),
    Flag(("log",), "str", help="set the log file to write runc logs to (default is '/dev/stderr')"),
    Flag(("log-format",), "str", "text", "set the log format ('text' (default), or 'json')"),
    # runc's: /run/runc, or $XDG_RUNTIME_DIR/runc for an unprivileged user.
    Flag(("root",), "str", default_root(), "root directory for storage of container state"),
    Flag(("criu",), "str", "criu", "path to the criu binary used for checkpoint and restore"),
    Flag(("systemd-cgroup",), help='enable systemd cgroup support ("slice:prefix:name")'),
    Flag(("rootless",), "str", "auto", "ignore cgroup permission errors (true, false or auto)"),
    Flag(("help", "h"), help="show help"),
    Flag(("version", "v"), help="print the version"),
)

_BUNDLE = Flag(("bundle", "b"), "str", help="path to the root of the bundle directory")
_CONSOLE = Flag(("console-socket",), "str", help="AF_UNIX socket to receive the pty master")
_PIDFILE = Flag(("pid-file",), "str", help="specify the file to write the process id to")
_PRESERVE = Flag(("preserve-fds",), "int", 0, "pass N additional file descriptors")
_NOPIVOT = Flag(("no-pivot",), help="do not use pivot root to jail process inside rootfs")
_NOKEYRING = Flag(("no-new-keyring",), help="do not create a new session keyring")
_FORMAT = Flag(("format", "f"), "str", "table", "select one of: table or json")
_ID = "<container-id>"

COMMANDS = (
    Command(
        "checkpoint",
        "checkpoint a running container",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_misc:checkpoint",
        # Every flag of runc 1.1's checkpoint, so that a caller's command line parses.
        flags=(
            Flag(("image-path",), "str", help="path for saving criu image files"),
            Flag(("work-path",), "str", help="path for saving work files and logs"),
            Flag(("parent-path",), "str", help="path for previous criu image files in pre-dump"),
            Flag(("leave-running",), help="leave the process running after checkpointing"),
            Flag(("tcp-established",), help="allow open tcp connections"),
            Flag(("ext-unix-sk",), help="allow external unix sockets"),
            Flag(("shell-job",), help="allow shell jobs"),
            Flag(("lazy-pages",), help="use userfaultfd to lazily restore memory pages"),
            Flag(("status-fd",), "int", -1, "criu writes \\0 to this FD once lazy-pages is ready"),
            Flag(("page-server",), "str", help="ADDRESS:PORT of the page server"),
            Flag(("file-locks",), help="handle file locks, for safety"),
            Flag(("pre-dump",), help="dump container's memory information only"),
            Flag(("manage-cgroups-mode",), "str", help="cgroups mode: soft, full or strict"),
            Flag(("empty-ns",), "list", help="create a namespace, but don't restore it"),
            Flag(("auto-dedup",), help="enable auto deduplication of memory images"),
        ),
    ),
    Command(
        "create",
        "create a container",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_lifecycle:create",
        flags=(_BUNDLE, _CONSOLE, _PIDFILE, _NOPIVOT, _NOKEYRING, _PRESERVE),
    ),
    Command(
        "delete",
        "delete any resources held by the container",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_query:delete",
        flags=(Flag(("force", "f"), help="forcibly delete a running container (SIGKILL)"),),
    ),
    Command(
        "events",
        "display container events and resource usage statistics",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.events:events",
        flags=(
            Flag(("interval",), "str", "5s", "set the stats collection interval"),
            Flag(("stats",), help="display the container's stats then exit"),
        ),
    ),
    Command(
        "exec",
        "execute new process inside the container",
        "<container-id> <command> [command options]",
        min_args=1,
        handler="pyrunc.cmd_lifecycle:exec_",
        reorder=False,
        flags=(
            _CONSOLE,
            Flag(("cwd",), "str", help="current working directory in the container"),
            Flag(("env", "e"), "list", help="set environment variables"),
            Flag(("tty", "t"), help="allocate a pseudo-TTY"),
            Flag(("user", "u"), "str", help="UID (format: <uid>[:<gid>])"),
            Flag(("additional-gids", "g"), "list", help="additional gids"),
            Flag(("process", "p"), "str", help="path to the process.json"),
            Flag(("detach", "d"), help="detach from the container's process"),
            _PIDFILE,
            Flag(("process-label",), "str", help="set the asm process label"),
            Flag(("apparmor",), "str", help="set the apparmor profile for the process"),
            Flag(("no-new-privs",), help="set the no new privileges value"),
            Flag(("cap", "c"), "list", help="add a capability to the bounding set"),
            _PRESERVE,
            Flag(("cgroup",), "list", help="run the process in an (existing) sub-cgroup"),
            Flag(("ignore-paused",), help="allow exec in a paused container"),
        ),
    ),
    Command(
        "kill",
        "send a signal (default: SIGTERM) to the container's init process",
        "<container-id> [signal]",
        min_args=1,
        max_args=2,
        handler="pyrunc.cmd_query:kill",
        flags=(Flag(("all", "a"), help="send the signal to all processes in the container"),),
    ),
    Command(
        "list",
        "lists containers started by pyrunc with the given root",
        "",
        max_args=0,
        handler="pyrunc.cmd_query:list_",
        flags=(_FORMAT, Flag(("quiet", "q"), help="display only container IDs")),
    ),
    Command(
        "pause",
        "pause suspends all processes inside the container",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_misc:pause",
    ),
    Command(
        "ps",
        "ps displays the processes running inside a container",
        "<container-id> [ps options]",
        min_args=1,
        handler="pyrunc.cmd_query:ps",
        reorder=False,
        flags=(_FORMAT,),
    ),
    Command(
        "restore",
        "restore a container from a previous checkpoint",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_misc:not_supported",
        # Every flag of runc 1.1's restore, so that a caller's command line parses.
        flags=(
            _CONSOLE,
            Flag(("image-path",), "str", help="path to criu image files for restoring"),
            Flag(("work-path",), "str", help="path for saving work files and logs"),
            Flag(("tcp-established",), help="allow open tcp connections"),
            Flag(("ext-unix-sk",), help="allow external unix sockets"),
            Flag(("shell-job",), help="allow shell jobs"),
            Flag(("file-locks",), help="handle file locks, for safety"),
            Flag(("manage-cgroups-mode",), "str", help="cgroups mode: soft, full or strict"),
            _BUNDLE,
            Flag(("detach", "d"), help="detach from the container's process"),
            _PIDFILE,
            Flag(("no-subreaper",), help="disable the use of the subreaper"),
            _NOPIVOT,
            Flag(("empty-ns",), "list", help="create a namespace, but don't restore it"),
            Flag(("auto-dedup",), help="enable auto deduplication of memory images"),
            Flag(("lazy-pages",), help="use userfaultfd to lazily restore memory pages"),
            Flag(("lsm-profile",), "str", help="LSM profile to use during restore (TYPE:NAME)"),
            Flag(("lsm-mount-context",), "str", help="LSM mount context to use during restore"),
        ),
    ),
    Command(
        "resume",
        "resumes all processes that have been previously paused",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_misc:resume",
    ),
    Command(
        "run",
        "create and run a container",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_lifecycle:run",
        flags=(
            _BUNDLE,
            _CONSOLE,
            Flag(("detach", "d"), help="detach from the container's process"),
            Flag(("keep",), help="do not delete the container after it exits"),
            _PIDFILE,
            Flag(("no-subreaper",), help="disable the use of the subreaper"),
            _NOPIVOT,
            _NOKEYRING,
            _PRESERVE,
        ),
    ),
    Command(
        "spec",
        "create a new specification file",
        "",
        max_args=0,
        handler="pyrunc.cmd_misc:spec",
        flags=(
            _BUNDLE,
            Flag(("rootless",), help="generate a configuration for a rootless container"),
        ),
    ),
    Command(
        "start",
        "executes the user defined process in a created container",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_lifecycle:start",
    ),
    Command(
        "state",
        "output the state of a container",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_query:state",
    ),
    Command(
        "update",
        "update container resource constraints",
        _ID,
        min_args=1,
        max_args=1,
        handler="pyrunc.cmd_misc:update",
        flags=(
            Flag(("resources", "r"), "str", help="path to a resources JSON file, or '-'"),
            Flag(("blkio-weight",), "int"),
            Flag(("cpu-period",), "str"),
            Flag(("cpu-quota",), "str"),
            Flag(("cpu-share",), "str"),
            Flag(("cpu-rt-period",), "str"),
            Flag(("cpu-rt-runtime",), "str"),
            Flag(("cpuset-cpus",), "str"),
            Flag(("cpuset-mems",), "str"),
            Flag(("memory",), "str"),
            Flag(("memory-reservation",), "str"),
            Flag(("memory-swap",), "str"),
            Flag(("pids-limit",), "int"),
            Flag(("l3-cache-schema",), "str"),
            Flag(("mem-bw-schema",), "str"),
        ),
    ),
    Command(
        "features", "show the enabled features", "", max_args=0, handler="pyrunc.cmd_misc:features"
    ),
)

BY_NAME = {c.name: c for c in COMMANDS}
